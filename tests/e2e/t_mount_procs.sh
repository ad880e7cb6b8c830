#!/usr/bin/env bash
# t_mount_procs.sh - the executor's processes and port in an sbxfs mount:
# /.ctl/procs lists what any client started and takes start and kill;
# /.ctl/logs/ID holds a process's kept output;
# /.ctl/ports binds (a server in the sandbox reached with curl from the
# host), says where, and unbinds; bad writes fail.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
tm() { timeout 60 "$@"; }
C=$MNT/.ctl
# wr FILE TEXT : writes TEXT to FILE in one write; its status
wr() { tm python3 -c 'import os,sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
try:
    os.write(fd, sys.argv[2].encode())
except OSError as e:
    print(e.strerror, file=sys.stderr); sys.exit(1)' "$1" "$2"; }
# fails CMD... : true when CMD fails
fails() { ! "$@" 2>/dev/null; }
# four_fields : every line of /.ctl/procs has ID PID STATUS and a command
four_fields() { tm cat "$C/procs" | awk 'NF < 4 {bad = 1} END {exit bad}'; }
# line_of ID : the line of /.ctl/procs for that process
line_of() { tm cat "$C/procs" | grep "^$1 "; }

start_sbxd
ID=$(sbx create --name procmnt)
sbx exec "$ID" -- mkdir -p /srv/work
mkdir -p "$MNT"
tm "$BUILD/sbxfs" "$ID:/srv/work" "$MNT"
check "mounted" mountpoint -q "$MNT"
check "/.ctl lists procs and ports" bash -c 'ls "$1" | grep -qx procs && ls "$1" | grep -qx ports' _ "$C"
check "procs and ports are the owner's, rw" test "$(stat -c %a "$C/procs") $(stat -c %a "$C/ports")" = "600 600"

# --- procs: what sbx exec -d started, one line each ---------------------------------------
P=$(sbx exec -d "$ID" -- sh -c 'echo hi; exit 4')
tm "$BUILD/sbx" -q logs -f "$ID" "$P" >/dev/null
first_line_ok() {
	local l
	l=$(line_of "$P")
	[[ ${l#"$P "} =~ ^[0-9]+\ failed\ sh\ -c\ .echo\ hi\;\ exit\ 4.$ ]]
}
check "procs shows a process started by the CLI: ID PID STATUS COMMAND" first_line_ok

# --- logs/ID ------------------------------------------------------------------------------
check "logs/ lists the process" bash -c 'ls "$1/logs" | grep -qx "$2"' _ "$C" "$P"
expect_eq "logs/ID: its output" "hi" "$(tm cat "$C/logs/$P")"
check "logs/ID is the owner's, read-only" test "$(stat -c %a "$C/logs/$P")" = 400
check "logs/ of an unknown process: ENOENT" \
	bash -c '! cat "$1/logs/00000000-0000-0000-0000-000000000000" 2>/dev/null' _ "$C"
check "logs/ of a bad name: ENOENT" bash -c '! cat "$1/logs/a.b" 2>/dev/null' _ "$C"
P3=$(sbx exec -d "$ID" -- sh -c 'seq 1 3000; echo e >&2')
tm "$BUILD/sbx" -q logs -f "$ID" "$P3" >/dev/null 2>&1
expect_eq "logs/ID: many lines, stdout then stderr" "$(seq 1 3000; echo e)" "$(tm cat "$C/logs/$P3")"

P2=$(sbx exec -d "$ID" -- sleep 600)
expect_eq "a running one" running "$(line_of "$P2" | cut -d' ' -f3)"
check "every line has four fields or more" four_fields

# --- procs: start (in the mounted dir, after the mount's files are stored) and kill -------
echo "written through the mount" >"$MNT/note.txt"
wr "$C/procs" $'start cat note.txt; pwd\n'
expect_eq "start: the write succeeds" 0 $?
N=$(tm cat "$C/procs" | grep -c 'cat note.txt; pwd$')
expect_eq "start: the process shows in procs" 1 "$N"
Q=$(tm cat "$C/procs" | grep 'cat note.txt; pwd$' | cut -d' ' -f1)
expect_eq "start: it ran in the mounted dir and saw the file written there" \
	$'written through the mount\n/srv/work' "$(tm "$BUILD/sbx" -q logs -f "$ID" "$Q")"
wr "$C/procs" "kill $P2"
expect_eq "kill: the write succeeds" 0 $?
tm "$BUILD/sbx" -q logs -f "$ID" "$P2" >/dev/null
expect_eq "kill: the process turns killed" killed "$(line_of "$P2" | cut -d' ' -f3)"
check "kill of an ended process fails" fails wr "$C/procs" "kill $P2"
check "kill of an unknown process fails" \
	fails wr "$C/procs" "kill 00000000-0000-0000-0000-000000000000"
for bad in "kill a/b" "start" "bogus" "8080"; do
	check "procs refuses '$bad'" fails wr "$C/procs" "$bad"
done

# --- ports ------------------------------------------------------------------------------------
expect_eq "ports: nothing bound by this mount yet" "" "$(tm cat "$C/ports")"
sbx exec "$ID" -- sh -c 'mkdir -p /srv/www && echo "served from the sandbox" >/srv/www/x.txt'
SRV=$(sbx exec -d "$ID" -- python3 -m http.server 8000 --bind 127.0.0.1 -d /srv/www)
sbx exec "$ID" -- python3 -c 'import socket, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", 8000)).close()
        break
    except OSError:
        time.sleep(0.05)'
echo 8000 >"$C/ports"
expect_eq "echo PORT > ports: the write succeeds" 0 $?
LINE=$(tm cat "$C/ports")
check "ports says PORT URL ($LINE)" bash -c '[[ $1 =~ ^8000\ tcp://[^:/]+:[0-9]+$ ]]' _ "$LINE"
HP=${LINE#8000 tcp://}
expect_eq "curl from the host reaches the server through it" "served from the sandbox" \
	"$(curl -s --max-time 20 "http://$HP/x.txt")"
check "binding another port while one is bound fails" fails wr "$C/ports" "bind 8001"
expect_eq "... and leaves the binding" "$LINE" "$(tm cat "$C/ports")"
echo unbind >"$C/ports"
expect_eq "unbind: the write succeeds" 0 $?
expect_eq "ports is empty after unbind" "" "$(tm cat "$C/ports")"
check "the server is no longer reached" bash -c '! curl -s --max-time 10 -o /dev/null "http://$1/x.txt"' _ "$HP"
wr "$C/ports" "bind 8000"
expect_eq "bind PORT works too" "$LINE" "$(tm cat "$C/ports")"
for bad in 0 65536 x "bind" "unbind 1" "start ls"; do
	check "ports refuses '$bad'" fails wr "$C/ports" "$bad"
done
sbx kill "$ID" "$SRV" >/dev/null
sbx port --unbind "$ID"

finish
