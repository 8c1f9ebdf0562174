#!/usr/bin/env python3
"""Differential check of a RESP server against redis-server: sends the same requests to both, byte for byte, and
compares the raw reply bytes (for replies whose element order redis does not define, the sorted elements).

    python3 Scripts/resp-differential.py OURS_PORT REDIS_PORT

Exits 1 and prints each difference if any reply differs. Uses only the standard library (no client library), so
what is compared is exactly what went over the wire.
"""
import socket
import sys
import time

UNORDERED = {"KEYS", "SMEMBERS", "HGETALL", "SPOP"}


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def reply(self):
        """One whole reply: (raw bytes, elements for an array or None)."""
        line = self._line()
        kind = line[:1]
        if kind in (b"+", b"-", b":"):
            return line, None
        if kind == b"$":
            n = int(line[1:-2])
            if n < 0:
                return line, None
            while len(self.buf) < n + 2:
                self._fill()
            body, self.buf = self.buf[: n + 2], self.buf[n + 2 :]
            return line + body, None
        if kind == b"*":
            n = int(line[1:-2])
            raw, elements = line, []
            for _ in range(max(n, 0)):
                r, _ = self.reply()
                raw += r
                elements.append(r)
            return raw, elements
        raise ValueError("unexpected reply line %r" % line)

    def send_raw(self, data):
        self.sock.sendall(data)


