#!/usr/bin/env python3
"""executor_client.py API TOKEN - an executor-era client, written from
docs/executor-protocol.md, driving a real sbxd: it creates a sandbox the way
Koyeb's current SDK does, finds the executor through the deployment's
metadata, and checks every endpoint. Prints TAP-like ok / not ok lines.

Only the standard library: http.client with one keep-alive connection for
the executor, as the SDK's session does.
"""
import http.client
import json
import secrets
import base64
import socket
import sys
import threading
import time
import urllib.parse

API, TOKEN = sys.argv[1], sys.argv[2]
FAILS = 0


def ok(cond, desc, detail=None):
    global FAILS
    if cond:
        print("ok - " + desc)
    else:
        FAILS += 1
        print("not ok - " + desc)
        if detail is not None:
            print("#   " + str(detail).replace("\n", "\n#   ")[:2000])
    sys.stdout.flush()


class Http:
    """One keep-alive HTTP/1.1 connection to a base URL."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.conn

    def request(self, method, path, body=None, headers=None, stream=False):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = self._conn()
        c.request(method, self.prefix + path, body=data, headers=h)
        r = c.getresponse()
        if stream:
            return r
        raw = r.read()
        return r.status, r.getheader("Content-Type") or "", raw

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def rest(method, path, body=None):
    h = Http(API)
    st, _, raw = h.request(method, path, body, {"Authorization": "Bearer " + TOKEN})
    h.close()
    try:
        return st, json.loads(raw) if raw else {}
    except ValueError:
        return st, raw


def sse_events(resp):
    """Yields (event, data-dict) from a text/event-stream response."""
    name, data = None, []
    while True:
        line = resp.readline()
        if not line:
            return
        line = line.decode().rstrip("\r\n")
        if line == "":
            if name is not None:
                yield name, json.loads("\n".join(data))
            name, data = None, []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def create_sandbox(name, secret):
    """What the current SDK sends: an app, then a SANDBOX service."""
    st, app = rest("POST", "/v1/apps", {"name": "sandbox-app-%s-%d" % (name, int(time.time()))})
    ok(st == 200, "create app", app)
    definition = {
        "name": name,
        "type": "SANDBOX",
        "docker": {"image": "koyeb/sandbox"},
        "env": [{"key": "SANDBOX_SECRET", "value": secret}],
        "ports": [{"port": 3030, "protocol": "http"}],
        "routes": [{"port": 3030, "path": "/koyeb-sandbox/"}],
        "proxy_ports": [{"port": 3031, "protocol": "tcp"}],
        "instance_types": [{"type": "nano"}],
        "scalings": [{"min": 1, "max": 1}],
        "regions": ["eu"],
        "life_cycle": {"delete_when_empty": True},
        "mesh": "SERVICE_MESH_DISABLED",
        "config_files": [{"path": "/etc/sbx-test.conf", "content": "hello config\n",
                          "permissions": "0640"}],
    }
    st, svc = rest("POST", "/v1/services", {"app_id": app["app"]["id"], "definition": definition})
    ok(st == 200, "create a SANDBOX service", svc)
    return app["app"]["id"], svc["service"]


def wait_executor(svc, secret):
    """Deployment HEALTHY, then metadata, then GET /health."""
    dep_id = svc["latest_deployment_id"]
    md = None
    for _ in range(600):
        st, dep = rest("GET", "/v1/deployments/" + dep_id)
        if st == 200 and dep["deployment"].get("status") == "HEALTHY":
            md = dep["deployment"].get("metadata")
            break
        time.sleep(0.05)
    ok(md is not None and md.get("sandbox", {}).get("public_url"),
       "the healthy deployment has metadata.sandbox.public_url", md)
    url = md["sandbox"]["public_url"] + "/koyeb-sandbox"
    hdrs = {"X-Routing-Key": md["sandbox"]["routing_key"]} if md["sandbox"].get("routing_key") else {}
    x = Http(url)
    st, ctype, raw = x.request("GET", "/health", headers=hdrs)
    ok(st == 200 and json.loads(raw)["status"].lower() in ("ok", "healthy", "ready"),
       "GET /health answers ok without a token", (st, raw))
    hdrs["Authorization"] = "Bearer " + secret
    return x, hdrs, md


def main():
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    app_id, svc = create_sandbox("exec-era", secret)
    x, H, md = wait_executor(svc, secret)
    # a command longer than the server's request deadlines (10 s for a
    # head, 30 s for a body) runs alongside the rest and must still answer
    slow = {}

    def run_slow():
        c = Http("http://%s:%d%s" % (x.host, x.port, x.prefix))
        try:
            slow["r"] = c.request("POST", "/run", {"cmd": "sleep 12; echo late"}, H)
        except Exception as e:
            slow["r"] = repr(e)
        c.close()
    t = threading.Thread(target=run_slow)
    t.start()
    for check in (check_auth, check_run, check_streaming, check_files, check_escape,
                  check_processes, check_ports, check_config):
        try:
            check(x, H, md)
        except Exception as e:  # a crash is one failure, the rest still runs
            ok(False, "%s did not crash" % check.__name__, repr(e))
            x.close()
    t.join()
    r = slow.get("r")
    ok(isinstance(r, tuple) and r[0] == 200 and json.loads(r[2]).get("stdout") == "late\n",
       "a /run longer than the request deadlines still answers", r)
    st, lst = rest("GET", "/v1/services?limit=1")
    ok(st == 200 and "has_next" in lst and "has_more" not in lst, "lists page with has_next", lst)
    print("# executor checks done")
    return 0


def post(x, H, path, body):
    st, ctype, raw = x.request("POST", path, body, H)
    try:
        return st, ctype, json.loads(raw)
    except ValueError:
        return st, ctype, raw.decode(errors="replace")


def check_auth(x, H, md):
    body = {"cmd": "echo hi"}
    st, ctype, raw = x.request("POST", "/run", body)
    ok(st == 401 and raw == b"Unauthorized\n" and ctype.startswith("text/plain"),
       "/run without a token is 401 Unauthorized (text)", (st, ctype, raw))
    bad = dict(H, Authorization="Bearer " + "x" * 43)
    st, _, raw = x.request("POST", "/run", body, bad)
    ok(st == 401, "/run with a wrong secret is 401", (st, raw))
    bad = dict(H, Authorization="bearer " + H["Authorization"][7:])
    st, _, raw = x.request("POST", "/run", body, bad)
    ok(st == 401, "the Bearer prefix is case-sensitive", (st, raw))
    st, _, raw = x.request("POST", "/run", body, dict(H, **{"X-Routing-Key": "nope"}))
    ok(st == 404, "a wrong X-Routing-Key is not routed", (st, raw))
    st, _, raw = x.request("POST", "/list_processes", None, H)
    ok(st == 405 and raw == b"Method not allowed\n", "POST /list_processes is 405", (st, raw))


def check_run(x, H, md):
    st, ctype, r = post(x, H, "/run", {"cmd": "echo hi; echo oops >&2; exit 3",
                                        "env": {"XV": "from env"}})
    ok(st == 200 and r == {"stdout": "hi\n", "stderr": "oops\n", "code": 3,
                           "error": "Non-zero exit code"}, "/run: output, code and error", r)
    st, _, r = post(x, H, "/run", {"cmd": "printf %s \"$XV\"; pwd", "cwd": "/tmp",
                                    "env": {"XV": "from env"}})
    ok(st == 200 and r.get("stdout") == "from env/tmp\n" and r.get("code") == 0
       and "error" not in r, "/run: env and cwd", r)
    st, _, r = post(x, H, "/run", {"cmd": "true", "cwd": "/no/such/dir"})
    ok(st == 400 and r == "Invalid working directory: /no/such/dir\n",
       "/run: a missing cwd is 400 text", (st, r))
    st, _, r = post(x, H, "/run", {"cwd": "/"})
    ok(st == 400 and r == "Command is required\n", "/run: no cmd is 400 text", (st, r))
    st, _, raw = x.request("POST", "/run", b"{not json", H)
    ok(st == 400 and raw == b"Invalid request\n", "/run: bad JSON is 400 Invalid request", raw)
    st, _, r = post(x, H, "/run", {"cmd": "kill -9 $$"})
    ok(st == 200 and r.get("code") == -1, "/run: a signal gives code -1", r)
    st, _, r = post(x, H, "/run", {"cmd": "cat /proc/1/cgroup >/dev/null; id -u; hostname; "
                                           "test -e /etc/shadow && echo shadow || echo none"})
    ok(st == 200 and r["stdout"].split("\n")[0] == "0" and "none" in r["stdout"],
       "/run runs as the sandbox's root, inside the sandbox", r)
    st, _, r = post(x, H, "/run", {"cmd": "head -c 300000 /dev/zero | tr '\\0' a"})
    ok(st == 200 and len(r.get("stdout", "")) == 300000, "/run: a big output comes whole",
       len(r.get("stdout", "")) if isinstance(r, dict) else r)
    st, _, r = post(x, H, "/run", {"cmd": "printf '\\377ok'"})
    ok(st == 200 and r.get("stdout") == "\ufffdok", "/run: invalid UTF-8 becomes U+FFFD", r)


def check_streaming(x, H, md):
    resp = x.request("POST", "/run_streaming",
                     {"cmd": "echo one; echo two >&2; sleep 0.2; printf three; exit 2"}, H,
                     stream=True)
    ok(resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream",
       "/run_streaming answers an event stream", resp.status)
    evs = list(sse_events(resp))
    out = [(e, d.get("stream"), d.get("data")) for e, d in evs if e == "output"]
    ok(sorted(out) == sorted([("output", "stdout", "one"), ("output", "stderr", "two"),
                              ("output", "stdout", "three")]),
       "/run_streaming: one output event per line, the last unterminated one too", evs)
    ok(evs and evs[-1] == ("complete", {"code": 2, "error": True}) and
       all(e == "output" for e, _ in evs[:-1]),
       "/run_streaming: complete comes last, with code and error", evs)
    # the keep-alive connection serves the next request after a stream
    st, _, r = post(x, H, "/run", {"cmd": "echo again"})
    ok(st == 200 and r.get("stdout") == "again\n", "the connection is reused after a stream", r)
    resp = x.request("POST", "/run_streaming", {"cmd": "true", "cwd": "/nope"}, H, stream=True)
    body = resp.read()
    ok(resp.status == 400, "/run_streaming: a bad cwd is 400", (resp.status, body))
    # a client that leaves kills the streamed command
    c = Http(x.prefix and "http://%s:%d%s" % (x.host, x.port, x.prefix))
    resp = c.request("POST", "/run_streaming",
                     {"cmd": "echo started; exec sleep 300"}, H, stream=True)
    ev = next(sse_events(resp))
    ok(ev == ("output", {"stream": "stdout", "data": "started"}), "stream started", ev)
    c.conn.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    gone = False
    for _ in range(100):
        st, _, r = post(x, H, "/run", {"cmd": "ps -e -o args= | grep -c '^sleep 300' || true"})
        if r.get("stdout", "").strip() == "0":
            gone = True
            break
        time.sleep(0.05)
    ok(gone, "a client leaving /run_streaming kills its command", r)


def check_files(x, H, md):
    st, _, r = post(x, H, "/make_dir", {"path": "/work/a/b"})
    ok(st == 200 and r == {"success": True}, "/make_dir makes parents", r)
    st, _, r = post(x, H, "/make_dir", {"path": "/work/a/b"})
    ok(r == {"success": True}, "/make_dir on an existing dir succeeds", r)
    st, _, r = post(x, H, "/write_file", {"path": "/work/a/f.txt", "content": "héllo\nworld"})
    ok(st == 200 and r == {"success": True}, "/write_file", r)
    st, _, r = post(x, H, "/read_file", {"path": "/work/a/f.txt"})
    ok(r == {"content": "héllo\nworld"}, "/read_file reads it back", r)
    st, _, r = post(x, H, "/run", {"cmd": "stat -c '%a %u' /work/a/f.txt /work/a/b"})
    ok(r.get("stdout") == "644 0\n755 0\n", "files are 0644, dirs 0755, owned by the sandbox's root", r)
    post(x, H, "/write_file", {"path": "/work/a/empty", "content": ""})
    st, _, r = post(x, H, "/read_file", {"path": "/work/a/empty"})
    ok(st == 200 and r == {}, "/read_file of an empty file omits content", r)
    st, _, r = post(x, H, "/read_file", {"path": "/work/nope"})
    ok(st == 200 and r == {"error": "open /work/nope: no such file or directory"},
       "/read_file of a missing file: 200 with Go's error text", r)
    st, _, r = post(x, H, "/write_file", {"path": "/work/no/dir/f", "content": "x"})
    ok(st == 200 and r.get("success") is False and "no such file" in r.get("error", ""),
       "/write_file does not make parents", r)
    st, _, r = post(x, H, "/list_dir", {"path": "/work/a"})
    ok(r == {"entries": ["b", "empty", "f.txt"]}, "/list_dir: sorted names", r)
    st, _, r = post(x, H, "/list_dir", {"path": "/work/a/b"})
    ok(r == {}, "/list_dir of an empty dir omits entries", r)
    st, _, r = post(x, H, "/list_dir", {"path": "/work/zz"})
    ok("error" in r and "no such file" in r["error"], "/list_dir of a missing dir", r)
    st, _, r = post(x, H, "/delete_file", {"path": "/work/a/f.txt"})
    ok(r == {"success": True}, "/delete_file", r)
    st, _, r = post(x, H, "/delete_file", {"path": "/work/a/f.txt"})
    ok(r.get("success") is False and r.get("error") ==
       "remove /work/a/f.txt: no such file or directory", "/delete_file of a missing file", r)
    st, _, r = post(x, H, "/delete_file", {"path": "/work/a/b"})
    ok(r == {"success": True}, "/delete_file removes an empty directory", r)
    post(x, H, "/make_dir", {"path": "/work/a/c/d"})
    st, _, r = post(x, H, "/delete_dir", {"path": "/work/a"})
    ok(r == {"success": True}, "/delete_dir is recursive", r)
    st, _, r = post(x, H, "/delete_dir", {"path": "/work/a"})
    ok(r == {"success": True}, "/delete_dir of a missing path succeeds", r)
    st, _, r = post(x, H, "/list_dir", {"path": "/work"})
    ok(r == {}, "nothing is left", r)
    st, _, raw = x.request("POST", "/read_file", b"[]", H)
    ok(st == 400 and raw == b"Invalid request\n", "a body that is not an object is 400", raw)


def check_escape(x, H, md):
    marker = "/tmp/sbx-executor-escape-%d" % time.time_ns()
    st, _, r = post(x, H, "/write_file", {"path": "../../../.." + marker, "content": "x"})
    st2, _, r2 = post(x, H, "/run", {"cmd": "cat /" + marker.lstrip("/")})
    ok(r == {"success": True} and r2.get("stdout") == "x" and not host_exists(marker),
       "../../ stops at the sandbox's root", (r, r2))
    post(x, H, "/run", {"cmd": "ln -sf /etc /tmp/etclink; ln -sf " + marker + " /tmp/marklink"})
    st, _, r = post(x, H, "/read_file", {"path": "/tmp/etclink/hostname"})
    st2, _, r2 = post(x, H, "/run", {"cmd": "cat /etc/hostname"})
    ok(r.get("content") == r2.get("stdout"),
       "a link to /etc reads the sandbox's /etc", (r, r2))
    post(x, H, "/write_file", {"path": "/tmp/marklink", "content": "y"})
    ok(not host_exists(marker), "a write through a link never reaches the host", marker)
    st, _, r = post(x, H, "/read_file", {"path": "/etc/shadow"})
    ok("content" not in r, "no host /etc/shadow through read_file", r)
    st, _, r = post(x, H, "/delete_dir", {"path": "/tmp/etclink"})
    st2, _, r2 = post(x, H, "/run", {"cmd": "test -f /etc/hostname && echo kept"})
    ok(r2.get("stdout") == "kept\n", "delete_dir of a link does not follow it", (r, r2))


def host_exists(p):
    try:
        open(p).close()
        return True
    except OSError:
        return False


def check_processes(x, H, md):
    st, _, r = post(x, H, "/start_process",
                    {"cmd": "echo a; echo b >&2; sleep 0.3; echo c; exit 4", "cwd": "/tmp"})
    ok(st == 201 and r.get("status") == "running" and r.get("pid", 0) > 0 and len(r["id"]) == 36,
       "/start_process answers 201 with id and pid", (st, r))
    pid1 = r["id"]
    resp = x.request("GET", "/process_logs_streaming?id=" + pid1, None, H, stream=True)
    evs = list(sse_events(resp))
    logs = [(d["stream"], d["data"]) for e, d in evs if e == "log"]
    ok(("stdout", "a") in logs and ("stderr", "b") in logs and ("stdout", "c") in logs and
       all("T" in d["timestamp"] for e, d in evs if e == "log"),
       "the logs of a process, followed to its end", evs)
    ok(evs and evs[-1] == ("complete", {"message": "stream ended"}), "logs end with complete", evs)
    st, ctype, r = x.request("GET", "/list_processes", None, H)
    procs = json.loads(r)["processes"]
    mine = [p for p in procs if p["id"] == pid1]
    ok(mine and mine[0]["status"] == "failed" and "echo a" in mine[0]["command"],
       "/list_processes: an exit 4 is failed", procs)
    st, _, r = post(x, H, "/start_process", {"cmd": "echo go; exec sleep 300"})
    pid2 = r["id"]
    resp = x.request("GET", "/process_logs_streaming?id=" + pid2, None, H, stream=True)
    it = sse_events(resp)
    first = next(it)
    ok(first[0] == "log" and first[1]["data"] == "go", "a live process's logs stream", first)
    k = Http("http://%s:%d%s" % (x.host, x.port, x.prefix))
    st, _, raw = k.request("POST", "/kill_process", {"id": pid2}, H)
    ok(st == 200 and json.loads(raw).get("success") is True, "/kill_process", raw)
    rest_evs = list(it)
    ok(rest_evs and rest_evs[-1][0] == "complete", "the follower sees the end after a kill", rest_evs)
    st, _, raw = k.request("GET", "/list_processes", None, H)
    st2 = [p["status"] for p in json.loads(raw)["processes"] if p["id"] == pid2]
    ok(st2 == ["killed"], "a killed process is killed", st2)
    st, _, raw = k.request("POST", "/kill_process", {"id": pid2}, H)
    ok(st == 400 and json.loads(raw) == {"success": False,
                                          "error": "process is not running (status: killed)"},
       "/kill_process of an ended process is 400", raw)
    st, _, raw = k.request("POST", "/kill_process", {"id": "nope"}, H)
    ok(st == 400 and json.loads(raw)["error"] == "process not found: nope", "unknown id", raw)
    st, _, raw = k.request("GET", "/process_logs_streaming", None, H)
    ok(st == 400 and raw == b"Process ID is required\n", "logs without id is 400", raw)
    resp = k.request("GET", "/process_logs_streaming?id=nope", None, H, stream=True)
    evs = list(sse_events(resp))
    ok(resp.status == 200 and evs == [("error", {"error": "process not found: nope"})],
       "logs of an unknown process: an error event", evs)
    st, _, raw = k.request("GET", "/start_process", None, H)
    ok(st == 405, "GET /start_process is 405", st)
    k.close()


def check_ports(x, H, md):
    pp = md.get("proxy_ports") or []
    ok(len(pp) == 1 and pp[0].get("port") == 3031 and pp[0].get("public_port", 0) > 0,
       "metadata.proxy_ports names the proxy port", pp)
    host, port = pp[0]["host"], pp[0]["public_port"]
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(10)
    ok(s.recv(10) == b"", "with no binding a proxy connection is closed", None)
    s.close()
    st, _, r = post(x, H, "/start_process",
                    {"cmd": "python3 -c \"import socket\ns=socket.socket()\n"
                            "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                            "s.bind(('127.0.0.1',8080));s.listen()\nprint('up',flush=True)\n"
                            "while True:\n c,_=s.accept();d=c.recv(100);c.sendall(b'echo:'+d);c.close()\""})
    srv = r["id"]
    resp = x.request("GET", "/process_logs_streaming?id=" + srv, None, H, stream=True)
    up = next(sse_events(resp))
    ok(up[1].get("data") == "up", "a server runs in the sandbox", up)
    x.close()  # the follower's connection stays open; use a fresh one
    st, _, r = post(x, H, "/bind_port", {"port": ""})
    ok(st == 400 and r == "Port is required\n", "/bind_port without a port is 400", r)
    st, _, r = post(x, H, "/bind_port", {"port": "8080"})
    ok(st == 200 and r.get("success") is True and r.get("port") == "8080", "/bind_port", r)
    st, _, r = post(x, H, "/bind_port", {"port": "9090"})
    ok(st == 409 and r.get("error") == "Port already bound" and r.get("current_port") == "8080",
       "a second /bind_port is 409", r)
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"ping")
    got = b""
    while True:
        d = s.recv(100)
        if not d:
            break
        got += d
    s.close()
    ok(got == b"echo:ping", "the proxy port reaches the bound port inside the sandbox", got)
    st, _, r = post(x, H, "/unbind_port", {})
    ok(st == 200 and r.get("success") is True, "/unbind_port", r)
    s = socket.create_connection((host, port), timeout=10)
    ok(s.recv(10) == b"", "after unbinding the proxy closes connections", None)
    s.close()
    post(x, H, "/kill_process", {"id": srv})


def check_config(x, H, md):
    st, _, r = post(x, H, "/run", {"cmd": "cat /etc/sbx-test.conf; stat -c %a /etc/sbx-test.conf"})
    ok(r.get("stdout") == "hello config\n640\n", "config_files appear in the sandbox", r)


if __name__ == "__main__":
    main()
    sys.exit(1 if FAILS else 0)
