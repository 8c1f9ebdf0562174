#!/usr/bin/env bash
# TLS against the anchors, in the same run, with the same throwaway certificate (Scripts/tls-test-certs.sh) and the
# same system OpenSSL on both sides:
#   1. reactor-http --tls-cert/--tls-key (--loops 1) against nginx `listen ... ssl` (one worker, TLS 1.3) with wrk on
#      https://: /plaintext at -c64 and -c256, 16 pipelined at -c256, and close-c64 (`Connection: close`: a new
#      connection and a full handshake per request, so handshakes per second). Benchmarks/http-vs-nginx.sh --tls.
#   2. reactor-redis --tls-cert/--tls-key (--loops 1) against redis-server --tls-port (no persistence) with
#      redis-benchmark --tls: every default test at -c 50 -P 1 and -c 50 -P 16. Benchmarks/redis-vs-reactor.sh --tls.
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
certs=$(bash Scripts/tls-test-certs.sh)
child=""
cleanup() {
    if [[ -n "$child" ]]; then
        kill -TERM "$child" 2>/dev/null || true  # its own EXIT trap stops its servers
        wait "$child" 2>/dev/null || true
    fi
    rm -rf "$certs"
}
trap cleanup EXIT
# A signal ends the script at once, and through cleanup the comparison running: bash handles a trapped signal only
# between commands, so each comparison runs in the background and the script waits for it.
trap 'exit 1' INT TERM
run() {
    "$@" &
    child=$!
    wait "$child"
    child=""
}

echo "# TLS: reactor-http against nginx, reactor-redis against redis-server, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- $(openssl version) on every side; one EC P-256 certificate for all four servers"
echo
# Each script prints its own header (revision, versions, load average) and table, and fails if a client fails.
run bash Benchmarks/http-vs-nginx.sh --tls "$certs" --loops 1 --configs c64,c256,c256-p16,close-c64 --goal 1.0 \
    --rounds "$rounds" --seconds "$seconds"
echo
redis_args=(--tls "$certs" --rounds "$rounds" --configs c50-p1,c50-p16)
if [[ -n "$requests" ]]; then redis_args+=(--requests "$requests"); fi
run bash Benchmarks/redis-vs-reactor.sh "${redis_args[@]}"
