# What the wxgated benches (run.sh, run_c10k.sh) share: sourced after
# "cd" to the repo's root with $dir set to the build directory.
#   bench_build TARGET     -O2 build, then $bench and $ctl
#   bench_daemon PREFIX    $tmp, $port, and the cleanup that stops $pid
#   bench_start WANT TRIES start wxgated on $tmp/wxgate.yaml; wait, 0.1 s
#                          a try, for WANT running workers and /healthz
#   bench_server PREFIX    restarts and seccomp kills as PREFIX.* lines,
#                          wxgated's warnings; a kill sets rc
stop_tries=${stop_tries:-100}

bench_build() {
	scripts/build.sh "$dir" CFLAGS='-O2 -g'
	make -C "$dir" "tests/bench/$1" >"$dir/make-bench.out" 2>&1 ||
	    { tail -20 "$dir/make-bench.out"; exit 1; }
	bench=$dir/tests/bench/$1
	ctl=$dir/wxgatectl
}

bench_cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		"$ctl" -s "$tmp/control.sock" stop >/dev/null 2>&1 ||
		    kill "$pid" 2>/dev/null || :
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$stop_tries" ]
		do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || :
	fi
	rm -rf "$tmp"
}

bench_daemon() {
	tmp=$(mktemp -d "/tmp/$1.XXXXXX")
	pid=
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	# A free port: let the kernel pick one, then release it.
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) ||
	    port=$((20000 + $$ % 20000))
}

bench_start() {
	"$dir/wxgated" -f "$tmp/wxgate.yaml" >"$tmp/wxgated.log" 2>&1 &
	pid=$!
	i=0
	until [ "$("$ctl" -s "$tmp/control.sock" status 2>/dev/null |
	    grep -c ' running ')" -ge "$1" ] &&
	    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge "$2" ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "bench: wxgated did not start" >&2
			cat "$tmp/wxgated.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

bench_server() {
	"$ctl" -s "$tmp/control.sock" status >"$tmp/status" 2>&1 || :
	echo "$1.restarts $(awk 'NR > 1 { n += $6 } END { print n + 0 }' \
	    "$tmp/status") count"
	# The sandbox is fully on during a bench: a seccomp kill is a
	# failure.
	kills=$(awk 'NR > 1 { n += $9 } END { print n + 0 }' "$tmp/status")
	echo "$1.seccomp_kills $kills count"
	if [ "$kills" -ne 0 ] ||
	    grep -q "killed by seccomp" "$tmp/wxgated.log"; then
		echo "bench: a worker was killed by its seccomp filter" >&2
		[ "$rc" -ne 0 ] || rc=1
	fi
	if grep -Eq ' (warn|error|fatal|crit)[a-z]*:' "$tmp/wxgated.log"; then
		echo "bench: wxgated warnings:" >&2
		grep -E ' (warn|error|fatal|crit)[a-z]*:' "$tmp/wxgated.log" |
		    tail -20 >&2
	fi
}

bench_rev() {	# the commit, +dirty when the tree differs
	echo "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git \
	    diff --quiet HEAD 2>/dev/null || echo +dirty)"
}
