#!/bin/sh
# Install the Debian packages wxgate needs, only those missing, and
# create the hub's user.
#   scripts/deps.sh build   - to build and run wxgated
#   scripts/deps.sh test    - also what the test suite needs
# Runs apt-get update once, and only when something is missing.
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
	libevent-dev libmsgpack-dev libsqlite3-dev libcurl4-openssl-dev
	libssl-dev libseccomp-dev libwslay-dev libhttp-parser-dev
	libjansson-dev libcyaml-dev libyaml-dev libqrencode-dev libpq-dev"
TEST="libcmocka-dev python3 python3-pytest python3-pytest-xdist python3-websockets
	python3-aiohttp python3-yaml clang libclang-rt-dev mandoc curl xz-utils
	chromium fonts-wqy-microhei nodejs npm openssl postgresql"

want=$BUILD
[ "${1:-build}" = test ] && want="$BUILD $TEST"

missing=""
for p in $want; do
	# node may come from elsewhere on the machine; Debian's is the fallback
	case $p in
	nodejs|npm) command -v "$p" >/dev/null 2>&1 && continue
		[ $p = nodejs ] && command -v node >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
# The hub runs as a user of its own (sandbox.hub_user, wxgate.yaml(5)).
if [ "$(id -u)" -eq 0 ] && ! getent passwd wxgate >/dev/null; then
	useradd --system --user-group --no-create-home \
	    --shell /usr/sbin/nologin wxgate
fi
[ -z "$missing" ] && exit 0

echo "wxgate: installing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
