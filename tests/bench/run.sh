#!/bin/sh
# Round-trip benchmark: build with -O2, start a wxgated on a free port of
# 127.0.0.1 (2 webchat workers, echo agent with 4 chunks and no delay),
# run bench_roundtrip in a few scenarios and print "scenario.metric value
# unit" lines.  Exits with the worst bench status.
#   tests/bench/run.sh [build dir, default build-bench]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-build-bench}

scripts/build.sh "$dir" CFLAGS='-O2 -g'
make -C "$dir" tests/bench/bench_roundtrip >"$dir/make-bench.out" 2>&1 ||
    { tail -20 "$dir/make-bench.out"; exit 1; }
bench=$dir/tests/bench/bench_roundtrip
ctl=$dir/wxgatectl

tmp=$(mktemp -d /tmp/wxbench.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		"$ctl" -s "$tmp/control.sock" stop >/dev/null 2>&1 ||
		    kill "$pid" 2>/dev/null || :
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port: let the kernel pick one, then release it.
port=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) ||
    port=$((20000 + $$ % 20000))

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

"$dir/wxgated" -f "$tmp/wxgate.yaml" >"$tmp/wxgated.log" 2>&1 &
pid=$!

# Ready when all three workers run and the page answers.
i=0
until [ "$("$ctl" -s "$tmp/control.sock" status 2>/dev/null |
    grep -c ' running ')" -ge 3 ] &&
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -ge 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "bench: wxgated did not start" >&2
		cat "$tmp/wxgated.log" >&2
		exit 1
	fi
	sleep 0.1
done

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
    "echo 4 chunks 0 ms, $(nproc) cpus, $(git rev-parse --short HEAD \
    2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null ||
    echo +dirty)"
run idle -c 0
run c1 -c 1 -n 1000
run c50 -c 50 -n 200
run r1000 -c 20 -n 150 -r 1000

"$ctl" -s "$tmp/control.sock" status >"$tmp/status" 2>&1 || :
echo "server.restarts $(awk 'NR > 1 { n += $6 } END { print n + 0 }' \
    "$tmp/status") count"
# The sandbox is fully on during the bench: a seccomp kill is a failure.
kills=$(awk 'NR > 1 { n += $9 } END { print n + 0 }' "$tmp/status")
echo "server.seccomp_kills $kills count"
if [ "$kills" -ne 0 ] || grep -q "killed by seccomp" "$tmp/wxgated.log"; then
	echo "bench: a worker was killed by its seccomp filter" >&2
	rc=1
fi
if grep -Eq ' (warn|error|fatal|crit)[a-z]*:' "$tmp/wxgated.log"; then
	echo "bench: wxgated warnings:" >&2
	grep -E ' (warn|error|fatal|crit)[a-z]*:' "$tmp/wxgated.log" |
	    tail -20 >&2
fi
exit $rc
