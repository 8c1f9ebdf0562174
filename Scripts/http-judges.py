#!/usr/bin/env python3
"""Real HTTP clients judge reactor-http: Python's http.client (keep-alive, HTTP/1.0, chunked upload, 100-continue,
HEAD) and raw sockets (pipelining, every refusal status, smuggling attempts), each answer checked.

Usage: Scripts/http-judges.py PORT. Exits non-zero on the first wrong answer."""
import http.client
import socket
import sys

from http_cases import REFUSALS

port = int(sys.argv[1])
failures = 0


def check(condition, what):
    global failures
    if not condition:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def raw(data, read_until_close=True, timeout=5.0):
    """Sends `data` on a new connection and returns everything read until the server closes (or times out)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_until_close:
                    break
        except socket.timeout:
            chunks.append(b"<timeout>")
        return b"".join(chunks)


# http.client: keep-alive across requests on one connection.
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
for path, body in [("/plaintext", b"Hello, World!"), ("/json", b'{"message":"Hello, World!"}')] * 3:
    connection.request("GET", path)
    response = connection.getresponse()
    check(response.status == 200 and response.read() == body, f"GET {path}")
connection.request("POST", "/echo", body=b"x" * 100_000)
response = connection.getresponse()
check(response.read() == b"x" * 100_000, "POST /echo 100 kB")
# Chunked upload (an iterable body: http.client sends it chunked).
connection.request("POST", "/echo", body=iter([b"first,", b"second,", b"third"]), encode_chunked=True,
                   headers={"Transfer-Encoding": "chunked"})
response = connection.getresponse()
check(response.read() == b"first,second,third", "chunked POST /echo")
connection.request("HEAD", "/plaintext")
response = connection.getresponse()
check(response.status == 200 and response.getheader("Content-Length") == "13" and response.read() == b"", "HEAD")
connection.request("GET", "/missing")
response = connection.getresponse()
check(response.status == 404 and response.read() == b"Not Found", "404")
connection.close()

# HTTP/1.0: closed after the response.
answer = raw(b"GET /plaintext HTTP/1.0\r\n\r\n")
check(answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close\r\n" in answer
      and answer.endswith(b"Hello, World!"), "HTTP/1.0 closes")

# 100-continue: the interim response comes before the body is sent.
with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    interim = sock.recv(100)
    check(interim == b"HTTP/1.1 100 Continue\r\n\r\n", f"100 Continue: {interim!r}")
    sock.sendall(b"hello")
    final = sock.recv(1000)
    check(final.startswith(b"HTTP/1.1 200 OK") and final.endswith(b"hello"), "body after 100 Continue")

# Pipelining: 16 requests in one write, 16 answers in order, then Connection: close ends it.
pipeline = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n" * 8 + b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n" * 7
pipeline += b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
answer = raw(pipeline)
check(answer.count(b"HTTP/1.1 200 OK") == 16 and answer.count(b'{"message"') == 7, "16 pipelined")

# Refusals (Scripts/http_cases.py): the status, Connection: close, then the server closes.
refusals = REFUSALS
for request, status in refusals:
    answer = raw(request)
    expected = b"HTTP/1.1 %d " % status
    check(answer.startswith(expected) and b"Connection: close\r\n" in answer and not answer.endswith(b"<timeout>")
          and answer.count(b"HTTP/1.1 ") == 1,
          f"{request[:50]!r}: wanted {status}, got {answer[:40]!r}")

print(f"http-judges: {'all answers right' if failures == 0 else f'{failures} wrong answers'}")
sys.exit(1 if failures else 0)
