# defer_doomed.py MNT T DIR - used by t_defer.sh: creates MNT/in/DIR/f and
# writes it, opens MNT/in/witness, says "open" on T/ready, waits for a line
# on T/go (meanwhile the sandbox removes DIR), then closes f, writes "sync"
# to MNT/.ctl/ctl and closes the witness, printing how each ended.
import os
import sys

m, t, d = sys.argv[1:4]
f = os.open(m + "/in/" + d + "/f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(f, b"data\n")
w = os.open(m + "/in/witness", os.O_WRONLY | os.O_CREAT, 0o644)
with open(t + "/ready", "w") as r:
    r.write("open\n")
with open(t + "/go") as g:
    g.readline()


def step(name, fn):
    try:
        fn()
        print(name + ": ok")
    except OSError as e:
        print(name + ":", e.strerror)


def sync():
    c = os.open(m + "/.ctl/ctl", os.O_WRONLY)
    try:
        os.write(c, b"sync\n")
    finally:
        os.close(c)


step("close", lambda: os.close(f))
step("sync", sync)
step("witness", lambda: os.close(w))
