#!/bin/sh
# The callback account bench: -O2 build, then tests/bench/bench_callback.py
# against the fake Official Account platform (one wechat_mp account, the
# echo agent).
#   tests/bench/run_callback.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_callback.py "$dir"
