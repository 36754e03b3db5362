#!/bin/sh
# Web chat worker memory under many silent and slow-reader connections:
# -O2 build, then tests/bench/bench_conns.py (N, default 1000).
#   tests/bench/run_conns.sh [build dir, default build-bench] [N]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_conns.py "$dir" "${2:-1000}"
