#!/usr/bin/env python3
"""tty_drive.py SBX SANDBOX - drives `sbx exec -it SANDBOX -- sh` through a
pseudo-terminal, as a person at a terminal would, and prints one line per
check: "ok NAME" or "not ok NAME: what was seen". Every wait is for an
expected output, bounded by a deadline (no fixed sleeps)."""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

SBX, BOX = sys.argv[1], sys.argv[2]
DEADLINE = 30.0


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.execv(SBX, [SBX, "-q", "exec", "-it", BOX, "--", "sh"])
set_size(fd, 24, 80)
buf = b""


def expect(token, name):
    """Reads until token shows (then drops what was read), or fails."""
    global buf
    end = time.time() + DEADLINE
    while token not in buf:
        left = end - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            print(f"not ok {name}: no {token!r} in {buf[-300:]!r}", flush=True)
            return False
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            print(f"not ok {name}: EOF, saw {buf[-300:]!r}", flush=True)
            return False
        buf += chunk
    buf = buf[buf.index(token) + len(token):]
    print(f"ok {name}", flush=True)
    return True


def send(s):
    os.write(fd, s.encode())


send("PS1='$ '; echo READY\n")
expect(b"READY\r\n", "a shell answers")
send("tty; echo T-DONE\n")
expect(b"/dev/pts/", "tty names a terminal device")
expect(b"T-DONE", "tty finished")
send("stty size\n")
expect(b"24 80", "the first size is the local one")
send("echo T=$TERM.\n")
expect(b"T=xterm-256color.", "TERM is ours")
set_size(fd, 33, 111)  # the kernel sends SIGWINCH to sbx
# the resize travels asynchronously: ask until the new size is seen
end = time.time() + DEADLINE
seen = False
while time.time() < end and not seen:
    send("stty size\n")
    t = time.time() + 1
    while time.time() < t and b"33 111" not in buf:
        if select.select([fd], [], [], 0.1)[0]:
            buf += os.read(fd, 65536)
    seen = b"33 111" in buf
print("ok a window resize reaches stty size" if seen else
      f"not ok a window resize reaches stty size: {buf[-300:]!r}", flush=True)
buf = b""
send("sleep 1000\n")
time.sleep(0.5)  # let sleep start; the check below waits for its effect
send("\x03")
send("echo rc-$?\n")
expect(b"rc-130", "Ctrl-C interrupts the foreground command (SIGINT)")
send("echo still-$((40+2))\n")
expect(b"still-42", "the shell survives Ctrl-C")
send("exit 7\n")
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print("ok the exit code comes back" if code == 7 else
      f"not ok the exit code comes back: {code}", flush=True)
