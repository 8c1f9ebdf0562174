#!/usr/bin/env python3
"""h11 (python-hyper's strict HTTP/1.1 state machine, from PyPI) judges reactor-http: every answer is parsed by h11,
so a response that breaks RFC 9112's framing (a wrong Content-Length, a body on a HEAD answer, a missing close)
fails here even where the bytes look right.

- Keep-alive: GET /plaintext, GET /json, HEAD, POST /echo (Content-Length and chunked, h11 framing the body), 404
  and 405, one h11 cycle after another on one connection.
- Expect: 100-continue: h11 sees the interim response before it sends the body.
- Pipelining: 24 requests (GET, HEAD, POST with a body, chunked POST) in one write; the answers are read by one h11
  connection per request, each handing its trailing bytes to the next, so every boundary is h11's.
- HTTP/1.0: the answer to an HTTP/1.0 GET; the server must close.
- Every refusal in Scripts/http_cases.py (error statuses, smuggling attempts): h11 reads the one answer, finds that
  the server will close (`Connection: close`), and then sees the close; nothing else is answered.

Usage: Scripts/http-h11-check.py PORT. Exits non-zero if any answer is wrong.
"""
import socket
import sys

import h11

from http_cases import REFUSALS

port = int(sys.argv[1])
failures = 0
BODIES = {"/plaintext": b"Hello, World!", "/json": b'{"message":"Hello, World!"}'}


def check(condition, what):
    global failures
    if not condition:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def request_events(method, target, body=None, chunked=False, headers=()):
    fields = [("Host", "127.0.0.1"), *headers]
    if body is not None:
        fields.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(len(body))))
    events = [h11.Request(method=method, target=target, headers=fields, http_version="1.1")]
    if body:
        if chunked:  # h11 writes each Data event as a chunk
            events += [h11.Data(data=body[i:i + 7]) for i in range(0, len(body), 7)]
        else:
            events.append(h11.Data(data=body))
    events.append(h11.EndOfMessage())
    return events


