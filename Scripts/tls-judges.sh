#!/usr/bin/env bash
# Real TLS clients judge the servers' TLS (ReactorTLS), with throwaway certificates from Scripts/tls-test-certs.sh:
# - openssl s_client against reactor-http: TLS 1.2 and 1.3 handshakes and a request each, ALPN http/1.1 agreed, h2
#   alone refused (no_application_protocol), SNI, session resumption from a ticket (1.3 and 1.2), and a plain-text
#   request on the TLS port answered with nothing;
# - curl (verifying with the test CA, and -k): GET /plaintext and /json, a 1 MiB POST /echo compared byte for byte,
#   keep-alive across URLs, HTTP/1.0; and no trust without the CA;
# - wrk over https: no socket error, every answer 2xx;
# - redis-cli and redis-benchmark --tls against reactor-redis (skipped, saying so, if redis-tools lacks TLS), and
#   openssl s_client with ALPN redis;
# - reactor-bench load --tls and --tls-ca against reactor-bench serve over TLS: no error;
# - SIGTERM: every server stops gracefully with exit status 0.
# Installs what is missing (Debian: openssl, curl, wrk, redis-tools). Every client runs under a timeout.
# Usage: Scripts/tls-judges.sh
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR
missing=()
for tool in openssl:openssl curl:curl wrk:wrk redis-cli:redis-tools redis-benchmark:redis-tools; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
    apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi
echo "clients: $(openssl version | cut -d' ' -f1-2), $(curl --version | head -1 | cut -d' ' -f1-2)," \
    "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(redis-cli --version)"

for product in reactor-http reactor-redis reactor-bench; do
    swift build -c release --product "$product" 2>&1 | tail -n 1
done

