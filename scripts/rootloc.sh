#!/bin/sh
# The lines of code that run as root (issue #11's measure of the
# privilege line): every .c/.h of the root parent's code path, as
# Makefile.am lists it (PARENT_SOURCES, the common library), and the
# code that runs before the uid drop in the hub and the workers.
# Since workers drop root first (sandbox_drop), that is: the hub's
# hub.c (whole: an upper bound) and the sandbox steps it takes as root
# (fds, rlimits, namespaces, creds: SB_S_ROOTNS); since the hub drops
# first too, its argv, spec and creds.c, the namespace steps counted
# with the configuration reader, which took them as root until it
# dropped first as well (see the reader's row below); a worker's
# worker_main and worker_begin up to its sandbox_drop() (and a zygote's
# zygote_main up to worker_begin) and the few worker.c functions
# it calls (listed); their kinds' pre_sandbox runs as the sandbox user
# and no longer counts.  Before that, worker.c and each kind's file
# with its pre_sandbox counted whole.
# The configuration reader (conf_reader.c, the configuration library
# libwxconf.a) parses the file as the sandbox user since issue #11's
# reader: like the hub, only its reader_main up to sandbox_enter() and
# its log hook count; the parent keeps conf_fetch.c, and what it
# shares with the library (CONFIG_SHARED: the kind table, conf_file.c),
# in PARENT_SOURCES.  Before it, CONFIG_SOURCES was in PARENT_SOURCES.
# --check-sandbox's throwaway child (check.c) drops root first too, with
# sandbox_drop: of check.c only what runs before counts (see below);
# before, check.c counted whole.
# The parent's files include sandbox_conf.h (the -u argument's struct
# and format, syscall names) rather than sandbox.h, which left
# libwxparent_a_SOURCES; like worker.h and hub.h, the header is not
# counted for the children that include it (check.c, child.c).  The
# -u argument's parse, which only the children run (before their
# drop), left creds_arg.c for creds_parse.c, counted whole in the
# hub's row with creds.c; before, creds_arg.c held both and was the
# parent's (so creds_parse.c is absent from older revisions).
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

# count: the lines of its input; with code=1 only those with code on
# them (cloc's "code": neither blank nor only comment), since the
# sources explain why at length and the target may be read either way.
code=0
count() {
	if [ "$code" -eq 0 ]; then
		wc -l
		return
	fi
	awk '{	line = $0; out = ""
		while (line != "") {
			if (inc) {
				i = index(line, "*/")
				if (!i) { line = ""; break }
				line = substr(line, i + 2); inc = 0; continue
			}
			i = index(line, "/*"); j = index(line, "//")
			if (j && (!i || j < i)) {
				out = out substr(line, 1, j - 1); break
			}
			if (i) {
				out = out substr(line, 1, i - 1)
				line = substr(line, i + 2); inc = 1; continue
			}
			out = out line; line = ""
		}
		if (out ~ /[^ \t]/) n++ }
	    END { print n + 0 }'
}

lines() {	# lines FILE...: total lines
	n=0
	for f in "$@"; do
		n=$((n + $(show "$f" | count)))
	done
	echo "$n"
}

# fnlines FILE STOP NAME...: the lines of each function NAME (from its
# return type's line to its closing brace, or to the first line that
# matches STOP, inclusive).
fnlines() {
	f=$1 stop=$2
	shift 2
	show "$f" | awk -v names=" $* " -v stop="$stop" '
		# The return type, on the line before the name.
		!on && match($0, /^[a-z_0-9]+\(/) &&
		    index(names, " " substr($0, 1, RLENGTH - 1) " ") {
			on = 1; print prev }
		on { print }
		on && (/^}/ || (stop != "" && $0 ~ stop)) { on = 0 }
		{ prev = $0 }' | count
}

