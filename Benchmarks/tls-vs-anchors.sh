#!/usr/bin/env bash
# TLS against the anchors, in the same run, with the same throwaway certificate (Scripts/tls-test-certs.sh) and the
# same system OpenSSL on both sides:
#   1. reactor-http --tls-cert/--tls-key (--loops 1) against nginx `listen ... ssl` (one worker, TLS 1.3) with wrk on
#      https://: /plaintext at -c64 and -c256, 16 pipelined at -c256, and close-c64 (`Connection: close`: a new
#      connection and a full handshake per request, so handshakes per second). Benchmarks/http_vs_nginx.py --tls.
#   2. reactor-redis --tls-cert/--tls-key (--loops 1) against redis-server --tls-port (no persistence) with
#      redis-benchmark --tls: every default test at -c 50 -P 1 and -c 50 -P 16. Benchmarks/redis_vs_reactor.py --tls.
# Goal (issue 14): >= 1.0x each anchor in req/s at c64, c256, p16 and at P1, P16; the tables say which tests miss.
#
# Usage: Benchmarks/tls-vs-anchors.sh [--rounds N] [--seconds S] [--requests N] [--quick]
#   --rounds N     rounds per configuration, median reported (default 3)
#   --seconds S    wrk -d per run (default 5)
#   --requests N   redis-benchmark requests per test (default: calibrated to about 1.5 s)
#   --quick        the CI smoke run: 1 round, 1 s per wrk run, 5,000 requests per redis test (~2 min); checks that
#                  every client succeeds against both servers over TLS, prints the ratios without judging them
# Installs nginx-light, wrk, redis-server and redis-tools if missing. Exits non-zero if a client fails.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 seconds=5 requests=""
while (($#)); do
    case "$1" in
    --rounds) rounds="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --quick) rounds=1 seconds=1 requests=5000 ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
    esac
    shift
done

missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
command -v openssl >/dev/null || missing+=(openssl)
if ((${#missing[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release --product reactor-http 2>&1 | tail -n 1
swift build -c release --product reactor-redis 2>&1 | tail -n 1

certs=$(bash Scripts/tls-test-certs.sh)
logs=$(mktemp -d)
ours_pid="" redis_pid="" helper_pid=""
cleanup() {
    kill $helper_pid $ours_pid $redis_pid 2>/dev/null || true
    wait $helper_pid $ours_pid $redis_pid 2>/dev/null || true
    rm -rf "$logs" "$certs"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

revision=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- Sources Package.swift || revision+=" (with uncommitted changes)"
echo "## TLS: reactor-http against nginx, reactor-redis against redis-server, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- swift-reactor $revision; $(nginx -v 2>&1 | sed 's/.*: //') (nginx-light); redis-server" \
    "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); $(openssl version); $(wrk --version 2>&1 | head -n 1 |
        cut -d' ' -f1-2); $(redis-benchmark --version)"
echo "- one EC P-256 certificate for all four servers; $(nproc) CPUs; load average at the start:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "### HTTPS: reactor-http against nginx"
echo
python3 Benchmarks/http_vs_nginx.py --reactor-http .build/release/reactor-http --tls "$certs" --loops 1 \
    --configs c64,c256,c256-p16,close-c64 --goal 1.0 --rounds "$rounds" --seconds "$seconds" &
helper_pid=$!
wait "$helper_pid"
helper_pid=""

echo "### RESP over TLS: reactor-redis against redis-server"
echo
ours_port=$((20000 + RANDOM % 10000))
redis_port=$((ours_port + 1))
.build/release/reactor-redis --port "$ours_port" --loops 1 --tls-cert "$certs/server.pem" \
    --tls-key "$certs/server.key" >"$logs/reactor-redis.log" 2>&1 &
ours_pid=$!
redis-server --port 0 --tls-port "$redis_port" --tls-cert-file "$certs/server.pem" --tls-key-file "$certs/server.key" \
    --tls-ca-cert-file "$certs/ca.pem" --tls-auth-clients no --save '' --appendonly no --daemonize no \
    >"$logs/redis-server.log" 2>&1 &
redis_pid=$!
wait_ready() {  # port, pid, name
    for _ in $(seq 100); do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "FAIL: $3 exited at startup:" >&2
            cat "$logs/$3.log" >&2
            exit 1
        fi
        if [[ "$(redis-cli -p "$1" --tls --cacert "$certs/ca.pem" ping 2>/dev/null)" == PONG ]]; then return; fi
        sleep 0.1
    done
    echo "FAIL: $3 does not answer PING over TLS on port $1" >&2
    exit 1
}
wait_ready "$ours_port" "$ours_pid" reactor-redis
wait_ready "$redis_port" "$redis_pid" redis-server
args=(--ours "$ours_port:$ours_pid" --redis "$redis_port:$redis_pid" --rounds "$rounds" --configs c50-p1,c50-p16
    --tls "$certs/ca.pem")
if [[ -n "$requests" ]]; then args+=(--requests "$requests"); fi
python3 Benchmarks/redis_vs_reactor.py "${args[@]}" &
helper_pid=$!
wait "$helper_pid"
helper_pid=""
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
