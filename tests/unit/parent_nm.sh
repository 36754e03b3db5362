#!/bin/sh
# The root parent runs no configuration code (issue #11): starting from
# its objects (PARENT_SOURCES' and main.c's), follow every symbol they
# use to the object that defines it, through the libraries wxgated
# links, and fail if that reaches an object only the configuration
# library (libwxconf.a, less CONFIG_SHARED) holds.  The -x entry points
# of the processes the parent re-executes (hub_main, worker_main,
# reader_main) are not followed: they run after an exec, as other
# users.  make check sets PARENT_OBJS, CONF_OBJS and LIBS_NM.
set -eu
: "${PARENT_OBJS:?}" "${CONF_OBJS:?}" "${LIBS_NM:?}"
entries="hub_main worker_main reader_main"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# "object kind symbol", kind D (defined) or U, for every object.
# An object is "lib.a:member.o" (or main.o's path): names repeat
# across libraries (supervisor/command.c, workers/agent/command.c).
for a in $(echo $LIBS_NM | tr ' ' '\n' | awk '!seen[$0]++') \
    supervisor/main.o; do
	nm -A -g "$a" 2>/dev/null
done | awk '
	# "lib.a:member.o:ADDR T sym", "lib.a:member.o: U sym", "x.o:..."
	NF == 3 { n = split($1, p, ":"); obj = p[1]
		  for (i = 2; i < n; i++) obj = obj ":" p[i]
		  if ($2 == "U") print obj, "U", $3
		  else if ($2 != "w" && $2 != "v") print obj, "D", $3 }
' >"$tmp"
awk -v roots="$(for o in $PARENT_OBJS; do echo "libwxsup.a:${o##*/}"
	done; echo supervisor/main.o)" \
    -v conf="$(for o in $CONF_OBJS; do echo "libwxconf.a:${o##*/}"; done)" \
    -v entries="$entries" '
	BEGIN { n = split(roots, r, /[ \n]+/)
		for (i = 1; i <= n; i++) if (r[i] != "") { q[++qn] = r[i]; seen[r[i]] = 1; via[r[i]] = "(parent)" }
		m = split(conf, c, /[ \n]+/)
		for (i = 1; i <= m; i++) if (c[i] != "") only[c[i]] = 1
		k = split(entries, e, " ")
		for (i = 1; i <= k; i++) skip[e[i]] = 1 }
	$2 == "D" { if (!($3 in def)) def[$3] = $1; next }
	$2 == "U" { use[$1] = use[$1] " " $3 }
	END {
		bad = 0
		for (h = 1; h <= qn; h++) {
			o = q[h]
			if (o in only) {
				printf "parent reaches %s:", o
				for (x = o; via[x] != "(parent)"; x = from[x])
					printf " <- %s", via[x]
				printf "\n"
				bad = 1
				continue
			}
			ns = split(use[o], u, " ")
			for (i = 1; i <= ns; i++) {
				s = u[i]
				if (s in skip || !(s in def)) continue
				d = def[s]
				if (d in seen) continue
				seen[d] = 1; via[d] = o ":" s; from[d] = o
				q[++qn] = d
			}
		}
		if (!bad) printf "parent: %d objects reached, none of the configuration library\n", qn
		exit bad
	}' "$tmp"