# The parent's own files, the libraries it links and uses, and the two
# sandbox files it calls (--check-sandbox, syscall names in exit causes).
# Before PARENT_SOURCES existed (the split), the whole supervisor ran as
# root: libwxsup_a_SOURCES stands in for it.
# Since wxgated and wxgate-child are two programs, the parent's library
# (libwxparent.a) is all root's wxgated links besides main.c; the
# sandbox check runs as root in wxgate-child (check.c, whose child
# counts up to its sandbox_drop once it takes one, below; child.c's
# main, which also parses a child's options before its uid drop, with
# entry.h, the entry points it calls, which sup.h declared before); of
# ipc_msg.h the parent sees the lines before its IPC_PARENT_ONLY stop.
ipchead=0
if [ -n "$(var libwxparent_a_SOURCES)" ]; then
	root=$(echo $(var wxgated_SOURCES) $(var libwxparent_a_SOURCES) \
	    sandbox/check.c supervisor/child.c supervisor/entry.h |
	    tr ' ' '\n' | sort -u)
	ipchead=$(show ipc/ipc_msg.h | awk '{ n++ } /^#ifndef IPC_PARENT_ONLY/ {
	    print n; exit }')
else
	parent=$(var PARENT_SOURCES)
	[ -n "$parent" ] || parent=$(var libwxsup_a_SOURCES)
	# sandbox/creds_arg.c formats the -u argument in the parent.
	root=$(echo $(var wxgated_SOURCES) $parent \
	    $(var libwxcommon_a_SOURCES) sandbox/check.c sandbox/sigsys.c \
	    sandbox/sandbox.h \
	    $(var libwxsandbox_a_SOURCES | grep -x sandbox/creds_arg.c) |
	    tr ' ' '\n' | sort -u)
fi
# --check-sandbox's throwaway child (check.c: check_child) drops root
# first with sandbox.c's own sandbox_drop, the steps every process
# takes as root (counted in the hub's row), and tries the other layers
# as the sandbox user, as a worker does.  So of check.c only what runs
# before count: sandbox_check, check_state and check_standin in the
# process that forks it, and check_child up to its sandbox_drop().
# Before, check_child took those steps itself and check.c counted whole.
# Since child_check.c, wxgate-child drops root before sandbox_check
# runs at all (child.c: child_check_as, once per set of ids, with the
# hub's spec for the hub): of check.c only the stand-in root makes for
# the hub's directory counts (chk 2); the kinds' specs and the layers'
# names are read as the sandbox user.
chk=0
if echo "$root" | grep -qx sandbox/check.c &&
    show sandbox/check.c | grep -q 'sandbox_drop'; then
	root=$(echo "$root" | grep -vx sandbox/check.c)
	chk=1
	[ -n "$(show supervisor/child_check.c)" ] && chk=2
fi
# What check.c and child.c call as root is counted with them: the
# layers' names (sandbox.c: sandbox_layer_name and its table) and the
# kinds' specs (worker_kinds, worker_spec).  Counts before this tree's
# (chk 0) left those out, and the hub's row the callees of its log hook
# (logring_add, ipc_send_blocking), which a fatal before its drop runs.
chkfns="sandbox_check check_state check_standin check_child"
checkpart() {
	if [ "$chk" -eq 2 ]; then
		fnlines sandbox/check.c '' sandbox_check_standin
	elif [ "$chk" -eq 1 ]; then
		echo $(( $(fnlines sandbox/check.c 'sandbox_drop\(' $chkfns) +
		    $(fnlines sandbox/sandbox.c '' sandbox_layer_name) +
		    $(show sandbox/sandbox.c | awk '/^static const char \*const layer_names/ { on = 1 }
			on { print } on && /^};/ { exit }' | count) +
		    $(fnlines workers/kinds_all.c '' worker_kinds) +
		    $(fnlines workers/worker.c '' worker_spec) ))
	else
		echo 0
	fi
}
a=$(( $(lines $root) + ipchead + $(checkpart) ))
ac=$(( $(code=1 lines $root) + $(show ipc/ipc_msg.h | head -n "$ipchead" |
    code=1 count) + $(code=1 checkpart) ))
more=
[ "$chk" -eq 1 ] && more="; check.c: $chkfns to sandbox_drop; \
sandbox.c: sandbox_layer_name, layer_names; kinds_all.c: worker_kinds; \
worker.c: worker_spec;"
[ "$chk" -eq 2 ] && more="; check.c: sandbox_check_standin;"
[ "$ipchead" -gt 0 ] && more="$more and ipc_msg.h's first $ipchead lines"
echo "root-parent $a lines, $ac of code ($(echo $root | wc -w) files$more)"

