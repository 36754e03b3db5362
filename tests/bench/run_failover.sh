#!/bin/sh
# Failover at the lease layer (issue #18): an -O2 build of
# bench_failover against a PostgreSQL of its own (tests/pgserver.sh),
# at the default lease TTL (15 s) and at a short one.  Prints
# "failover.METRIC value unit" lines.
#   tests/bench/run_failover.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}

. tests/bench/lib.sh
bench_build bench_failover
for ttl in 15000 3000; do
	sh tests/pgserver.sh run "$bench" -t $ttl -r 3 |
	    sed "s/^failover\./failover.ttl$ttl./"
done
