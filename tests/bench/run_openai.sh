#!/bin/sh
# The openai agent bench: -O2 build, then tests/bench/bench_openai.py
# against the fake OpenAI server (fixed 20-token streamed reply).
#   tests/bench/run_openai.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
exec /usr/bin/python3 tests/bench/bench_openai.py "$dir"
