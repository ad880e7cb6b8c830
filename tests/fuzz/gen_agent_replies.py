#!/usr/bin/env python3
"""gen_agent_replies.py - writes the seed corpus of fuzz_agent_replies
(tests/fuzz/corpus/agent_replies/): valid replies and events of every kind
the client parses, and the inputs that found its bugs (crash_*).

Input layout (fuzz_agent_replies.c): u8 nreq-1, u8 pieces, then per
request u8 kind, u8 a, u8 b; then the agent's stdout. Requests get ids
1, 2, ... in that order. Run it from anywhere; it rewrites the corpus.
"""
import os
import struct

STAT, READDIR, READDIR_DATA, TREE, READLINK, STATFS, FETCH, RANGE, PWRITE, HELLO, WATCH, JOB, \
    STDIN = range(13)
REPLY, MORE = 0x8000, 1
OP = dict(HELLO=1, LSTAT=2, READDIR=3, READLINK=4, STATFS=13, PWRITE=17, READ=21,
          JOB_START=32, JOB_STDIN=33, WATCH=40)
EV_STDOUT, EV_STDERR, EV_EXIT, EV_CHANGE = 0x4001, 0x4002, 0x4003, 0x4010
S_IFREG, S_IFDIR, S_IFLNK = 0o100000, 0o040000, 0o120000
REC_DIR, REC_ENTRY, REC_END = 1, 2, 3


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def i32(v):
    return struct.pack('<i', v)


def u64(v):
    return struct.pack('<Q', v)


def s(b):
    b = b.encode() if isinstance(b, str) else b
    return u32(len(b)) + b


def attr(mode=S_IFREG | 0o644, size=0, ino=1):
    t = u64(1700000000) + u32(5)
    return u32(mode) + u32(1) + u32(0) + u32(0) + u64(size) + u64(8) + u64(ino) + u64(2049) + \
        u64(0) + t + t + t


def frame(fid, ftype, payload, flags=0):
    return u32(8 + len(payload)) + u32(fid) + struct.pack('<HH', ftype, flags) + payload


def reply(fid, op, data=b'', status=0, flags=0):
    return frame(fid, REPLY | OP[op], i32(status) + data, flags)


def entry(name, mode=S_IFREG | 0o644, size=0, link='', data=None, with_data=False):
    e = s(name) + attr(mode, size) + s(link)
    if with_data:
        e += u32(0) if data is None else u32(1) + s(data)
    return e


def inp(reqs, stream, pieces=0):
    head = bytes([len(reqs) - 1, pieces])
    for k, a, b in reqs:
        head += bytes([k, a, b])
    return head + stream


