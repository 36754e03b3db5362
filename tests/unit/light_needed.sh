#!/bin/sh
# wxgate-light (issue #17) runs the web chat pool, the agents and the
# metrics listener: it needs none of the libraries only the hub, the
# configuration or the other kinds use, so those processes map none of
# them; and it carries those kinds and no other (kinds_light.c).  make
# check sets WXLIGHT.
set -eu
: "${WXLIGHT:?}"
libs=$(readelf -d "$WXLIGHT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$libs" ] || { echo "no NEEDED entries in $WXLIGHT"; exit 1; }
for l in $libs; do
	case $l in
	libsqlite3*|libcrypto*|libssl*|libevent_openssl*|libyaml*|\
	libcyaml*|libcurl*|libm.*)
		echo "wxgate-light needs $l"
		exit 1 ;;
	esac
done
for sym in hub_main reader_main store_open wk_console wk_wechat \
    worker_kinds wk_webchat wk_agent wk_metrics; do
	if nm "$WXLIGHT" | awk '$2 ~ /^[TDRB]$/ { print $3 }' |
	    grep -qx "$sym"; then
		have=yes
	else
		have=no
	fi
	case $sym:$have in
	hub_main:yes|reader_main:yes|store_open:yes|wk_console:yes|\
	wk_wechat:yes)
		echo "wxgate-light defines $sym"
		exit 1 ;;
	worker_kinds:no|wk_webchat:no|wk_agent:no|wk_metrics:no)
		echo "wxgate-light lacks $sym"
		exit 1 ;;
	esac
done
echo "wxgate-light needs:" $libs
