#!/usr/bin/env python3
"""tls_proxy.py - a TLS front for sbxd in the end-to-end tests: what a
Koyeb client meets (https and wss) without the cloud. Listens on
127.0.0.1 (a free port, printed on the first line of stdout), ends TLS
with CERT/KEY, and copies bytes both ways to TARGET_PORT on 127.0.0.1
(plain sbxd). Runs until killed. With CERT2 KEY2 SWAP: while the file
SWAP exists, new connections get CERT2 instead (a server that changed
its certificate under a client that knows it already).

    tls_proxy.py CERT KEY TARGET_PORT [CERT2 KEY2 SWAP]
"""
import os
import socket
import ssl
import sys
import threading


def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(conn, ctxs, swap, port):
    ctx = ctxs[1] if swap and os.path.exists(swap) else ctxs[0]
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (OSError, ssl.SSLError):
        conn.close()  # a client that refused our certificate
        return
    try:
        up = socket.create_connection(("127.0.0.1", port))
    except OSError:
        tls.close()
        return
    threading.Thread(target=pump, args=(up, tls), daemon=True).start()
    pump(tls, up)


def main():
    cert, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctxs = []
    for c, k in [(cert, key)] + ([(sys.argv[4], sys.argv[5])] if len(sys.argv) > 6 else []):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(c, k)
        ctxs.append(ctx)
    swap = sys.argv[6] if len(sys.argv) > 6 else None
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    print(ls.getsockname()[1], flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, ctxs, swap, port), daemon=True).start()


if __name__ == "__main__":
    main()