# Each entry: a command (list of args) or ("raw", bytes) sent as is; ("sleep", seconds).
SCRIPT = [
    ["FLUSHALL"],
    ["PING"], ["PING", "hello"], ("raw", b"PING\r\n"), ["ECHO", "x y"], ["PING", "a", "b"],
    ["SET", "k", "v"], ["GET", "k"], ["GET", "missing"], ["SET", "k", "v2", "GET"], ["SET", "k", "v3", "NX"],
    ["SET", "n", "1", "XX"], ["SET", "k", "v", "NX", "XX"], ["SET", "k", "v", "EX", "0"], ["SET", "k", "v", "EX", "abc"],
    ["SET", "k", "v", "EX", "10", "PX", "100"], ["SET", "k", "v", "KEEPTTL", "EX", "5"], ["SET", "k"], ["SET", "k", "v", "FOO"],
    ["GETSET", "k", "w"], ["GETDEL", "k"], ["GETDEL", "k"], ["SETNX", "s", "1"], ["SETNX", "s", "2"],
    ["INCR", "c"], ["INCRBY", "c", "41"], ["DECR", "c"], ["DECRBY", "c", "-10"], ["INCRBY", "c", "x"],
    ["SET", "big", "9223372036854775807"], ["INCR", "big"], ["SET", "f", "1.5"], ["INCR", "f"],
    ["DECRBY", "c", "-9223372036854775808"],
    ["APPEND", "a", "hel"], ["APPEND", "a", "lo"], ["STRLEN", "a"], ["STRLEN", "nope"],
    ["MSET", "m1", "1", "m2", "2"], ["MGET", "m1", "m2", "nope"], ["MSET", "m1"], ["DEL", "m1", "m2", "nope"],
    ["EXISTS", "a", "a", "nope"], ["TYPE", "a"], ["TYPE", "nope"],
    ["EXPIRE", "a", "100"], ["TTL", "a"], ["PERSIST", "a"], ["TTL", "a"], ["TTL", "nope"], ["PTTL", "nope"],
    ["PEXPIRE", "a", "abc"], ["EXPIRE", "a", "-1"], ["EXISTS", "a"],
    ["SET", "t", "v", "PX", "100"], ("sleep", 0.25), ["GET", "t"], ["EXISTS", "t"],
    ["LPUSH", "l", "a", "b", "c"], ["RPUSH", "l", "d"], ["LRANGE", "l", "0", "-1"], ["LRANGE", "l", "1", "2"],
    ["LRANGE", "l", "5", "10"], ["LLEN", "l"], ["LINDEX", "l", "0"], ["LINDEX", "l", "-1"], ["LINDEX", "l", "9"],
    ["LPOP", "l"], ["RPOP", "l"], ["LPOP", "l", "5"], ["LPOP", "l"], ["LPOP", "nope", "2"], ["LPOP", "l", "-1"],
    ["SADD", "s1", "a", "b", "a"], ["SCARD", "s1"], ["SISMEMBER", "s1", "a"], ["SISMEMBER", "s1", "z"],
    ["SREM", "s1", "a", "z"], ["SMEMBERS", "s1"], ["SPOP", "nope"], ["SPOP", "nope", "2"],
    ["HSET", "h", "f1", "v1", "f2", "v2"], ["HSET", "h", "f1", "x"], ["HGET", "h", "f1"], ["HGET", "h", "zz"],
    ["HLEN", "h"], ["HGETALL", "h"], ["HDEL", "h", "f1", "zz"], ["HSET", "h", "f1"],
    ["ZADD", "z", "1", "a", "2.5", "b", "-3", "c"], ["ZADD", "z", "1", "a"], ["ZCARD", "z"], ["ZSCORE", "z", "b"],
    ["ZSCORE", "z", "nope"], ["ZRANGE", "z", "0", "-1"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZADD", "z", "0.1", "d"], ["ZSCORE", "z", "d"], ["ZADD", "z", "inf", "e"], ["ZSCORE", "z", "e"],
    ["ZADD", "z", "abc", "f"], ["ZADD", "z", "1", "a", "2"], ["ZPOPMIN", "z"], ["ZPOPMIN", "z", "2"], ["ZPOPMIN", "nope"],
    ["GET", "h"], ["LPUSH", "k2", "x"], ["GET", "k2"], ["INCR", "k2"], ["SADD", "k2", "x"], ["HGET", "k2", "x"],
    ["KEYS", "*"], ["KEYS", "s?"], ["KEYS", "[hl]"], ["DBSIZE"],
    ["SELECT", "1"], ["GET", "a"], ["SET", "a", "db1"], ["DBSIZE"], ["SELECT", "0"], ["GET", "a"], ["SELECT", "16"],
    ["SELECT", "abc"], ["FLUSHDB"], ["DBSIZE"], ["SELECT", "1"], ["DBSIZE"], ["FLUSHALL"], ["DBSIZE"],
    ["CONFIG", "GET", "save"], ["CONFIG", "GET", "appendonly"], ["CLIENT", "SETNAME", "judge"], ["CLIENT", "GETNAME"],
    ["FOO"], ["foo", "a", "b"], ["GET"], ["get", "a", "b"],
    # Transactions: queued replies, runtime errors inside EXEC's array, refused commands abort the queue.
    ["EXEC"], ["DISCARD"], ["MULTI"], ["MULTI"], ["SET", "tx", "1"], ["INCR", "tx"], ["GET", "tx"],
    ["LPUSH", "tx", "x"], ["SELECT", "99"], ["SET", "tx", "v", "EX", "0"], ["EXEC"], ["GET", "tx"],
    ["MULTI"], ["EXEC"], ["MULTI"], ["PING"], ["DISCARD"], ["PING"],
    ["MULTI"], ["SET", "tx", "2"], ["NOPE"], ["GET"], ["SET", "tx", "3"], ["EXEC"], ["GET", "tx"],
    ["MULTI"], ["SELECT", "1"], ["SET", "tx", "db1"], ["DBSIZE"], ["EXEC"], ["GET", "tx"], ["SELECT", "0"],
    ["MULTI"], ["DEL", "tx"], ["KEYS", "t*"], ["FLUSHDB"], ["DBSIZE"], ["EXEC"], ["MULTI", "x"],
    ("raw", b"*1\r\n$4\r\nPINGxx"),
]


def main():
    ours, redis = Conn(int(sys.argv[1])), Conn(int(sys.argv[2]))
    failures = 0
    for entry in SCRIPT:
        if isinstance(entry, tuple) and entry[0] == "sleep":
            time.sleep(entry[1])
            continue
        data = entry[1] if isinstance(entry, tuple) else encode(entry)
        name = (entry[1].split()[0].decode() if isinstance(entry, tuple) else entry[0]).upper().lstrip("*")
        ours.send_raw(data)
        redis.send_raw(data)
        a, ea = ours.reply()
        b, eb = redis.reply()
        same = a == b or (name in UNORDERED and ea is not None and eb is not None and sorted(ea) == sorted(eb))
        if not same:
            failures += 1
            print("DIFF %r\n  ours:  %r\n  redis: %r" % (data, a, b))
    # Protocol errors, each on a fresh connection (the server closes after the error reply).
    for bad in [b"*1\r\nx\r\n", b"*a\r\n", b"*1\r\n$-2\r\n", b"PING \"a\r\n", b"PING\r\n*1\r\n:1\r\nPING\r\n"]:
        replies = []
        for port in (int(sys.argv[1]), int(sys.argv[2])):
            c = Conn(port)
            c.send_raw(bad)
            got = b""
            try:
                while True:
                    data = c.sock.recv(65536)
                    if not data:
                        break
                    got += data
            except (ConnectionResetError, socket.timeout) as error:
                got += b"<%s>" % type(error).__name__.encode()
            replies.append(got)
        if replies[0] != replies[1]:
            failures += 1
            print("DIFF %r\n  ours:  %r\n  redis: %r" % (bad, replies[0], replies[1]))
    total = len([e for e in SCRIPT if not (isinstance(e, tuple) and e[0] == "sleep")]) + 5
    print("resp-differential: %d of %d requests answered byte for byte like redis-server" % (total - failures, total))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
