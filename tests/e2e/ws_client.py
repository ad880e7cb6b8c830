#!/usr/bin/env python3
"""ws_client.py - run one command through the exec WebSocket, like the SDKs.

Usage:
  ws_client.py --host http://127.0.0.1:PORT --token-file F --id INSTANCE
               [--stdin-file F|-] [--cli-style] [--timeout S] -- argv...

Speaks /v1/streams/instances/exec (docs/executor-protocol.md section 3) with the
standard library only. By default it frames exactly like the Koyeb Python SDK:
subprotocols "Bearer, <token>" plus "Authorization: Bearer <token>", the id in
the query, and a first message {"id": ..., "body": {"command": [...]}} with no
idType and no disableTty. With --cli-style it behaves like the Go CLI instead:
no Authorization header and no query, idType and disableTty in the first
message, stdin in 4096-byte chunks that repeat id, idType and command.

Stdin (only with --stdin-file) is sent as base64 frames, then {"close": true}.
The command's stdout and stderr go to this process's stdout and stderr as
raw bytes; the exit status is the command's. Failures (HTTP error, error
frame, close before "exited") print a line on stderr and exit 1, or 124 on
timeout.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsError(Exception):
    pass


class Ws:
    """A minimal RFC 6455 client: masked frames, fragments, ping/pong, close."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.lock = threading.Lock()
        self.closed = False

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise WsError("connection closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        # XOR through int arithmetic: fast enough for tens of MB
        m = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "little") ^ int.from_bytes(m, "little")).to_bytes(
            n, "little") if n else b""
        with self.lock:
            if not self.closed:
                self.sock.sendall(head + mask + masked)

    def send_json(self, obj):
        self.send(0x1, json.dumps(obj, separators=(",", ":")).encode())

    def close(self, code=1000):
        try:
            self.send(0x8, struct.pack("!H", code))
        except OSError:
            pass
        with self.lock:
            self.closed = True

    def recv_message(self):
        """Returns (opcode, payload) of the next data message, or (8, code)."""
        parts, first_op = [], None
        while True:
            b0, b1 = self._recv_exact(2)
            fin, op, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if b1 & 0x80:
                raise WsError("the server sent a masked frame")
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            payload = self._recv_exact(n)
            if op == 0x9:
                self.send(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return 0x8, code
            if op in (0x1, 0x2):
                if first_op is not None:
                    raise WsError("new message inside a fragmented one")
                first_op = op
            elif op != 0x0 or first_op is None:
                raise WsError("unexpected opcode %d" % op)
            parts.append(payload)
            if fin:
                return first_op, b"".join(parts)


def handshake(args, token):
    url = urllib.parse.urlparse(args.host)
    if url.scheme not in ("http", "https", "ws", "wss") or url.scheme in ("https", "wss"):
        raise WsError("only plain http:// hosts are supported")
    port = url.port or 80
    sock = socket.create_connection((url.hostname, port), timeout=args.timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    path = url.path.rstrip("/") + "/v1/streams/instances/exec"
    if not args.cli_style:
        path += "?id=" + urllib.parse.quote(args.id)
    lines = [
        "GET %s HTTP/1.1" % path,
        "Host: %s:%d" % (url.hostname, port),
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + key,
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: Bearer, " + token,
    ]
    if not args.cli_style:
        lines.append("Authorization: Bearer " + token)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise WsError("connection closed during the handshake")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    status_line, *hdrs = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    if status != 101:
        body = rest
        raise WsError("handshake refused: HTTP %d %s" % (status, body.decode(errors="replace")))
    hmap = {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip() for h in hdrs}
    want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    if hmap.get("sec-websocket-accept") != want:
        raise WsError("bad Sec-WebSocket-Accept")
    proto = hmap.get("sec-websocket-protocol")
    if proto not in (None, "Bearer"):
        raise WsError("server selected an unexpected subprotocol %r" % proto)
    ws = Ws(sock)
    ws.buf = rest
    return ws


def send_stdin(ws, args, first):
    """Sends the stdin file as base64 frames, then close (own thread)."""
    chunk = 4096 if args.cli_style else 65536
    f = sys.stdin.buffer if args.stdin_file == "-" else open(args.stdin_file, "rb")
    try:
        while True:
            data = f.read(chunk)
            if not data:
                break
            body = {"stdin": {"data": base64.b64encode(data).decode()}}
            if args.cli_style:
                body["command"] = first["body"]["command"]
                ws.send_json({"id": args.id, "idType": "INSTANCE_ID", "body": body})
            else:
                ws.send_json({"id": args.id, "body": body})
        body = {"stdin": {"close": True}}
        if args.cli_style:
            body["command"] = first["body"]["command"]
            ws.send_json({"id": args.id, "idType": "INSTANCE_ID", "body": body})
        else:
            ws.send_json({"id": args.id, "body": body})
    except OSError:
        pass
    finally:
        if f is not sys.stdin.buffer:
            f.close()


def run(args, token):
    ws = handshake(args, token)
    ws.sock.settimeout(None)
    if args.cli_style:
        first = {"id": args.id, "idType": "INSTANCE_ID",
                 "body": {"command": args.argv, "disableTty": True}}
    else:
        first = {"id": args.id, "body": {"command": args.argv}}
    ws.send_json(first)
    if args.stdin_file:
        threading.Thread(target=send_stdin, args=(ws, args, first), daemon=True).start()
    out, err = sys.stdout.buffer, sys.stderr.buffer
    code = None
    while True:
        op, payload = ws.recv_message()
        if op == 0x8:
            raise WsError("server closed (code %s) before the command exited" % payload)
        msg = json.loads(payload)
        if "error" in msg:
            e = msg["error"]
            raise WsError("API Error: %s (code %s)" % (e.get("message"), e.get("code")))
        res = msg.get("result", {})
        if "stdout" in res:
            out.write(base64.b64decode(res["stdout"].get("data", "")))
            out.flush()
        if "stderr" in res:
            err.write(base64.b64decode(res["stderr"].get("data", "")))
            err.flush()
        if "exit_code" in res:
            code = res["exit_code"]
        if res.get("exited") and code is not None:
            ws.close(1000)
            return int(code)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", required=True)
    p.add_argument("--token-file")
    p.add_argument("--token")
    p.add_argument("--id", required=True)
    p.add_argument("--stdin-file")
    p.add_argument("--cli-style", action="store_true")
    p.add_argument("--timeout", type=float, default=None)
    p.add_argument("argv", nargs="+")
    args = p.parse_args()
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
    elif args.token:
        token = args.token
    else:
        p.error("--token-file or --token is required")
    if args.timeout:
        def expire():
            time.sleep(args.timeout)
            sys.stderr.write("ws_client: timed out after %g s\n" % args.timeout)
            sys.stderr.flush()
            os._exit(124)
        threading.Thread(target=expire, daemon=True).start()
    try:
        code = run(args, token)
    except (WsError, OSError, ValueError) as e:
        sys.stderr.write("ws_client: %s\n" % e)
        sys.exit(1)
    sys.stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
