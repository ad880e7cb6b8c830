#!/usr/bin/env bash
# t_defer.sh - deferred creates of sbxfs with the agent: a file created in a
# directory whose listing is cached and watched is made in the sandbox by
# its first store, so unpacking a tree pays one round trip a file, and
# nothing of it is lost or seen wrong: a /.ctl job sees a file still open,
# a rename, link or unlink of a file still open acts on it in the sandbox,
# and a store that fails for good takes the name away again. The close of
# such a file does not wait for its store (write-behind): `sbx exec`, a
# job, a rename of its directory, an rmdir and `sbx umount` still see it
# stored, and a store that fails is reported to the handles then open.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
rt() { sed -n 's/^rfs.total requests=[0-9]* round_trips=//p' "$MNT/.ctl/stats"; }
op() { sed -n "s/^rfs.$1 requests=\([0-9]*\).*/\1/p" "$MNT/.ctl/stats"; }
deferred() { sed -n 's/^store .*creates_deferred=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
mnt() { tm "$BUILD/sbxfs" "$@" "$ID:/srv/d" "$MNT"; }
umnt() { fusermount3 -u "$MNT"; }

start_sbxd
ID=$(sbx create --name defer1)
check "sandbox created" test -n "$ID"
rx mkdir -p /srv/d/in
mkdir -p "$MNT" "$T/src/sub"
for i in $(seq 1 60); do printf 'file %s\n' "$i" >"$T/src/f$i"; done
for i in $(seq 1 20); do head -c $((i * 1000)) /dev/urandom >"$T/src/sub/r$i"; done
printf 'odd\n' >"$T/src/-dash name 'q' é"
tar -C "$T/src" -cf "$T/src.tar" .

mkdir -p "$T/cache"
mnt -o transport=agent,cache_dir="$T/cache"
ls "$MNT/in" >/dev/null
echo first >"$MNT/in/first" # the first create waits: it tells whose files the agent makes
# --- unpacking a tree: one round trip a file ---------------------------------
c0=$(op create)
r0=$(rt) s0=$(op stat)
tm tar -C "$MNT/in" -xf "$T/src.tar"
expect_eq "tar x succeeds" 0 $?
r1=$(rt) s1=$(op stat)
echo "# tar x of 81 files and a directory: $((r1 - r0)) round trips, $(($(op create) - c0)) creates sent"
check "the creates were deferred ($(deferred))" test "$(deferred)" -ge 80
check "tar x pays at most about one round trip a file ($((r1 - r0)))" test $((r1 - r0)) -le 95
# the mount's owner is root, so the kernel checks each create against its
# directory's attributes, which it drops after each create: kept fresh by
# the change reports (a store's report of a name says the directory's
# own follows) and mkdir's reply, they need no stat
check "  ... and asks for few directories' attributes ($((s1 - s0)) stats)" test $((s1 - s0)) -le 3
expect_eq "in the sandbox every file has its content" \
	"$(cd "$T/src" && find . -type f | sort | xargs -d '\n' sha256sum)" \
	"$(rx sh -c 'cd /srv/d/in && find . -type f ! -name first | sort | xargs -d "\n" sha256sum')"
expect_eq "and its mode" "$(stat -c %a "$T/src/sub/r3")" "$(rx stat -c %a /srv/d/in/sub/r3)"
expect_eq "and its mtime (tar sets it after the data)" "$(stat -c %Y "$T/src/f7")" \
	"$(rx stat -c %Y /srv/d/in/f7)"
i1=$(stat -c %i "$MNT/in/f1")
ln "$MNT/in/f1" "$MNT/in/f1.link"
expect_eq "the inode number after close is the file's (a new link has it)" "$i1" \
	"$(stat -c %i "$MNT/in/f1.link")"

# editor saves: a temporary written, fsynced and renamed over the file.
# The reports of each rename (sent before its reply) must not make the
# renamed file, nor the next temporary of the same name, look stale:
# that cost a listing of the directory every second save or so
l0=$(op readdir) r0=$(rt)
for i in $(seq 1 20); do
	printf 'save %s\n' "$i" | dd of="$MNT/in/.save.txt.swp" conv=fsync status=none &&
		mv -f "$MNT/in/.save.txt.swp" "$MNT/in/save.txt" || break
done
l1=$(op readdir) r1=$(rt)
expect_eq "20 editor saves: the sandbox has the last" "save 20" "$(rx cat /srv/d/in/save.txt)"
expect_eq "  ... and no temporary left" "" "$(rx ls -A /srv/d/in | grep -F .save.txt.swp)"
expect_eq "  ... the directory was not listed again" 0 $((l1 - l0))
check "  ... two round trips a save, the store and the rename ($((r1 - r0)))" \
	test $((r1 - r0)) -le 42
expect_eq "  ... and the mount shows the last" "save 20" "$(cat "$MNT/in/save.txt")"

# two new files still open are two files (vim tests the names it may use so)
exec {fa}>"$MNT/in/.same.swp" {fb}>"$MNT/in/.same.swx"
check "two files created and open have distinct inode numbers" \
	test "$(stat -c %i "$MNT/in/.same.swp")" != "$(stat -c %i "$MNT/in/.same.swx")"
exec {fa}>&- {fb}>&-

# --- files still open ----------------------------------------------------------
python3 - "$MNT" <<'EOF' >"$T/open.out" 2>&1
import os, sys, subprocess
m = sys.argv[1]
def job(cmd):
    fd = os.open(m + "/.ctl/exec", os.O_RDWR)
    os.write(fd, cmd.encode())
    out = b""
    while True:
        b = os.read(fd, 4096)
        if not b:
            break
        out += b
    os.close(fd)
    return out.decode().strip()
f = open(m + "/in/open1", "w"); f.write("seen by a job\n"); f.flush()
print("job:", job("cat /srv/d/in/open1"))
st = os.fstat(f.fileno()); print("fstat size:", st.st_size)
f.close()
g = open(m + "/in/open2", "w"); g.write("renamed while open\n"); g.flush()
os.rename(m + "/in/open2", m + "/in/open2.moved")
g.close()
h = open(m + "/in/open3", "w"); h.write("linked\n"); h.flush()
os.link(m + "/in/open3", m + "/in/open3.link")
h.close()
k = open(m + "/in/open4", "w"); k.write("gone\n"); k.flush()
os.unlink(m + "/in/open4")
k.close()
print("done")
EOF
check "the python steps ran" grep -q '^done' "$T/open.out"
expect_eq "a /.ctl job sees a created file still open" "job: seen by a job" \
	"$(grep '^job:' "$T/open.out")"
expect_eq "fstat of it has the size written" "fstat size: 14" "$(grep '^fstat' "$T/open.out")"
expect_eq "renamed while open: in the sandbox at the new name" "renamed while open" \
	"$(rx cat /srv/d/in/open2.moved)"
check "and not at the old one" rx sh -c '! test -e /srv/d/in/open2'
expect_eq "linked while open: both names in the sandbox" "2" "$(rx stat -c %h /srv/d/in/open3)"
check "unlinked while open: not in the sandbox" rx sh -c '! test -e /srv/d/in/open4'
check "nor in the mount" test ! -e "$MNT/in/open4"

# a file created and removed while open never reaches the sandbox (tmpfile;
# one process: a shell's children would close their copies, and a close stores)
r0=$(rt)
python3 -c 'import os, sys
f = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(f, b"scratch\n"); os.unlink(sys.argv[1]); os.write(f, b"more\n"); os.close(f)' "$MNT/in/tmpx"
r1=$(rt)
expect_eq "create, unlink, write, close: no round trip" 0 $((r1 - r0))
check "it is in neither place" bash -c '! test -e "$1" && ! "$2" -q exec "$3" -- test -e /srv/d/in/tmpx' \
	_ "$MNT/in/tmpx" "$BUILD/sbx" "$ID"

# --- write-behind: a close of a new file does not wait for its store ---------
behind() { sed -n 's/^store .* behind=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
check "the stores of the unpacked files were made behind the closes ($(behind))" \
	test "$(behind)" -ge 80
mkdir "$MNT/in/wb"
for i in $(seq 1 30); do printf 'wb %s\n' "$i" >"$MNT/in/wb/f$i"; done
mv "$MNT/in/wb" "$MNT/in/wb2"
expect_eq "a directory renamed right after its files' closes has them all in the sandbox" \
	"$(seq 1 30 | sed 's/^/wb /')" "$(rx sh -c 'for i in $(seq 1 30); do cat /srv/d/in/wb2/f$i; done')"
check "and nothing at the old name" rx sh -c '! test -e /srv/d/in/wb'
mkdir "$MNT/in/wbr"
for i in $(seq 1 30); do echo x >"$MNT/in/wbr/f$i"; done
rm "$MNT/in/wbr"/f*
check "rmdir right after closes and unlinks succeeds" rmdir "$MNT/in/wbr"
check "and the directory is gone in the sandbox" rx sh -c '! test -e /srv/d/in/wbr'
echo A >"$MNT/in/ra"
echo B >"$MNT/in/rb"
mv "$MNT/in/ra" "$MNT/in/rb"
expect_eq "a rename over a file whose store was queued keeps the renamed content" A \
	"$(rx cat /srv/d/in/rb)"
for i in $(seq 1 40); do printf 'late %s\n' "$i" >"$MNT/in/late$i"; done
ok_umount=0
SBX_NO_MOUNT_SYNC=1 tm "$BUILD/sbx" umount "$MNT" && ok_umount=1
expect_eq "sbx umount right after 40 closes succeeds" 1 $ok_umount
expect_eq "and every file is in the sandbox" \
	"$(seq 1 40 | sed 's/^/late /')" "$(rx sh -c 'for i in $(seq 1 40); do cat /srv/d/in/late$i; done')"
mnt -o transport=agent,cache_dir="$T/cache"
ls "$MNT/in" >/dev/null
echo held >"$MNT/in/held"
expect_eq "sbx exec sees a file closed just before it" held "$(rx cat /srv/d/in/held)"

# --- a store that fails for good: the name goes --------------------------------
# doomed DIR: a file is created and written in DIR, which the sandbox then
# removes, so the file's store fails; another file (the witness) is open
# meanwhile. The python prints how close, a sync and the witness's close end.
# The sandbox side runs with SBX_NO_MOUNT_SYNC: else sbx exec would store
# the open file first.
cp "$(dirname "$0")/defer_doomed.py" "$T/doomed.py"
[ -p "$T/go" ] || mkfifo "$T/go" "$T/ready"
rxn() { SBX_NO_MOUNT_SYNC=1 rx "$@"; }
doomed() {
	mkdir "$MNT/in/$1"
	ls "$MNT/in/$1" >/dev/null
	python3 "$T/doomed.py" "$MNT" "$T" "$1" >"$T/$1.out" 2>&1 &
	local py=$!
	read -r _ <"$T/ready"
	check "the file is not in the sandbox before its first store" rxn sh -c "! test -e /srv/d/in/$1/f"
	rxn rmdir "/srv/d/in/$1"
	echo go >"$T/go"
	wait $py
}
doomed doomed
check "with write-behind the close returns at once ($(head -1 "$T/doomed.out"))" \
	grep -q "^close: ok" "$T/doomed.out"
check "a handle open when the store failed gets EIO at its close ($(tail -1 "$T/doomed.out"))" \
	grep -q "^witness: Input/output error" "$T/doomed.out"
check "the failure is counted in .ctl/stats" \
	grep -q "^store .* behind_errors=[1-9]" "$MNT/.ctl/stats"
check "and the name is gone from the mount" test ! -e "$MNT/in/doomed/f"
expect_eq "the content that could not be stored is kept in the cache dir" data \
	"$(cat "$T/cache"/sbxfs-unsaved-* 2>/dev/null)"
rm -f "$T/cache"/sbxfs-unsaved-*
umnt
mnt -o transport=agent,cache_dir="$T/cache",sync_close
ls "$MNT/in" >/dev/null
echo first >"$MNT/in/first2" # a mount's first create is never deferred
doomed doomed2
check "with sync_close the close reports the failed store ($(head -1 "$T/doomed2.out"))" \
	bash -c '! grep -q "^close: ok" "$1" && grep -q "^close: " "$1"' _ "$T/doomed2.out"
expect_eq "with sync_close nothing is stored behind" 0 "$(behind)"
check "and its content is kept too" grep -q data "$T/cache"/sbxfs-unsaved-*

# --- a directory made through the mount stays listed past dir_cache_timeout -----
# Its listing starts empty and short-lived (the watch starts after the
# mkdir); a listing made after the watch, sent behind mkdir's reply, finds
# nothing came in between and keeps it. So creates in it stay deferred once
# dir_cache_timeout has passed, with no listing (a tar x running longer
# than that paid three round trips a file there while stores landed).
umnt
mnt -o transport=agent,dir_cache_timeout=1
ls "$MNT/in" >/dev/null
mkdir "$MNT/in/nd"
echo first >"$MNT/in/nd/first"
sleep 1.5 # past dir_cache_timeout
d0=$(deferred) l0=$(op readdir) c0=$(op create)
for i in 1 2 3 4 5; do echo "$i" >"$MNT/in/nd/n$i"; done
expect_eq "creates in it past dir_cache_timeout: deferred, no listing, no create sent" "5 0 0" \
	"$(($(deferred) - d0)) $(($(op readdir) - l0)) $(($(op create) - c0))"
rx sh -c 'echo sandbox >/srv/d/in/nd/theirs'
expect_eq "  ... and a name the sandbox adds there shows" sandbox "$(timeout 10 cat "$MNT/in/nd/theirs")"

# --- sync_create: every create waits -------------------------------------------
umnt
mnt -o transport=agent,sync_create
ls "$MNT/in" >/dev/null
echo x >"$MNT/in/s1"
echo y >"$MNT/in/s2"
expect_eq "with sync_create nothing is deferred" 0 "$(deferred)"
expect_eq "and the files are there" "x y" "$(rx cat /srv/d/in/s1 /srv/d/in/s2 | tr '\n' ' ' | sed 's/ $//')"
umnt

# --- owner, mode and times set right after a close: they never wait for the
# file's store (Python's tarfile, rsync and scripts set them by path after the
# close, which queued the store). The mount talks to the sandbox through a
# proxy that is stopped (SIGSTOP) meanwhile: every store stays queued or in
# flight, so a chown, chmod or utime that waited for one would hang there.
# The extraction is tarfile's own, file by file, without the check that the
# directory exists before each file (a stat that asks the sandbox).
check "the proxy listens" start_delayproxy
mnt -o transport=agent,api_host="http://127.0.0.1:$PX_PORT",token_file="$SBX_STATE_DIR/token"
mkdir "$MNT/in/pt"
ls "$MNT/in/pt" >/dev/null
echo first >"$MNT/in/pt/first" # a mount's first create waits
mkdir "$T/pt"
for i in $(seq 1 20); do
	printf 'pt %s\n' "$i" >"$T/pt/p$i"
	chmod $((i % 2 ? 640 : 604)) "$T/pt/p$i"
	touch -d "@$((1500000000 + i * 1000))" "$T/pt/p$i"
done
want=$(cd "$T/pt" && for i in $(seq 1 20); do stat -c "p$i %a %Y 1234 2345" "p$i"; done)
tar -C "$T/pt" --owner=1234 --group=2345 --numeric-owner -cf "$T/pt.tar" $(cd "$T/pt" && ls)
after() { sed -n 's/^store .* attrs_after=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
s0=$(op setattr)
a0=$(after)
freeze
timeout 60 python3 -c 'import sys, tarfile
tf = tarfile.open(sys.argv[1])
for m in tf.getmembers():
    p = sys.argv[2] + "/" + m.name
    tf.makefile(m, p)
    tf.chown(m, p, True)
    tf.chmod(m, p)
    tf.utime(m, p)' "$T/pt.tar" "$MNT/in/pt"
expect_eq "tar x by Python's tarfile (chown, chmod, utime after each close) ends with the sandbox unreachable" \
	0 $?
# a shell's redirection closes the file twice (after its dup2, and when
# done): the second close finds the store queued, which takes its data
timeout 60 sh -c 'for i in 1 2 3; do echo "sh $i" >"$1/sh$i"; done' sh "$MNT/in/pt"
expect_eq "files written by shell redirections end with the sandbox unreachable" 0 $?
# (by full paths: a stat of the directory, which cd makes, asks the sandbox)
expect_eq "and a stat through the mount shows the owner, modes and times it set" "$want" \
	"$(for i in $(seq 1 20); do timeout 60 stat -c "p$i %a %Y %u %g" "$MNT/in/pt/p$i"; done)"
thaw
echo sync >"$MNT/.ctl/ctl"
expect_eq "after sync in .ctl/ctl the sandbox has them all" "$want" \
	"$(rx sh -c 'cd /srv/d/in/pt && for i in $(seq 1 20); do stat -c "p$i %a %Y %u %g" "p$i"; done')"
expect_eq "  ... and the files of the shell's redirections" "sh 1 sh 2 sh 3" \
	"$(rx sh -c 'cat /srv/d/in/pt/sh1 /srv/d/in/pt/sh2 /srv/d/in/pt/sh3' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "and the mount still shows them (the stores' answers predate them)" "$want" \
	"$(for i in $(seq 1 20); do stat -c "p$i %a %Y %u %g" "$MNT/in/pt/p$i"; done)"
s1=$(op setattr)
a1=$(after)
echo "# setattr round trips: $((s1 - s0)), of them $((a1 - a0)) after stores, off tar's path"
expect_eq "no setattr round trip on tar's path" 0 $((s1 - s0 - (a1 - a0)))

# one that fails there (an owner the sandbox does not map) fails like a store;
# the chown comes once the file's store is in flight (in_flight= in .ctl/stats:
# before that it would go with the store, and fail it)
# a witness process holds a handle open meanwhile (in a process of its own:
# every child of this shell that inherited a handle would flush it at exit)
python3 -c 'import os, sys
fd = os.open(sys.argv[1] + "/in/pt/witness", os.O_WRONLY | os.O_CREAT, 0o644)
with open(sys.argv[2] + "/ready", "w") as r:
    r.write("open\n")
with open(sys.argv[2] + "/go") as g:
    g.readline()
try:
    os.fsync(fd)
    print("ok")
except OSError as e:
    print(e.strerror)' "$MNT" "$T" >"$T/wit.out" 2>&1 &
wpy=$!
read -r _ <"$T/ready"
echo sync >"$MNT/.ctl/ctl" # the witness is stored; its handle stays open
ls "$MNT/in/pt" >/dev/null
freeze
timeout 60 python3 -c 'import os, sys, time
def in_flight():
    for l in open(sys.argv[2]):
        if l.startswith("store "):
            return int(l.split("in_flight=")[1].split()[0])
with open(sys.argv[1], "w") as f:
    f.write("kept\n")
while in_flight() < 1:
    time.sleep(0.01)
os.chown(sys.argv[1], 3000000, 3000000)' "$MNT/in/pt/bad" "$MNT/.ctl/stats"
expect_eq "a chown while the file's store is in flight returns at once" 0 $?
thaw
echo sync >"$MNT/.ctl/ctl" 2>/dev/null # fails when the setattr failed during it
echo go >"$T/go"
wait $wpy
expect_eq "the fsync of a handle open when that chown failed gets EIO" "Input/output error" \
	"$(cat "$T/wit.out")"
check "the failure is counted in .ctl/stats" \
	grep -q "^store .* behind_errors=[1-9]" "$MNT/.ctl/stats"
expect_eq "the file was stored all the same" kept "$(rx cat /srv/d/in/pt/bad)"
expect_eq "and a stat through the mount shows the sandbox's owner" "$(rx stat -c %u /srv/d/in/pt/bad)" \
	"$(stat -c %u "$MNT/in/pt/bad")"
umnt
thaw

# --- a directory's owner, mode and times, set after its files, never wait ----
# tar x and cp -a set them on every directory they made once its files are
# closed: a chown, a chmod and a utimensat. On a directory made through the
# mount they are answered at once and made behind (src/fs/dattr.h), one
# request for the changes of a directory in a row, after the stores queued
# before them and before those queued after. Through the stopped proxy, a
# change that waited would hang.
mnt -o transport=agent,api_host="http://127.0.0.1:$PX_PORT",token_file="$SBX_STATE_DIR/token"
mkdir "$MNT/in/dt"
ls "$MNT/in/dt" >/dev/null
echo first >"$MNT/in/dt/first" # a mount's first create waits
mkdir "$MNT/in/dt/a" "$MNT/in/dt/b" "$MNT/in/dt/gone" "$MNT/in/dt/new" "$MNT/in/dt/late"
for i in $(seq 1 20); do echo "a $i" >"$MNT/in/dt/a/f$i"; done
da() { sed -n 's/^store .* dir_attrs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
errs() { sed -n 's/^store .* behind_errors=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
echo sync >"$MNT/.ctl/ctl"
# their attributes fresh (the kernel checks each change, and the create
# below, against them): after sync no report of ours is on its way
stat "$MNT/in/dt" "$MNT/in/dt/a" "$MNT/in/dt/b" "$MNT/in/dt/gone" >/dev/null
s0=$(op setattr) d0=$(da) e0=$(errs)
freeze
# files whose stores wait at the proxy: what follows stays queued behind them
timeout 60 sh -c 'for i in 1 2 3; do echo "sh $i" >"$1/sh$i"; done' sh "$MNT/in/dt"
expect_eq "three files written with the sandbox unreachable" 0 $?
(cd "$MNT/in/dt" && timeout 60 sh -c 'chown 1234:2345 a && chmod 750 a &&
	touch -d @1500000000 a && chmod 705 b && touch -m -d @1600000000 b && chmod 700 gone')
expect_eq "chown, chmod and touch of directories made here end with the sandbox unreachable" 0 $?
expect_eq "  ... and a stat through the mount shows them" \
	"a 750 1234 2345 1500000000 b 705 1600000000" \
	"$(cd "$MNT/in/dt" && timeout 60 stat -c '%n %a %u %g %Y' a | tr '\n' ' ' &&
		timeout 60 stat -c '%n %a %Y' b)"
SBX_NO_MOUNT_SYNC=1 rx rmdir /srv/d/in/dt/gone # (sbxd itself, not the proxy; no sync of the mount first)
thaw
echo sync >"$MNT/.ctl/ctl" 2>/dev/null # fails: gone's chmod failed during it
expect_eq "after sync the sandbox has them, the mtime after the stores queued before" \
	"a 750 1234 2345 1500000000 b 705 1600000000" \
	"$(rx sh -c 'cd /srv/d/in/dt && stat -c "%n %a %u %g %Y" a | tr "\n" " " && stat -c "%n %a %Y" b')"
expect_eq "  ... and every file under it" 20 "$(rx sh -c 'cat /srv/d/in/dt/a/f* | wc -l')"
expect_eq "  ... and the files of the redirections" "sh 1 sh 2 sh 3" \
	"$(rx sh -c 'cat /srv/d/in/dt/sh1 /srv/d/in/dt/sh2 /srv/d/in/dt/sh3' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "  ... in one request a directory ($(($(da) - d0)) answered at once)" 3 \
	$(($(op setattr) - s0))
expect_eq "one the sandbox refused (its directory removed there) counts as a failure" 1 \
	$(($(errs) - e0))
check "  ... and the mount no longer shows that directory" \
	timeout 60 sh -c "until ! stat '$MNT/in/dt/gone' 2>/dev/null; do sleep 0.1; done"
# what the sandbox sees of such a directory comes after them
touch -d @1500000000 "$MNT/in/dt/new"
mkdir "$MNT/in/dt/new/sub"
m=$(rx stat -c %Y /srv/d/in/dt/new)
check "a name made in a directory after its times moves its mtime ($m)" test "$m" -gt 1600000000
expect_eq "  ... which the mount shows" "$m" "$(stat -c %Y "$MNT/in/dt/new")"
touch -d @1500000000 "$MNT/in/dt/late"
echo late >"$MNT/in/dt/late/f" # a store queued behind them
echo sync >"$MNT/.ctl/ctl"
m=$(rx stat -c %Y /srv/d/in/dt/late)
check "a file stored after a directory's times moves its mtime ($m)" test "$m" -gt 1600000000
chmod 711 "$MNT/in/dt/late"
# cp -a sets a directory's mode as an access ACL and removes its default
# ACL: on a directory made here both go behind or are known (it has no
# extended attribute when its parent has no default ACL)
mkdir -p "$T/cpa/top/d1/d2" "$T/cpa/top/d3"
for d in top top/d1 top/d1/d2 top/d3; do
	echo "in $d" >"$T/cpa/$d/f"
	chmod 751 "$T/cpa/$d"
	touch -d @1400000000 "$T/cpa/$d"
done
x0=$(op xattr) s0=$(op setattr) d0=$(da)
timeout 60 cp -a "$T/cpa/top" "$MNT/in/dt/"
expect_eq "cp -a of 4 directories into the mount" 0 $?
echo sync >"$MNT/.ctl/ctl"
want=$(cd "$T/cpa" && find top -type d | sort | xargs stat -c '%n %a %Y')
expect_eq "  ... the sandbox has their modes and times" "$want" \
	"$(rx sh -c 'cd /srv/d/in/dt && find top -type d | sort | xargs stat -c "%n %a %Y"')"
check "  ... which went behind ($(($(da) - d0)) changes, $(($(op setattr) - s0)) setattrs)" \
	test $(($(da) - d0)) -ge 12
check "  ... with at most one xattr round trip ($(($(op xattr) - x0)): the first directory's names)" \
	test $(($(op xattr) - x0)) -le 1
expect_eq "a /.ctl job sees a mode set just before it" 711 \
	"$(ctl_exec "$MNT/.ctl/exec" 'stat -c %a /srv/d/in/dt/late')"
umnt

# --- an rmdir waits for the stores queued before it, not for a quiet queue --------
# rmdir, a rename of a directory, a directory's times and a job wait for
# the stores queued before them (wback_drain). A writer that never pauses
# must not hold them: through a proxy adding 50 ms a round trip, it keeps
# about 200 stores queued (never none, never a full queue, past which
# closes store themselves), and an rmdir made meanwhile returns while it
# still writes (before, it waited for the writer's end).
"$BUILD/sbx-delayproxy" -t "${API#http://}" -d 25 >"$T/px2.port" 2>"$T/px2.log" &
px2=$!
for i in $(seq 1 500); do
	[ -s "$T/px2.port" ] && break
	sleep 0.01
done
mnt -o transport=agent,api_host="http://127.0.0.1:$(head -1 "$T/px2.port")",token_file="$SBX_STATE_DIR/token"
mkdir -p "$MNT/in/wq/gone" "$MNT/in/wq/files" # (the writer's apart: rmdir locks the parent)
ls "$MNT/in/wq/files" >/dev/null
echo first >"$MNT/in/wq/files/first" # a mount's first create waits
mkfifo "$T/wq.ready"
python3 - "$MNT/in/wq/files" "$T" "$MNT/.ctl/stats" >"$T/wq.out" 2>&1 <<'EOF' &
import os, sys, time
d, t, stats = sys.argv[1:4]
def behind():  # stores made behind closes, ended
    for l in open(stats):
        if l.startswith("store "):
            return int(l.split(" behind=")[1].split()[0])
end, i, b0 = time.monotonic() + 90, 0, behind()
while time.monotonic() < end and not os.path.exists(t + "/wq.stop"):
    if i - (behind() - b0) >= 200:  # about 200 queued: never empty, never full
        time.sleep(0.002)
        continue
    with open("%s/w%d" % (d, i), "w") as f:
        f.write("w %d\n" % i)
    i += 1
    if i == 300:
        with open(t + "/wq.ready", "w") as r:
            r.write("go\n")
print("stopped" if os.path.exists(t + "/wq.stop") else "ran out", i)
EOF
wq=$!
read -r _ <"$T/wq.ready"
timeout 120 rmdir "$MNT/in/wq/gone"
rc=$?
touch "$T/wq.stop"
wait $wq
expect_eq "rmdir while a writer keeps the write-behind queue busy" 0 $rc
check "  ... returns before the writer stops ($(cat "$T/wq.out"))" grep -q "^stopped" "$T/wq.out"
umnt
kill "$px2"
wait "$px2" 2>/dev/null
finish
