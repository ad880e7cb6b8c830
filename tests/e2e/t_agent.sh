#!/usr/bin/env bash
# t_agent.sh - the agent transport of sbxfs against a real sbxd: the agent
# is delivered once and reused, a copy changed inside the sandbox is not
# run (replaced), a killed agent is restarted on the next operation, the
# shell transport still works when asked for, and the agent answers many
# operations with one request each (round trips from /.ctl/stats).
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
rt() { sed -n 's/^rfs.total requests=[0-9]* round_trips=//p' "$MNT/.ctl/stats"; }
info() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	"$MNT/.ctl/info" "$1"; }
mnt() { tm "$BUILD/sbxfs" "$@" "$ID:/srv/a" "$MNT"; }
umnt() { fusermount3 -u "$MNT"; }
copies() { rx sh -c 'ls -1 /var/tmp/.sbx-agent-* /tmp/.sbx-agent-* /dev/shm/.sbx-agent-* 2>/dev/null | wc -l'; }

start_sbxd
ID=$(sbx create --name agent1)
check "sandbox created" test -n "$ID"
rx mkdir -p /srv/a
mkdir -p "$MNT"

expect_eq "no agent in a new sandbox" 0 "$(copies)"
mnt -o transport=agent
expect_eq "mounts with transport=agent" 0 $?
expect_eq ".ctl/info says agent" agent "$(info transport)"
expect_eq "one copy of the agent, in /var/tmp" 1 "$(rx sh -c 'ls /var/tmp/.sbx-agent-* | wc -l')"
check "the copy is executable and root's" rx sh -c 'f=$(ls /var/tmp/.sbx-agent-*); test -x "$f" && [ "$(stat -c %U "$f")" = root ]'

# --- everyday operations through the agent --------------------------------
mkdir "$MNT/d" && printf 'hello\n' >"$MNT/d/f"
expect_eq "a file written through the agent is in the sandbox" hello "$(rx cat /srv/a/d/f)"
ln -s f "$MNT/d/l" && ln "$MNT/d/f" "$MNT/d/h"
expect_eq "symlink" f "$(readlink "$MNT/d/l")"
expect_eq "hard link count seen in the sandbox" 2 "$(rx stat -c %h /srv/a/d/f)"
chmod 640 "$MNT/d/f"
expect_eq "chmod" 640 "$(rx stat -c %a /srv/a/d/f)"
touch -d '2001-02-03 04:05:06.789 UTC' "$MNT/d/f"
expect_eq "utimens to the nanosecond" "2001-02-03 04:05:06.789000000" \
	"$(rx sh -c 'TZ=UTC stat -c %y /srv/a/d/f' | cut -c1-29)"
truncate -s 1G "$MNT/d/sparse"
expect_eq "truncate -s 1G is sparse in the sandbox" 0 "$(rx stat -c %b /srv/a/d/sparse)"
mv "$MNT/d/f" "$MNT/d/g"
check "rename" bash -c '[ -e "$1/d/g" ] && [ ! -e "$1/d/f" ]' _ "$MNT"
# --- changes made in the sandbox show without waiting for a timeout --------
expect_eq "the mount reports changes" True "$(info change_events)"
ls "$MNT/d" >/dev/null # listed (and so watched) before the change
# seen: waits (bounded) until the mount shows what the sandbox just did;
# the report travels on the agent's session, the exec's end on another,
# so a few milliseconds either way; the time is printed
seen() {
	local t0=$(date +%s%N) i
	for i in $(seq 1 200); do
		if eval "$1"; then
			echo "# seen after $((($(date +%s%N) - t0) / 1000000)) ms: $2"
			return 0
		fi
		sleep 0.01
	done
	return 1
}
rx sh -c 'printf "from inside\n" > /srv/a/d/in'
check "a file made in the sandbox shows in the listing" seen '[ -e "$MNT/d/in" ]' create
expect_eq "and reads back" "from inside" "$(cat "$MNT/d/in")"
rx sh -c 'printf "changed inside\n" > /srv/a/d/in'
check "a change of its content shows" seen '[ "$(cat "$MNT/d/in")" = "changed inside" ]' write
rx chmod 600 /srv/a/d/in
check "a chmod shows" seen '[ "$(stat -c %a "$MNT/d/in")" = 600 ]' chmod
rx rm /srv/a/d/in
check "a removal shows" seen '[ ! -e "$MNT/d/in" ]' unlink
rx mkdir /srv/a/d/sub
check "a new directory shows" seen '[ -d "$MNT/d/sub" ]' mkdir
rx rmdir /srv/a/d/sub
expect_eq "the caches lived on: no whole-cache drop" 0 \
	"$(sed -n 's/^invalidations //p' "$MNT/.ctl/stats")"
