#!/usr/bin/env bash
# reactor-redis (--loops 1) against redis-server (one thread, no persistence) with redis-benchmark, in the same run:
# every default test on its own (-t), alternating between the two servers, in three configurations (-c 50 -P 1,
# -c 50 -P 16, -c 1000 -P 1). Prints a Markdown table per configuration: req/s, p50 and p99 latency, the server's CPU
# time per request (utime + stime from /proc/PID/stat), the ours/redis ratios, their geometric means and the tests
# that miss the goals. Details: Benchmarks/README.md ("reactor-redis against redis-server").
#
# Usage: Benchmarks/redis-vs-reactor.sh [options]
#   --rounds N       rounds per configuration, median reported (default 3)
#   --requests N     requests per test (default: calibrated so that redis-server takes about --seconds per test)
#   --seconds S      the calibration's target (default 1.5)
#   --configs LIST   comma-separated, of c50-p1,c50-p16,c1000-p1 (default: all three)
#   --pin            servers on CPU 1, redis-benchmark on CPU 0 (taskset)
#   --memory         also measure memory per key (Benchmarks/redis-memory-per-key.sh)
#   --keys N         keys for --memory (default 1000000)
#   --quick          the CI smoke run: 1 round, 10,000 requests per test, --memory with 100,000 keys (~70 s)
#   --tls DIR        both servers over TLS only, with DIR's server.pem/server.key (Scripts/tls-test-certs.sh):
#                    reactor-redis --tls-cert/--tls-key, redis-server --port 0 --tls-port; redis-benchmark --tls
#                    verifying against DIR/ca.pem (Benchmarks/tls-vs-anchors.sh runs it; --memory is skipped)
# Installs redis-server and redis-tools if missing (as Scripts/resp-judges.sh). Exits non-zero if a client fails.
set -euo pipefail
invoked_from=$PWD
cd "$(dirname "$0")/.."

rounds=3 requests="" seconds=1.5 configs=c50-p1,c50-p16,c1000-p1 pin=0 memory=0 keys=1000000 tls=""
while (($#)); do
    case "$1" in
    --rounds) rounds="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --configs) configs="$2"; shift ;;
    --pin) pin=1 ;;
    --memory) memory=1 ;;
    --keys) keys="$2"; shift ;;
    --quick) rounds=1 requests=10000 memory=1 keys=100000 ;;
    --tls) tls="$2"; shift ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
    esac
    shift
done
if [[ -n "$tls" ]]; then
    [[ "$tls" == /* ]] || tls="$invoked_from/$tls"
    if ((memory)); then
        echo "note: --memory measures plain TCP only; skipped with --tls" >&2
        memory=0
    fi
fi

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi
swift build -c release --product reactor-redis 2>&1 | tail -n 1

# -c 1000 needs 1,000 descriptors in redis-benchmark and in each server (redis-server lowers its maxclients to fit).
if [[ ",$configs," == *,c1000-p1,* ]]; then
    ulimit -n "$(ulimit -Hn | sed 's/unlimited/16384/' | awk '{ print ($1 > 16384) ? 16384 : $1 }')"
    if (($(ulimit -n) < 1100)); then
        echo "FAIL: -c 1000 needs ulimit -n of at least 1100 (the hard limit is $(ulimit -Hn))" >&2
        exit 1
    fi
fi

server_cpu=() client_cpu=()
if ((pin)); then server_cpu=(taskset -c 1) client_cpu=(--client-cpu 0); fi
logs=$(mktemp -d)
ours_port=$((20000 + RANDOM % 10000))
redis_port=$((ours_port + 1))
ours_tls=() redis_listen=(--port "$redis_port") cli_tls=() client_tls=()
if [[ -n "$tls" ]]; then
    ours_tls=(--tls-cert "$tls/server.pem" --tls-key "$tls/server.key")
    redis_listen=(--port 0 --tls-port "$redis_port" --tls-cert-file "$tls/server.pem" --tls-key-file "$tls/server.key"
        --tls-ca-cert-file "$tls/ca.pem" --tls-auth-clients no)
    cli_tls=(--tls --cacert "$tls/ca.pem")
    client_tls=(--tls "$tls/ca.pem")
fi
"${server_cpu[@]}" .build/release/reactor-redis --port "$ours_port" --loops 1 "${ours_tls[@]}" \
    >"$logs/reactor-redis.log" 2>&1 &
ours_pid=$!
"${server_cpu[@]}" redis-server "${redis_listen[@]}" --save '' --appendonly no --daemonize no \
    >"$logs/redis-server.log" 2>&1 &
redis_pid=$!
helper_pid=""
cleanup() {
    kill $helper_pid "$ours_pid" "$redis_pid" 2>/dev/null || true
    wait $helper_pid "$ours_pid" "$redis_pid" 2>/dev/null || true
    rm -rf "$logs"
}
trap cleanup EXIT
# A signal ends the script (and, through the EXIT trap, the servers) at once: bash handles a trapped signal only
# between commands, so the long-running helper runs in the background and the script waits for it.
trap 'exit 1' INT TERM

wait_ready() {  # port, pid, name
    for _ in $(seq 100); do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "FAIL: $3 exited at startup:" >&2
            cat "$logs/$3.log" >&2
            exit 1
        fi
        if [[ "$(redis-cli -p "$1" "${cli_tls[@]}" ping 2>/dev/null)" == PONG ]]; then return; fi
        sleep 0.1
    done
    echo "FAIL: $3 does not answer PING on port $1${tls:+ over TLS}" >&2
    exit 1
}
wait_ready "$ours_port" "$ours_pid" reactor-redis
wait_ready "$redis_port" "$redis_pid" redis-server

revision=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- Sources Package.swift || revision+=" (with uncommitted changes)"
redis_version=$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')
pinning=""
if ((pin)); then pinning="; pinned: servers on CPU 1, redis-benchmark on CPU 0"; fi
echo "## reactor-redis against redis-server${tls:+ over TLS}, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- reactor-redis $revision --loops 1; redis-server $redis_version --save '' --appendonly no;" \
    "$(redis-benchmark --version); ulimit -n $(ulimit -n)$pinning"
echo "- $(nproc) CPUs; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
args=(--ours "$ours_port:$ours_pid" --redis "$redis_port:$redis_pid" --rounds "$rounds" --configs "$configs"
    --seconds "$seconds" "${client_cpu[@]}" "${client_tls[@]}")
if [[ -n "$requests" ]]; then args+=(--requests "$requests"); fi
python3 Benchmarks/redis_vs_reactor.py "${args[@]}" &
helper_pid=$!
wait "$helper_pid"
helper_pid=""
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

if ((memory)); then
    echo
    bash Benchmarks/redis-memory-per-key.sh "$keys"
fi
