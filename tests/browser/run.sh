#!/bin/sh
# Real-browser tests of the chat page: Debian's chromium driven by
# playwright-core (never a downloaded browser).  Installs what is missing,
# then runs "node --test tests/browser/" and exits with its status.
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
node --test tests/browser/
