#!/usr/bin/env bash
# Memory per key: N string keys of exactly 16 bytes (key:000000000001) with 32-byte values (value:0000...0001), loaded
# with redis-cli --pipe into a fresh reactor-redis (--loops 1) and a fresh redis-server (no persistence), one after
# the other. Prints the growth per key of each server's resident set (VmRSS in /proc/PID/status; VmHWM, the peak,
# too) and redis-server's own count (INFO memory: used_memory).
#
# Before the "before" reading each server is warmed up with the same load of 1,000 other keys, then FLUSHALL, so
# connection buffers and allocator arenas that a load creates once are not counted as per-key memory.
#
# Usage: Benchmarks/redis-memory-per-key.sh [keys] [reactor-redis loops]   (default 1000000 1)
# Run from Benchmarks/redis-vs-reactor.sh --memory, or alone after `swift build -c release --product reactor-redis`.
set -euo pipefail
cd "$(dirname "$0")/.."
keys="${1:-1000000}"
loops="${2:-1}"

work=$(mktemp -d)
pid=""
cleanup() {
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# SET commands in the raw protocol: keys prefix:%012d, 16 bytes for "key:"; values value:%026d, 32 bytes.
generate() {  # prefix, count, file
    python3 - "$@" <<'EOF'
import sys
prefix, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as out:
    for i in range(1, count + 1):
        key = b"%s:%012d" % (prefix.encode(), i)
        value = b"value:%026d" % i
        out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
EOF
}
generate key "$keys" "$work/load"
generate warm 1000 "$work/warm"

status() { awk -v field="$2:" '$1 == field { print $2 * 1024 }' "/proc/$1/status"; }  # pid, VmRSS|VmHWM -> bytes
used_memory() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }
pipe() {  # port, file, count
    local out
    out=$(redis-cli -p "$1" --pipe <"$2" 2>&1)
    grep -q "errors: 0, replies: $3\$" <<<"$out" || { echo "FAIL: redis-cli --pipe on port $1: $out" >&2; exit 1; }
}

measure() {  # name, command...: starts the server, loads the keys, prints a table row
    local name="$1" port=$((20000 + RANDOM % 10000))
    shift
    "$@" --port "$port" >"$work/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { echo "FAIL: $name exited at startup:" >&2; cat "$work/$name.log" >&2; exit 1; }
        [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]] && break
        sleep 0.1
    done
    pipe "$port" "$work/warm" 1000
    redis-cli -p "$port" flushall >/dev/null
    sleep 0.5
    local rss0 used0 rss1 used1 hwm1
    rss0=$(status "$pid" VmRSS)
    used0=$(used_memory "$port")
    pipe "$port" "$work/load" "$keys"
    local dbsize
    dbsize=$(redis-cli -p "$port" dbsize)
    [[ "$dbsize" == "$keys" ]] || { echo "FAIL: $name holds $dbsize keys after loading $keys" >&2; exit 1; }
    sleep 0.5
    rss1=$(status "$pid" VmRSS)
    hwm1=$(status "$pid" VmHWM)
    used1=$(used_memory "$port")
    local used="–"
    if [[ -n "$used0" && -n "$used1" ]]; then used=$(((used1 - used0) / keys)); fi
    printf '| %s | %d | %.1f | %.1f | **%d** | %d | %s |\n' "$name" "$keys" "$(bc <<<"scale=1; $rss0 / 1048576")" \
        "$(bc <<<"scale=1; $rss1 / 1048576")" $(((rss1 - rss0) / keys)) $(((hwm1 - rss0) / keys)) "$used"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=""
}

echo "### Memory per key: $keys keys of 16 bytes with 32-byte values (redis-cli --pipe)"
echo
echo "| server | keys | RSS before (MiB) | RSS after (MiB) | RSS growth B/key | peak RSS (VmHWM) growth B/key |" \
    "used_memory growth B/key |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
measure "reactor-redis --loops $loops" .build/release/reactor-redis --loops "$loops"
measure "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" \
    redis-server --save '' --appendonly no --daemonize no
echo
echo "reactor-redis has no INFO used_memory. RSS counts what the allocator holds, in use or freed and kept; the peak"
echo "(VmHWM) shows a hash table's resize, which holds the old and the new table at once."
