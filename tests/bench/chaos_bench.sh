#!/bin/sh
# The chaos bench: tests/chaos/chaos.py with 1,000 random SIGKILLs
# (workers, the hub, and every ~20 kills the whole daemon) under mixed load;
# prints "chaos <name> <value>" lines (kills, daemon_restarts, accepted,
# refused, lost, doubled, ...) and fails when anything was lost or
# doubled.  The same build as the tests: the kills, not speed, are
# measured.
#   tests/bench/chaos_bench.sh [kills, default 1000] [build dir,
#       default build-test]
set -eu
cd "$(dirname "$0")/../.."
kills=${1:-1000}
dir=${2:-build-test}
scripts/build.sh "$dir" --enable-test-hooks \
    CFLAGS='-g -O1 -Wall -Wextra -Werror' >/dev/null
exec /usr/bin/python3 tests/chaos/chaos.py -k "$kills" "$dir"
