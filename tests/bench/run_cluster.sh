#!/bin/sh
# Throughput of 1, 2 and 3 nodes on one PostgreSQL (issue #18): -O2
# build, then tests/bench/bench_cluster.py under a PostgreSQL of its own
# with fsync on (tests/pgserver.sh), a database per node count.  20
# personal-WeChat accounts, each against a fake iLink server, leased over
# the nodes; the echo agent answers at once.  A burst of 20 x K messages
# is let go at once: "cluster.nodesN.msgs_per_s" is replies per second
# until the last; ".lost", ".doubled" and ".violations" check that each
# was answered exactly once at the fakes, and fail the bench when not 0.
# The nodes, PostgreSQL and the fakes (Python, most of a core during the
# burst) share this machine's cores: the figures are this box's, not
# those of nodes on machines of their own.  About 40 s.
#   tests/bench/run_cluster.sh [build dir, default build-bench] [K, 200]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}
k=${2:-200}
scripts/build.sh "$dir" CFLAGS='-O2 -g'
WXGATE_PG_FSYNC=on exec sh tests/pgserver.sh run \
    /usr/bin/python3 tests/bench/bench_cluster.py "$dir" "$k"
