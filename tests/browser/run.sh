#!/bin/bash
# Real-browser tests of the chat page: Debian's chromium driven by
# playwright-core (never a downloaded browser).  Installs what is missing,
# then runs each tests/browser/*.test.mjs with "node --test", several at
# once, and exits non-zero if any failed.
#   WXGATE_BUILDDIR=DIR tests/browser/run.sh   (default DIR: build-test)
set -u
cd "$(dirname "$0")/../.."

# Again when package-lock.json is newer than what npm last installed.
if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
    [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
	(cd tests/browser && npm ci --no-audit --no-fund) || exit 1
fi

# chromium itself, and a CJK font so screenshots show Chinese text.
pkgs=
[ -x /usr/bin/chromium ] || pkgs="$pkgs chromium"
command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] &&
    pkgs="$pkgs fonts-wqy-microhei"
if [ -n "$pkgs" ]; then
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkgs ||
	    echo "run.sh: apt-get install$pkgs failed" >&2
fi
[ -x /usr/bin/chromium ] || { echo "run.sh: no /usr/bin/chromium" >&2; exit 1; }

mkdir -p tests/out
# The files side by side, BROWSER_JOBS at a time (default: one more than
# the cores, since most of a test is waiting on a page or a daemon), each
# file's report kept whole and printed in order; then the summed counts.
jobs=${BROWSER_JOBS:-$(($(nproc) + 1))}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
for f in tests/browser/*.test.mjs; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	b=$(basename "$f" .test.mjs)
	(node --test "$f" >"$logs/$b.out" 2>&1; echo $? >"$logs/$b.rc") &
done
wait
pass=0 fail=0 rc=0
for f in tests/browser/*.test.mjs; do
	b=$(basename "$f" .test.mjs)
	cat "$logs/$b.out"
	p=$(sed -n 's/^# pass //p' "$logs/$b.out" | tail -1)
	n=$(sed -n 's/^# fail //p' "$logs/$b.out" | tail -1)
	# A file that ran nothing, or died, counts as one failure.
	[ -z "$p" ] && [ -z "$n" ] && n=1
	pass=$((pass + ${p:-0})); fail=$((fail + ${n:-0}))
	[ "$(cat "$logs/$b.rc" 2>/dev/null || echo 1)" -eq 0 ] || rc=1
done
echo "# pass $pass"
echo "# fail $fail"
[ "$fail" -eq 0 ] && exit "$rc"
exit 1
