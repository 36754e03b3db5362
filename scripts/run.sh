#!/bin/sh
# Build wxgate and run it on the embedded default: SQLite store, the echo
# agent, public web chat on 127.0.0.1:8080.  Ctrl-C stops it.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh build
mkdir -p run
echo "wxgate: web chat at http://127.0.0.1:8080/ (wxgatectl: build/wxgatectl -s run/control.sock status; Ctrl-C stops)"
exec build/wxgated -f etc/wxgate.yaml
