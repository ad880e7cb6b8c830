#!/usr/bin/env bash
# t_mount_access.sh - an sbxfs mount serves its owner (and root) only.
#
# A second local user, made by this test and removed on exit (also on
# failure), tries against mounts made by root: listing and reading files,
# writing one, running a command through .ctl/exec, reading the owner's
# jobs (cmd, output), allocating jobs (.ctl/new). Without allow_other all of
# it is refused; with allow_other the files follow their modes (the kernel
# checks them: default_permissions is forced) and /.ctl stays refused. The
# owner keeps working throughout. Then the bounds of the job table: the
# pending-job limit (EAGAIN past it) and the reaping of old ended jobs.
. "$(dirname "$0")/lib.sh"

M1=$T/priv
M2=$T/open
U=sbxt$$ # the second user
U_MADE=
on_exit() {
	local rc=$?
	for m in "$M1" "$M2"; do fusermount3 -u -z "$m" 2>/dev/null; done
	[ -n "$U_MADE" ] && userdel "$U" 2>/dev/null
	(exit $rc)
	cleanup
}
trap on_exit EXIT
tm() { timeout 60 "$@"; }

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	echo "# needs root, useradd and setpriv: skipped"
	finish
	exit
fi
# a system user: no home, no group of its own, no subordinate ids
useradd --system --no-create-home --no-user-group --gid nogroup --shell /usr/sbin/nologin "$U" ||
	{ echo "# useradd failed"; exit 1; }
U_MADE=1
U_UID=$(id -u "$U")
U_GID=$(id -g "$U")
# as_u CMD...: runs CMD as the second user, with no supplementary groups
as_u() { tm setpriv --reuid="$U_UID" --regid="$U_GID" --clear-groups -- "$@"; }
# refused DESC CMD...: CMD, run as the second user, must fail
refused() {
	local d=$1
	shift
	if as_u "$@" >"$T/u.out" 2>&1; then
		not_ok "$d: refused"
		sed 's/^/#   /' "$T/u.out" | head -5
	else
		ok "$d: refused ($(head -c 70 "$T/u.out" | tr '\n' ' '))"
	fi
}
chmod 711 "$T" # the second user must reach the mount points

start_sbxd
A=$(sbx create --name access-a --region eu)
rx() { timeout 60 "$BUILD/sbx" -q exec "$A" -- "$@"; }
rx sh -c 'mkdir -p /srv/d && echo public >/srv/d/pub.txt && chmod 644 /srv/d/pub.txt &&
	echo secret >/srv/d/secret.txt && chmod 600 /srv/d/secret.txt && chmod 755 /srv/d'
mkdir -p "$M1" "$M2"

# job_output DIR: runs a job through DIR/.ctl/exec as the owner, prints its output
job_output() { tm sh -c 'echo "echo owner-job-ran" >"$1/.ctl/exec" && cat "$1/.ctl/jobs/last/output"' _ "$1"; }
# jobs_in DIR: the number of jobs listed (as the owner)
jobs_in() { ls "$1/.ctl/jobs" | grep -c '^[0-9]'; }

# --- without allow_other: nothing for the second user ------------------------------------------
tm "$BUILD/sbxfs" "$A:/srv/d" "$M1"
check "mounted without allow_other" mountpoint -q "$M1"
expect_eq "owner: a job runs" owner-job-ran "$(job_output "$M1")"
N1=$(jobs_in "$M1")
refused "private: list the mount" ls "$M1"
refused "private: read a 0644 file" cat "$M1/pub.txt"
refused "private: write a file" sh -c 'echo x >"$1/new.txt"' _ "$M1"
refused "private: echo id > .ctl/exec" sh -c 'echo id >"$1/.ctl/exec"' _ "$M1"
refused "private: read jobs/1/cmd" cat "$M1/.ctl/jobs/1/cmd"
refused "private: read jobs/1/output" cat "$M1/.ctl/jobs/1/output"
refused "private: cat .ctl/new" cat "$M1/.ctl/new"
expect_eq "private: no job was made by the second user" "$N1" "$(jobs_in "$M1")"
check "private: no new.txt in the sandbox" bash -c '! "$1" -q exec "$2" -- test -e /srv/d/new.txt' \
	_ "$BUILD/sbx" "$A"
expect_eq "owner: still reads" public "$(tm cat "$M1/pub.txt")"
check "owner: still writes" tm sh -c 'echo mine >"$1/mine.txt"' _ "$M1"
expect_eq "owner: still runs jobs" owner-job-ran "$(job_output "$M1")"

# --- with allow_other: the files by their modes, /.ctl never -----------------------------------
tm "$BUILD/sbxfs" -o allow_other,ctl_visible "$A:/srv/d" "$M2"
check "mounted with allow_other" mountpoint -q "$M2"
check "default_permissions is forced on" \
	bash -c 'grep " $1 " /proc/self/mountinfo | grep -q default_permissions' _ "$M2"
