#!/usr/bin/env bash
# Several `bluetrace server` instances on one PostgreSQL database behind HAProxy, all on loopback, driven by
# `bluetrace bench` through the balancer; then everything is stopped and removed (docs/SCALE-OUT.md).
#
#   scripts/scale-out.sh [--instances N] [--scenario tempid|upload|login|mixed] [--clients C] [--duration S]
#                        [--upload-entries E] [--pipeline P] [--bluetrace PATH] [--json]
#
# Prints the bench's report, then the processor time every part spent per operation (servers, PostgreSQL, HAProxy),
# read from /proc before and after the measured run. Needs Debian's postgresql and haproxy packages, and python3.
# Without --bluetrace it builds the debug binary with `swift build`; pass a release build for figures
# (swift build -c release --scratch-path .build-release; --bluetrace .build-release/release/bluetrace).
set -euo pipefail
cd "$(dirname "$0")/.."

instances=2 scenario=tempid clients=20 duration=5 entries=100 pipeline=1 binary="" json=false
while [ $# -gt 0 ]; do
    case "$1" in
    --instances) instances=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --upload-entries) entries=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --bluetrace) binary=$2; shift 2 ;;
    --json) json=true; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$instances" =~ ^[1-9][0-9]*$ ]] || { echo "error: --instances takes a whole number ≥ 1" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "error: haproxy not found (apt-get install haproxy)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "error: python3 not found (apt-get install python3)" >&2; exit 1; }
if [ -z "$binary" ]; then
    swift build --product bluetrace >&2
    binary="$(swift build --show-bin-path)/bluetrace"
fi
[ -x "$binary" ] || { echo "error: no bluetrace binary at $binary" >&2; exit 1; }
binary=$(realpath "$binary")

work=$(mktemp -d /tmp/bluetrace-scale-out.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    bash scripts/postgres-cluster.sh stop "$work/postgres"
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until the log file $1 says the server listens, and prints its port; fails with the log if it ends first.
listening_port() {
    local log=$1 pid=$2
    for _ in $(seq 1 600); do
        if port=$(grep -o 'address=[^ ]*' "$log" 2>/dev/null | head -1 | sed 's/.*://'); [ -n "$port" ]; then
            echo "$port"
            return
        fi
        kill -0 "$pid" 2>/dev/null || { echo "error: a server ended before listening:" >&2; cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    echo "error: a server did not listen within 60 s:" >&2
    cat "$log" >&2
    exit 1
}

url=$(bash scripts/postgres-cluster.sh start "$work/postgres")
"$binary" migrate --database "$url" >/dev/null

ports=()
server_pids=()
for i in $(seq 1 "$instances"); do
    mkdir -p "$work/server-$i"
    (cd "$work/server-$i" && exec "$binary" server 0 60 --host 127.0.0.1 --database "$url" --password-cost 10 \
        --connections-per-second 100000 --max-connections 100000 --key-file "$work/bluetrace-keys.json" \
        --log-level notice >/dev/null 2>"$work/server-$i.log") &
    pids+=($!)
    server_pids+=($!)
done
for i in $(seq 1 "$instances"); do ports+=("$(listening_port "$work/server-$i.log" "${server_pids[$((i - 1))]}")"); done

balancer=$(free_port)
{
    printf 'global\n    maxconn 8000\n    log stderr format short local0 warning\n'
    printf 'defaults\n    mode tcp\n    log global\n    timeout connect 5s\n    timeout client 10m\n    timeout server 10m\n'
    printf 'frontend phones\n    bind 127.0.0.1:%s\n    default_backend servers\n' "$balancer"
    printf 'backend servers\n    balance leastconn\n'
    for i in "${!ports[@]}"; do printf '    server s%d 127.0.0.1:%s check inter 1s\n' "$((i + 1))" "${ports[$i]}"; done
} >"$work/haproxy.cfg"
haproxy -W -f "$work/haproxy.cfg" 2>"$work/haproxy.log" &
pids+=($!)
haproxy_pid=$!
for attempt in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $balancer), 1)" 2>/dev/null && break
    kill -0 "$haproxy_pid" 2>/dev/null && [ "$attempt" -lt 100 ] \
        || { echo "error: HAProxy did not start:" >&2; cat "$work/haproxy.log" >&2; exit 1; }
    sleep 0.1
