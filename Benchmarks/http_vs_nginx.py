#!/usr/bin/env python3
"""reactor-http against nginx with wrk, in the same run: each configuration against both servers, alternating,
with the server's CPU time per request read from /proc; prints a Markdown table per loop count.

    python3 Benchmarks/http_vs_nginx.py --reactor-http BINARY [options]

Started by Benchmarks/http-vs-nginx.sh, which builds reactor-http and installs nginx-light and wrk (see
Benchmarks/README.md, "reactor-http against nginx"). For each loop count (`--loops 1,2`: reactor-http `--loops N`
against nginx `worker_processes N`) both servers are started, warmed up, and every configuration runs `--rounds`
rounds, ours first in odd rounds and nginx first in even ones. The tables show the median over rounds of each
figure, and of each round's ours/nginx ratio with its min-max over the rounds.

nginx is configured as the issue asks: one worker per loop, `return 200 "Hello, World!"` on /plaintext (and the
JSON body on /json), access log off, `keepalive_requests` unlimited in practice (2^31 - 1). Both servers answer
with a `Server` and a `Date` field, as TechEmpower requires.

With `--tls DIR` (a directory made by Scripts/tls-test-certs.sh) both serve HTTPS with DIR's server.pem/server.key:
reactor-http `--tls-cert/--tls-key`, nginx `listen ... ssl` with the same certificate and TLS 1.3 only, wrk on
https:// (Benchmarks/tls-vs-anchors.sh). The `close-c64` configuration sends `Connection: close`, so every request
is a new connection (with TLS, a full handshake: wrk resumes no session): connections (handshakes) per second.

Exits 1 if wrk reports a socket error or a non-2xx response, if a server answers a probe wrongly or dies; a missed
goal is only reported.
"""
import argparse
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TICK_SECONDS = 1 / os.sysconf("SC_CLK_TCK")

# (name, path, connections, requests pipelined per write, goal for ours/nginx req/s with one loop and one worker:
# issue 12's, none for /json nor for two loops)
CONFIGURATIONS = {
    "c64": ("/plaintext", 64, 1, 1.1),
    "c256": ("/plaintext", 256, 1, 1.1),
    "c256-p16": ("/plaintext", 256, 16, 5.0),
    "json-c256": ("/json", 256, 1, None),
    "close-c64": ("/plaintext", 64, 1, None),
}
DEFAULT_CONFIGURATIONS = ["c64", "c256", "c256-p16", "json-c256"]

NGINX_CONF = """\
worker_processes {workers};
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    keepalive_requests 2147483647;
    keepalive_timeout 75s;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} {ssl} reuseport backlog=4096;
        {ssl_settings}
        location = /plaintext {{
            default_type text/plain;
            return 200 "Hello, World!";
        }}
        location = /json {{
            default_type application/json;
            return 200 '{{"message":"Hello, World!"}}';
        }}
    }}
}}
"""

# TechEmpower's pipelining script: `depth` copies of the request in every write.
PIPELINE_LUA = """\
init = function(args)
    local depth = tonumber(args[1]) or 1
    local requests = {}
    for i = 1, depth do requests[i] = wrk.format() end
    request_bytes = table.concat(requests)
end
request = function()
    return request_bytes
end
"""

BODIES = {"/plaintext": b"Hello, World!", "/json": b'{"message":"Hello, World!"}'}


def progress(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_ticks(pid):
    """utime + stime of every thread of `pid`, in clock ticks (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields[0] is field 3 (state)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except FileNotFoundError:
        return []


class Server:
    """A server process; its CPU time is its own plus its children's (nginx's workers)."""

    def __init__(self, name, command, port, pin):
        self.name, self.port = name, port
        prefix = ["taskset", "-c", pin] if pin is not None else []
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(prefix + command, stdout=self.log, stderr=subprocess.STDOUT)

    def ticks(self):
        if self.process.poll() is not None:
            self.log.seek(0)
            sys.exit(f"FAIL: {self.name} exited with {self.process.returncode}:\n{self.log.read().decode()}")
        pids = [self.process.pid] + children(self.process.pid)
        return sum(process_ticks(pid) for pid in pids)

    def wait_ready(self):
        for _ in range(100):
            self.ticks()  # fails if the process is gone
            try:
                for path, body in BODIES.items():
                    answer = get(self.port, path)
                    if not (answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\n" + body)):
                        sys.exit(f"FAIL: {self.name} answered GET {path} with {answer!r}")
                    for field in (b"\r\nServer: ", b"\r\nDate: ", b"\r\nContent-Length: %d\r\n" % len(body)):
                        if field not in answer:
                            sys.exit(f"FAIL: {self.name}'s answer to GET {path} has no {field!r}: {answer!r}")
                return
            except OSError:
                time.sleep(0.1)
        sys.exit(f"FAIL: {self.name} does not answer on port {self.port}")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


TLS_CONTEXT = None  # with --tls: the client context probes use (trusting the test CA)


def get(port, path):
    """One GET with Connection: close (over TLS with --tls); the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as plain:
        sock = TLS_CONTEXT.wrap_socket(plain, server_hostname="localhost") if TLS_CONTEXT else plain
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)


