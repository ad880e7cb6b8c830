#!/usr/bin/env python3
"""abuse.py - hostile loopback clients for t_host_abuse.sh (standard library only).

Usage: abuse.py MODE --host http://127.0.0.1:PORT [options]

Modes:
  slow      open --count connections that send a partial request head and
            then one more byte now and then, never finishing it; prints
            "ready N" once all are open, then keeps trickling until stdin
            closes and prints "closed-by-server M" (how many sbxd dropped)
  silent    connect, send nothing; prints the seconds until sbxd closes
  trickle   send a request head one byte every 0.5 s; prints the seconds
            until sbxd closes (the head deadline is not reset by traffic)
  pipeline  send --mb MB of pipelined authenticated GETs and never read;
            stops when sbxd stops reading (no progress for --stall s);
            prints "sent BYTES" and sbxd's VmRSS before and after (--pid)
  pingflood the same with WebSocket PING frames on an exec socket
  pingread  run `head -c --bytes /dev/zero` through exec, read the output
            slowly while pinging every 2 ms; fails if the output stops for
            --stall seconds before the command exits (the PONG/drain bug)
"""
import argparse
import base64
import json
import os
import select
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_client  # noqa: E402


def addr(host):
    u = urllib.parse.urlparse(host)
    return u.hostname, u.port


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def closed_by_peer(s):
    """True when the server closed s (EOF or reset); never blocks."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        return s.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def mode_slow(a):
    socks = []
    for i in range(a.count):
        s = socket.create_connection(addr(a.host))
        s.sendall(b"GET /v1/apps HTTP/1.1\r\nHost: x\r\nX-Slow-%d: " % i)
        socks.append(s)
    print("ready %d" % len(socks), flush=True)
    stop = threading.Event()

    def wait_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    while not stop.wait(0.5):
        for s in socks:
            try:
                s.send(b"a", socket.MSG_DONTWAIT)
            except OSError:
                pass
    print("closed-by-server %d" % sum(closed_by_peer(s) for s in socks), flush=True)


def wait_close(s, limit):
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return None
    except OSError:
        pass
    return time.monotonic() - t0


def mode_silent(a):
    s = socket.create_connection(addr(a.host))
    t = wait_close(s, a.limit)
    print("never" if t is None else "%.1f" % t)


def mode_trickle(a):
    s = socket.create_connection(addr(a.host))
    t0 = time.monotonic()
    head = b"GET /v1/apps HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 1000
    for b in head:
        if closed_by_peer(s) or time.monotonic() - t0 > a.limit:
            break
        try:
            s.send(bytes([b]))
        except OSError:
            break
        time.sleep(0.5)
    t = time.monotonic() - t0
    print("never" if t > a.limit else "%.1f" % t)


def flood(a, s, unit):
    """Sends unit repeatedly up to a.mb MB until the peer stops taking it."""
    s.setblocking(False)
    total, goal, last = 0, a.mb << 20, time.monotonic()
    while total < goal:
        _, w, _ = select.select([], [s], [], 0.2)
        if not w:
            if time.monotonic() - last > a.stall:
                break
            continue
        try:
            n = s.send(unit * 64)
        except BlockingIOError:
            continue
        total += n
        last = time.monotonic()
    return total


def report(a, before, sent, s):
    after = rss_kb(a.pid)
    print("sent %d bytes; sbxd VmRSS before %d kB, after %d kB, grew %d kB" %
          (sent, before, after, after - before), flush=True)
    s.close()


def mode_pipeline(a):
    before = rss_kb(a.pid)
    s = socket.create_connection(addr(a.host))
    req = ("GET /v1/apps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" %
           a.token).encode()
    report(a, before, flood(a, s, req), s)


def mode_pingflood(a):
    before = rss_kb(a.pid)
    a.id, a.cli_style, a.timeout = a.iid, False, 10
    ws = ws_client.handshake(a, a.token)
    frame = bytes([0x89, 0x80 | 125]) + b"\0\0\0\0" + b"p" * 125
    report(a, before, flood(a, ws.sock, frame), ws.sock)


def mode_pingread(a):
    a.id, a.cli_style, a.timeout = a.iid, False, 10
    ws = ws_client.handshake(a, a.token)
    ws.send_json({"id": a.iid, "body": {"command": ["head", "-c", str(a.bytes), "/dev/zero"]}})
    done = threading.Event()

    def pinger():
        while not done.wait(0.002):
            try:
                ws.send(0x9, b"k")
            except OSError:
                return

    threading.Thread(target=pinger, daemon=True).start()
    got, last, t0 = 0, [time.monotonic()], time.monotonic()

    def watchdog():
        while not done.wait(0.5):
            if time.monotonic() - last[0] > a.stall:
                print("stalled at %d of %d bytes" % (got, a.bytes), flush=True)
                os._exit(1)

    threading.Thread(target=watchdog, daemon=True).start()
    i = 0
    while True:
        op, payload = ws.recv_message()
        if op == 0x8:
            print("closed early at %d bytes" % got)
            sys.exit(1)
        res = json.loads(payload).get("result", {})
        if "stdout" in res:
            got += len(base64.b64decode(res["stdout"]["data"]))
            last[0] = time.monotonic()
        if res.get("exited"):
            break
        i += 1
        if i % 50 == 0:
            time.sleep(0.01)  # a slow reader keeps sbxd's queue backed up
    done.set()
    print("read %d bytes in %.1f s" % (got, time.monotonic() - t0))
    sys.exit(0 if got == a.bytes else 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["slow", "silent", "trickle", "pipeline", "pingflood",
                                    "pingread"])
    p.add_argument("--host", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--iid", default="")
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--mb", type=int, default=20)
    p.add_argument("--bytes", type=int, default=300 << 20)
    p.add_argument("--stall", type=float, default=3.0)
    p.add_argument("--limit", type=float, default=30.0)
    a = p.parse_args()
    globals()["mode_" + a.mode](a)


if __name__ == "__main__":
    main()
