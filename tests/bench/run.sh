#!/bin/sh
# Round-trip benchmark: build with -O2, start a wxgated on a free port of
# 127.0.0.1 (2 webchat workers, echo agent with 4 chunks and no delay),
# run bench_roundtrip in a few scenarios (r1000 twice: the second with
# the daemon under SCHED_BATCH) and print "scenario.metric value
# unit" lines.  Exits with the worst bench status.
#   tests/bench/run.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}

. tests/bench/lib.sh
bench_build bench_roundtrip
bench_daemon wxbench

cat >"$tmp/wxgate.yaml" <<EOF
state_dir: $tmp
store: $tmp/wxgate.db
control: $tmp/control.sock
log:
  level: warn
webchat:
  listen: 127.0.0.1:$port
  workers: 2
# The bench floods from one address on purpose: lift the public limits.
policy:
  ratelimit:
    session: { rate: "1000000/s", burst: 1000000 }
    address: { rate: "1000000/s", burst: 1000000 }
  conns_per_address: 65536
agents:
  - name: default
    type: echo
    echo:
      chunks: 4
      delay_ms: 0
EOF

# Ready when all three workers run and the page answers.
bench_start 3 100

rc=0
# scenario name, then bench_roundtrip options.
run() {
	name=$1
	shift
	s=0
	"$bench" -S "$pid" "$@" "$port" >"$tmp/out" 2>"$tmp/err" || s=$?
	sed "s/^/$name./" "$tmp/out"
	if [ $s -ne 0 ]; then
		echo "bench: $name failed with status $s" >&2
		head -20 "$tmp/err" >&2
		[ $rc -ne 0 ] || rc=$s
	fi
}

echo "# wxgate round-trip bench: 127.0.0.1:$port, 2 webchat workers," \
    "echo 4 chunks 0 ms, $(nproc) cpus, $(bench_rev)"
run idle -c 0
# 10,000 or more round trips each, so that a p99 rests on 100 of them
# and a p999 on 10 (at 3,000 the p999 was the third worst).
run c1 -c 1 -n 10000
run c50 -c 50 -n 400
run r1000 -c 20 -n 500 -r 1000
# The same load with every task of the daemon under SCHED_BATCH (what
# "chrt -b 0 wxgated" or the unit's CPUSchedulingPolicy=batch give): a
# worker woken by a frame no longer preempts the hub that sent it, on
# the hub's CPU, in the middle of its turn.  A choice for a host that
# runs little else; under other tenants' load it costs more than it
# saves (docs/architecture.md, "SCHED_BATCH").
tasks() { echo "$1"; for c in $(pgrep -P "$1"); do tasks "$c"; done; }
for p in $(tasks "$pid"); do
	chrt -a -b -p 0 "$p"
done
run r1000_batch -c 20 -n 500 -r 1000

bench_server server
exit $rc
