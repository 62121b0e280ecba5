#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in a build dir of their own and runs
# each for a bounded time, its corpus seeded from tests/data/golden (docs/examples for the job
# spec parser, tests/fuzz/tensor_json_seeds for the inference body readers; the seeds are read,
# never written: new inputs go to a temporary corpus, removed at exit).
#
#   tools/fuzz.sh              every target
#   tools/fuzz.sh TARGET...    only these, e.g. fuzz_envelope_decoder
#
# Environment:
#   TROUPE_FUZZ_SECONDS     how long each target runs (default 10)
#   TROUPE_FUZZ_BUILD_DIR   build directory (default build-fuzz)
#   TROUPE_JOBS             parallel build jobs (default nproc)
#   TROUPE_CLANG            the clang++ to build with (default clang++-14; clang-14 and
#                           libfuzzer-14-dev are in tools/setup.sh's packages)
# A failing input is kept in BUILD_DIR/fuzz-artifacts/; replay it with
#   BUILD_DIR/tests/fuzz/TARGET BUILD_DIR/fuzz-artifacts/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[fuzz] %s\n' "$*"; }

BUILD_DIR="${TROUPE_FUZZ_BUILD_DIR:-build-fuzz}"
SECONDS_EACH="${TROUPE_FUZZ_SECONDS:-10}"
CLANGXX="${TROUPE_CLANG:-clang++-14}"
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(fuzz_envelope_decoder fuzz_head_messages fuzz_job_spec fuzz_tensor_json)
# Where each target's seeds come from: encoded messages, job specs, or inference bodies.
seeds_of() {
  case "$1" in
    fuzz_job_spec) echo docs/examples ;;
    fuzz_tensor_json) echo tests/fuzz/tensor_json_seeds ;;
    *) echo tests/data/golden ;;
  esac
}

command -v "$CLANGXX" >/dev/null || {
  echo "fuzz: $CLANGXX not found (packages clang-14 libfuzzer-14-dev)" >&2
  exit 1
}
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  say "configuring $BUILD_DIR with $CLANGXX"
  CC="${CLANGXX/++/}" CXX="$CLANGXX" cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTROUPE_FUZZ=ON -DWITH_CUDA=OFF >/dev/null
else
  # Configured again first, so that a target added since is known to the build below.
  cmake -S . -B "$BUILD_DIR" >/dev/null
fi
cmake --build "$BUILD_DIR" -j"${TROUPE_JOBS:-$(nproc)}" --target "${TARGETS[@]}" |
  sed -u '/^\[ *[0-9]*%\] Built target /d'

CORPUS=$(mktemp -d "${TMPDIR:-/tmp}/troupe-fuzz.XXXXXX")
trap 'rm -rf "$CORPUS"' EXIT
mkdir -p "$BUILD_DIR/fuzz-artifacts"
rc=0
for target in "${TARGETS[@]}"; do
  say "$target for $SECONDS_EACH s"
  mkdir -p "$CORPUS/$target"
  if ! "$BUILD_DIR/tests/fuzz/$target" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -artifact_prefix="$BUILD_DIR/fuzz-artifacts/" "$CORPUS/$target" "$(seeds_of "$target")" \
    >"$CORPUS/$target.log" 2>&1; then
    rc=1
    tail -n 40 "$CORPUS/$target.log" >&2
    say "$target FAILED; its input is in $BUILD_DIR/fuzz-artifacts/"
    continue
  fi
  say "$target: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$CORPUS/$target.log" |
    grep -o '[0-9]*$') runs, no failure"
done
exit "$rc"
