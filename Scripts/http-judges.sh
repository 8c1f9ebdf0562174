#!/usr/bin/env bash
# Real HTTP clients judge reactor-http:
# - curl: keep-alive across requests, HTTP/1.0, chunked upload, Expect: 100-continue, HEAD;
# - raw `printf | nc` cases: a request then a half-close, pipelining, HTTP/1.0, a bare LF, a TLS ClientHello;
# - Scripts/http-judges.py: Python's http.client and raw sockets (pipelining, every refusal status, smuggling);
# - Scripts/http-h11-check.py: h11 from PyPI reads every answer (keep-alive, 100-continue, pipelining, refusals);
# - wrk and h2load --h1 (plain and pipelined, GET and POST): no socket error, every answer 2xx;
# - SIGTERM: a graceful stop with exit status 0.
# Installs what is missing (Debian: curl, netcat-openbsd, wrk, nghttp2-client; pip: h11).
# Usage: [REACTOR_HTTP=binary] Scripts/http-judges.sh
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for tool in curl:curl nc:netcat-openbsd wrk:wrk h2load:nghttp2-client; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c 'import h11' 2>/dev/null || pip install -q h11

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

echo "== printf | nc"
# -N: half-close after the request (the answer must still come); -w 5: give up on a silent server.
answer=$(printf 'GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n' | nc -N -w 5 127.0.0.1 "$port")
[[ "$answer" == "HTTP/1.1 200 OK"*"Hello, World!" ]] || fail "nc: GET then half-close: $answer"
answer=$(printf 'GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n' |
    nc -N -w 5 127.0.0.1 "$port")
[[ "$answer" == *"Hello, World!HTTP/1.1 200 OK"*'{"message":"Hello, World!"}' ]] || fail "nc: pipelined: $answer"
answer=$(printf 'GET /json HTTP/1.0\r\n\r\n' | nc -w 5 127.0.0.1 "$port")  # no -N: the server closes
[[ "$answer" == *"Connection: close"*'{"message":"Hello, World!"}' ]] || fail "nc: HTTP/1.0: $answer"
answer=$(printf 'GET /plaintext HTTP/1.1\nHost: x\n\n' | nc -w 5 127.0.0.1 "$port")
[[ "$answer" == "HTTP/1.1 400 Bad Request"*"Connection: close"* ]] || fail "nc: bare LF: $answer"
answer=$(printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' | nc -w 5 127.0.0.1 "$port")
[[ "$answer" == "HTTP/1.1 400 Bad Request"* ]] || fail "nc: TLS ClientHello: $answer"
echo "nc: all answers right"

echo "== Python http.client and raw sockets"
python3 Scripts/http-judges.py "$port"

echo "== h11"
python3 Scripts/http-h11-check.py "$port"

echo "== wrk and h2load --h1"
lua=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log" "$lua"' EXIT
# wrk -s: a POST /echo of 1 KiB, and 16 GETs pipelined per write (TechEmpower's pipeline.lua).
wrk_check() {  # name, wrk arguments...
    local name=$1 output
    shift
    output=$(wrk -t1 -c32 -d2s "$@")
    grep -q "Socket errors\|Non-2xx" <<<"$output" && fail "wrk $name: $output"
    grep -q "^Requests/sec:" <<<"$output" || fail "wrk $name: $output"
    echo "wrk $name: $(grep -o '[0-9]* requests in [0-9.]*s' <<<"$output"), 0 errors"
}
wrk_check "GET /plaintext" "$base/plaintext"
wrk_check "GET /json" "$base/json"
printf 'wrk.method = "POST"\nwrk.body = string.rep("b", 1024)\n' >"$lua"
wrk_check "POST /echo 1 KiB" -s "$lua" "$base/echo"
printf 'init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format() end\n  req = table.concat(r)\nend\nrequest = function() return req end\n' >"$lua"
wrk_check "GET /plaintext, 16 pipelined" -s "$lua" "$base/plaintext"
h2load_check() {  # name, h2load arguments...
    local name=$1 output
    shift
    output=$(h2load --h1 "$@")
    grep -q "requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout" \
        <<<"$output" || fail "h2load $name: $output"
    grep -q "status codes: 20000 2xx" <<<"$output" || fail "h2load $name: $output"
    echo "h2load --h1 $name: 20000 succeeded, all 2xx"
}
h2load_check "GET /json -c 16" -n 20000 -c 16 "$base/json"
h2load_check "GET /plaintext -c 16 -m 8 (pipelined)" -n 20000 -c 16 -m 8 "$base/plaintext"
h2load_check "POST /echo 4 KiB -c 8" -n 20000 -c 8 -d Package.swift "$base/echo"

echo "== SIGTERM"
kill -TERM "$pid"
wait "$pid" || fail "reactor-http exited $? after SIGTERM"
trap - EXIT
rm -f "$log" "$lua"
echo "reactor-http stopped gracefully, exit 0"
