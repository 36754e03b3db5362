#!/bin/sh
# Root's wxgated is the parent alone (issues #11, #17): it defines no
# symbol of the hub's, the configuration library's, the workers' or
# the utilities' objects (those are wxgate-child's: the msgpack form,
# ipc/codec_mp.c, among them), and it needs none of the shared
# libraries only they use.  Nor does it hold msgpack-c: the parent's
# messages have their own fixed form (ipc/codec_bin.c).  msgpack-c's
# packer is inline, so no process NEEDs libmsgpackc: what proves root
# has none is that none of its objects was compiled with msgpack.h
# (the dependency files, where the build tracks them), with no
# msgpack_ symbol and no libmsgpackc.  make check sets CHILD_OBJS
# (every object wxgate-child has that wxgated must not: libwxsup.a's,
# libwxconf.a's, libwxworkers.a's and libwxutil.a's, less the parent's
# own files they compile too: the kind table, conf_file.c, worktab.c)
# and WXGATED, and runs it in the build directory.
set -eu
: "${CHILD_OBJS:?}" "${WXGATED:?}"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for o in $CHILD_OBJS; do
	nm -g --defined-only "$o"
done | awk 'NF == 3 { print $3 }' | sort -u >"$tmp"
[ -s "$tmp" ] || { echo "no symbols in CHILD_OBJS"; exit 1; }
bad=$(nm -g --defined-only "$WXGATED" | awk 'NF == 3 { print $3 }' |
    sort -u | comm -12 - "$tmp")
if [ -n "$bad" ]; then
	echo "wxgated defines what only wxgate-child should:"
	echo "$bad" | head -20
	exit 1
fi
mp=$(grep -l 'msgpack\.h' ./*/.deps/libwxparent_a-*.Po \
    ./*/.deps/wxgated-*.Po 2>/dev/null || :)
if [ -n "$mp" ]; then
	echo "wxgated's objects include msgpack.h:" $mp
	exit 1
fi
if nm -g "$WXGATED" | grep -q ' msgpack_'; then
	echo "wxgated has msgpack-c's code:"
	nm -g "$WXGATED" | grep ' msgpack_' | head -5
	exit 1
fi
libs=$(readelf -d "$WXGATED" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for l in $libs; do
	case $l in
	libsqlite3*|libcrypto*|libssl*|libjansson*|libyaml*|libcyaml*|\
	libqrencode*|libcurl*|libmsgpackc*)
		echo "wxgated needs $l"
		exit 1 ;;
	esac
done
echo "wxgated: $(nm -g --defined-only "$WXGATED" | wc -l) symbols, none" \
    "of the $(wc -l <"$tmp") that wxgate-child's own objects define;" \
    "needs:" $libs