check "rmdir of a non-empty dir is ENOTEMPTY" bash -c 'rmdir "$1/d" 2>&1 | grep -q "not empty"' _ "$MNT"
head -c 5000000 /dev/urandom >"$T/big"
cp "$T/big" "$MNT/big"
expect_eq "5 MB through the agent, checksum in the sandbox" "$(sha256sum <"$T/big" | cut -c1-64)" \
	"$(rx sha256sum /srv/a/big | cut -c1-64)"
expect_eq "and back" "$(sha256sum <"$T/big")" "$(sha256sum <"$MNT/big")"
df "$MNT" >/dev/null
expect_eq "statfs" 0 $?
mkfifo "$MNT/d/fifo"
expect_eq "mkfifo makes a FIFO in the sandbox" fifo "$(rx stat -c %F /srv/a/d/fifo)"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$MNT/d/sock"
expect_eq "bind of a unix socket makes a socket node there" socket "$(rx stat -c %F /srv/a/d/sock)"
check "a device node gets the sandbox kernel's refusal" \
	bash -c 'mknod "$1/d/null" c 1 3 2>&1 | grep -q "Operation not permitted"' _ "$MNT"
rm "$MNT/d/fifo" "$MNT/d/sock"

# --- round trips: one request per operation --------------------------------
before=$(rt)
stat "$MNT/d/g" "$MNT/d/l" "$MNT/d/h" >/dev/null
mkdir -p "$T/tree"
for i in $(seq 1 50); do echo "file $i" >"$T/tree/f$i"; done
r0=$(rt)
cp "$MNT/.ctl/stats" "$T/stats0"
cp -r "$T/tree" "$MNT/tree"
r1=$(rt)
diff "$T/stats0" "$MNT/.ctl/stats" | sed -n 's/^> \(rfs\.[a-z_]* requests=[0-9]*\).*/# \1/p'
echo "# cp -r of 50 small files: $((r1 - r0)) round trips"
check "cp -r of 50 files takes at most 4 requests a file ($((r1 - r0)))" test $((r1 - r0)) -le 200
check "the copy is whole" diff -r "$T/tree" "$MNT/tree"
umnt

# --- a listing brings the small files along (prefetch) ------------------------
mnt -o transport=agent
r0=$(rt)
check "cold: every file of the tree reads back" diff -r "$T/tree" "$MNT/tree"
r1=$(rt)
echo "# cold diff -r of 50 small files: $((r1 - r0)) round trips"
check "cold read of 50 small files takes at most 5 round trips ($((r1 - r0)))" test $((r1 - r0)) -le 5
umnt
# --- a listing brings its subtree along ---------------------------------------
rx sh -c 'mkdir -p /srv/a/deep/a/b/c/d /srv/a/deep/x/y && for d in a a/b a/b/c a/b/c/d x x/y; do
	for i in 1 2 3; do echo "$d $i" > /srv/a/deep/$d/f$i; done; done'
mnt -o transport=agent
r0=$(rt)
lsr=$(ls -lR "$MNT/deep" | wc -l)
r1=$(rt)
echo "# cold ls -lR of 7 directories: $((r1 - r0)) round trips"
check "cold ls -lR of a 7-directory tree takes at most 3 round trips ($((r1 - r0)))" \
	test $((r1 - r0)) -le 3
