#!/usr/bin/env python3
"""redis-benchmark's default tests, one at a time, against reactor-redis and redis-server, alternating between them,
with the server's CPU time per request read from /proc; prints a Markdown table per configuration.

    python3 Benchmarks/redis_vs_reactor.py --ours PORT:PID --redis PORT:PID [options]

Started by Benchmarks/redis-vs-reactor.sh, which builds and starts the servers (see Benchmarks/README.md). Each
configuration (clients, pipeline depth) runs `--rounds` rounds; a round runs every test against both servers, one
after the other, ours first in odd rounds and redis first in even ones (A B, B A, A B, ...). The tables show the
median over rounds of each figure, and of each round's ours/redis ratio with its min-max over the rounds.

Requests per test: with `--requests N`, N for every test; otherwise a calibration pass (which also warms both
servers up) measures redis-server's rate for each test and picks N so that redis takes about `--seconds` for it.

Exits 1 if redis-benchmark fails (an error reply, a lost connection) or prints no result; a missed goal is only
reported.
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import time

# (name in the table, redis-benchmark arguments). The LRANGE tests and the LPUSH that fills their list are run as
# custom commands with the same bytes as redis-benchmark's own (checked with MONITOR: the 3-byte payload is "VXK"),
# because `-t lrange_100` would run that LPUSH first and its CPU time would count as LRANGE's.
TESTS = [
    ("PING_INLINE", ["-t", "ping_inline"]),
    ("PING_MBULK", ["-t", "ping_mbulk"]),
    ("SET", ["-t", "set"]),
    ("GET", ["-t", "get"]),
    ("INCR", ["-t", "incr"]),
    ("LPUSH", ["-t", "lpush"]),
    ("RPUSH", ["-t", "rpush"]),
    ("LPOP", ["-t", "lpop"]),
    ("RPOP", ["-t", "rpop"]),
    ("SADD", ["-t", "sadd"]),
    ("HSET", ["-t", "hset"]),
    ("SPOP", ["-t", "spop"]),
    ("ZADD", ["-t", "zadd"]),
    ("ZPOPMIN", ["-t", "zpopmin"]),
    ("LPUSH (needed to benchmark LRANGE)", ["LPUSH", "mylist", "VXK"]),
    ("LRANGE_100", ["LRANGE", "mylist", "0", "99"]),
    ("LRANGE_300", ["LRANGE", "mylist", "0", "299"]),
    ("LRANGE_500", ["LRANGE", "mylist", "0", "499"]),
    ("LRANGE_600", ["LRANGE", "mylist", "0", "599"]),
    ("MSET", ["-t", "mset"]),
]

CONFIGURATIONS = {  # name: (clients, pipeline)
    "c50-p1": (50, 1),
    "c50-p16": (50, 16),
    "c1000-p1": (1000, 1),
}

TICK_SECONDS = 1 / os.sysconf("SC_CLK_TCK")
CLIENT_TLS = []  # with --tls CA: what redis-benchmark and redis-cli need to speak TLS to both servers
REQ_GOAL = 1.0  # ours/redis req/s, every test, every configuration
CPU_GOAL = 0.7  # ours/redis CPU per request, every test, at pipeline 16
CPU_GOAL_PIPELINE = 16


class Server:
    def __init__(self, name, spec):
        self.name = name
        port, pid = spec.split(":")
        self.port, self.pid = int(port), int(pid)

    def cpu_ticks(self):
        """utime + stime of every thread, in clock ticks (/proc/PID/stat fields 14 and 15)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            sys.exit(f"FAIL: {self.name} (pid {self.pid}) is gone")
        return int(fields[11]) + int(fields[12])  # fields[0] is field 3 (state)


class Run:
    """One redis-benchmark run of one test against one server."""

    def __init__(self, requests, rps, p50, p99, ticks):
        self.requests, self.rps, self.p50, self.p99, self.ticks = requests, rps, p50, p99, ticks

    @property
    def cpu_seconds(self):
        return self.ticks * TICK_SECONDS

    @property
    def cpu_us_per_request(self):
        return self.cpu_seconds * 1e6 / self.requests


