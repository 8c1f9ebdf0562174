#!/usr/bin/env bash
# Instructions per echoed message, server side, from valgrind's callgrind (deterministic for the same binary and
# input, unlike wall time on this shared 2-core machine). Runs the server under callgrind, drives it with the C
# load client for a few seconds, then divides the server's instruction total by the messages echoed.
#
#   Benchmarks/callgrind.sh swift|c [connections] [size] [pipeline] [seconds]
#
# The Swift server is built without debug info into .build-prof (valgrind 3.19 cannot read Swift's DWARF 5).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-swift}"
connections="${2:-1000}"
size="${3:-128}"
pipeline="${4:-1}"
seconds="${5:-6}"
port=$((20000 + RANDOM % 20000))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cc -O2 -std=gnu11 -pthread -o "$out/load_client" Benchmarks/CReference/load_client.c
if [ "$which" = swift ]; then
    swift build -c release --scratch-path .build-prof -Xswiftc -gnone -Xcc -g0 --product reactor-bench >/dev/null
    server=(.build-prof/release/reactor-bench serve --port "$port" --loops 1 --log-level error)
else
    cc -O2 -std=gnu11 -pthread -o "$out/echo_server" Benchmarks/CReference/echo_server.c
    server=("$out/echo_server" --port "$port" --threads 1)
fi
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg" "${server[@]}" >"$out/server.log" 2>&1 &
vg=$!
for _ in $(seq 100); do grep -q "listening on" "$out/server.log" 2>/dev/null && break; sleep 0.2; done
# Steady state only: instrumentation starts off (--instr-atstart=no), a first load run warms the server up
# (connections, pool, code paths), then instrumentation is switched on for the measured run and the counts are
# dumped right after it, so startup, warmup and shutdown are not in the figure.
"$out/load_client" --port "$port" --connections "$connections" --size "$size" --pipeline "$pipeline" \
    --duration 1 --warmup 0 >/dev/null
sleep 1  # let the warm-up connections close first
callgrind_control --instr=on "$vg" >/dev/null
result=$("$out/load_client" --port "$port" --connections "$connections" --size "$size" --pipeline "$pipeline" \
    --duration "$seconds" --warmup 0)
callgrind_control --dump=measured "$vg" >/dev/null
kill -TERM "$vg"
wait "$vg" || true
dump=$(ls "$out"/cg.* 2>/dev/null | head -n 1)
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
messages=$(echo "$result" | sed 's/.*"msgs":\([0-9]*\).*/\1/')
# Every message the client completed in the measured run was echoed by the server within it (warmup 0).
echo "$which: $connections conns x $size B x $pipeline in flight: $messages msgs, $total instructions," \
    "$((total / messages)) instructions/msg (steady state: after a 1 s warm-up, startup and shutdown excluded)"
callgrind_annotate --threshold=95 "$dump" 2>/dev/null | sed -n '/file:function/,/^$/p' | head -25 | cut -c1-150
