#!/usr/bin/env bash
# t_defer.sh - deferred creates of sbxfs with the agent: a file created in a
# directory whose listing is cached and watched is made in the sandbox by
# its first store, so unpacking a tree pays one round trip a file, and
# nothing of it is lost or seen wrong: a /.ctl job sees a file still open,
# a rename, link or unlink of a file still open acts on it in the sandbox,
# and a store that fails for good takes the name away again.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
on_exit() {
	local rc=$?
	fusermount3 -u -z "$MNT" 2>/dev/null
	(exit $rc)
	cleanup
}
trap on_exit EXIT
tm() { timeout 120 "$@"; }
rx() { timeout 60 "$BUILD/sbx" -q exec "$ID" -- "$@"; }
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
r0=$(rt)
tm tar -C "$MNT/in" -xf "$T/src.tar"
expect_eq "tar x succeeds" 0 $?
r1=$(rt)
echo "# tar x of 81 files and a directory: $((r1 - r0)) round trips, $(($(op create) - c0)) creates sent"
check "the creates were deferred ($(deferred))" test "$(deferred)" -ge 80
check "tar x pays at most about one round trip a file ($((r1 - r0)))" test $((r1 - r0)) -le 95
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

# --- a store that fails for good: the name goes --------------------------------
mkdir "$MNT/in/doomed"
ls "$MNT/in/doomed" >/dev/null
mkfifo "$T/go" "$T/ready"
# (the sandbox side is driven from here, not from the python: a child's
# copy of the descriptor would be closed at its exec, and a close stores)
cat >"$T/doomed.py" <<'EOF'
import os, sys
m, t = sys.argv[1:3]
f = os.open(m + "/in/doomed/f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(f, b"data\n")
with open(t + "/ready", "w") as r:
    r.write("open\n")
with open(t + "/go") as g:
    g.readline()
try:
    os.close(f)
    print("close: ok")
except OSError as e:
    print("close:", e.strerror)
EOF
python3 "$T/doomed.py" "$MNT" "$T" >"$T/doomed.out" 2>&1 &
py=$!
read -r _ <"$T/ready"
check "the file is not in the sandbox before its first store" rx sh -c '! test -e /srv/d/in/doomed/f'
rx rmdir /srv/d/in/doomed
echo go >"$T/go"
wait $py
check "close reports the failed store ($(cat "$T/doomed.out"))" \
	bash -c '! grep -q "^close: ok" "$1" && grep -q "^close: " "$1"' _ "$T/doomed.out"
check "and the name is gone from the mount" test ! -e "$MNT/in/doomed/f"
expect_eq "the content that could not be stored is kept in the cache dir" data \
	"$(cat "$T/cache"/sbxfs-unsaved-* 2>/dev/null)"

# --- sync_create: every create waits -------------------------------------------
umnt
mnt -o transport=agent,sync_create
ls "$MNT/in" >/dev/null
echo x >"$MNT/in/s1"
echo y >"$MNT/in/s2"
expect_eq "with sync_create nothing is deferred" 0 "$(deferred)"
expect_eq "and the files are there" "x y" "$(rx cat /srv/d/in/s1 /srv/d/in/s2 | tr '\n' ' ' | sed 's/ $//')"
umnt
finish
