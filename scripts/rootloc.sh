#!/bin/sh
# The lines of code that run as root (issue #11's measure of the
# privilege line): every .c/.h of the root parent's code path, as
# Makefile.am lists it (PARENT_SOURCES, the common library), and the
# code that runs before the uid drop in the hub and the workers
# (worker.c, hub.c, the sandbox steps up to creds.c, and each worker
# kind's file with its pre_sandbox, counted whole: an upper bound).
# Prints one "part lines" row each and the total; the target is 4000.
#   scripts/rootloc.sh            the tree as it is
#   scripts/rootloc.sh REV        the tree at a git revision
set -eu
cd "$(dirname "$0")/.."
rev=${1:-}

show() {	# show PATH: a file of the tree, or of REV
	if [ -n "$rev" ]; then
		git show "$rev:$1" 2>/dev/null || :
	else
		cat "$1" 2>/dev/null || :
	fi
}

# The files of an automake variable (continuation lines joined, and
# $(OTHER) variables it names expanded).
var() {
	show Makefile.am | awk -v v="$1" '
		$0 ~ "^" v "[ \t]*=" { on = 1; sub(/^[^=]*=/, "") }
		on { line = $0; cont = sub(/\\$/, "", line)
		     n = split(line, w, /[ \t]+/)
		     for (i = 1; i <= n; i++)
			if (w[i] ~ /\.[ch]$/ || w[i] ~ /^\$\([A-Z_]+\)$/)
				print w[i]
		     if (!cont) on = 0 }' |
	while read -r f; do
		case $f in
		'$('*) var "$(echo "$f" | tr -d '$()')" ;;
		*) echo "$f" ;;
		esac
	done
}

lines() {	# lines FILE...: total lines
	n=0
	for f in "$@"; do
		n=$((n + $(show "$f" | wc -l)))
	done
	echo "$n"
}

# The parent's own files, the libraries it links and uses, and the two
# sandbox files it calls (--check-sandbox, syscall names in exit causes).
# Before PARENT_SOURCES existed (the split), the whole supervisor ran as
# root: libwxsup_a_SOURCES stands in for it.
parent=$(var PARENT_SOURCES)
[ -n "$parent" ] || parent=$(var libwxsup_a_SOURCES)
root=$(echo $(var wxgated_SOURCES) $parent $(var libwxcommon_a_SOURCES) \
    sandbox/check.c sandbox/sigsys.c sandbox/sandbox.h |
    tr ' ' '\n' | sort -u)
# Before the uid drop: the worker and hub entry points and the sandbox
# steps up to creds.c (hub.c whole: an upper bound).
predrop=""
for f in workers/worker.c workers/worker.h sandbox/sandbox.c sandbox/fds.c \
    sandbox/rlimit.c sandbox/ns.c sandbox/nsdirs.c sandbox/creds.c \
    supervisor/hub.c; do
	echo "$root" | grep -qx "$f" || predrop="$predrop $f"
done
kinds=$(if [ -n "$rev" ]; then git grep -l pre_sandbox "$rev" -- \
    'workers/*/*.c' | sed "s/^$rev://"; else git grep -l pre_sandbox -- \
    'workers/*/*.c'; fi)
a=$(lines $root)
b=$(lines $predrop)
c=$(lines $kinds)
echo "root-parent $a lines ($(echo $root | wc -w) files)"
echo "hub-and-workers-before-uid-drop $b lines"
echo "worker-kinds-pre-sandbox $c lines (whole files: an upper bound)"
echo "total $((a + b + c)) lines (target 4000)"