if ! show workers/worker.c | grep -q 'sandbox_drop('; then
	# Before the split: the worker and hub entry points and the sandbox
	# steps up to creds.c (hub.c whole: an upper bound), every kind's
	# pre_sandbox file whole.
	predrop=""
	for f in workers/worker.c workers/worker.h sandbox/sandbox.c \
	    sandbox/fds.c sandbox/rlimit.c sandbox/ns.c sandbox/nsdirs.c \
	    sandbox/creds.c supervisor/hub.c; do
		echo "$root" | grep -qx "$f" || predrop="$predrop $f"
	done
	kinds=$(if [ -n "$rev" ]; then git grep -l pre_sandbox "$rev" -- \
	    'workers/*/*.c' | sed "s/^$rev://"; else git grep -l \
	    pre_sandbox -- 'workers/*/*.c'; fi)
	b=$(lines $predrop)
	c=$(lines $kinds)
	echo "hub-and-workers-before-uid-drop $b lines"
	echo "worker-kinds-pre-sandbox $c lines (whole files: an upper bound)"
	echo "total $((a + b + c)) lines (target 4000)"
	exit 0
fi

# The hub: hub_main up to its sandbox_enter() and hub_spec (what it
# reads before is its argv), and the sandbox steps it takes as root.
# Since the hub drops root first too (hub_main: sandbox_drop, its
# namespaces built in a user namespace by sandbox_confine), only its
# argv, its spec (specs.c: hub_spec, hub_pg.c: hub_pg_spec), the log
# hook a fatal takes, the chdir into its store (ns.c:
# sandbox_ns_open), sandbox.c's sandbox_drop, creds.c and the -u
# argument's parse (creds_parse.c, the workers' and reader's too) run
# as root;
# the steps the configuration reader still takes as root (SB_S_ROOTNS:
# fds.c, rlimit.c, nsdirs.c whole, what ns.c runs as root) moved to
# its row.  Before, the hub's row held those files whole.
newhub=0
show supervisor/hub.c | grep -q 'sandbox_drop(' && newhub=1
hub=""
for f in sandbox/sandbox.h sandbox/sandbox.c sandbox/fds.c \
    sandbox/rlimit.c sandbox/ns.c sandbox/nsdirs.c sandbox/nsdirs.h \
    sandbox/creds.c sandbox/creds_arg.c; do
	echo "$root" | grep -qx "$f" || hub="$hub $f"
