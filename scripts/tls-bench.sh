#!/usr/bin/env bash
# The TLS figures of docs/BENCHMARKS.md: the same release binary as a plaintext server and as a TLS server (each a
# process of its own, output to /dev/null, in-memory database, scrypt cost 1 so that a login is mostly its
# connection), measured with `bench --server-pid` for the server's processor time per request.
#   usage: scripts/tls-bench.sh [BINARY] [ROUNDS]
set -euo pipefail
binary=$(realpath "${1:-.build-release/release/bluetrace}")
rounds=${2:-2}
base=${BASE_PORT:-$((20000 + RANDOM % 10000))} # below the ephemeral range the clients use
work=$(mktemp -d /tmp/bluetrace-tls-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
"$binary" certs dev --out certs > /dev/null

serve() { # port, extra arguments…
    local port=$1
    shift
    "$binary" server "$port" 60 --host 127.0.0.1 --database :memory: --credentials none.txt --tempids tempIDs.txt --log-level notice \
        --password-cost 1 --connections-per-second 100000 --max-connections 100000 "$@" > /dev/null 2> "server-$port.log" &
    pid=$!
}

measure() { # label, port, pid, bench arguments…
    local label=$1 port=$2 pid=$3
    shift 3
    echo "== $label, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "$binary" bench 127.0.0.1 "$port" --server-pid "$pid" "$@" | grep -E '^(operation|tempid|login)|processor|server:'
}

for round in $(seq 1 "$rounds"); do
    for mode in plaintext tls; do
        if [ "$mode" = tls ]; then
            port=$((base + 1 + round * 2))
            serve "$port" --tls-cert certs/server.pem --tls-key certs/server-key.pem
            client=(--tls --tls-ca certs/ca.pem)
        else
            port=$((base + round * 2))
            serve "$port"
            client=()
        fi
        until grep -q listening "server-$port.log" 2>/dev/null; do
            kill -0 "$pid" 2>/dev/null || { cat "server-$port.log" >&2; exit 1; }
            sleep 0.1
        done
        "$binary" bench 127.0.0.1 "$port" "${client[@]}" --scenario tempid --clients 50 --duration 1 --warmup 0 \
            > /dev/null # registers the test users
        measure "round $round, $mode, tempid" "$port" "$pid" "${client[@]}" --scenario tempid --clients 50 --duration 8
        measure "round $round, $mode, login (a connection each)" "$port" "$pid" "${client[@]}" --scenario login \
            --clients 20 --duration 8
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    done
done