class Run:
    def __init__(self, requests, rps, p50, p99, ticks):
        self.requests, self.rps, self.p50, self.p99, self.ticks = requests, rps, p50, p99, ticks

    @property
    def cpu_us_per_request(self):
        return self.ticks * TICK_SECONDS * 1e6 / self.requests if self.requests else math.nan


def milliseconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(server, configuration, seconds, threads, lua, client_cpu):
    path, connections, depth, _ = CONFIGURATIONS[configuration]
    scheme = "https" if TLS_CONTEXT else "http"
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               f"{scheme}://127.0.0.1:{server.port}{path}"]
    if configuration.startswith("close-"):
        command[1:1] = ["-H", "Connection: close"]
    if depth > 1:
        command[1:1] = ["-s", lua]
        command += ["--", str(depth)]
    if client_cpu is not None:
        command = ["taskset", "-c", client_cpu, *command]
    before = server.ticks()
    result = subprocess.run(command, capture_output=True, text=True)
    time.sleep(0.05)  # the server may still be closing wrk's connections: that work belongs to this run
    after = server.ticks()
    out = result.stdout
    requests = re.search(r"^\s*(\d+) requests in ", out, re.M)
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", out, re.M)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if result.returncode != 0 or not (requests and rps and p50 and p99) or errors or non2xx or result.stderr.strip():
        sys.exit(f"FAIL: wrk {configuration} against {server.name} (exit {result.returncode}):\n{out}{result.stderr}")
    return Run(int(requests.group(1)), float(rps.group(1)), milliseconds(p50.group(1)), milliseconds(p99.group(1)),
               after - before)


def geometric_mean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def spread(values):
    return f"{min(values):.2f}–{max(values):.2f}" if len(values) > 1 else "–"


