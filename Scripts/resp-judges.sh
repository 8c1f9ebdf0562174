#!/usr/bin/env bash
# Real Redis clients judge reactor-redis, each against redis-server in the same run:
#   1. redis-cli: the same commands through both, the same output;
#   2. Scripts/resp-differential.py: raw requests, byte-identical replies (protocol errors included);
#   3. Scripts/redis-py-check.py: redis-py calls (pipelines, a 1 MB value), the same results;
#   4. redis-benchmark: the default test set against both (one loop against redis's one thread; then 16-deep
#      pipelining), requests per second and the ratio; any error reply fails the run (redis-benchmark exits 1);
#   5. SIGTERM: reactor-redis stops gracefully and exits 0.
# Installs redis-server, redis-tools and redis-py if missing (CI runs as root). Usage: Scripts/resp-judges.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-100000}"

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi
if ! python3 -c "import redis" 2>/dev/null; then
    pip install -q redis 2>/dev/null || pip install -q --break-system-packages redis
fi
echo "clients: $(redis-cli --version), $(redis-benchmark --version 2>/dev/null | head -1 || true), redis-py $(python3 -c 'import redis; print(redis.__version__)')"

swift build -c release --product reactor-redis 2>&1 | tail -n 1
ours=$((20000 + RANDOM % 10000))
theirs=$((ours + 1))
.build/release/reactor-redis --port "$ours" --loops 1 >/tmp/reactor-redis.log 2>&1 &
ours_pid=$!
redis-server --port "$theirs" --save '' --appendonly no --daemonize no >/tmp/redis-server.log 2>&1 &
theirs_pid=$!
trap 'kill "$ours_pid" "$theirs_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    if redis-cli -p "$ours" ping >/dev/null 2>&1 && redis-cli -p "$theirs" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
done

echo "== redis-cli"
# Every command reactor-redis has but COMMAND and HELLO (whose replies name the server and client), with
# the options redis-cli users type, errors included; one connection each, line by line.
diff <(redis-cli -p "$ours" <Scripts/redis-cli-commands.txt 2>&1) <(redis-cli -p "$theirs" <Scripts/redis-cli-commands.txt 2>&1)
echo "redis-cli: $(wc -l <Scripts/redis-cli-commands.txt) commands (Scripts/redis-cli-commands.txt), the same output from both"
# A 200 KB value through redis-cli -x (the last argument read from standard input).
python3 -c 'import random, sys; sys.stdout.write("".join(random.choice("abcdefgh") for _ in range(200000)))' \
    >/tmp/resp-judges-value
for port in "$ours" "$theirs"; do
    redis-cli -p "$port" -x SET big </tmp/resp-judges-value >/dev/null
    # --raw prints the value and a newline.
    cmp <(redis-cli -p "$port" --raw GET big) <(cat /tmp/resp-judges-value; echo)
done
echo "redis-cli: a 200 KB value set with -x and read back whole from both"
# redis-cli --pipe: 10,000 requests in the raw protocol, every reply counted.
python3 -c 'import sys
for i in range(10000):
    k = b"pipe:%d" % i
    sys.stdout.buffer.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n" % (len(k), k))' >/tmp/resp-judges-pipe
for port in "$ours" "$theirs"; do
    out=$(redis-cli -p "$port" --pipe </tmp/resp-judges-pipe 2>&1)
    grep -q "errors: 0, replies: 10000" <<<"$out" || { echo "redis-cli --pipe on $port: $out" >&2; exit 1; }
done
echo "redis-cli --pipe: 10,000 requests, 0 errors, 10,000 replies from both"

echo "== raw requests, byte for byte"
python3 Scripts/resp-differential.py "$ours" "$theirs"

echo "== redis-py"
python3 Scripts/redis-py-check.py "$ours" "$theirs"

echo "== redis-benchmark -n $requests -c 50 (reactor-redis: 1 loop; redis-server: 1 thread)"
bench() {  # port, extra options -> "test,rps" lines
    redis-benchmark -p "$1" -n "$requests" -c 50 --csv "${@:2}" | awk -F'","' 'NR > 1 { test = $1; rps = $2; gsub(/"/, "", test); print test "," rps }'
}
compare() {
    local label="$1"
    shift
    local a b
    a=$(bench "$ours" "$@")
    b=$(bench "$theirs" "$@")
    printf '%-28s %14s %14s %8s\n' "test ($label)" "reactor-redis" "redis-server" "ratio"
    join -t, <(sort <<<"$a") <(sort <<<"$b") | sort -t, -k1,1 |
        awk -F, '{ printf "%-28s %14.0f %14.0f %7.2fx\n", $1, $2, $3, $2 / $3 }'
}
compare "c=50 P=1"
compare "c=50 P=16" -P 16
echo "== redis-benchmark -c 1000"
requests=$((requests / 2)) compare "c=1000 P=1" -c 1000

echo "== SIGTERM"
kill -TERM "$ours_pid"
wait "$ours_pid"
echo "reactor-redis exited with status $? after SIGTERM"
