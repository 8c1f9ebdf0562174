#!/usr/bin/env bash
# Real HTTP clients judge reactor-http: curl (keep-alive across requests, HTTP/1.0, chunked upload,
# Expect: 100-continue, HEAD), then Scripts/http-judges.py (Python's http.client and raw sockets: pipelining, every
# refusal status, smuggling attempts), then SIGTERM: a graceful stop with exit status 0.
# Not yet here (issue 12): h11 from PyPI, h2load --h1 and wrk runs. Usage: [REACTOR_HTTP=binary] Scripts/http-judges.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v curl >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
fi

# REACTOR_HTTP=path runs that binary instead of building the release one.
binary="${REACTOR_HTTP:-.build/release/reactor-http}"
if [ -z "${REACTOR_HTTP:-}" ]; then swift build -c release --product reactor-http 2>&1 | tail -n 1; fi
# Port 0: the kernel picks a free one (a random fixed port was once taken by another process on a shared machine);
# the server prints the address it listens on.
log=$(mktemp)
"$binary" --port 0 --loops 1 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^reactor-http listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$log")
    if [ -n "$port" ] && curl -s -o /dev/null "http://127.0.0.1:$port/plaintext"; then break; fi
    sleep 0.1
done
[ -n "$port" ] || { cat "$log" >&2; echo "FAIL: reactor-http did not start" >&2; exit 1; }
base="http://127.0.0.1:$port"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

echo "== curl"
[ "$(curl -s "$base/plaintext")" = "Hello, World!" ] || fail "GET /plaintext"
[ "$(curl -s "$base/json")" = '{"message":"Hello, World!"}' ] || fail "GET /json"
# Whole outputs first, then grep: `curl | grep -q` under pipefail fails when grep exits before curl has written all.
verbose=$(curl -sv "$base/plaintext" "$base/json" "$base/plaintext" 2>&1)
grep -q "Re-using existing connection" <<<"$verbose" || fail "keep-alive across requests"
[ "$(curl -s -0 "$base/plaintext")" = "Hello, World!" ] || fail "HTTP/1.0"
[ "$(curl -s --data-binary @Package.swift "$base/echo" | md5sum)" = "$(md5sum <Package.swift)" ] ||
    fail "POST /echo"
[ "$(printf 'chunked body' | curl -s -H 'Transfer-Encoding: chunked' --data-binary @- "$base/echo")" = "chunked body" ] ||
    fail "chunked upload"
verbose=$(curl -sv -H 'Expect: 100-continue' --data-binary 'expected' "$base/echo" 2>&1)
grep -q "< HTTP/1.1 100 Continue" <<<"$verbose" || fail "Expect: 100-continue"
grep -q "Content-Length: 13" <<<"$(curl -sI "$base/plaintext")" || fail "HEAD"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/nothing")" = 404 ] || fail "404"
echo "curl: all answers right"

echo "== Python http.client and raw sockets"
python3 Scripts/http-judges.py "$port"

echo "== SIGTERM"
kill -TERM "$pid"
wait "$pid" || fail "reactor-http exited $? after SIGTERM"
trap - EXIT
rm -f "$log"
echo "reactor-http stopped gracefully, exit 0"
