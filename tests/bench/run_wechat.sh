#!/bin/sh
# The personal-WeChat channel bench: -O2 build, then
# tests/bench/bench_wechat.py against the fake iLink server.
#   tests/bench/run_wechat.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_wechat.py "$dir"
