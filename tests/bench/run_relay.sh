#!/bin/sh
# The relay agent bench: -O2 build, then tests/bench/bench_relay.py
# (wxgate-relay and an openai agent against the fake OpenAI server).
#   tests/bench/run_relay.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_relay.py "$dir"
