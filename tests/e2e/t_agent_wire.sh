#!/usr/bin/env bash
# t_agent_wire.sh - sbx-agent inside a real sandbox of sbxd: uploaded through
# `sbx exec`, it runs as a static binary in the image, and its system calls
# pass the sandbox's seccomp filter, user namespace and capability set
# (credentials per request, sockets and FIFOs, a sparse truncate, O_TMPFILE
# on the overlay, xattrs, a job under another uid, inotify).
. "$(dirname "$0")/lib.sh"
start_sbxd

A=$(sbx create --name agent)
check "the sandbox is up" test -n "$A"
sbx exec "$A" -- sh -c 'cat > /tmp/sbx-agent && chmod 755 /tmp/sbx-agent' <"$BUILD/sbx-agent"
expect_eq "the agent runs in the image" "sbx-agent" \
	"$(sbx exec "$A" -n -- /tmp/sbx-agent --version | cut -d' ' -f1)"

AGENT_DIR=/tmp/agent-e2e python3 "$SRC/tests/e2e/agent_client.py" \
	"$BUILD/sbx" -q exec "$A" -- /tmp/sbx-agent >"$T/res" 2>"$T/err"
check "the client read every frame" test $? -eq 0
sed 's/^/# /' "$T/err"
res() { sed -n "s/^$1=//p" "$T/res"; }
expect_eq "HELLO" 0 "$(res hello)"
expect_eq "MKDIR" 0 "$(res mkdir)"
expect_eq "a file made with cred uid 65534 is owned by 65534" 65534 "$(res owner)"
expect_eq "a socket node (S_IFSOCK)" 12 "$(res sock)"
expect_eq "a FIFO" 1 "$(res fifo)"
expect_eq "a 1 GiB truncate stays sparse" 1 "$(res sparse)"
expect_eq "TMPFILE + COMMIT with a mode" "9:640" "$(res commit)"
expect_eq "RENAME_NOREPLACE over a file" -17 "$(res noreplace)"
expect_eq "a user xattr" 0 "$(res xattr)"
expect_eq "a job under cred 65534" 65534 "$(res job)"
expect_eq "an inotify CREATE event" "w:4" "$(res change)"
expect_eq "then the directory's own attributes" "0:1:1" "$(res dirattr)"
expect_eq "the agent ends at stdin's end" 0 "$(res exit)"
expect_eq "nothing after the last answer" 0 "$(res trailing)"
expect_eq "owner seen from a plain exec" 65534 \
	"$(sbx exec "$A" -n -- stat -c %u /tmp/agent-e2e/n)"
expect_eq "no temporary left" "" "$(sbx exec "$A" -n -- sh -c 'ls -a /tmp/agent-e2e | grep sbx~')"
sbx rm "$A"
finish
