#!/bin/sh
# wxgate-hub (issue #17) runs the hub alone: it maps SQLite and the
# configuration's YAML but no OpenSSL (its hashes are common/sha.c's,
# its random numbers getrandom's) and no libcurl; and it carries the
# hub and none of the kinds' code.  make check sets WXHUB.
set -eu
: "${WXHUB:?}"
libs=$(readelf -d "$WXHUB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$libs" ] || { echo "no NEEDED entries in $WXHUB"; exit 1; }
for l in $libs; do
	case $l in
	libcrypto*|libssl*|libevent_openssl*|libcurl*)
		echo "wxgate-hub needs $l"
		exit 1 ;;
	esac
done
echo "$libs" | grep -q '^libsqlite3' || { echo "wxgate-hub lacks SQLite"; exit 1; }
defs=$(nm "$WXHUB" | awk '$2 ~ /^[TDRB]$/ { print $3 }')
for sym in worker_main reader_main zygote_main worker_kinds wk_console \
    wk_wechat wk_webchat tls_pem_server; do
	if echo "$defs" | grep -qx "$sym"; then
		echo "wxgate-hub defines $sym"
		exit 1
	fi
done
for sym in hub_main store_open; do
	echo "$defs" | grep -qx "$sym" || { echo "wxgate-hub lacks $sym"; exit 1; }
done
echo "wxgate-hub needs:" $libs
