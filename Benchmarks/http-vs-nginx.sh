#!/usr/bin/env bash
# reactor-http against nginx (Debian's nginx-light) with wrk, in the same run: /plaintext at -c64 and -c256, 16
# requests pipelined per write at -c256 (TechEmpower's pipeline.lua), /json at -c256; --loops 1 against one nginx
# worker, then --loops 2 against two. Prints a Markdown table per loop count: req/s, p50 and p99 latency, the
# server's CPU time per request (utime + stime from /proc, nginx's workers included), the ours/nginx ratios with
# their min-max over rounds, and the goals missed. Details: Benchmarks/README.md ("reactor-http against nginx").
#
# Usage: Benchmarks/http-vs-nginx.sh [options]    (options go to Benchmarks/http_vs_nginx.py)
#   --rounds N       rounds per loop count, median reported (default 3)
#   --seconds S      wrk -d per run (default 5)
#   --loops LIST     comma-separated loop counts (default 1,2)
#   --configs LIST   of c64,c256,c256-p16,json-c256 (default: all)
#   --pin            with --loops 1: servers on CPU 1, wrk on CPU 0 (taskset)
#   --quick          the CI smoke run: 1 round of 1 s per configuration (~30 s); checks that nothing fails
#   --tls DIR        HTTPS on both, with DIR's certificate (Scripts/tls-test-certs.sh); --configs may then add
#                    close-c64 (Connection: close, so a handshake per request)
#   --goal X         judge every configuration against one ours/nginx goal (the default: each its own)
# Installs nginx-light and wrk if missing. Exits non-zero if wrk reports an error or a server answers wrongly.
set -euo pipefail
cd "$(dirname "$0")/.."

args=() over=""
for arg in "$@"; do
    case "$arg" in
    --quick) args+=(--rounds 1 --seconds 1) ;;
    --tls | --tls=*) over=" over TLS (HTTPS)"; args+=("$arg") ;;
    *) args+=("$arg") ;;
    esac
done

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
# Debian's package starts its own nginx on port 80 where a service manager runs; ours use their own ports.
swift build -c release --product reactor-http 2>&1 | tail -n 1

revision=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- Sources Package.swift || revision+=" (with uncommitted changes)"
echo "## reactor-http against nginx$over, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- reactor-http $revision; $(nginx -v 2>&1 | sed 's/.*: //') (nginx-light); $(wrk --version 2>&1 | head -n 1 |
    cut -d' ' -f1-2)"
echo "- $(nproc) CPUs; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# A signal ends the script at once and the comparison with it (its servers stop in its `finally`): bash handles a
# trapped signal only between commands, so the comparison runs in the background and the script waits for it.
helper_pid=""
trap 'if [[ -n "$helper_pid" ]]; then kill -TERM "$helper_pid" 2>/dev/null; wait "$helper_pid"; fi' EXIT
trap 'exit 1' INT TERM
python3 Benchmarks/http_vs_nginx.py --reactor-http .build/release/reactor-http "${args[@]}" &
helper_pid=$!
wait "$helper_pid"
helper_pid=""
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
