#!/usr/bin/env python3
"""redis-py (the most used Python client) against a RESP server and against redis-server: the same calls, the same
results. Uses RESP2 (`protocol=2`): redis-py 8 asks for RESP3 by default, which reactor-redis does not speak yet.

    python3 Scripts/redis-py-check.py OURS_PORT REDIS_PORT
"""
import sys
import time

import redis


def session(port):
    r = redis.Redis(host="127.0.0.1", port=port, protocol=2)
    r.flushall()
    out = []
    out.append(r.ping())
    out.append(r.set("greeting", "hello"))
    out.append(r.get("greeting"))
    out.append(r.set("greeting", "x", nx=True))
    out.append(r.incr("counter"))
    out.append(r.incrby("counter", 10))
    out.append(r.decr("counter"))
    out.append(r.append("greeting", " world"))
    out.append(r.mset({"a": "1", "b": "2"}))
    out.append(r.mget(["a", "b", "missing"]))
    out.append(r.delete("a", "missing"))
    out.append(r.exists("b", "a"))
    out.append(r.expire("b", 100))
    out.append(r.ttl("b"))
    out.append(r.persist("b"))
    out.append(r.set("short", "v", px=100))
    time.sleep(0.25)
    out.append(r.get("short"))
    out.append(r.rpush("list", "a", "b", "c"))
    out.append(r.lpush("list", "z"))
    out.append(r.lrange("list", 0, -1))
    out.append(r.lpop("list"))
    out.append(r.rpop("list", 2))
    out.append(r.llen("list"))
    out.append(r.sadd("set", "a", "b"))
    out.append(sorted(r.smembers("set")))
    out.append(r.sismember("set", "a"))
    out.append(r.hset("hash", mapping={"f1": "v1", "f2": "v2"}))
    out.append(r.hget("hash", "f1"))
    out.append(sorted(r.hgetall("hash").items()))
    out.append(r.zadd("zset", {"a": 1, "b": 2.5}))
    out.append(r.zrange("zset", 0, -1, withscores=True))
    out.append(r.zscore("zset", "b"))
    out.append(r.zpopmin("zset"))
    out.append(r.type("hash"))
    out.append(sorted(r.keys("*")))
    out.append(r.dbsize())
    try:
        r.incr("hash")
    except redis.ResponseError as error:
        out.append(str(error))
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set("p%d" % i, i)
        pipe.get("p%d" % i)
    out.append(pipe.execute())
    binary = b"a\r\nb\x00c\r\n\x00\xff" * 100
    out.append(r.set(b"bin\r\n\x00key", binary))
    out.append(r.get(b"bin\r\n\x00key") == binary)
    out.append(r.hset("hbin", b"f\x00", binary))
    out.append(r.hget("hbin", b"f\x00") == binary)
    pipe = r.pipeline(transaction=False)
    for i in range(10_000):
        pipe.incr("pipelined")
    results = pipe.execute()
    out.append((len(results), results[-1]))
    # redis-py's default pipeline is a transaction: MULTI, the commands, EXEC.
    pipe = r.pipeline()
    for i in range(1000):
        pipe.incr("tx")
    pipe.get("tx")
    pipe.lpush("tx", "x")  # WRONGTYPE inside EXEC: raised after the others ran
    try:
        pipe.execute()
    except redis.ResponseError as error:
        out.append(str(error))
    out.append(r.get("tx"))
    with r.pipeline() as pipe:
        pipe.set("tx2", "a").append("tx2", "b").get("tx2")
        out.append(pipe.execute())
    big = b"x" * 1_000_000
    out.append(r.set("big", big))
    out.append(r.get("big") == big)
    out.append(r.strlen("big"))
    return out


def main():
    ours, theirs = session(int(sys.argv[1])), session(int(sys.argv[2]))
    failures = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    for index, a, b in failures:
        print("DIFF call %d\n  ours:  %r\n  redis: %r" % (index, a, b))
    print("redis-py %s: %d of %d calls gave redis-server's results" % (redis.__version__, len(ours) - len(failures), len(ours)))
    sys.exit(1 if failures or len(ours) != len(theirs) else 0)


if __name__ == "__main__":
    main()