def seeds():
    out = {}
    out['stat'] = inp([(STAT, 0, 0)], reply(1, 'LSTAT', attr()))
    out['stat_error'] = inp([(STAT, 0, 0)], reply(1, 'LSTAT', status=-2), pieces=1)
    d1 = attr(S_IFDIR | 0o755) + entry('a', size=3) + entry('l', S_IFLNK | 0o777, 1, 'a')
    d2 = entry('sub', S_IFDIR | 0o755)
    out['readdir'] = inp([(READDIR, 0, 0)],
                         reply(1, 'READDIR', d1, flags=MORE) + reply(1, 'READDIR', d2), pieces=2)
    out['readdir_data'] = inp([(READDIR_DATA, 10, 10)], reply(
        1, 'READDIR', attr(S_IFDIR | 0o755) + entry('f', size=5, data='hello', with_data=True) +
        entry('g', size=900, with_data=True)))
    tree = (u32(REC_DIR) + s('') + attr(S_IFDIR | 0o755) + u32(1) +
            u32(REC_ENTRY) + entry('sub', S_IFDIR | 0o755) + u32(REC_ENTRY) + entry('f', size=2) +
            u32(REC_END))
    tree2 = (u32(REC_DIR) + s('sub') + attr(S_IFDIR | 0o755) + u32(2) +
             u32(REC_ENTRY) + entry('x', size=1) + u32(REC_END))
    out['tree'] = inp([(TREE, 0, 10)], reply(1, 'READDIR', tree, flags=MORE) +
                      reply(1, 'READDIR', tree2), pieces=2)
    treed = (u32(REC_DIR) + s('') + attr(S_IFDIR | 0o755) + u32(0) +
             u32(REC_ENTRY) + entry('f', size=2, data='hi', with_data=True) + u32(REC_END))
    out['tree_root'] = inp([(TREE, 1, 10)], reply(1, 'READDIR', tree + tree2))
    out['tree_data'] = inp([(TREE, 1 | 2 | 8, 10)], reply(1, 'READDIR', treed))
    out['tree_cut'] = inp([(TREE, 1, 1)], reply(1, 'READDIR', tree[:-4]))
    out['readlink'] = inp([(READLINK, 0, 0)], reply(1, 'READLINK', s('../target')))
    out['statfs'] = inp([(STATFS, 0, 0)], reply(1, 'STATFS', b''.join(u64(i) for i in range(11))))
    out['fetch'] = inp([(FETCH, 0, 0)], reply(1, 'READ', attr(size=5) + u32(0) + b'hel', flags=MORE) +
                       reply(1, 'READ', b'lo'), pieces=1)
    out['fetch_unchanged'] = inp([(FETCH, 0, 0)], reply(1, 'READ', attr(size=5) + u32(1)))
    out['range'] = inp([(RANGE, 3, 4)], reply(1, 'READ', attr(size=9) + u32(0) + b'abcd'))
    out['pwrite'] = inp([(PWRITE, 7, 0)], reply(1, 'PWRITE', u32(7)))
    out['hello'] = inp([(HELLO, 0, 0)], reply(1, 'HELLO', u32(0x41584253) + u32(1) + u32(1 << 20) +
                                              u32(42) + u32(0) + u32(0) + s('x86_64')))
    change = u32(5) + u32(0x04) + s('a') + u32(1) + attr()
    out['watch_events'] = inp([(WATCH, 1, 0)], reply(1, 'WATCH', u32(5)) +
                              frame(0, EV_CHANGE, change) +
                              frame(0, EV_CHANGE, u32(5) + u32(0x10) + s('') + u32(0)) +
                              frame(0, EV_CHANGE, u32(0) + u32(0x20) + s('') + u32(0)))
    out['job'] = inp([(JOB, 0, 0), (STDIN, 0, 0)],
                     reply(1, 'JOB_START', u32(77), flags=MORE) + reply(2, 'JOB_STDIN', u32(1)) +
                     frame(1, EV_STDOUT, b'hi\n', MORE) + frame(1, EV_STDERR, b'e', MORE) +
                     frame(1, EV_EXIT, i32(0) + u32(1) + i32(3)), pieces=2)
    out['job_signal'] = inp([(JOB, 0, 0)], reply(1, 'JOB_START', u32(77), flags=MORE) +
                            frame(1, EV_EXIT, i32(0) + u32(2) + i32(9)))
    out['mixed'] = inp([(STAT, 0, 0), (READDIR, 0, 0), (TREE, 0, 10), (READLINK, 0, 0),
                        (FETCH, 0, 0), (WATCH, 2, 0), (JOB, 0, 0), (HELLO, 0, 0)],
                       reply(4, 'READLINK', s('t')) + reply(7, 'JOB_START', u32(1), flags=MORE) +
                       reply(2, 'READDIR', d1) + reply(1, 'LSTAT', status=-13) +
                       frame(7, EV_STDOUT, b'x', MORE) + reply(6, 'WATCH', u32(9)) +
                       reply(3, 'READDIR', tree, flags=MORE) +
                       frame(0, EV_CHANGE, u32(9) + u32(1) + s('b') + u32(0)) +
                       reply(3, 'READDIR', tree2) + reply(5, 'READ', attr(size=1) + u32(0) + b'z') +
                       frame(7, EV_EXIT, i32(0) + u32(1) + i32(0)), pieces=2)
    # the inputs of the bugs found (each aborted before its fix)
    job_start = reply(1, 'JOB_START', u32(77), flags=MORE)
    out['crash_job_exit_more'] = inp([(JOB, 0, 0)], job_start + frame(
        1, EV_EXIT, i32(0) + u32(1) + i32(0), MORE) + frame(1, EV_STDOUT, b'late', MORE) +
        frame(1, EV_STDOUT, b'end'))
    out['crash_job_no_exit'] = inp([(JOB, 0, 0)], job_start + frame(1, EV_STDOUT, b'x'))
    out['crash_job_exit_signal'] = inp([(JOB, 0, 0)], job_start +
                                       frame(1, EV_EXIT, i32(0) + u32(2) + i32(0x7fffffff)))
    out['crash_dir_dotdot'] = inp([(READDIR, 0, 0)], reply(
        1, 'READDIR', attr(S_IFDIR | 0o755) + entry('..', S_IFDIR | 0o755)))
    out['crash_dir_data_bound'] = inp([(READDIR_DATA, 0, 0)], reply(
        1, 'READDIR', attr(S_IFDIR | 0o755) + entry('f', size=5, data='hello', with_data=True)))
    out['crash_tree_escape'] = inp([(TREE, 0, 10)], reply(1, 'READDIR', tree + (
        u32(REC_DIR) + s('../etc') + attr(S_IFDIR | 0o755) + u32(0) + u32(REC_END))))
    out['crash_tree_entries'] = inp([(TREE, 0, 1)], reply(1, 'READDIR', tree))
    out['crash_tree_unannounced'] = inp([(TREE, 0, 0)], reply(1, 'READDIR', (
        u32(REC_DIR) + s('') + attr(S_IFDIR | 0o755) + u32(0) + u32(REC_END) +
        u32(REC_DIR) + s('x') + attr(S_IFDIR | 0o755) + u32(0) + u32(REC_END))))
    out['crash_readlink_two_frames'] = inp([(READLINK, 0, 0)], reply(
        1, 'READLINK', s('a'), flags=MORE) + reply(1, 'READLINK', s('b')))
    out['crash_range_over'] = inp([(RANGE, 0, 2)], reply(1, 'READ', attr(size=9) + u32(0) + b'abcd'))
    out['crash_fetch_unchanged_bytes'] = inp([(FETCH, 0, 0)], reply(
        1, 'READ', attr(size=9) + u32(1) + b'abcd'))
    out['crash_status_range'] = inp([(STAT, 0, 0)], reply(1, 'LSTAT', status=-600))
    out['crash_event_dotdot'] = inp([(WATCH, 1, 0)], reply(1, 'WATCH', u32(5)) + frame(
        0, EV_CHANGE, u32(5) + u32(0x04) + s('..') + u32(1) + attr(S_IFDIR | 0o755)))
    return out


def main():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'agent_replies')
    os.makedirs(d, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
