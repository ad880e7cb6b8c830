#!/usr/bin/env python3
"""agent_client.py CMD... - a minimal client of sbx-agent (docs/agent-protocol.md)
for the end-to-end tests: starts CMD (which runs the agent, e.g. through
`sbx exec`), runs a fixed scenario in the directory given by $AGENT_DIR
and prints one "name=value" line per result for the calling script to
compare. Exits 1 if the stream itself breaks (a frame it cannot read)."""
import os
import struct
import subprocess
import sys

MAGIC, SELF = 0x41584253, 0xFFFFFFFF
OP = dict(HELLO=1, LSTAT=2, MKDIR=5, MKNOD=6, RENAME=9, SETATTR=12, TMPFILE=15, PWRITE=17,
          COMMIT=19, SETXATTR=23, JOB_START=32, WATCH=40)
EV_STDOUT, EV_EXIT, EV_CHANGE = 0x4001, 0x4003, 0x4010
MORE = 1


def s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack('<I', len(b)) + b


def cred(uid=SELF):
    return struct.pack('<III', uid, uid, 0) if uid != SELF else struct.pack('<III', SELF, 0, 0)


class Agent:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next = 1
        self.pending = []  # frames read while waiting for another id

    def send(self, op, payload, uid=SELF):
        i = self.next
        self.next += 1
        body = payload if op == OP['HELLO'] else cred(uid) + payload
        self.p.stdin.write(struct.pack('<IIHH', len(body) + 8, i, op, 0) + body)
        self.p.stdin.flush()
        return i

    def read_frame(self):
        h = self.p.stdout.read(12)
        if len(h) != 12:
            sys.exit('agent_client: the agent closed its stdout')
        n, i, t, f = struct.unpack('<IIHH', h)
        data = self.p.stdout.read(n - 8)
        return i, t, f, data

    def frame_for(self, want, types=None):
        for k, fr in enumerate(self.pending):
            if fr[0] == want and (types is None or fr[1] in types):
                return self.pending.pop(k)
        while True:
            fr = self.read_frame()
            if fr[0] == want and (types is None or fr[1] in types):
                return fr
            self.pending.append(fr)

    def call(self, op, payload, uid=SELF):
        i, t, f, d = self.frame_for(self.send(op, payload, uid))
        return struct.unpack('<i', d[:4])[0], d[4:]


def attr(d):
    mode, nlink, uid, gid, size, blocks = struct.unpack('<IIIIQQ', d[:32])
    return dict(mode=mode, uid=uid, size=size, blocks=blocks)


def main():
    top = os.environ.get('AGENT_DIR', '/tmp/agent-e2e')
    a = Agent(sys.argv[1:])
    st, d = a.call(OP['HELLO'], struct.pack('<II', MAGIC, 1))
    print('hello=%d' % st)
    st, _ = a.call(OP['MKDIR'], s(top) + struct.pack('<I', 0o777))
    print('mkdir=%d' % st)
    st, d = a.call(OP['MKNOD'], s(top + '/n') + struct.pack('<IQI', 0o100644, 0, 1), uid=65534)
    print('owner=%s' % (attr(d)['uid'] if st == 0 else st))
    st, d = a.call(OP['MKNOD'], s(top + '/sock') + struct.pack('<IQI', 0o140600, 0, 0))
    print('sock=%s' % ((attr(d)['mode'] >> 12) if st == 0 else st))
    st, d = a.call(OP['MKNOD'], s(top + '/fifo') + struct.pack('<IQI', 0o010600, 0, 0))
    print('fifo=%s' % ((attr(d)['mode'] >> 12) if st == 0 else st))
    a.call(OP['MKNOD'], s(top + '/big') + struct.pack('<IQI', 0o100644, 0, 0))
    t0 = struct.pack('<qI', 0, 0)
    st, d = a.call(OP['SETATTR'], s(top + '/big') + struct.pack('<IIIIQ', 8, 0, 0, 0, 1 << 30)
                   + t0 + t0)
    print('sparse=%s' % ('%d' % (attr(d)['blocks'] < 64) if st == 0 else st))
    st, _ = a.call(OP['TMPFILE'], struct.pack('<I', 4) + s(top + '/c') + struct.pack('<I', 0o600))
    a.call(OP['PWRITE'], struct.pack('<IQ', 4, 0) + b'new bytes')
    st, d = a.call(OP['COMMIT'], struct.pack('<I', 4) + s(top + '/c') + struct.pack('<Q', 9)
                   + struct.pack('<IIIIQ', 1, 0o640, 0, 0, 0) + t0 + t0)
    print('commit=%s' % ('%d:%o' % (attr(d)['size'], attr(d)['mode'] & 0o777) if st == 0 else st))
    st, _ = a.call(OP['RENAME'], s(top + '/n') + s(top + '/c') + struct.pack('<I', 1))
    print('noreplace=%d' % st)
    st, _ = a.call(OP['SETXATTR'], s(top + '/c') + s('user.k') + s('v') + struct.pack('<I', 0))
    print('xattr=%d' % st)
    # a job as uid 65534
    job = a.send(OP['JOB_START'], struct.pack('<I', 2) + s('id') + s('-u') + struct.pack('<I', 1)
                 + s('PATH=/usr/bin:/bin') + s(top) + struct.pack('<I', 0), uid=65534)
    out = b''
    while True:
        i, t, f, d = a.frame_for(job)
        if t == EV_STDOUT:
            out += d
        elif t == EV_EXIT:
            break
        elif struct.unpack('<i', d[:4])[0] != 0:
            out = b'start failed %d' % struct.unpack('<i', d[:4])[0]
            break
    print('job=%s' % out.decode().strip())
    # a change event after a create
    st, d = a.call(OP['WATCH'], s(top))
    a.call(OP['MKNOD'], s(top + '/w') + struct.pack('<IQI', 0o100644, 0, 0))
    i, t, f, d = a.frame_for(0, (EV_CHANGE,))
    wd, mask, n = struct.unpack('<III', d[:12])
    print('change=%s:%d' % (d[12:12 + n].decode(), mask & 4))
    # then the directory's own attributes (its mtime moved): empty name
    i, t, f, d = a.frame_for(0, (EV_CHANGE,))
    wd, mask, n = struct.unpack('<III', d[:12])
    has = struct.unpack('<I', d[12 + n:16 + n])[0]
    print('dirattr=%d:%d:%d' % (n, mask, has))
    a.p.stdin.close()
    rest = a.p.stdout.read()
    print('exit=%d' % a.p.wait())
    print('trailing=%d' % len(rest))


if __name__ == '__main__':
    main()