done
# wxgate-hub's main (hubmain.c) reads its options as root before
# hub_main, as wxgate-child's does for the others (child.c, above).
hooked() {	# the log hook's callees (see checkpart), since chk 1
	if [ "$chk" -ge 1 ]; then
		echo $(( $(fnlines supervisor/logring.c '' logring_add) +
		    $(fnlines ipc/wire_blocking.c '' ipc_send_blocking) ))
	else
		echo 0
	fi
}
hubpart() {
	if [ "$newhub" -eq 1 ]; then
		echo $(( $(fnlines supervisor/hub.c 'sandbox_drop\(' \
		    hub_main hub_log_hook) +
		    $(fnlines supervisor/specs.c '' hub_spec) +
		    $(fnlines supervisor/hub_pg.c '' hub_pg_spec) +
		    $(fnlines supervisor/hubmain.c '' main usage) +
		    $(fnlines sandbox/sandbox.c '' sandbox_drop) +
		    $(fnlines sandbox/ns.c '' sandbox_ns_open) +
		    $(lines sandbox/creds.c sandbox/creds_parse.c) +
		    $(hooked) ))
		return
	fi
	echo $(( $(lines $hub) + $(fnlines supervisor/hub.c 'sandbox_enter\(' \
	    hub_main hub_spec) + $(fnlines supervisor/hubmain.c '' main usage) ))
}
b=$(hubpart)
bc=$(code=1 hubpart)
# A worker: worker_main, worker_begin to its sandbox_drop(), and what
# that calls in worker.c (the log hook only sends a fatal error on);
# sandbox_drop, creds.c and the -u argument's parse (creds_arg.c, or
# creds_parse.c) are in the hub's or the parent's row already.
# A zygote: zygote_main up to the same worker_begin().
wfns="worker_main worker_begin worker_kind_find worker_log_hook worker_send"
workpart() {
	echo $(( $(fnlines workers/worker.c 'sandbox_drop\(' $wfns) +
	    $(fnlines workers/zygote.c 'worker_begin\(' zygote_main) +
	    $(fnlines workers/light.c '' main usage) ))
}
c=$(workpart)
cc=$(code=1 workpart)
# The configuration reader: reader_main to its sandbox_enter() (the
# sandbox steps are in the hub's row), and the log hook a fatal takes.
# Since the hub drops first, the reader's row holds the steps it alone
# takes as root (sandbox_build): reader_spec, sandbox.c's sandbox_enter
# and sandbox_build, fds.c, rlimit.c, nsdirs.c and nsdirs.h whole, and
# of ns.c sandbox_ns (whole, though its user namespace branch is
# never taken as root), ns_off, ns_describe and ns_mount.
# Since the reader drops first too (reader_spec has no SB_S_ROOTNS: a
# schedule's zone file is the parent's to read), only reader_spec is
# added: sandbox_enter's root part is sandbox_drop, in the hub's row.
rootreader=0
show supervisor/specs.c | grep -q 'SB_S_ROOTNS' && rootreader=1
rfns="reader_main reader_log_hook"
readerpart() {
	n=$(fnlines supervisor/conf_reader.c 'sandbox_enter\(' $rfns)
	if [ "$newhub" -eq 1 ] && [ "$rootreader" -eq 0 ]; then
		n=$(( n + $(fnlines supervisor/specs.c '' reader_spec) ))
	elif [ "$newhub" -eq 1 ]; then
		n=$(( n + $(fnlines supervisor/specs.c '' reader_spec) +
		    $(fnlines sandbox/sandbox.c '' sandbox_enter \
		    sandbox_build) + $(lines $(echo "$hub" | tr ' ' '\n' |
		    grep -E 'fds\.c|rlimit\.c|nsdirs\.[ch]')) +
		    $(fnlines sandbox/ns.c '' sandbox_ns ns_off ns_describe \
		    ns_mount) ))
	fi
	echo "$n"
}
d=$(readerpart)
dc=$(code=1 readerpart)
if [ "$newhub" -eq 1 ]; then
	echo "hub-before-uid-drop $b lines, $bc of code (hub.c: hub_main to" \
	    "sandbox_drop, hub_log_hook; specs.c: hub_spec; hub_pg.c:" \
	    "hub_pg_spec; hubmain.c: main, usage; sandbox.c: sandbox_drop;" \
	    "ns.c: sandbox_ns_open; creds.c$(show sandbox/creds_parse.c |
	    grep -q . && echo ' creds_parse.c')$([ "$chk" -ge 1 ] &&
	    echo '; logring.c: logring_add; wire_blocking.c: ipc_send_blocking'))"
else
	echo "hub-before-uid-drop $b lines, $bc of code (hub.c: hub_main to sandbox_enter," \
	    "hub_spec where hub.c has it; hubmain.c: main, usage; sandbox steps:$(echo "$hub" |
	    sed 's|sandbox/||g'))"
fi
echo "workers-before-uid-drop $c lines, $cc of code (worker.c: $wfns; zygote.c:" \
    "zygote_main; light.c: main, usage)"
if [ "$newhub" -eq 1 ] && [ "$rootreader" -eq 0 ]; then
	echo "reader-before-uid-drop $d lines, $dc of code (conf_reader.c: $rfns;" \
	    "specs.c: reader_spec; the namespaces and the parsing run as the" \
	    "sandbox user)"
elif [ "$newhub" -eq 1 ]; then
	echo "reader-before-uid-drop $d lines, $dc of code (conf_reader.c: $rfns;" \
	    "specs.c: reader_spec; sandbox.c: sandbox_enter, sandbox_build;" \
	    "fds.c rlimit.c nsdirs.c nsdirs.h; ns.c: sandbox_ns, ns_off," \
	    "ns_describe, ns_mount; the parsing runs as the sandbox user)"
else
	echo "reader-before-uid-drop $d lines, $dc of code (conf_reader.c: $rfns; the" \
	    "parsing runs as the sandbox user)"
fi
echo "worker-kinds-pre-sandbox 0 lines (run as the sandbox user)"
echo "total $((a + b + c + d)) lines, $((ac + bc + cc + dc)) of code" \
    "(target 4000)"