done

postmaster=$(head -1 "$work/postgres/data/postmaster.pid")
# Processor seconds used so far by the servers, PostgreSQL (the postmaster and its backends) and HAProxy.
cpu_seconds() {
    python3 - "$postmaster" "$haproxy_pid" "${server_pids[@]}" <<'EOF'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
def seconds(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    except FileNotFoundError:
        return 0.0
def family(root):
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            pending += open(f"/proc/{pid}/task/{pid}/children").read().split()
        except FileNotFoundError:
            pass
    return found
postmaster, balancer, servers = sys.argv[1], sys.argv[2], sys.argv[3:]
haproxy = sum(seconds(p) for p in family(balancer))
postgres = sum(seconds(p) for p in family(postmaster))
print(sum(seconds(p) for p in servers), postgres, haproxy)
EOF
}

# Test users are registered through the balancer first, so the measured run only measures the scenario.
"$binary" bench 127.0.0.1 "$balancer" --scenario login --clients "$clients" --duration 0.5 --warmup 0 >/dev/null
before=$(cpu_seconds)
started=$(date +%s.%N)
"$binary" bench 127.0.0.1 "$balancer" --scenario "$scenario" --clients "$clients" --duration "$duration" --warmup 0 \
    --upload-entries "$entries" --pipeline "$pipeline" --json >"$work/report.json"
ended=$(date +%s.%N)
after=$(cpu_seconds)

python3 - "$work/report.json" "$instances" "$before" "$after" "$started" "$ended" "$json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
instances = int(sys.argv[2])
before, after = map(float, sys.argv[3].split()), map(float, sys.argv[4].split())
used = [a - b for a, b in zip(after, before)]
wall = float(sys.argv[6]) - float(sys.argv[5])
operations = sum(o["count"] for o in report["operations"])
errors = sum(o["errors"] for o in report["operations"])
rate = sum(o["opsPerSecond"] for o in report["operations"])
per = [1e6 * u / operations if operations else 0.0 for u in used]
summary = {
    "instances": instances, "scenario": report["scenario"], "clients": report["clients"],
    "operations": operations, "errors": errors, "opsPerSecond": round(rate, 1),
    "microsecondsPerOperation": {"servers": round(per[0], 1), "postgres": round(per[1], 1),
                                 "haproxy": round(per[2], 1), "total": round(sum(per), 1)},
    "coresBusy": {"servers": round(used[0] / wall, 2), "postgres": round(used[1] / wall, 2),
                  "haproxy": round(used[2] / wall, 2)},
    "latencyMicroseconds": {o["operation"]: o["latencyMicroseconds"] for o in report["operations"]},
}
if sys.argv[7] == "true":
    print(json.dumps(summary, indent=2))
else:
    print(f"{instances} instance(s) on PostgreSQL behind HAProxy: {report['scenario']}, {report['clients']} clients")
    print(f"  {operations} operations, {errors} errors, {rate:,.0f} per second")
    for name, latency in summary["latencyMicroseconds"].items():
        print(f"  {name} latency µs: p50 {latency['p50']}, p90 {latency['p90']}, p99 {latency['p99']}")
    print(f"  processor µs per operation: servers {per[0]:.1f}, PostgreSQL {per[1]:.1f}, HAProxy {per[2]:.1f}, "
          f"total {sum(per):.1f}")
    print(f"  cores busy: servers {summary['coresBusy']['servers']}, PostgreSQL {summary['coresBusy']['postgres']}, "
          f"HAProxy {summary['coresBusy']['haproxy']}")
sys.exit(1 if errors else 0)
EOF