def read_response(connection, sock, data=b""):
    """The next response on `connection` (h11 client), reading from `sock` as needed: (status, headers, body,
    interim responses)."""
    if data:
        connection.receive_data(data)
    status, headers, body, interim = None, None, b"", []
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            chunk = sock.recv(65536)
            connection.receive_data(chunk)
            if not chunk:
                continue
        elif isinstance(event, h11.InformationalResponse):
            interim.append(event.status_code)
        elif isinstance(event, h11.Response):
            status, headers = event.status_code, {k.decode().lower(): v for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return status, headers, body, interim
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionError("closed before the response ended")
        else:
            raise AssertionError(f"unexpected event {event!r}")


def expected(method, target, body):
    """(status, body) the endpoints answer."""
    if target in BODIES:
        return (200, b"" if method == "HEAD" else BODIES[target]) if method in ("GET", "HEAD") else (405, None)
    if target == "/echo":
        return (200, body or b"") if method == "POST" else (405, None)
    return 404, None


def keep_alive():
    cases = [("GET", "/plaintext", None, False), ("GET", "/json", None, False), ("HEAD", "/plaintext", None, False),
             ("POST", "/echo", b"x" * 70_000, False), ("POST", "/echo", b"chunked \r\n body " * 100, True),
             ("POST", "/echo", b"", False), ("GET", "/missing", None, False), ("DELETE", "/json", None, False),
             ("GET", "/plaintext", None, False)]
    connection = h11.Connection(h11.CLIENT)
    with connect() as sock:
        for method, target, body, chunked in cases:
            for event in request_events(method, target, body, chunked):
                sock.sendall(connection.send(event))
            status, headers, answer, _ = read_response(connection, sock)
            want_status, want_body = expected(method, target, body)
            check(status == want_status and (want_body is None or answer == want_body),
                  f"keep-alive {method} {target}: {status} {answer[:40]!r}")
            check("date" in headers and ("server" in headers or target not in BODIES or status != 200),
                  f"keep-alive {method} {target}: fields {headers}")
            check(connection.our_state is h11.DONE and connection.their_state is h11.DONE,
                  f"keep-alive {method} {target}: the connection would not be reused")
            connection.start_next_cycle()
    print("h11: keep-alive across 9 cycles")


def expect_continue():
    connection = h11.Connection(h11.CLIENT)
    with connect() as sock:
        request = h11.Request(method="POST", target="/echo", headers=[
            ("Host", "x"), ("Content-Length", "8"), ("Expect", "100-continue")])
        sock.sendall(connection.send(request))
        event = None
        while True:
            event = connection.next_event()
            if event is not h11.NEED_DATA:
                break
            connection.receive_data(sock.recv(65536))
        check(isinstance(event, h11.InformationalResponse) and event.status_code == 100,
              f"100-continue: {event!r}")
        sock.sendall(connection.send(h11.Data(data=b"expected")) + connection.send(h11.EndOfMessage()))
        status, _, body, _ = read_response(connection, sock)
        check(status == 200 and body == b"expected", f"100-continue: {status} {body!r}")
    print("h11: Expect: 100-continue")


def pipelining():
    cases = [("GET", "/plaintext", None, False), ("HEAD", "/json", None, False),
             ("POST", "/echo", b"p" * 3000, False), ("POST", "/echo", b"chunk" * 50, True),
             ("GET", "/json", None, False), ("GET", "/nothing", None, False)] * 4
    connections, wire = [], b""
    for method, target, body, chunked in cases:
        connection = h11.Connection(h11.CLIENT)
        for event in request_events(method, target, body, chunked):
            wire += connection.send(event)
        connections.append(connection)
    answered = 0
    with connect() as sock:
        sock.sendall(wire)
        leftover = b""
        for (method, target, body, _), connection in zip(cases, connections):
            status, _, answer, _ = read_response(connection, sock, leftover)
            want_status, want_body = expected(method, target, body)
            check(status == want_status and (want_body is None or answer == want_body),
                  f"pipelined {method} {target}: {status} {answer[:40]!r}")
            leftover, _ = connection.trailing_data
            answered += 1
    check(answered == len(cases), f"pipelined: {answered} of {len(cases)} answered")
    print(f"h11: {len(cases)} pipelined requests in one write, answered in order")


def http10():
    # h11 sends only HTTP/1.1: it believes it sent a GET, and an HTTP/1.0 one goes on the wire instead.
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/plaintext", headers=[("Host", "x")]))
    connection.send(h11.EndOfMessage())
    with connect() as sock:
        sock.sendall(b"GET /plaintext HTTP/1.0\r\n\r\n")
        status, _, body, _ = read_response(connection, sock)
        check(status == 200 and body == b"Hello, World!", f"HTTP/1.0: {status} {body!r}")
        check(connection.their_state is h11.MUST_CLOSE, f"HTTP/1.0: server state {connection.their_state}")
        check(sock.recv(100) == b"", "HTTP/1.0: the server did not close")
    print("h11: HTTP/1.0, answered and closed")


def refusals():
    for request, status in REFUSALS:
        # h11 must think it sent a request to read a response: it sends a plain GET into the void, and the raw,
        # malformed bytes go on the wire instead.
        connection = h11.Connection(h11.CLIENT)
        connection.send(h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")]))
        connection.send(h11.EndOfMessage())
        with connect() as sock:
            sock.sendall(request)
            try:
                answer, _, body, _ = read_response(connection, sock)
                closing = connection.their_state is h11.MUST_CLOSE
                trailing = connection.trailing_data[0] + sock.recv(65536)
            except (h11.RemoteProtocolError, ConnectionError, socket.timeout) as error:
                check(False, f"{request[:50]!r}: h11 could not read the answer: {error}")
                continue
        check(answer == status and body == b"" and closing and trailing == b"",
              f"{request[:50]!r}: wanted {status} then a close, got {answer}, closing {closing}, then {trailing!r}")
    print(f"h11: {len(REFUSALS)} refusals, each one answer then a close")


keep_alive()
expect_continue()
pipelining()
http10()
refusals()
print(f"http-h11-check: {'all answers right' if failures == 0 else f'{failures} wrong answers'}")
sys.exit(1 if failures else 0)
