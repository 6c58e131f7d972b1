#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `scripts/postgres-cluster.sh start DIR` initialises one in DIR (as an
# unprivileged user when run as root), starts it on a free loopback port and prints its URL; `... stop DIR` stops it
# and removes DIR; `... pause DIR` stops it and keeps it, `... resume DIR` starts it again on the same port (the
# fault tests: the database goes away and comes back). Uses Debian's postgresql packages (apt-get install postgresql).
set -euo pipefail
action=${1:?start or stop}
dir=${2:?a directory for the cluster}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "error: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# Starts the server on port $1 (its log in DIR/log). The server inherits pg_ctl's standard output and error, so both
# go to a file: a caller reading this script's output to its end must not wait for the database to stop.
# It gets no descriptor but 0-2 either: Foundation's Process (which the tests use) learns that this script ended when
# a descriptor it handed down closes, and a database holding it would make the script look alive forever
# (swift-corelibs-foundation issue 4795).
launch() {
    (
        for fd in $(ls /proc/$BASHPID/fd); do
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
            -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >>"$dir/pg_ctl.out" 2>&1
    ) || { echo "error: PostgreSQL did not start:" >&2; tail -20 "$dir/pg_ctl.out" "$dir/log" >&2; exit 1; }
}
case "$action" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U bluetrace --no-sync >/dev/null
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$dir/port"
    launch "$port"
    echo "postgres://bluetrace@127.0.0.1:$port/postgres"
    ;;
pause)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    launch "$(cat "$dir/port")"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
