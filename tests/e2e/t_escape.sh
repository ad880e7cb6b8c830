#!/usr/bin/env bash
# t_escape.sh - the attacks of a root user inside a sandbox, tried from
# inside a real sandbox, each followed by a look at the host: sysctls,
# planted helper binaries, mounts, new namespaces, the host's processes,
# secrets and loopback services, the kernel's dangerous system calls, and
# bounded floods of processes and memory.
#
# Host state this test could change if an attack got through (sysctls, the
# loopback's addresses) is read first and put back on exit, whatever
# happens; the check that it is unchanged comes before that.
. "$(dirname "$0")/lib.sh"

# --- the host values an escape would change; restored on exit ------------
SYSCTLS=(kernel/core_pattern kernel/panic kernel/pid_max kernel/hostname
	net/ipv4/ip_forward net/ipv4/ip_local_port_range vm/overcommit_memory)
declare -A SAVED
for k in "${SYSCTLS[@]}"; do
	SAVED[$k]=$(cat "/proc/sys/$k")
done
LO_BEFORE=$(ip -o addr show dev lo | awk '{print $4}' | sort | tr '\n' ' ')
MOUNTS_BEFORE=$(wc -l </proc/1/mountinfo)
HOST_PIDS=()
restore_host() {
	local k
	for k in "${SYSCTLS[@]}"; do
		[ "$(cat "/proc/sys/$k")" == "${SAVED[$k]}" ] || printf '%s' "${SAVED[$k]}" >"/proc/sys/$k"
	done
	ip addr del 10.211.0.1/32 dev lo 2>/dev/null
	[ ${#HOST_PIDS[@]} -eq 0 ] || kill "${HOST_PIDS[@]}" 2>/dev/null
}
trap 'restore_host; cleanup' EXIT

# sbxd is started holding descriptors it did not open (a shell's, a
# supervisor's): one to a host file, one to a host directory. No sandbox
# process may inherit them (an fd of a host directory is a way out).
echo "HOST-SECRET-$$" >"$T/inherited"
mkdir -p "$T/inherited-dir"
start_sbxd 7<"$T/inherited" 8<"$T/inherited-dir"
ID=$(sbx create --name escape)
check "a sandbox to attack" test -n "$ID"
in_sb() { sbx exec "$ID" -n -- "$@"; }

leaked=$(in_sb sh -c 'for f in /proc/[0-9]*/fd/*; do
	t=$(readlink "$f" 2>/dev/null) || continue
	case "$t" in *inherited*) echo "$f -> $t";; esac
	[ -f "$f" ] && grep -l "HOST-SECRET" "$f" 2>/dev/null; done; true')
expect_eq "no sandbox process holds a descriptor sbxd inherited" "" "$leaked"

# --- 1. /proc/sys and friends ---------------------------------------------
in_sb sh -c 'echo "|/bin/true %p" > /proc/sys/kernel/core_pattern' 2>/dev/null
check "core_pattern cannot be written from a sandbox" test $? -ne 0
# every writable-looking sysctl, written with its own current value: no
# change even if one got through, and each must fail
in_sb sh -c 'n=0; ok=0
	for f in $(find /proc/sys -type f -perm -200 2>/dev/null); do
		v=$(cat "$f" 2>/dev/null) || continue
		n=$((n + 1))
		if printf "%s\n" "$v" 2>/dev/null >"$f"; then ok=$((ok + 1)); echo "$f" >&2; fi
	done
	echo "$n $ok"' >"$T/sysctl" 2>"$T/sysctl.err"
read -r tried written <"$T/sysctl"
check "many sysctls tried ($tried)" test "${tried:-0}" -gt 100
expect_eq "no sysctl accepted a write" 0 "${written:-x}"
[ -s "$T/sysctl.err" ] && sed 's/^/#   written: /' "$T/sysctl.err" | head
in_sb sh -c 'echo h > /proc/sysrq-trigger' 2>/dev/null
check "sysrq-trigger cannot be written" test $? -ne 0
in_sb sh -c 'echo 1 > /sys/kernel/mm/ksm/run' 2>/dev/null
check "/sys cannot be written" test $? -ne 0
in_sb head -c 16 /proc/kcore >/dev/null 2>&1
check "/proc/kcore cannot be read" test $? -ne 0
in_sb sh -c 'test ! -s /proc/timer_list && test ! -s /proc/sched_debug'
check "/proc/timer_list and sched_debug show nothing of the host" test $? -eq 0

# --- 2. planted helpers in every PATH directory ----------------------------
# Each planted program records the privileges it ran with and tries what a
# privileged one could do: mount, and add an address to the loopback.
in_sb sh -c '
	for d in $(echo "$PATH" | tr : " "); do
		mkdir -p "$d" 2>/dev/null || continue
		for n in setpriv nsenter sh true cat; do
			[ -e "$d/$n" ] && [ ! -w "$d/$n" ] && continue
			cat 2>/dev/null >"$d/$n.planted" <<EOF || continue
#!/bin/dash
{ echo "ran $d/$n"; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status
  /bin/mount -t tmpfs none /mnt 2>&1 && echo MOUNTED
  /usr/sbin/ip addr add 10.211.0.1/32 dev lo 2>&1 && echo ADDR_ADDED
} >> /tmp/planted.log 2>&1
EOF
			chmod 755 "$d/$n.planted" && echo "$d/$n"
		done
	done' >"$T/plantable"
# move them into place only now: the planting itself needed the real sh and cat
if [ -s "$T/plantable" ]; then
	sbx exec "$ID" -- /bin/dash -c 'while read -r p; do /bin/mv -f "$p.planted" "$p"; done' \
		<"$T/plantable"
fi
echo "# planted in: $(tr '\n' ' ' <"$T/plantable")"
sbx exec "$ID" -n -- true
sbx exec "$ID" -n -- /bin/true
M=$T/mnt
mkdir -p "$M"
"$BUILD/sbx" -q mount "$ID" "$M" && {
	ls "$M/root" >/dev/null 2>&1
	echo data >"$M/root/x" 2>/dev/null
	cat "$M/root/x" >/dev/null 2>&1
	"$BUILD/sbx" -q umount "$M"
}
in_sb /bin/dash -c '/bin/cat /tmp/planted.log 2>/dev/null' >"$T/planted.log"
if [ -s "$T/plantable" ]; then
	check "a planted program ran (the attack was tried)" grep -q '^ran ' "$T/planted.log"
fi
check "no planted program got a capability beyond the kept set" \
	bash -c '! grep -E "^CapBnd:" "$1" | grep -vq "00000000a80405fb"' _ "$T/planted.log"
check "every planted program ran with no_new_privs and seccomp" \
	bash -c '! grep -E "^(NoNewPrivs|Seccomp):" "$1" | grep -Evq "NoNewPrivs:\s+1|Seccomp:\s+2"' \
	_ "$T/planted.log"
check "no planted program could mount" bash -c '! grep -q MOUNTED "$1"' _ "$T/planted.log"
check "no planted program could touch a network" bash -c '! grep -q ADDR_ADDED "$1"' _ "$T/planted.log"
# take them out again so the rest runs the real tools
sbx exec "$ID" -- /bin/dash -c 'while read -r p; do /bin/rm -f "$p"; done' <"$T/plantable"

# --- 3. mounts, namespaces and the kernel's dangerous system calls ---------
in_sb mount -t tmpfs none /mnt 2>/dev/null
check "mount fails" test $? -ne 0
in_sb unshare -Ur true 2>/dev/null
check "unshare -Ur fails" test $? -ne 0
in_sb unshare -m true 2>/dev/null
check "unshare -m fails" test $? -ne 0
# each called with arguments that would fail harmlessly with another errno
# (EINVAL, EBADF, ENOENT, EFAULT) if the call were allowed at all
cat >"$T/syscalls.py" <<'EOF'
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(nr, *args)
    e = ctypes.get_errno()
    print(name, "ok" if r >= 0 else errno.errorcode.get(e, str(e)))
call("mount", 165, b"none", b"/nonexistent", b"tmpfs", 0, None)
call("umount2", 166, b"/nonexistent", 0)
call("pivot_root", 155, b"/nonexistent", b"/nonexistent")
call("unshare_user", 272, 0x10000000)
call("unshare_net", 272, 0x40000000)
call("clone_newns", 56, 0x00020000 | 17, None, None, None, None)
call("setns", 308, -1, 0)
call("keyctl", 250, -1, 0, 0, 0, 0)
call("add_key", 248, None, None, None, 0, 0)
call("bpf", 321, -1, None, 0)
call("perf_event_open", 298, None, 0, -1, -1, 0)
call("open_by_handle_at", 304, -1, None, 0)
call("name_to_handle_at", 303, -1, None, None, None, 0)
call("init_module", 175, None, 0, None)
call("kexec_load", 246, 0, 0, None, 0)
call("io_uring_setup", 425, 0, None)
call("userfaultfd", 323, 0)
call("swapon", 167, b"/nonexistent", 0)
call("syslog", 103, 3, None, 0)
call("open_tree", 428, -1, b"/nonexistent", 0)
call("fsopen", 430, b"tmpfs", 0)
call("clone3", 435, None, 0)
EOF
sbx exec "$ID" -n -- python3 -c "$(cat "$T/syscalls.py")" >"$T/syscalls" 2>&1
while read -r name res; do
	want=EPERM
	[ "$name" == clone3 ] && want=ENOSYS
	expect_eq "$name is refused with $want" "$want" "$res"
done <"$T/syscalls"
check "every dangerous system call was tried" test "$(wc -l <"$T/syscalls")" -eq 22

# --- 4. the host's processes, secrets and loopback -------------------------
sleep 600 &
HOST_PIDS+=($!)
HP=$!
in_sb kill -0 "$HP" 2>/dev/null
check "a host process cannot be signalled (pid $HP)" test $? -ne 0
in_sb test -e "/proc/$HP"
check "a host process is not in the sandbox's /proc" test $? -ne 0
res=$(sbx exec "$ID" -n -- python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, int(sys.argv[1]), None, None)   # PTRACE_ATTACH
print("attached" if r == 0 else ctypes.get_errno())' "$HP")
check "ptrace of a host pid fails ($res)" test "$res" != attached
check "a host pid's process survives" kill -0 "$HP"
in_sb cat /etc/shadow >/dev/null 2>&1
check "/etc/shadow cannot be read" test $? -ne 0
in_sb sh -c 'cat /etc/ssh/ssh_host_*_key' >/dev/null 2>&1
check "no SSH host private key can be read" test $? -ne 0
in_sb sh -c 'cat "$1"/token' _ "$SBX_STATE_DIR" >/dev/null 2>&1
check "sbxd's token cannot be read" test $? -ne 0

# a TCP service on the host's loopback, and sbxd's own API
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"host secret\n"); c.close()' >"$T/port" &
HOST_PIDS+=($!)
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
LPORT=$(cat "$T/port")
APORT=${API##*:}
check "a host loopback service is up" bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1' _ "$LPORT"
cat >"$T/reach.py" <<'EOF'
import socket, sys
for host in ("127.0.0.1", "10.0.2.2", "localhost"):
    for port in map(int, sys.argv[1:]):
        s = socket.socket(); s.settimeout(3)
        try:
            s.connect((host, port)); print("REACHED", host, port)
        except OSError as e:
            print("no", host, port, e.errno)
        s.close()
EOF
sbx exec "$ID" -n -- python3 -c "$(cat "$T/reach.py")" "$LPORT" "$APORT" >"$T/reach" 2>&1
check "the host's loopback services are out of reach" bash -c '! grep -q REACHED "$1"' _ "$T/reach"
grep REACHED "$T/reach" | sed 's/^/#   /'

# --- 5. bounded floods: processes and memory ------------------------------
# nano: 256 processes at most; the loop stops at 2000 either way. Each child
# becomes a small sleep at once, so memory is not what stops it.
res=$(sbx exec "$ID" -n --timeout 60 -- python3 -c '
import os
n = 0
kids = []
for i in range(2000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os.execv("/bin/sleep", ["sleep", "30"])
    kids.append(pid); n += 1
for k in kids: os.kill(k, 9)
print(n)')
check "a fork loop stops at the process limit ($res forks)" test "${res:-2000}" -lt 300
# nano: 256 MiB; the hog asks for 1 GiB, touched page by page
sbx exec "$ID" -n --timeout 60 -- python3 -c '
b = bytearray(1 << 30)
for i in range(0, len(b), 4096): b[i] = 1
print("ALLOCATED")' >"$T/hog" 2>&1
code=$?
check "a memory hog past the limit is stopped (exit $code)" test $code -ne 0
check "it never got its memory" bash -c '! grep -q ALLOCATED "$1"' _ "$T/hog"
expect_eq "the sandbox is still healthy after the floods" HEALTHY "$(sbx status "$ID")"

# --- the host is unchanged -------------------------------------------------
for k in "${SYSCTLS[@]}"; do
	expect_eq "host $k unchanged" "${SAVED[$k]}" "$(cat "/proc/sys/$k")"
done
expect_eq "host loopback addresses unchanged" "$LO_BEFORE" \
	"$(ip -o addr show dev lo | awk '{print $4}' | sort | tr '\n' ' ')"
expect_eq "host mount table unchanged" "$MOUNTS_BEFORE" "$(wc -l </proc/1/mountinfo)"
sbx rm "$ID"
finish