work=$(mktemp -d -t tls-judges.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
certs=$(bash Scripts/tls-test-certs.sh "$work/certs")
echo "certificates: a throwaway CA, and localhost + 127.0.0.1 signed by it, in $certs"

# Port 0 everywhere: the kernel picks a free port and each server prints the address it listens on.
# port_of NAME LOG SED PID: the port the server printed, once it has (fails if it exits or takes over 10 s).
port_of() {
    local port
    for _ in $(seq 100); do
        port=$(sed -n "$3" "$2")
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        kill -0 "$4" 2>/dev/null || break
        sleep 0.1
    done
    cat "$2" >&2
    echo "FAIL: $1 did not start" >&2
    return 1
}
tls=(--tls-cert "$certs/server.pem" --tls-key "$certs/server.key")
.build/release/reactor-http --port 0 --loops 1 "${tls[@]}" >"$work/http.log" 2>&1 &
http_pid=$!
pids+=("$http_pid")
.build/release/reactor-redis --port 0 --loops 1 "${tls[@]}" >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
.build/release/reactor-bench serve --port 0 --loops 1 "${tls[@]}" --log-level error >"$work/bench.log" 2>&1 &
bench_pid=$!
pids+=("$bench_pid")
http_port=$(port_of reactor-http "$work/http.log" \
    's/^reactor-http listening on 127\.0\.0\.1:\([0-9]*\),.*, https$/\1/p' "$http_pid")
redis_port=$(port_of reactor-redis "$work/redis.log" \
    's/^reactor-redis listening on 127\.0\.0\.1:\([0-9]*\),.*, tls$/\1/p' "$redis_pid")
bench_port=$(port_of "reactor-bench serve" "$work/bench.log" 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
    "$bench_pid")
echo "servers over TLS: reactor-http on $http_port, reactor-redis on $redis_port, reactor-bench serve on $bench_port"

# sclient PORT REQUEST OPTIONS...: sends REQUEST (printf %b) through openssl s_client, verifying the server with the
# test CA, and reads until the server closes (-ign_eof); sets `out` (everything s_client printed) and `status`.
sclient() {
    local port=$1 request=$2
    shift 2
    out=$(printf '%b' "$request" | timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$certs/ca.pem" \
        -verify_return_error -ign_eof "$@" 2>&1) && status=0 || status=$?
    [ "$status" != 124 ] || fail "openssl s_client $*: the server did not close within 10 s: $out"
}
# expect TEXT CASE: the last s_client run printed TEXT (a fixed string).
expect() {
    grep -qF -- "$1" <<<"$out" || fail "openssl s_client, $2: no '$1' in: $out"
}
get_close='GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'

echo "== openssl s_client against reactor-http"
for version in 1.2 1.3; do
    sclient "$http_port" "$get_close" "-tls${version/./_}"
    [ "$status" = 0 ] || fail "openssl s_client -tls${version/./_}: exit $status: $out"
    expect "Protocol  : TLSv$version" "-tls${version/./_}"
    expect "Verify return code: 0 (ok)" "-tls${version/./_}"
    expect "HTTP/1.1 200 OK" "-tls${version/./_}"
    expect "Hello, World!" "-tls${version/./_}"
    echo "s_client -tls${version/./_}: TLSv$version handshake, certificate verified, GET /plaintext answered"
done
sclient "$http_port" "$get_close" -alpn http/1.1
[ "$status" = 0 ] || fail "openssl s_client -alpn http/1.1: exit $status: $out"
expect "ALPN protocol: http/1.1" "-alpn http/1.1"
expect "Hello, World!" "-alpn http/1.1"
echo "s_client -alpn http/1.1: ALPN protocol: http/1.1, GET /plaintext answered"
sclient "$http_port" "$get_close" -alpn h2
[ "$status" != 0 ] || fail "openssl s_client -alpn h2: exit 0 (the handshake should fail): $out"
expect "alert no application protocol" "-alpn h2"
if grep -q "HTTP/1" <<<"$out"; then fail "openssl s_client -alpn h2: an answer came: $out"; fi
echo "s_client -alpn h2: refused with the no_application_protocol alert, no answer"
sclient "$http_port" "$get_close" -servername localhost -verify_hostname localhost
[ "$status" = 0 ] || fail "openssl s_client -servername localhost: exit $status: $out"
expect "Verify return code: 0 (ok)" "-servername localhost"
expect "Hello, World!" "-servername localhost"
echo "s_client -servername localhost -verify_hostname localhost: verified, GET /plaintext answered"
# Resumption: TLS 1.3 tickets come after the handshake, so the first connection sends a request and reads until the
# server closes (-ign_eof, Connection: close) before -sess_out writes the session; the second resumes from it.
for version in 1.3 1.2; do
    option="-tls${version/./_}"
    sclient "$http_port" "$get_close" "$option" -sess_out "$work/session"
    [ "$status" = 0 ] || fail "openssl s_client $option -sess_out: exit $status: $out"
    expect "New, TLSv$version" "$option -sess_out (first connection)"
    expect "Hello, World!" "$option -sess_out (first connection)"
    [ -s "$work/session" ] || fail "openssl s_client $option -sess_out: no session saved: $out"
    sclient "$http_port" "$get_close" "$option" -sess_in "$work/session"
    [ "$status" = 0 ] || fail "openssl s_client $option -sess_in: exit $status: $out"
    expect "Reused, TLSv$version" "$option -sess_in (resumption)"
    expect "Hello, World!" "$option -sess_in (resumption)"
    rm -f "$work/session"
    echo "s_client $option -sess_out, then -sess_in: Reused, TLSv$version, GET /plaintext answered"
done
# Plain text on the TLS port: no byte back, and the connection closed at once (curl: 52, empty reply, or 56, reset;
# not 28, its timeout). curl sends the request in one write; bash's printf to /dev/tcp writes line by line and dies of
# SIGPIPE on the second line, the server having closed on the first.
answer=$(curl -s -m 5 "http://127.0.0.1:$http_port/plaintext") && status=0 || status=$?
[ "$status" = 52 ] || [ "$status" = 56 ] ||
    fail "plain-text HTTP request on the TLS port: curl exit $status (52 or 56 expected), answer: $answer"
[ -z "$answer" ] || fail "plain-text HTTP request on the TLS port: an answer came: $answer"
echo "plain-text GET on the TLS port (curl http://): no answer, connection closed (curl exit $status)"

echo "== curl against reactor-http"
for mode in verified insecure; do
    if [ "$mode" = verified ]; then
        client=(curl -s -m 20 --cacert "$certs/ca.pem")
        base="https://localhost:$http_port"
    else
        client=(curl -s -m 20 -k)
        base="https://127.0.0.1:$http_port"
    fi
    label="${client[*]:4} $base"
    [ "$("${client[@]}" "$base/plaintext")" = "Hello, World!" ] || fail "$label/plaintext"
    [ "$("${client[@]}" "$base/json")" = '{"message":"Hello, World!"}' ] || fail "$label/json"
    head -c 1048576 /dev/urandom >"$work/body"
    "${client[@]}" --data-binary @"$work/body" -o "$work/echoed" "$base/echo" || fail "$label/echo: curl exit $?"
    cmp -s "$work/body" "$work/echoed" || fail "$label/echo: the 1 MiB body came back different"
    connects=$("${client[@]}" -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
        -w '%{num_connects} %{http_code}\n' "$base/plaintext" "$base/json" "$base/plaintext" "$base/json")
    [ "$(tr '\n' ' ' <<<"$connects")" = "1 200 0 200 0 200 0 200 " ] ||
        fail "$label: keep-alive across 4 URLs: $connects (connections made, status)"
    [ "$("${client[@]}" -0 -w ' %{http_code}' "$base/plaintext")" = "Hello, World! 200" ] ||
        fail "$label: HTTP/1.0 (curl -0): $("${client[@]}" -0 -v "$base/plaintext" 2>&1 | grep -v '^[{}] ')"
    echo "curl $label: /plaintext, /json, 1 MiB /echo byte for byte, 4 URLs on 1 connection, HTTP/1.0"
done
verbose=$(curl -sv -m 20 --cacert "$certs/ca.pem" -o /dev/null "https://localhost:$http_port/plaintext" 2>&1)
grep -q "ALPN: server accepted http/1.1" <<<"$verbose" || fail "curl: ALPN http/1.1 not agreed: $verbose"
curl -s -m 20 -o /dev/null "https://localhost:$http_port/plaintext" && status=0 || status=$?
[ "$status" = 60 ] || fail "curl without the test CA: exit $status (60, certificate not trusted, expected)"
echo "curl: ALPN http/1.1 agreed; without --cacert the test certificate is not trusted (exit 60)"

echo "== wrk against reactor-http"
output=$(timeout 30 wrk -t1 -c32 -d2s "https://127.0.0.1:$http_port/plaintext" 2>&1) || fail "wrk: exit $?: $output"
if grep -q "Socket errors\|Non-2xx" <<<"$output"; then fail "wrk: $output"; fi
requests=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$output")
[ -n "$requests" ] && [ "$requests" -gt 0 ] || fail "wrk: no requests: $output"
echo "wrk -t1 -c32 -d2s https://.../plaintext: $requests requests, 0 socket errors, all 2xx"

echo "== reactor-redis over TLS"
sclient "$redis_port" 'PING\r\nQUIT\r\n' -alpn redis
[ "$status" = 0 ] || fail "openssl s_client -alpn redis: exit $status: $out"
expect "ALPN protocol: redis" "-alpn redis"
expect "+PONG" "-alpn redis"
sclient "$redis_port" 'PING\r\nQUIT\r\n' -alpn h2
[ "$status" != 0 ] || fail "openssl s_client -alpn h2 against reactor-redis: exit 0: $out"
expect "alert no application protocol" "-alpn h2 against reactor-redis"
echo "s_client -alpn redis: agreed, PING answered; -alpn h2: refused with no_application_protocol"
# Whole outputs first, then grep: `redis-cli --help | grep -q` under pipefail fails when grep exits before all is
# written.
cli_help=$(redis-cli --help 2>&1 || true)
benchmark_help=$(redis-benchmark --help 2>&1 || true)
if ! grep -q -- "--tls" <<<"$cli_help" || ! grep -q -- "--tls" <<<"$benchmark_help"; then
    echo "SKIP: this redis-cli/redis-benchmark ($(redis-cli --version)) was built without TLS: no redis-cli or"
    echo "      redis-benchmark case ran against reactor-redis over TLS"
else
    cli=(timeout 20 redis-cli -h localhost -p "$redis_port" --tls --cacert "$certs/ca.pem")
    [ "$("${cli[@]}" PING)" = PONG ] || fail "redis-cli --tls --cacert: PING"
    [ "$(timeout 20 redis-cli -p "$redis_port" --tls --insecure PING)" = PONG ] ||
        fail "redis-cli --tls --insecure: PING"
    if timeout 20 redis-cli -p "$redis_port" --tls --cacert "$certs/rogue-ca.pem" PING 2>&1 | grep -q PONG; then
        fail "redis-cli --tls trusting another CA got an answer"
    fi
    [ "$("${cli[@]}" SET "tls greeting" "hello over tls, with spaces")" = OK ] || fail "redis-cli: SET"
    [ "$("${cli[@]}" GET "tls greeting")" = "hello over tls, with spaces" ] || fail "redis-cli: GET"
    "${cli[@]}" DEL tls:counter >/dev/null
    [ "$("${cli[@]}" INCR tls:counter) $("${cli[@]}" INCR tls:counter)" = "1 2" ] || fail "redis-cli: INCR"
    # A 200 KB value: set with -x (the last argument read from standard input), read back whole (--raw adds a newline).
    head -c 150000 /dev/urandom | base64 -w 0 >"$work/value"
    [ "$("${cli[@]}" -x SET tls:big <"$work/value")" = OK ] || fail "redis-cli -x SET of 200 KB"
    cmp -s <("${cli[@]}" --raw GET tls:big) <(cat "$work/value"; echo) ||
        fail "redis-cli: the 200 KB value came back different"
    for i in $(seq 5000); do printf '*3\r\n$3\r\nSET\r\n$%d\r\ntls:pipe:%d\r\n$%d\r\n%d\r\n' \
        $((9 + ${#i})) "$i" "${#i}" "$i"; done >"$work/pipe"
    output=$("${cli[@]}" --pipe <"$work/pipe" 2>&1)
    grep -q "errors: 0, replies: 5000" <<<"$output" || fail "redis-cli --pipe: $output"
    [ "$("${cli[@]}" GET tls:pipe:4321)" = 4321 ] || fail "redis-cli --pipe: a value set through the pipe"
    echo "redis-cli --tls (--cacert and --insecure): PING, SET/GET with spaces, INCR, a 200 KB value, --pipe of"
    echo "  5,000 SETs; another CA's trust refused"
    for depth in 1 16; do
        output=$(timeout 120 redis-benchmark -p "$redis_port" --tls --cacert "$certs/ca.pem" \
            -t ping,set,get,incr,lpush -n 20000 -c 50 -P "$depth" --csv 2>"$work/benchmark.err") &&
            status=0 || status=$?
        errors=$(cat "$work/benchmark.err")
        [ "$status" = 0 ] || fail "redis-benchmark -P $depth: exit $status: $output $errors"
        if grep -qi "error" <<<"$errors"; then fail "redis-benchmark -P $depth: $errors"; fi
        # --csv: a header, then "TEST","RPS",...; every test must be there with a rate above 0.
        rates=$(awk -F'","' 'NR > 1 { test = $1; gsub(/"/, "", test); printf "%s %.0f\n", test, $2 }' <<<"$output")
        tests=$(awk '$2 > 0 { print $1 }' <<<"$rates" | LC_ALL=C sort | tr '\n' ' ')
        [ "$tests" = "GET INCR LPUSH PING_INLINE PING_MBULK SET " ] ||
            fail "redis-benchmark -P $depth: not every test reported requests per second: $output $errors"
        echo "redis-benchmark --tls -n 20000 -c 50 -P $depth, requests/s: $(tr '\n' ',' <<<"$rates" |
            sed 's/,$//; s/,/, /g'); no error"
    done
fi

echo "== reactor-bench load against reactor-bench serve over TLS"
for trust in "--tls" "--tls-ca $certs/ca.pem"; do
    # $trust unquoted on purpose: one option, or an option and its file (the path has no spaces: mktemp's).
    # shellcheck disable=SC2086
    output=$(timeout 60 .build/release/reactor-bench load --port "$bench_port" $trust --connections 16 \
        --duration 1.5 --warmup 0.3 2>&1) && status=0 || status=$?
    [ "$status" = 0 ] || fail "reactor-bench load $trust: exit $status: $output"
    # The row: scenario, conns, size (two words: "64 B"), depth, msgs/s, ..., errors (the last column).
    row=$(grep "^load " <<<"$output") || fail "reactor-bench load $trust: no result row: $output"
    rate=$(awk '{ print $6 }' <<<"$row")
    errors=$(awk '{ print $NF }' <<<"$row")
    [ "$errors" = 0 ] && [ "$rate" != 0 ] || fail "reactor-bench load $trust: $output"
    echo "reactor-bench load ${trust%% *}: $rate msgs/s, 0 errors"
done
output=$(timeout 60 .build/release/reactor-bench load --port "$bench_port" --tls-ca "$certs/rogue-ca.pem" \
    --connections 4 --duration 0.5 --warmup 0 2>&1) && status=0 || status=$?
[ "$status" = 1 ] || fail "reactor-bench load --tls-ca (another CA): exit $status, 1 expected: $output"
echo "reactor-bench load --tls-ca with another CA: every connection refused, exit 1"

echo "== SIGTERM"
for server in "reactor-http:$http_pid" "reactor-redis:$redis_pid" "reactor-bench serve:$bench_pid"; do
    pid=${server##*:}
    kill -TERM "$pid"
    timeout 30 tail --pid="$pid" -f /dev/null || fail "${server%:*} still running 30 s after SIGTERM"
    wait "$pid" && status=0 || status=$?
    [ "$status" = 0 ] || fail "${server%:*} exited $status after SIGTERM: $(cat "$work"/*.log)"
done
pids=()
echo "every server stopped gracefully, exit 0"
echo "TLS judges: all answers right"
