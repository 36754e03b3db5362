#!/bin/sh
# Memory per idle WebSocket connection (upgraded, session open, silent):
# -O2 build, then tests/bench/bench_idle_ws.py at each N (default 1000
# and 10000).  Needs an RLIMIT_NOFILE hard limit above the largest N.
#   tests/bench/run_idle_ws.sh [build dir, default build-bench] [N ...]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
[ $# -gt 0 ] && shift
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_idle_ws.py "$dir" "$@"
