#!/bin/sh
# Configure (once per directory) and build wxgate out of tree.
#   scripts/build.sh DIR [configure args...]
set -eu
cd "$(dirname "$0")/.."
dir=$1
shift
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	./autogen.sh >/dev/null 2>&1 || ./autogen.sh
fi
mkdir -p "$dir"
if [ ! -f "$dir/Makefile" ]; then
	(cd "$dir" && ../configure "$@" >configure.out) ||
	    { cat "$dir/configure.out"; tail -20 "$dir/config.log"; exit 1; }
fi
make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 ||
    { tail -40 "$dir/make.out"; exit 1; }