def benchmark(server, test, requests, clients, pipeline, client_cpu):
    name, arguments = test
    command = ["redis-benchmark", "-p", str(server.port), "-n", str(requests), "-c", str(clients), "-P",
               str(pipeline), "--csv", *CLIENT_TLS, *arguments]
    if client_cpu is not None:
        command = ["taskset", "-c", client_cpu, *command]
    before = server.cpu_ticks()
    result = subprocess.run(command, capture_output=True, text=True)
    # The server may still be closing the benchmark's connections; that work belongs to this test.
    time.sleep(0.05)
    after = server.cpu_ticks()
    rows = [line for line in result.stdout.splitlines()[1:] if line.strip()]
    if result.returncode != 0 or len(rows) != 1 or result.stderr.strip():
        sys.exit(f"FAIL: redis-benchmark {name} against {server.name} (exit {result.returncode}):\n"
                 f"{result.stdout}{result.stderr}")
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    fields = [field.strip('"') for field in rows[0].split('","')]
    expected = name if arguments[0] == "-t" else " ".join(arguments)
    if not fields[0].startswith(expected):
        sys.exit(f"FAIL: redis-benchmark ran {fields[0]!r} for {name} against {server.name}")
    return Run(requests, float(fields[1]), float(fields[4]), float(fields[6]), after - before)


def flushall(server):
    subprocess.run(["redis-cli", "-p", str(server.port), *CLIENT_TLS, "FLUSHALL"], check=True, capture_output=True)


def calibrate(ours, redis, clients, pipeline, seconds, client_cpu):
    """Requests per test so that redis-server takes about `seconds`; runs every test on both (a warm-up)."""
    counts = {}
    for server in (ours, redis):
        flushall(server)
    for test in TESTS:
        requests = 10_000 * pipeline
        while True:
            benchmark(ours, test, requests, clients, pipeline, client_cpu)
            run = benchmark(redis, test, requests, clients, pipeline, client_cpu)
            if requests / run.rps >= 0.2:
                break
            requests *= 5
        counts[test[0]] = max(1000, round_to_two_digits(run.rps * seconds))
        progress(f"  calibrated {test[0]}: redis-server {run.rps:,.0f} req/s -> {counts[test[0]]:,} requests")
    # As in redis-benchmark's own run, LPOP and RPOP must not drain the list that LPUSH and RPUSH filled (popping an
    # empty list is a cheaper command): the four get the same count.
    pushes_and_pops = ("LPUSH", "RPUSH", "LPOP", "RPOP")
    fewest = min(counts[name] for name in pushes_and_pops)
    for name in pushes_and_pops:
        counts[name] = fewest
    return counts


def round_to_two_digits(value):
    magnitude = 10 ** max(0, int(math.log10(value)) - 1)
    return int(round(value / magnitude) * magnitude)


def progress(message):
    print(message, file=sys.stderr, flush=True)


def geometric_mean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def ratio(value):
    return "n/a (0 ticks)" if math.isnan(value) else f"{value:.2f}×"


def resolution(cpu_seconds):
    return f"±{TICK_SECONDS / cpu_seconds:.1%}" if cpu_seconds > 0 else "nothing (0 ticks)"


def half_range(values):
    return (max(values) - min(values)) / 2 / statistics.median(values)


def describe_spread(spreads):
    if not spreads:
        return "n/a"
    return f"±{statistics.median(spreads):.0%} for the median test, ±{max(spreads):.0%} at most"


def spread(values):
    return f"{min(values):.2f}–{max(values):.2f}" if len(values) > 1 else "–"


