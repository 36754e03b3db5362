#!/bin/sh
# What a program of ours maps and carries, by readelf and nm (issue
# #17's per-program libraries; hub_needed.sh and light_needed.sh say
# which program and what).
#   program_needs.sh NAME FILE [-L glob | -l prefix | -S sym | -s sym]...
#     -L  no NEEDED library matches glob     -l  one starts with prefix
#     -S  the symbol is not defined          -s  it is defined
set -eu
name=$1 file=$2
shift 2
libs=$(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$libs" ] || { echo "no NEEDED entries in $file"; exit 1; }
defs=$(nm "$file" | awk '$2 ~ /^[TDRB]$/ { print $3 }')
while [ $# -ge 2 ]; do
	case $1 in
	-L)	for l in $libs; do
			case $l in $2) echo "$name needs $l"; exit 1 ;; esac
		done ;;
	-l)	echo "$libs" | grep -q "^$2" ||
		    { echo "$name lacks $2"; exit 1; } ;;
	-S)	if echo "$defs" | grep -qx "$2"; then
			echo "$name defines $2"
			exit 1
		fi ;;
	-s)	echo "$defs" | grep -qx "$2" ||
		    { echo "$name lacks $2"; exit 1; } ;;
	*)	echo "program_needs.sh: unknown $1"; exit 2 ;;
	esac
	shift 2
done
[ $# -eq 0 ] || { echo "program_needs.sh: $1 without a value"; exit 2; }
echo "$name needs:" $libs