expect_eq "owner: a job runs" owner-job-ran "$(job_output "$M2")"
N2=$(jobs_in "$M2")
as_u ls -a "$M2" >"$T/u.ls"
expect_eq "second user: lists the mount (a 0755 dir)" 0 $?
check "second user: does not see .ctl listed (ctl_visible)" bash -c '! grep -qx .ctl "$1"' _ "$T/u.ls"
check "the owner does" bash -c 'ls -a "$1" | grep -qx .ctl' _ "$M2"
as_u ls -a "$M2" >"$T/u2.ls"
check "second user: nor after the owner listed it (no shared kernel copy)" \
	bash -c '! grep -qx .ctl "$1"' _ "$T/u2.ls"
expect_eq "second user: reads a 0644 file" public "$(as_u cat "$M2/pub.txt")"
refused "open: read a 0600 file of root" cat "$M2/secret.txt"
# an ACL counts on the host as in the sandbox: the kernel takes ACLs into
# its checks (FUSE_CAP_POSIX_ACL), not the mode bits alone. The owner sets
# u::rw,u:$U_UID:r,g::-,m::r,o::- through the mount.
rx sh -c 'echo acl >/srv/d/acl.txt && chmod 600 /srv/d/acl.txt'
python3 - "$M2/acl.txt" "$U_UID" <<'EOF'
import os, struct, sys
e = lambda tag, perm, i=0xffffffff: struct.pack('<HHI', tag, perm, i)
v = struct.pack('<I', 2) + e(1, 6) + e(2, 4, int(sys.argv[2])) + e(4, 0) + e(0x10, 4) + e(0x20, 0)
os.setxattr(sys.argv[1], 'system.posix_acl_access', v)
EOF
expect_eq "owner: sets an ACL (the sandbox's mode shows its mask)" 640 "$(rx stat -c %a /srv/d/acl.txt)"
expect_eq "second user: reads a 0600 file whose ACL gives it read" acl "$(as_u cat "$M2/acl.txt")"
refused "open: write it (the ACL gives read only)" sh -c 'echo x >>"$1/acl.txt"' _ "$M2"
refused "open: write a file in a 0755 dir of root" sh -c 'echo x >"$1/new.txt"' _ "$M2"
refused "open: append to a 0644 file of root" sh -c 'echo x >>"$1/pub.txt"' _ "$M2"
refused "open: list .ctl" ls "$M2/.ctl"
refused "open: echo id > .ctl/exec" sh -c 'echo id >"$1/.ctl/exec"' _ "$M2"
refused "open: read jobs/1/cmd" cat "$M2/.ctl/jobs/1/cmd"
refused "open: read jobs/1/output" cat "$M2/.ctl/jobs/1/output"
refused "open: read jobs/last/output" cat "$M2/.ctl/jobs/last/output"
refused "open: cat .ctl/new" cat "$M2/.ctl/new"
refused "open: read .ctl/status" cat "$M2/.ctl/status"
refused "open: write .ctl/ctl" sh -c 'echo drop-caches >"$1/.ctl/ctl"' _ "$M2"
expect_eq "open: no job was made by the second user" "$N2" "$(jobs_in "$M2")"
expect_eq "secret.txt is unchanged, pub.txt too" "secret public" \
	"$(rx cat /srv/d/secret.txt /srv/d/pub.txt | tr '\n' ' ' | sed 's/ $//')"
check "open: /.ctl files have no group or other bits" \
	bash -c '[ -z "$(find "$1/.ctl" "$1/.ctl/jobs/1" -perm /077 ! -type l)" ]' _ "$M2"
check "stats count the refused requests" \
	bash -c 'awk "/^refused /{exit !(\$2 > 0)}" "$1/.ctl/stats"' _ "$M2"
expect_eq "owner: still reads" public "$(tm cat "$M2/pub.txt")"
check "owner (root): still writes" tm sh -c 'echo mine2 >"$1/mine2.txt"' _ "$M2"
expect_eq "owner: still runs jobs" owner-job-ran "$(job_output "$M2")"

# --- allow_other: the kernel checks every create against its directory's
# attributes, which the mount keeps true without asking for them per file:
# stores behind closes and new attributes of files leave them to the
# directory's change report
rstat() { sed -n 's/^rfs\.stat requests=\([0-9]*\).*/\1/p' "$M2/.ctl/stats"; }
# listings asked for, but the one sent behind each mkdir (new_checked=)
rlist() {
	echo $(($(sed -n 's/^rfs\.readdir requests=\([0-9]*\).*/\1/p' "$M2/.ctl/stats") -
		$(sed -n 's/^cache\.dir .* new_checked=\([0-9]*\).*/\1/p' "$M2/.ctl/stats")))
}
for d in a b c; do
	mkdir -p "$T/tree/t/$d"
	for i in $(seq 1 20); do echo "$d$i" >"$T/tree/t/$d/f$i"; done
