#!/bin/sh
# The store's commit on both backends (issue #18): an -O2 build of
# bench_store_commit, run against a PostgreSQL of its own with fsync on
# (tests/pgserver.sh), one row and ten rows a commit.  Prints
# "store_commit.BACKEND.METRIC value unit" lines.
#   tests/bench/run_store.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}

. tests/bench/lib.sh
bench_build bench_store_commit
for k in 1 10; do
	echo "# $k row(s) a commit"
	WXGATE_PG_FSYNC=on sh tests/pgserver.sh run "$bench" -n 2000 -k $k |
	    sed "s/^store_commit\./store_commit.k$k./"
done
