#!/usr/bin/env bash
# Installs Troupe's Debian 12 dependencies (only those missing), then configures and builds.
#
#   tools/setup.sh            run it: packages, configure (first time only), build
#   source tools/setup.sh     the same from a shell; it also sets TROUPE_ROOT and
#                             TROUPE_BUILD_DIR there, and leaves that shell's options and
#                             working directory alone
#
# Environment:
#   TROUPE_CMAKE_ARGS   extra arguments for the first configure (e.g. "-DTROUPE_SANITIZE=ON")
#   TROUPE_BUILD_DIR    build directory, relative to the repository root (default: build)
#   TROUPE_JOBS         parallel build jobs (default: nproc)
#   TROUPE_SKIP_APT=1   do not check or install packages
#
# Works from any current directory; as root it uses apt-get directly, otherwise sudo.

# The packages: ../shared/stack.md's list, then what the CLI, tools, scripts, the fuzz
# targets (clang, tools/fuzz.sh), the PyTorch gang-job test (python3-torch) and the daemons'
# HTTP server (Boost.Beast, prometheus-cpp; promtool, wrk and curl for its tests) and the
# artifacts' SHA-256 (libssl-dev's libcrypto) and block checksums (libxxhash-dev) use.
TROUPE_PACKAGES=(
  g++ cmake pkg-config ccache libcaf-dev libzmq3-dev cppzmq-dev capnproto libcapnp-dev
  libtorch-dev libgloo-dev libopenblas0-pthread libhiredis-dev libevent-dev redis-server
  redis-tools libpqxx-dev postgresql-15 libboost-test-dev libsqlite3-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libcpp-httplib-dev
  jq procps iproute2 clang-14 libfuzzer-14-dev python3-torch
  libboost-dev prometheus-cpp-dev prometheus wrk curl libssl-dev
  libxxhash-dev
)

troupe_setup_say() { printf '[setup] %s\n' "$*"; }

troupe_setup_packages() {
  local missing=() pkg status
  for pkg in "${TROUPE_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    troupe_setup_say "all ${#TROUPE_PACKAGES[@]} Debian packages are installed"
    return 0
  fi
  troupe_setup_say "installing ${#missing[@]} missing Debian packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: not root and no sudo; as root run: apt-get install -y ${missing[*]}" >&2
      return 1
    fi
    sudo=(sudo)
    # No terminal to ask for a password on (CI): fail at once instead of hanging.
    [[ -t 0 ]] || sudo=(sudo -n)
  fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q) attempt
  # A mirror may fail for a moment: three tries, a few seconds apart.
  for attempt in 1 2 3; do
    if "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; then
      troupe_setup_say "packages installed"
      return 0
    fi
    ((attempt == 3)) || sleep $((attempt * 5))
  done
  echo "setup: could not install: ${missing[*]}" >&2
  return 1
}

troupe_setup_build() {
  local build="$TROUPE_BUILD_DIR" jobs="${TROUPE_JOBS:-}"
  [[ -n "$jobs" ]] || jobs=$(nproc 2>/dev/null || echo 2)
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    local extra=()
    # Word-splitting on purpose: TROUPE_CMAKE_ARGS is a list of arguments.
    read -r -a extra <<<"${TROUPE_CMAKE_ARGS:-}"
    troupe_setup_say "configuring $build (RelWithDebInfo${extra[*]:+ ${extra[*]}})"
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${extra[@]}"
  elif [[ ! -f "$build/Makefile" && ! -f "$build/build.ninja" ]]; then
    # An earlier configure stopped half-way: finish it with the cached settings.
    troupe_setup_say "re-configuring $build (an earlier configure did not finish)"
    cmake -S . -B "$build"
  fi
  troupe_setup_say "building $build with $jobs jobs"
  local start=$SECONDS
  # Without the "Built target X" lines: one per target on every run, and nothing to see.
  cmake --build "$build" -j"$jobs" | sed -u '/^\[ *[0-9]*%\] Built target /d'
  troupe_setup_say "build done in $((SECONDS - start)) s"
}

troupe_setup_main() {
  cd "$TROUPE_ROOT"
  if [[ "${TROUPE_SKIP_APT:-0}" != 1 ]]; then
    troupe_setup_packages
  fi
  troupe_setup_build
}

TROUPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TROUPE_BUILD_DIR="${TROUPE_BUILD_DIR:-build}"

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  troupe_setup_main
else
  # Sourced: run in a subshell so that `set -e` and `cd` stay there.
  export TROUPE_ROOT TROUPE_BUILD_DIR
  (
    set -euo pipefail
    troupe_setup_main
  )
fi
