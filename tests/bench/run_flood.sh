#!/bin/sh
# The flood bench (issue #10): -O2 build, then tests/bench/bench_flood.py.
#   tests/bench/run_flood.sh [build dir, default build-bench] [seconds]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_flood.py "$dir" "${2:-30}"
