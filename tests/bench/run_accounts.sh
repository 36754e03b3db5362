#!/bin/sh
# Many personal-WeChat accounts on one box (issue #13): -O2 build, then
# tests/bench/bench_accounts.py against one fake iLink server.
#   tests/bench/run_accounts.sh [build dir, default build-bench] [N ...]
# N defaults to 1 100 1000; the 1000 run wants ~4 GiB and a few minutes.
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
[ $# -gt 0 ] && shift
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_accounts.py "$dir" "$@"
