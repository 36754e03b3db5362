#!/bin/sh
# A throwaway PostgreSQL, from Debian's postgresql package, for tests
# and benchmarks: initdb into a fresh folder as an unprivileged user
# (the server refuses root), listening on 127.0.0.1 at a free port and
# on a Unix socket in that folder, password authentication over TCP
# (scram-sha-256) so that the password path is the one users have.
#
#   tests/pgserver.sh run CMD [ARG...]
#	start one, run CMD with WXGATE_PG_DSN (libpq key=value, no
#	password), WXGATE_PG_PASSWORD_FILE, WXGATE_PG_STOP and
#	WXGATE_PG_START (commands that stop and start this server again,
#	for outage tests) in its environment, then stop it, remove the
#	folder and exit with CMD's status
#   tests/pgserver.sh start DIR	start one in DIR (empty or missing)
#   tests/pgserver.sh stop DIR
#
# The tests run it with fsync off (nothing they check needs a disk
# flush); WXGATE_PG_FSYNC=on keeps it, for benchmarks.
# Exits 77 (automake's "skipped") with a line saying why when no
# PostgreSQL server is installed: scripts/deps.sh test installs it.
set -eu

bindir() {
	for d in "$(pg_config --bindir 2>/dev/null || :)" \
	    $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		[ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
	done
	echo "pgserver: no initdb (apt-get install postgresql)" >&2
	exit 77
}

# as USER CMD...: the server's user when we are root, else ourselves
as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PGUSER_OS" -- "$@"
	else
		"$@"
	fi
}

freeport() {
	/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
	dir=$1
	bin=$(bindir)
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		PGUSER_OS=postgres
		getent passwd postgres >/dev/null || PGUSER_OS=nobody
		chown "$PGUSER_OS" "$dir"
	fi
	# The password is random per server and lives in a file, as the
	# documented store.password_file does.
	od -An -N18 -tx1 /dev/urandom | tr -d ' \n' > "$dir/password"
	chmod 0644 "$dir/password"
	as "$bin/initdb" -D "$dir/data" -U wxgate --pwfile="$dir/password" \
	    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 \
	    --no-sync >"$dir/initdb.log" 2>&1 ||
	    { cat "$dir/initdb.log" >&2; exit 1; }
	chmod 0600 "$dir/password"
	tries=0
	while :; do
		port=$(freeport)
		if as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		    -t 30 -o "-c listen_addresses=127.0.0.1 -p $port \
		    -c unix_socket_directories=$dir -c max_connections=200 \
		    -c fsync=$fsync" start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if [ $tries -ge 5 ]; then
			cat "$dir/server.log" >&2
			exit 1
		fi
	done
	as "$bin/createdb" -h "$dir" -p "$port" -U wxgate wxgate
	echo "$port" > "$dir/port"
	echo "$PGUSER_OS" > "$dir/osuser" 2>/dev/null || :
	echo "host=127.0.0.1 port=$port dbname=wxgate user=wxgate"
}

stop() {
	dir=$1
	bin=$(bindir)
	[ -f "$dir/osuser" ] && PGUSER_OS=$(cat "$dir/osuser")
	as "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
	    >/dev/null 2>&1 || :
}

PGUSER_OS=$(id -un)
fsync=off
[ "${WXGATE_PG_FSYNC:-off}" = on ] && fsync=on
case ${1:-} in
start)	start "$2" ;;
stop)	stop "$2" ;;
run)
	shift
	dir=$(mktemp -d /tmp/wxgate-pg.XXXXXX)
	trap 'stop "$dir"; rm -rf "$dir"' EXIT
	trap 'exit 1' INT TERM
	WXGATE_PG_DSN=$(start "$dir")
	bin=$(bindir)
	WXGATE_PG_PASSWORD_FILE=$dir/password
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	WXGATE_PG_STOP="sh $self stop $dir"
	WXGATE_PG_START="sh $self restart $dir"
	export WXGATE_PG_DSN WXGATE_PG_PASSWORD_FILE WXGATE_PG_STOP \
	    WXGATE_PG_START
	set +e
	"$@"
	rc=$?
	set -e
	exit $rc
	;;
restart)	# the server of DIR again, on its port
	dir=$2
	bin=$(bindir)
	PGUSER_OS=$(cat "$dir/osuser")
	port=$(cat "$dir/port")
	as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
	    -o "-c listen_addresses=127.0.0.1 -p $port \
	    -c unix_socket_directories=$dir -c max_connections=200 \
	    -c fsync=$fsync" start >/dev/null
	;;
*)	echo "usage: $0 run CMD... | start DIR | stop DIR" >&2; exit 2 ;;
esac
