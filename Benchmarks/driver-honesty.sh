#!/usr/bin/env bash
# Checks that reactor-bench's load driver (ReactorCore's Client) reports the same figures as an independent load
# generator (Benchmarks/CReference/load_client.c) against the same server (the C reference echo server), run
# alternately so machine noise hits both alike.
#
#   Benchmarks/driver-honesty.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
seconds="${2:-3}"
out=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$out"' EXIT
cc -O2 -std=gnu11 -pthread -o "$out/echo_server" Benchmarks/CReference/echo_server.c
cc -O2 -std=gnu11 -pthread -o "$out/load_client" Benchmarks/CReference/load_client.c
swift build -c release --product reactor-bench >/dev/null
port=$((20000 + RANDOM % 20000))
"$out/echo_server" --port "$port" >/dev/null &
server=$!
sleep 0.5
field() { python3 -c "import json,sys; d=json.load(sys.stdin); d=d['scenarios'][0] if 'scenarios' in d else d; \
print('%9.0f msgs/s  p50 %7.0fus  p99 %7.0fus' % (d['msgs_per_s'], d['p50_us'], d['p99_us']))"; }
for round in $(seq "$rounds"); do
    for shape in "64 64 32" "1000 128 1" "64 64 1"; do
        set -- $shape
        .build/release/reactor-bench load --port "$port" --connections "$1" --size "$2" --pipeline "$3" \
            --duration "$seconds" --warmup 1 --json "$out/swift.json" >/dev/null
        swift=$(field <"$out/swift.json")
        c=$("$out/load_client" --port "$port" --connections "$1" --size "$2" --pipeline "$3" --duration "$seconds" \
            --warmup 1 | field)
        echo "round $round, $1 conns x $2 B x $3 in flight | reactor-bench: $swift | C load_client: $c"
    done
done
