#!/bin/sh
# The WeCom AI bot bench: -O2 build, then tests/bench/bench_wecom.py
# against the fake long-connection server (20 bots in one daemon, the
# load on one of them).
#   tests/bench/run_wecom.sh [build dir, default build-bench] [bots]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_wecom.py "$dir" "${2:-20}"
