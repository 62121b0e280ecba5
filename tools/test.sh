#!/usr/bin/env bash
# shellcheck disable=SC2317  # the clean-up functions are called from traps
# The whole test suite: set-up (packages, build), a throwaway Redis and PostgreSQL on free
# loopback ports, then ctest. Extra arguments go to ctest, e.g.
#   tools/test.sh -R registry        tools/test.sh -L integration -V
# The tests find the servers through TROUPE_TEST_REDIS_URL and TROUPE_TEST_POSTGRES_URL.
# Both servers and their temporary directory are removed on exit, whatever happens.
# Without arguments (the whole suite) the fuzz targets run after ctest: tools/fuzz.sh builds
# them with clang in build-fuzz/ and runs each for TROUPE_FUZZ_SECONDS (default 10; 0 skips).
# Environment: those of tools/setup.sh (TROUPE_BUILD_DIR, TROUPE_JOBS, TROUPE_CMAKE_ARGS,
# TROUPE_SKIP_APT), of tools/fuzz.sh, and TROUPE_CTEST_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[test] %s\n' "$*"; }
die() {
  printf '[test] error: %s\n' "$*" >&2
  exit 1
}

PGBIN=/usr/lib/postgresql/15/bin
BUILD_DIR="${TROUPE_BUILD_DIR:-build}"
TMP=""
REDIS_PID=""
REDIS_PORT=""
CTEST_PID=""
PG_PORT=""
PG_STARTED=0

# Runs a PostgreSQL program: as the postgres user when we are root (initdb and pg_ctl
# refuse to run as root), as ourselves otherwise.
as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_redis() {
  [[ -n "$REDIS_PID" ]] || return 0
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$REDIS_PID" 2>/dev/null; then
    kill -KILL "$REDIS_PID" 2>/dev/null || true
  fi
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=""
}

stop_ctest() {
  [[ -n "$CTEST_PID" ]] || return 0
  say "stopping ctest and its tests"
  kill -TERM -- "-$CTEST_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 -- "-$CTEST_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL -- "-$CTEST_PID" 2>/dev/null || true
  wait "$CTEST_PID" 2>/dev/null || true
  CTEST_PID=""
}

stop_postgres() {
  ((PG_STARTED)) || return 0
  as_pg "$PGBIN/pg_ctl" -D "$TMP/pgdata" -m fast -w -t 20 stop >/dev/null 2>&1 ||
    as_pg "$PGBIN/pg_ctl" -D "$TMP/pgdata" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  PG_STARTED=0
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local had_servers=0
  [[ -n "$REDIS_PID" || "$PG_STARTED" == 1 ]] && had_servers=1
  stop_ctest
  stop_redis
  stop_postgres
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    rm -rf "$TMP"
  fi
  if ((had_servers)); then
    say "stopped Redis and PostgreSQL, removed $TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port that nobody listens on, from a range below the ephemeral ports, not one of $*.
free_port() {
  local port i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 12000))
    [[ " $* " == *" $port "* ]] && continue
    if [[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# Until Redis answers a ping: 0 when it does, 1 when it exited or after 30 s.
wait_redis() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

start_redis() {
  local attempt port
  for attempt in 1 2 3; do
    port=$(free_port) || die "no free port for Redis"
    # Not --daemonize: as our own background child we see at once when it exits, e.g.
    # because another process took the port since we looked.
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
    REDIS_PID=$!
    REDIS_PORT=$port
    wait_redis && return 0
    stop_redis
    say "Redis did not start on port $port (attempt $attempt), its log:"
    tail -n 5 "$TMP/redis.log" >&2 || true
  done
  die "Redis did not start (3 tries)"
}

start_postgres() {
  local data="$TMP/pgdata" sock="$TMP/pgsock"
  mkdir -p "$data" "$sock"
  chmod 700 "$data"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "there is no 'postgres' user (is postgresql-15 installed?)"
    chown postgres:postgres "$data" "$sock"
  fi
  if ! as_pg "$PGBIN/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
    >"$TMP/initdb.log" 2>&1; then
    tail -n 20 "$TMP/initdb.log" >&2
    die "initdb failed"
  fi
  local attempt port deadline
  for attempt in 1 2 3; do
    port=$(free_port "$REDIS_PORT") || die "no free port for PostgreSQL"
    PG_STARTED=1
    # pg_ctl -w waits (30 s at most) until the server accepts connections; then probe
    # the TCP port the tests will use.
    if as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/server-$attempt.log" -w -t 30 \
      -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
      deadline=$((SECONDS + 30))
      while ((SECONDS < deadline)); do
        if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
          PG_PORT=$port
          return 0
        fi
        sleep 0.05
      done
    fi
    stop_postgres
    say "PostgreSQL did not start on port $port (attempt $attempt), its log:"
    tail -n 10 "$data/server-$attempt.log" >&2 || true
  done
  die "PostgreSQL did not start (3 tries)"
}

say "setup: packages and build"
bash tools/setup.sh || {
  rc=$?
  say "error: set-up failed (exit $rc), see above" >&2
  exit "$rc"
}

command -v ss >/dev/null || die "ss not found (package iproute2)"
[[ -x "$PGBIN/initdb" ]] || die "$PGBIN/initdb not found (package postgresql-15)"
[[ -f "$BUILD_DIR/CTestTestfile.cmake" ]] || die "$BUILD_DIR has no CTestTestfile.cmake"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/troupe-test.XXXXXX")
chmod 755 "$TMP"
if ((EUID == 0)) && ! runuser -u postgres -- test -x "$TMP"; then
  # The postgres user cannot get to $TMPDIR: use /tmp.
  rm -rf "$TMP"
  TMP=$(mktemp -d /tmp/troupe-test.XXXXXX)
  chmod 755 "$TMP"
fi

say "starting Redis and PostgreSQL in $TMP"
start_redis
say "Redis on 127.0.0.1:$REDIS_PORT"
start_postgres
say "PostgreSQL on 127.0.0.1:$PG_PORT"

export TROUPE_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export TROUPE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"

say "ctest${*:+ $*}"
rc=0
# In its own process group, in the background: a signal to this script then stops ctest
# and every test it started (ctest alone would leave its running tests behind).
setsid ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${TROUPE_CTEST_JOBS:-2}" "$@" &
CTEST_PID=$!
wait "$CTEST_PID" || rc=$?
CTEST_PID=""
say "ctest exited with $rc"
if (($# == 0)) && [[ "${TROUPE_FUZZ_SECONDS:-10}" != 0 ]]; then
  bash tools/fuzz.sh || rc=$((rc ? rc : 1))
fi
exit "$rc"