def report(loops, threads, seconds, rounds, names):
    lines = [f"### `--loops {loops}` against `worker_processes {loops}`: wrk -t{threads}, {seconds} s per run, "
             f"{len(rounds)} round{'s' if len(rounds) != 1 else ''}", "",
             "| configuration | ours req/s | nginx req/s | req/s ratio | (min–max) | goal | ours p50 / p99 ms | "
             "nginx p50 / p99 ms | ours CPU µs/req | nginx CPU µs/req | CPU ratio |",
             "| --- | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    misses = []
    for name in names:
        goal = CONFIGURATIONS[name][3] if loops == 1 else None
        ours = [r[name]["ours"] for r in rounds]
        nginx = [r[name]["nginx"] for r in rounds]
        med = lambda runs, attribute: statistics.median(getattr(run, attribute) for run in runs)
        req_each = [o.rps / n.rps for o, n in zip(ours, nginx)]
        cpu_each = [o.cpu_us_per_request / n.cpu_us_per_request for o, n in zip(ours, nginx) if n.ticks and o.ticks]
        req_ratio = statistics.median(req_each)
        cpu_ratio = f"**{statistics.median(cpu_each):.2f}×**" if cpu_each else "n/a (0 ticks)"
        if goal is not None and req_ratio < goal:
            misses.append(f"{name} {req_ratio:.2f}× (goal {goal}×)")
        # wrk times a pipelined write's responses wrongly (its p90 and p99 print as 0): no latency for those.
        latency = lambda runs: (f"{med(runs, 'p50'):.2f} / {med(runs, 'p99'):.2f}"
                                if CONFIGURATIONS[name][2] == 1 else "– (wrk)")
        lines.append(
            f"| {name} | {med(ours, 'rps'):,.0f} | {med(nginx, 'rps'):,.0f} | **{req_ratio:.2f}×** | "
            f"{spread(req_each)} | {f'≥ {goal}×' if goal else '–'} | {latency(ours)} | "
            f"{latency(nginx)} | {med(ours, 'cpu_us_per_request'):.2f} | "
            f"{med(nginx, 'cpu_us_per_request'):.2f} | {cpu_ratio} |")
    lines.append("")
    if loops == 1:
        lines.append("- goals: " + ("met" if not misses else f"missed by {len(misses)}: " + ", ".join(misses)))
    lines.append("")
    return lines


def main():
    # SIGTERM unwinds like Ctrl-C, so the `finally` below stops both servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reactor-http", required=True, metavar="BINARY")
    parser.add_argument("--loops", default="1,2", help="comma-separated loop (and worker) counts: %(default)s")
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGURATIONS),
                        help=f"comma-separated, of {', '.join(CONFIGURATIONS)}: %(default)s")
    parser.add_argument("--tls", metavar="DIR", help="serve HTTPS with DIR/server.pem and DIR/server.key")
    parser.add_argument("--goal", type=float, help="the ours/nginx req/s goal with one loop for every configuration")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="wrk -d per run (default %(default)s)")
    parser.add_argument("--pin", action="store_true",
                        help="with --loops 1: servers on CPU 1, wrk on CPU 0 (taskset)")
    args = parser.parse_args()
    global TLS_CONTEXT
    if args.tls:
        import ssl
        TLS_CONTEXT = ssl.create_default_context(cafile=os.path.join(args.tls, "ca.pem"))
    if args.goal is not None:
        for name, (path, connections, depth, _) in list(CONFIGURATIONS.items()):
            CONFIGURATIONS[name] = (path, connections, depth, None if name.startswith("close-") else args.goal)
    names = args.configs.split(",")
    for name in names:
        if name not in CONFIGURATIONS:
            parser.error(f"unknown configuration {name!r} (known: {', '.join(CONFIGURATIONS)})")
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="http-vs-nginx.")
    lua = os.path.join(work, "pipeline.lua")
    with open(lua, "w") as f:
        f.write(PIPELINE_LUA)
    servers = []
    try:
        for loops in (int(n) for n in args.loops.split(",")):
            # wrk gets a thread per loop: one wrk thread cannot feed two server cores.
            threads = loops
            pin_server = "1" if args.pin and loops == 1 else None
            pin_client = "0" if args.pin and loops == 1 else None
            nginx_dir = os.path.join(work, f"nginx-{loops}")
            os.makedirs(nginx_dir)
            nginx_port, ours_port = free_port(), free_port()
            with open(os.path.join(nginx_dir, "nginx.conf"), "w") as f:
                ssl_settings = (f"ssl_certificate {args.tls}/server.pem; ssl_certificate_key {args.tls}/server.key; "
                                "ssl_protocols TLSv1.3; ssl_session_tickets on;" if args.tls else "")
                f.write(NGINX_CONF.format(workers=loops, dir=nginx_dir, port=nginx_port,
                                          ssl="ssl" if args.tls else "", ssl_settings=ssl_settings))
            tls_flags = ["--tls-cert", f"{args.tls}/server.pem", "--tls-key", f"{args.tls}/server.key"] if args.tls else []
            ours = Server("reactor-http",
                          [args.reactor_http, "--port", str(ours_port), "--loops", str(loops), *tls_flags],
                          ours_port, pin_server)
            nginx = Server("nginx", ["nginx", "-c", os.path.join(nginx_dir, "nginx.conf"), "-p", nginx_dir],
                           nginx_port, pin_server)
            servers = [ours, nginx]
            for server in servers:
                server.wait_ready()
            progress(f"== --loops {loops}: reactor-http on {ours_port}, nginx on {nginx_port}; warm-up")
            for server in servers:
                wrk(server, "c64", 1, threads, lua, pin_client)
            rounds = []
            for number in range(args.rounds):
                order = (ours, nginx) if number % 2 == 0 else (nginx, ours)
                results = {}
                for name in names:
                    results[name] = {}
                    for server in order:
                        run = wrk(server, name, args.seconds, threads, lua, pin_client)
                        results[name]["ours" if server is ours else "nginx"] = run
                        progress(f"  round {number + 1}/{args.rounds} {name:<10} {server.name:<13} "
                                 f"{run.rps:>12,.0f} req/s {run.cpu_us_per_request:7.2f} µs CPU/req")
                rounds.append(results)
            for server in servers:
                server.stop()
            servers = []
            print("\n".join(report(loops, threads, args.seconds, rounds, names)), flush=True)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    progress(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