def report(name, clients, pipeline, counts, rounds):
    """Markdown for one configuration; returns the lines."""
    lines = [f"### {name}: `-c {clients} -P {pipeline}`, {len(rounds)} round{'s' if len(rounds) != 1 else ''}", "",
             "| test | requests | ours req/s | redis req/s | req/s ratio | (min–max) | ours p50 / p99 ms | "
             "redis p50 / p99 ms | ours CPU µs/req | redis CPU µs/req | CPU ratio | (min–max) |",
             "| --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | :---: |"]
    req_ratios, cpu_ratios, req_misses, cpu_misses, req_spreads, cpu_spreads = [], [], [], [], [], []
    cpu_seconds = []
    for test, _ in TESTS:
        ours = [r[test]["ours"] for r in rounds]
        redis = [r[test]["redis"] for r in rounds]
        med = lambda runs, attribute: statistics.median(getattr(run, attribute) for run in runs)
        req_each = [o.rps / r.rps for o, r in zip(ours, redis)]
        # A run that used no measurable CPU (0 ticks) has no CPU ratio: -n is too small for the tick.
        cpu_each = [o.ticks / r.ticks for o, r in zip(ours, redis) if r.ticks > 0 and o.ticks > 0]
        cpu_seconds += [run.cpu_seconds for run in ours + redis]
        req_ratio = statistics.median(req_each)
        cpu_ratio = statistics.median(cpu_each) if cpu_each else math.nan
        req_ratios.append(req_ratio)
        req_spreads.append(half_range(req_each))
        if cpu_each:
            cpu_ratios.append(cpu_ratio)
            cpu_spreads.append(half_range(cpu_each))
        if req_ratio < REQ_GOAL:
            req_misses.append(f"{test} {req_ratio:.3f}×")
        if pipeline == CPU_GOAL_PIPELINE and not cpu_ratio <= CPU_GOAL:
            cpu_misses.append(f"{test} {ratio(cpu_ratio)}")
        lines.append(
            f"| {test} | {counts[test]:,} | {med(ours, 'rps'):,.0f} | {med(redis, 'rps'):,.0f} | "
            f"**{req_ratio:.2f}×** | {spread(req_each)} | {med(ours, 'p50'):.3f} / {med(ours, 'p99'):.3f} | "
            f"{med(redis, 'p50'):.3f} / {med(redis, 'p99'):.3f} | {med(ours, 'cpu_us_per_request'):.2f} | "
            f"{med(redis, 'cpu_us_per_request'):.2f} | **{ratio(cpu_ratio)}** | {spread(cpu_each)} |")
    lines.append(f"| **geometric mean** | | | | **{geometric_mean(req_ratios):.2f}×** | | | | | | "
                 f"**{ratio(geometric_mean(cpu_ratios))}** | |")
    lines.append("")
    lines.append(f"- req/s ≥ {REQ_GOAL:.1f}× redis-server on every test: "
                 + ("met" if not req_misses else f"missed by {len(req_misses)}: " + ", ".join(req_misses)))
    if pipeline == CPU_GOAL_PIPELINE:
        lines.append(f"- CPU per request ≤ {CPU_GOAL}× redis-server's on every test: "
                     + ("met" if not cpu_misses else f"missed by {len(cpu_misses)}: " + ", ".join(cpu_misses)))
    if len(rounds) > 1:
        lines.append("- spread between rounds (half the min–max range of a test's per-round ratio, over its median): "
                     f"req/s {describe_spread(req_spreads)}; CPU per request {describe_spread(cpu_spreads)}")
    typical = statistics.median(cpu_seconds)
    least = min(cpu_seconds)
    lines.append(f"- server CPU per run: median {typical:.2f} s, least {least:.2f} s; with "
                 f"{TICK_SECONDS * 1000:.0f} ms ticks a CPU figure is good to {resolution(typical)} for the median "
                 f"run, {resolution(least)} at worst")
    lines.append("")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", required=True, metavar="PORT:PID", help="reactor-redis")
    parser.add_argument("--redis", required=True, metavar="PORT:PID", help="redis-server")
    parser.add_argument("--configs", default=",".join(CONFIGURATIONS), help="comma-separated: %(default)s")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, help="requests per test (default: calibrated)")
    parser.add_argument("--seconds", type=float, default=1.5, help="calibration target per run (default %(default)s)")
    parser.add_argument("--client-cpu", help="run redis-benchmark under taskset -c CPU")
    parser.add_argument("--tls", metavar="CA", help="both servers speak TLS only: clients use --tls --cacert CA")
    args = parser.parse_args()
    if args.tls:
        CLIENT_TLS.extend(["--tls", "--cacert", args.tls])
    ours, redis = Server("reactor-redis", args.ours), Server("redis-server", args.redis)
    names = args.configs.split(",")
    for name in names:
        if name not in CONFIGURATIONS:
            parser.error(f"unknown configuration {name!r} (known: {', '.join(CONFIGURATIONS)})")

    started = time.monotonic()
    plural = "s" if args.rounds != 1 else ""
    print(f"redis-benchmark per test, ours = reactor-redis, redis = redis-server; {args.rounds} round{plural}, median; "
          "CPU = utime + stime of the server process from /proc/PID/stat.\n", flush=True)
    for name in names:
        clients, pipeline = CONFIGURATIONS[name]
        progress(f"== {name}: -c {clients} -P {pipeline}")
        if args.requests:
            counts = {test: args.requests for test, _ in TESTS}
        else:
            counts = calibrate(ours, redis, clients, pipeline, args.seconds, args.client_cpu)
        rounds = []
        for number in range(args.rounds):
            order = (ours, redis) if number % 2 == 0 else (redis, ours)
            for server in order:
                flushall(server)
            results = {}
            for test in TESTS:
                results[test[0]] = {}
                for server in order:
                    run = benchmark(server, test, counts[test[0]], clients, pipeline, args.client_cpu)
                    results[test[0]]["ours" if server is ours else "redis"] = run
                    progress(f"  round {number + 1}/{args.rounds} {test[0]:<36} {server.name:<14} "
                             f"{run.rps:>12,.0f} req/s {run.cpu_us_per_request:7.2f} µs CPU/req")
            rounds.append(results)
        print("\n".join(report(name, clients, pipeline, counts, rounds)), flush=True)
    progress(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