check "and lists every file ($lsr lines)" test "$lsr" -ge 40
# (grep calls statfs, which is never cached: counted apart)
rtx() { echo $(($(rt) - $(sed -n 's/^rfs.statfs requests=[0-9]* round_trips=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"))); }
r0=$(rtx)
grep -r "c 3" "$MNT/deep" >/dev/null
r1=$(rtx)
echo "# grep -r of it after the ls -lR: $((r1 - r0)) round trips besides statfs"
check "grep -r then needs one round trip for the whole subtree's contents ($((r1 - r0)))" \
	test $((r1 - r0)) -le 1
r0=$(rt)
grep -r "c 3" "$MNT/deep" >/dev/null
r1=$(rt)
expect_eq "and a second grep -r none, statfs included (cached as attributes are)" 0 $((r1 - r0))
rx sh -c 'echo new > /srv/a/deep/a/b/c/d/late'
check "a change deep in the listed subtree shows (watched by the listing)" \
	seen '[ -e "$MNT/deep/a/b/c/d/late" ]' deep-create
umnt
# a walk that enters a subdirectory before it reads its parent's files
# fills from the parent, once (not the subdirectory, then the parent again)
rx sh -c 'mkdir -p /srv/a/up/sub/subsub && echo x > /srv/a/up/sub/subsub/x &&
	echo y > /srv/a/up/y && echo z > /srv/a/up/sub/z'
mnt -o transport=agent
ls -R "$MNT/up" >/dev/null
r0=$(rt)
cat "$MNT/up/sub/subsub/x" >/dev/null
r1=$(rt)
expect_eq "up: the first read in a leaf costs one round trip" 1 $((r1 - r0))
check "up: its parent's and sibling's files then cost none" \
	test "$(cat "$MNT/up/y" "$MNT/up/sub/z")" = "$(printf 'y\nz')" -a "$(rt)" = "$r1"
umnt
# a fill cut by its byte bound (8 MiB, breadth first) leaves the deep
# directories without contents; their parent was marked filled (its own
# files came), which once stopped the next fill from climbing to it: a
# round trip per deep directory
rx sh -c 'mkdir -p /srv/a/cut/a && i=0; while [ $i -lt 150 ]; do
	head -c 61440 /dev/urandom > /srv/a/cut/a/$i; i=$((i+1)); done
	echo top > /srv/a/cut/top; i=0; while [ $i -lt 30 ]; do
	mkdir -p /srv/a/cut/z/deep/$i && head -c 40960 /dev/urandom > /srv/a/cut/z/deep/$i/f
	i=$((i+1)); done'
mnt -o transport=agent
ls -R "$MNT/cut" >/dev/null
cat "$MNT/cut/top" >/dev/null # fills from cut/: a's 9 MiB pass the bound
r0=$(rt)
expect_eq "cut: the deep directories' files read back" $((30 * 40960)) \
	"$(cat "$MNT"/cut/z/deep/*/f | wc -c)"
r1=$(rt)
check "cut: and cost one fill, not one a directory ($((r1 - r0)) round trips)" \
	test $((r1 - r0)) -le 2
umnt
# more files than the old fixed bound on idle caches (1024): a second
# grep -r must find them all still cached, not refetch each
rx sh -c 'for d in $(seq 1 12); do mkdir -p /srv/a/many/$d; i=0
	while [ $i -lt 100 ]; do echo "f $d $i" > /srv/a/many/$d/$i; i=$((i+1)); done; done'
mnt -o transport=agent
expect_eq "many: grep -r finds 1200 files" 1200 "$(grep -rl f "$MNT/many" | wc -l)"
r0=$(rtx)
expect_eq "many: a second grep -r finds them too" 1200 "$(grep -rl f "$MNT/many" | wc -l)"
r1=$(rtx)
expect_eq "many: and needs no round trip besides statfs" 0 $((r1 - r0))
umnt
# hundreds of directories watched by one tree listing (the watch list's
# indexes grow several times): a change in the last ones still shows
rx sh -c 'i=0; while [ $i -lt 400 ]; do mkdir -p /srv/a/wide/$i; i=$((i+1)); done'
mnt -o transport=agent
expect_eq "wide: 400 directories listed" 400 "$(ls "$MNT/wide" | wc -l)"
ls -R "$MNT/wide" >/dev/null
rx sh -c 'echo late > /srv/a/wide/399/new && echo early > /srv/a/wide/0/new'
check "wide: a file made in the last directory shows" seen '[ -e "$MNT/wide/399/new" ]' wide-last
check "wide: and in the first" seen '[ -e "$MNT/wide/0/new" ]' wide-first
umnt
mnt -o transport=agent,prefetch=0
r0=$(rt)
check "without prefetch too" diff -r "$T/tree" "$MNT/tree"
r1=$(rt)
echo "# the same with prefetch=0: $((r1 - r0)) round trips"
check "without prefetch a file costs a round trip ($((r1 - r0)))" test $((r1 - r0)) -ge 50
umnt

# --- the copy is reused; a changed copy is replaced -----------------------
mnt -o transport=agent
expect_eq "a second mount reuses the copy" 1 "$(copies)"
umnt
rx sh -c 'for f in /var/tmp/.sbx-agent-*; do printf "#!/bin/sh\necho planted\n" > "$f"; done'
mnt -o transport=agent
expect_eq "a changed copy: mount still uses the agent" agent "$(info transport)"
check "the planted script was replaced by the agent" \
	rx sh -c '! grep -q planted /var/tmp/.sbx-agent-*'
expect_eq "and files still read" hello "$(cat "$MNT/d/g")"

# --- a killed agent is restarted ---------------------------------------------
rx sh -c 'pkill -KILL -f "^/var/tmp/.sbx-agent-" ; true'
# statfs is never cached and may be sent twice: if it went to the dead
# session it is sent again on a new one (a create caught in flight would
# fail instead: it may have been done)
check "after kill -9 of the agent, statfs works" df "$MNT"
expect_eq "the next read works" hello "$(cat "$MNT/d/h")"
echo again >"$MNT/d/after"
expect_eq "and writes" again "$(rx cat /srv/a/d/after)"
# --- a sandbox that forges the agent's replies -----------------------------------
# code in the sandbox is root there and may try to write into the agent's
# stdout (a frame with a length past the bound, then noise). The agent is
# not dumpable, so /proc/PID/fd of it is closed to the sandbox; were it
# open, sbxfs would drop that session as malformed and start a new one.
forge() {
	rx sh -c 'p=$(pgrep -f "^/var/tmp/.sbx-agent-" | head -1); [ -n "$p" ] || exit 3
		{ printf "\377\377\377\177\001\000\000\000\001\200\000\000"; head -c 100000 /dev/urandom; } > /proc/$p/fd/1' 2>/dev/null
}
cat "$MNT/d/h" >/dev/null
forge
rc=$?
check "the sandbox cannot write into the agent's stdout (exit $rc)" test "$rc" -eq 2
echo after-forgery >"$MNT/d/forged"
expect_eq "after the attempt, writes still reach the sandbox" after-forgery "$(rx cat /srv/a/d/forged)"
expect_eq "and reads come back" hello "$(cat "$MNT/d/g")"
umnt

# --- shell when asked ------------------------------------------------------------
mnt -o transport=shell
expect_eq "transport=shell mounts with the shell transport" shell "$(info transport)"
expect_eq "and reads the same files" hello "$(cat "$MNT/d/g")"
umnt

# --- auto: where the agent cannot run, the shell transport --------------------
mnt
expect_eq "the default (auto) uses the agent" agent "$(info transport)"
umnt
# a sandbox whose sha256sum lies cannot verify the agent: auto falls back
rx sh -c 'mkdir -p /usr/local/bin && printf "#!/bin/sh\necho 0000  -\n" > /usr/local/bin/sha256sum && chmod 755 /usr/local/bin/sha256sum'
mnt
expect_eq "auto, agent unverifiable: the shell transport" shell "$(info transport)"
check "and .ctl/info says why" bash -c 'grep -q "agent unavailable" "$1/.ctl/info"' _ "$MNT"
expect_eq "reads work over shell" hello "$(cat "$MNT/d/g")"
umnt
check "transport=agent refuses to mount there" bash -c '! timeout 120 "$BUILD/sbxfs" -o transport=agent "$1:/srv/a" "$2" 2>/dev/null' _ "$ID" "$MNT"
rx rm -f /usr/local/bin/sha256sum
finish