done
tar -C "$T/tree" -cf "$T/tree.tar" t
s0=$(rstat) l0=$(rlist)
tm tar -C "$M2" -xf "$T/tree.tar" && echo sync >"$M2/.ctl/ctl"
expect_eq "allow_other: tar x of 60 files in 4 directories" 0 $?
s1=$(rstat) l1=$(rlist)
echo "# tar x: $((s1 - s0)) stats, $((l1 - l0)) listings"
# the change report of a directory we made may be handled before the
# reply to our mkdir: it must not make the kernel forget the new
# directory, whose next lookup would list it again
expect_eq "  ... lists no directory it made" 0 $((l1 - l0))
# one per mkdir, and some when a change report overtakes the reply of our
# own change; 19 to 29 before (every store and every chmod, chown, touch)
check "  ... asks for at most 12 attributes ($((s1 - s0)))" test $((s1 - s0)) -le 12
dtimes() { stat -c '%y %z %h' "$M2/t/$1"; }
for _ in $(seq 1 250); do
	[ "$(dtimes c)" = "$(rx stat -c '%y %z %h' /srv/d/t/c)" ] && break
	sleep 0.02
done
for d in a b c; do
	expect_eq "  ... t/$d: times and link count as in the sandbox" \
		"$(rx stat -c '%y %z %h' /srv/d/t/$d)" "$(dtimes $d)"
done
expect_eq "  ... the files' bytes as in the sandbox" "$(cat "$T"/tree/t/*/f* | md5sum)" \
	"$(rx sh -c 'cat /srv/d/t/*/f*' | md5sum)"
tm chmod 600 "$M2/t/a/f1" && tm touch -d @1000000000 "$M2/t/a/f2"
expect_eq "a chmod and a touch of files" 0 $?
expect_eq "  ... the second user sees them" "600 1000000000" \
	"$(as_u stat -c %a "$M2/t/a/f1") $(as_u stat -c %Y "$M2/t/a/f2")"
expect_eq "  ... as the sandbox has them" "600 1000000000" \
	"$(rx stat -c %a /srv/d/t/a/f1) $(rx stat -c %Y /srv/d/t/a/f2)"
tm fusermount3 -u "$M2"

# --- the job table: pending jobs per user, old ended jobs reaped ----------------------------------
C=$M1/.ctl
for i in $(seq 1 64); do tm cat "$C/new" >>"$T/pending" || break; done
expect_eq "64 pending jobs can be made" 64 "$(wc -l <"$T/pending")"
tm cat "$C/new" >/dev/null 2>"$T/err"
check "the 65th fails" test $? -ne 0
check "with EAGAIN ($(cat "$T/err"))" grep -q "Resource temporarily unavailable" "$T/err"
expect_eq "a command through .ctl/exec still runs" owner-job-ran "$(job_output "$M1")"
echo kill >"$C/jobs/$(head -1 "$T/pending")/ctl"
check "a killed pending job frees a place" bash -c 'timeout 60 cat "$1/new" >/dev/null' _ "$C"
tm sh -c 'while read n; do echo kill >"$1/jobs/$n/ctl"; done <"$2" 2>/dev/null' _ "$C" "$T/pending"
python3 - "$C/exec" >"$T/long.out" 2>&1 <<'EOF' &
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b"echo long-job-started; sleep 600")
while os.read(fd, 4096):
    pass
EOF
LONG_READER=$!
for i in $(seq 1 200); do grep -q long-job-started "$T/long.out" && break; sleep 0.05; done
LONG=$(readlink "$C/jobs/last")
expect_eq "a long job runs" running "$(cat "$C/jobs/$LONG/status")"
FIRST=$(ls "$C/jobs" | grep '^[0-9]' | sort -n | head -1)
# 1100 more jobs, each ended at once (killed while pending): all local
tm bash -c 'for i in $(seq 1 1100); do n=$(cat "$1/new") && echo kill >"$1/jobs/$n/ctl" || exit 1; done' \
	_ "$C"
expect_eq "1100 jobs made and ended" 0 $?
check "at most 1000 jobs are kept" test "$(jobs_in "$M1")" -le 1000
check "the oldest ended ones were reaped (jobs/$FIRST)" test ! -e "$C/jobs/$FIRST"
expect_eq "the running job was not" running "$(cat "$C/jobs/$LONG/status")"
expect_eq "jobs/last is the newest" "$(ls "$C/jobs" | grep '^[0-9]' | sort -n | tail -1)" \
	"$(readlink "$C/jobs/last")"
echo kill >"$C/jobs/$LONG/ctl"
wait $LONG_READER
expect_eq "the long job ends when killed" 137 "$(cat "$C/jobs/$LONG/exit")"
tm fusermount3 -u "$M1"
finish
