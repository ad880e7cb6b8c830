#!/usr/bin/env bash
# t_mount.sh - sbxfs against a real sbxd: the POSIX operations everyday
# tools use (cp -a, grep -r, find -newer, tar, vim, sed -i, git, mv, ln,
# touch -d, chmod, df), a 50 MB binary file, O_APPEND from two processes,
# hard names, and the errno of each failure. What the mount shows is also
# checked from inside the sandbox (sbx exec), and the other way round.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
section() { echo "# [${SECONDS}s] $*"; }
# rt: round trips so far (from /.ctl/stats)
rt() { sed -n 's/^rfs.total requests=[0-9]* round_trips=//p' "$MNT/.ctl/stats"; }
# every command that touches the mount is bounded

start_sbxd
ID=$(sbx create --name mnt1 --region eu)
check "sandbox created" test -n "$ID"
rx mkdir -p /srv/work
mkdir -p "$MNT"
tm "$BUILD/sbxfs" "$ID:/srv/work" "$MNT"
expect_eq "sbxfs mounts and returns" 0 $?
check "the mount is in place" mountpoint -q "$MNT"
check "mount type is fuse.sbxfs with the spec as source" \
	grep -q "^$ID:/srv/work $MNT fuse.sbxfs " /proc/mounts
check "the root is empty but for ." bash -c '[ -z "$(ls -A "$1")" ]' _ "$MNT"
check "/.ctl is hidden from readdir of /" bash -c '! ls -a "$1" | grep -qx .ctl' _ "$MNT"

# --- cp -a in and out, diff -r, grep -r --------------------------------------
# The tree: 5 directories of NTXT text files (at least 7) and NBIN binary
# ones. Over the shell transport every file costs a few execs (~45 ms
# each): a smaller tree there runs the same operations in a seventh of
# the time (T_MOUNT_FILES=NTXT,NBIN sets it).
if [ "${SBX_E2E_TRANSPORT:-agent}" = shell ]; then
	files=${T_MOUNT_FILES:-8,4}
else
	files=${T_MOUNT_FILES:-40,20}
fi
NTXT=${files%,*} NBIN=${files#*,}
section "cp -a in and out ($NTXT + $NBIN files per directory)"
SRC=$T/src
mkdir -p "$SRC"
for d in a b c d e; do
	mkdir -p "$SRC/$d/deep/er"
	for i in $(seq 1 "$NTXT"); do
		printf 'file %s %s\nneedle-%s\n' "$d" "$i" "$((i % 7))" >"$SRC/$d/f$i.txt"
	done
	for i in $(seq 1 "$NBIN"); do head -c $((i * 97)) /dev/urandom >"$SRC/$d/deep/er/b$i.bin"; done
done
needles=$((5 * $(seq 1 "$NTXT" | awk '$1 % 7 == 3' | wc -l)))
ln -s a/f1.txt "$SRC/link-to-f1"
ln "$SRC/a/f2.txt" "$SRC/hardlink-f2"
chmod 750 "$SRC/b/f3.txt"
chmod 700 "$SRC/c/deep"
touch -d '2001-02-03 04:05:06.123456789' "$SRC/d/f4.txt"
nfiles=$(find "$SRC" | wc -l)
start=$(date +%s)
r0=$(rt)
tm cp -a "$SRC" "$MNT/tree"
expect_eq "cp -a of $nfiles entries into the mount" 0 $?
echo "# cp -a in took $(($(date +%s) - start)) s, $(($(rt) - r0)) round trips"
check "diff -r of the copy in the mount is clean" tm diff -r "$SRC" "$MNT/tree"
expect_eq "the sandbox holds every entry" "$nfiles" "$(rx find /srv/work/tree | wc -l)"
expect_eq "modes kept (750)" 750 "$(stat -c %a "$MNT/tree/b/f3.txt")"
expect_eq "times kept to the nanosecond" "2001-02-03 04:05:06.123456789" \
	"$(stat -c %y "$MNT/tree/d/f4.txt" | cut -d' ' -f1,2)"
expect_eq "symlink kept" "a/f1.txt" "$(readlink "$MNT/tree/link-to-f1")"
expect_eq "hard link kept as a hard link" "$(stat -c %i "$MNT/tree/a/f2.txt")" \
	"$(stat -c %i "$MNT/tree/hardlink-f2")"
# modes and times as the sandbox has them, directories' too: cp -a and tar
# set a directory's times after closing its files, whose stores may still
# be on their way (write-behind) and must not move them again
attrs() { LC_ALL=C find . ! -type l -printf '%P %m %T@\n' | LC_ALL=C sort; }
remote_attrs() { # DIR in the sandbox
	rx sh -c 'cd "$1" && LC_ALL=C find . ! -type l -printf "%P %m %T@\n" | LC_ALL=C sort' _ "$1"
}
(cd "$SRC" && attrs) >"$T/src.attrs"
remote_attrs /srv/work/tree >"$T/cp.attrs"
check "cp -a: every mode and mtime in the sandbox as in the source" diff "$T/src.attrs" "$T/cp.attrs"
r0=$(rt)
tm cp -a "$MNT/tree" "$T/back"
echo "# cp -a out: $(($(rt) - r0)) round trips"
check "cp -a out of the mount, diff -r clean" tm diff -r "$SRC" "$T/back"
r0=$(rt)
expect_eq "grep -r finds every needle ($needles)" "$needles" "$(tm grep -r 'needle-3' "$MNT/tree" | wc -l)"
echo "# grep -r: $(($(rt) - r0)) round trips"
cat "$MNT/tree/a/f7.txt" >/dev/null
r0=$(rt)
cat "$MNT/tree/a/f7.txt" >/dev/null
expect_eq "a second cat within the timeouts costs no round trip" "$r0" "$(rt)"

# --- cp -a sets an ACL instead of a chmod -------------------------------------------
# (the shell transport has no extended attributes: cp falls back to chmod)
if [ "${SBX_E2E_TRANSPORT:-agent}" != shell ]; then
	section "cp -a and ACLs"
	xattr_rt() { sed -n 's/^rfs\.xattr requests=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
	mkdir "$MNT/acl"
	# a default ACL on the directory, set through the mount: files made in
	# it get an access ACL with a named user
	python3 - "$MNT/acl" <<'EOF'
import os, struct, sys
e = lambda tag, perm, i=0xffffffff: struct.pack('<HHI', tag, perm, i)
v = struct.pack('<I', 2) + e(1, 7) + e(2, 7, 4242) + e(4, 5) + e(0x10, 7) + e(0x20, 5)
os.setxattr(sys.argv[1], 'system.posix_acl_default', v)
EOF
	acl_of() { # FILE [access|default] in the sandbox: its ACL's size, or "none"
		rx python3 -c 'import os, sys
try:
    print(len(os.getxattr(sys.argv[1], "system.posix_acl_" + sys.argv[2])))
except OSError:
    print("none")' "$1" "${2:-access}"
	}
	rx sh -c 'echo made >/srv/work/acl/made-there.txt'
	expect_eq "a file made in the sandbox there inherits the ACL (5 entries)" 44 \
		"$(acl_of /srv/work/acl/made-there.txt)"
	printf 'plain\n' >"$T/plain.txt"
	chmod 640 "$T/plain.txt"
	x0=$(xattr_rt)
	tm cp -a "$T/plain.txt" "$MNT/acl/"
	expect_eq "cp -a: its ACL of a mode costs no round trip (a pending chmod)" "$x0" "$(xattr_rt)"
	expect_eq "cp -a: the copy has no access ACL (the inherited one dropped)" none \
		"$(acl_of /srv/work/acl/plain.txt)"
	expect_eq "cp -a: the copy's mode is the source's" "640 plain" \
		"$(rx sh -c 'stat -c %a /srv/work/acl/plain.txt; cat /srv/work/acl/plain.txt' | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "cp -a: the mount shows that mode" 640 "$(stat -c %a "$MNT/acl/plain.txt")"
	# a directory: its ACL of a mode is one setattr (the xattr round trips
	# left: its names, asked for once after the mkdir, waited for by
	# nothing, since its parent may have a default ACL; and cp's removal of
	# the default ACL it inherited)
	mkdir "$T/pdir"
	chmod 751 "$T/pdir"
	x0=$(xattr_rt)
	tm cp -a "$T/pdir" "$MNT/acl/"
	expect_eq "cp -a of a directory: two xattr round trips" $((x0 + 2)) "$(xattr_rt)"
	expect_eq "cp -a of a directory: no ACL in the sandbox, the source's mode" "none none 751" \
		"$(acl_of /srv/work/acl/pdir) $(acl_of /srv/work/acl/pdir default) $(rx stat -c %a /srv/work/acl/pdir)"
fi

# --- find -newer -----------------------------------------------------------------
section "find -newer"
touch -d '2000-01-01' "$MNT/tree/ref"
touch -d '2000-01-02' "$MNT/tree/a/f1.txt" "$MNT/tree/b/f1.txt"
find "$MNT/tree" -type f ! -newer "$MNT/tree/ref" ! -name ref >"$T/old"
expect_eq "find ! -newer lists none older" "" "$(cat "$T/old")"
for f in "$MNT"/tree/*/f*.txt; do touch -d '1999-01-01' "$f"; done
touch "$MNT/tree/a/f5.txt" "$MNT/tree/e/f6.txt"
expect_eq "find -newer lists the files touched after ref" \
	"$MNT/tree/a/f5.txt $MNT/tree/e/f6.txt" \
	"$(tm find "$MNT/tree" -name 'f*.txt' -newer "$MNT/tree/ref" | sort | tr '\n' ' ' | sed 's/ $//')"

# --- tar x in, tar c out ------------------------------------------------------------
section "tar x in, tar c out"
# one old mtime for every member (tar keeps whole seconds)
tar -C "$SRC" --mtime=@978307200 -cf "$T/in.tar" .
(cd "$SRC" && LC_ALL=C find . ! -type l -printf '%P %m 978307200.0000000000\n' | LC_ALL=C sort) \
	>"$T/tar.want"
mkdir "$MNT/untar"
r0=$(rt)
tm tar -C "$MNT/untar" -xf "$T/in.tar"
expect_eq "tar x into the mount" 0 $?
echo "# tar x: $(($(rt) - r0)) round trips"
check "tar x result equals the source" tm diff -r "$SRC" "$MNT/untar"
remote_attrs /srv/work/untar >"$T/tar.attrs"
check "tar x: every mode and mtime in the sandbox as in the archive" diff "$T/tar.want" "$T/tar.attrs"
tm tar -C "$MNT/untar" -cf "$T/out.tar" .
mkdir "$T/untar2"
tar -C "$T/untar2" -xf "$T/out.tar"
check "tar c out of the mount round-trips" diff -r "$SRC" "$T/untar2"

# --- editors and tools -----------------------------------------------------------------
section "editors and tools"
printf 'alpha\nbeta\ngamma\n' >"$MNT/edit.txt"
tm vim -es -u NONE -i NONE -c 'set swapfile backup backupskip= backupdir=. directory=.' \
	-c '%s/beta/BETA/' -c 'wq' "$MNT/edit.txt" </dev/null
expect_eq "vim -es saves (swap and backup on)" "alpha BETA gamma" \
	"$(tr '\n' ' ' <"$MNT/edit.txt" | sed 's/ $//')"
check "vim left its backup file" test -f "$MNT/edit.txt~"
check "vim removed its swap file" bash -c '! ls -a "$1" | grep -q "\.swp$"' _ "$MNT"
expect_eq "the sandbox sees vim's save" "BETA" "$(rx sed -n 2p /srv/work/edit.txt)"
tm sed -i 's/gamma/GAMMA/' "$MNT/edit.txt"
expect_eq "sed -i" "alpha BETA GAMMA" "$(tr '\n' ' ' <"$MNT/edit.txt" | sed 's/ $//')"

mkdir "$MNT/repo"
r0=$(rt)
(
	cd "$MNT/repo" || exit 1
	tm git init -q . && git config user.email t@example.com && git config user.name T &&
		echo one >a && mkdir sub && echo two >sub/b && tm git add -A &&
		tm git commit -q -m first && echo three >>a && tm git commit -q -am second
) >"$T/git.log" 2>&1
expect_eq "git init/add/commit in the mount" 0 $?
echo "# git init, add, 2 commits: $(($(rt) - r0)) round trips"
expect_eq "git status is clean" "" "$(cd "$MNT/repo" && tm git status --porcelain)"
expect_eq "git log has both commits" 2 "$(cd "$MNT/repo" && tm git log --oneline | wc -l)"
check "git fsck is happy" bash -c 'cd "$1" && timeout 120 git fsck >/dev/null 2>&1' _ "$MNT/repo"
expect_eq "the sandbox's git agrees" "second" "$(rx git -C /srv/work/repo log -1 --format=%s)"

# --- mv, ln, ln -s, touch -d, chmod, df ----------------------------------------------------
section "mv, ln, ln -s"
mkdir -p "$MNT/m1" "$MNT/m2/inner"
echo moved >"$MNT/m1/x"
tm mv "$MNT/m1/x" "$MNT/m2/inner/y"
check "mv across directories: gone from the source" test ! -e "$MNT/m1/x"
expect_eq "mv across directories: content at the target" moved "$(cat "$MNT/m2/inner/y")"
tm mv "$MNT/m2" "$MNT/m1/m2"
expect_eq "mv of a directory carries its children" moved "$(cat "$MNT/m1/m2/inner/y")"
echo keep >"$MNT/m1/target"
echo new >"$MNT/m1/src"
tm mv -f "$MNT/m1/src" "$MNT/m1/target"
expect_eq "mv replaces an existing target" new "$(cat "$MNT/m1/target")"
ln "$MNT/m1/target" "$MNT/m1/hard"
expect_eq "ln: two names, one inode" "$(stat -c %i "$MNT/m1/target")" "$(stat -c %i "$MNT/m1/hard")"
expect_eq "ln: link count 2" 2 "$(stat -c %h "$MNT/m1/hard")"
echo more >>"$MNT/m1/hard"
expect_eq "a write through one name shows through the other" "new more" \
	"$(tr '\n' ' ' <"$MNT/m1/target" | sed 's/ $//')"
ln -s "../m1/target" "$MNT/m1/sym"
expect_eq "ln -s / readlink" "../m1/target" "$(readlink "$MNT/m1/sym")"
expect_eq "the sandbox sees the symlink" "../m1/target" "$(rx readlink /srv/work/m1/sym)"
touch -d '2010-05-06 07:08:09.987654321' "$MNT/m1/target"
expect_eq "touch -d with nanoseconds" "2010-05-06 07:08:09.987654321" \
	"$(stat -c %y "$MNT/m1/target" | cut -d' ' -f1,2)"
expect_eq "the sandbox sees the time" "2010-05-06 07:08:09.987654321" \
	"$(rx stat -c %y /srv/work/m1/target | cut -d' ' -f1,2)"
chmod 640 "$MNT/m1/target"
expect_eq "chmod" 640 "$(stat -c %a "$MNT/m1/target")"
expect_eq "the sandbox sees chmod" 640 "$(rx stat -c %a /srv/work/m1/target)"
check "df works" bash -c 'timeout 60 df -P "$1" | tail -1 | awk "{exit !(\$2 > 0)}"' _ "$MNT"

# --- 50 MB binary -------------------------------------------------------------------
section "50 MB binary"
head -c 50000000 /dev/urandom >"$T/big"
want=$(sha256sum <"$T/big" | cut -d' ' -f1)
start=$(date +%s)
tm cp "$T/big" "$MNT/big.bin"
expect_eq "50 MB written" 0 $?
echo "# 50 MB in took $(($(date +%s) - start)) s"
expect_eq "the sandbox has the same 50 MB" "$want" "$(rx sha256sum /srv/work/big.bin | cut -d' ' -f1)"
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
start=$(date +%s)
expect_eq "50 MB read back equal" "$want" "$(tm sha256sum <"$MNT/big.bin" | cut -d' ' -f1)"
echo "# 50 MB out took $(($(date +%s) - start)) s"
python3 - "$MNT/big.bin" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"XYZ", 10_000_000)
os.pwrite(fd, b"tail", 60_000_000)        # sparse: a hole up to here
os.close(fd)
EOF
expect_eq "random-offset and sparse writes" "60000004 XYZ" \
	"$(stat -c %s "$MNT/big.bin") $(rx dd if=/srv/work/big.bin bs=1 skip=10000000 count=3 status=none)"
expect_eq "the hole reads as zeros" "00000000" \
	"$(rx dd if=/srv/work/big.bin bs=1 skip=55000000 count=4 status=none | od -An -tx1 | tr -d ' \n')"

# --- O_APPEND from two processes, shared cache --------------------------------------------------
section "O_APPEND from two"
python3 - "$MNT/app.log" <<'EOF'
import os, sys
p = sys.argv[1]
open(p, "w").close()
fa = os.open(p, os.O_WRONLY | os.O_APPEND)
fb = os.open(p, os.O_WRONLY | os.O_APPEND)
pid = os.fork()
for i in range(300):
    os.write(fa if pid else fb, (("A" if pid else "B") + "%03d\n" % i).encode())
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
# a reader through a third handle sees what the others wrote, before any close
r = os.open(p, os.O_RDONLY)
print(len(os.read(r, 1 << 20)))
os.close(r); os.close(fa); os.close(fb)
EOF
expect_eq "O_APPEND from two processes keeps every line" "300 300 600" \
	"$(grep -c '^A[0-9]*$' "$MNT/app.log") $(grep -c '^B[0-9]*$' "$MNT/app.log") $(rx wc -l </dev/null /srv/work/app.log | cut -d' ' -f1)"
pids=
for k in 1 2; do
	(for i in $(seq 1 15); do echo "s$k-$i" >>"$MNT/app2.log"; done) &
	pids="$pids $!"
done
wait $pids # not a bare wait: sbxd is a child too
expect_eq "shell >> from two processes" 30 "$(wc -l <"$MNT/app2.log")"

# --- hard names ------------------------------------------------------------------------------------------
section "hard names"
python3 - "$MNT/names" <<'EOF' >"$T/names.out"
import os, sys
d = sys.argv[1]
os.mkdir(d)
names = ["with space", "quote'\"s", "new\nline", "ünïcødé ✓", "-leading-dash", "--", "$(id)", "back\\slash", "*", "tab\there"]
for n in names:
    with open(os.path.join(d, n), "w") as f:
        f.write(n)
got = sorted(os.listdir(d))
ok = got == sorted(names) and all(open(os.path.join(d, n)).read() == n for n in names)
print("ok" if ok else "bad %r" % got)
EOF
expect_eq "names with spaces, quotes, newlines, unicode, dashes" ok "$(cat "$T/names.out")"
expect_eq "the sandbox sees the same 10 names" 10 \
	"$(rx find /srv/work/names -mindepth 1 -maxdepth 1 -printf x | wc -c)"

# --- a large directory read in pieces while it changes --------------------------------------------------
# readdir offsets are keys made from the names (src/fs/dirlist.h): a listing
# read in several getdents calls, while names go (through the mount and in
# the sandbox) and come, returns every name that stayed exactly once and
# none twice, whichever listing serves each piece.
section "a large directory read in pieces while it changes"
rx sh -c 'mkdir /srv/work/big && cd /srv/work/big &&
	seq -f "%04g-a-long-name-so-that-each-getdents-call-returns-only-a-part-of-the-directory" \
		0 1499 | xargs touch'
tm python3 - "$MNT" >"$T/big.out" 2>&1 <<'EOF'
import collections, os, sys
mnt = sys.argv[1]
d = mnt + "/big"
def job(cmd):  # runs in the sandbox; its changes are applied before EOF
    fd = os.open(mnt + "/.ctl/exec", os.O_RDWR)
    os.write(fd, cmd.encode())
    while os.read(fd, 65536):
        pass
    os.close(fd)
first = sorted(os.listdir(d))
removed, seen = set(), []
for e in os.scandir(d):
    seen.append(e.name)
    if len(seen) == 100:  # some read, most not: names go both ways
        for n in first[::25]:  # few: each is a round trip over shell
            os.unlink(os.path.join(d, n))
            removed.add(n)
        with open(os.path.join(d, "new-through-the-mount"), "w"):
            pass
    if len(seen) == 400:
        job("cd /srv/work/big && rm -f ./???7-a-long* && touch new-in-the-sandbox")
        removed.update(n for n in first if n[3] == "7")
count = collections.Counter(seen)
dup = sorted(n for n, c in count.items() if c > 1)
lost = sorted(n for n in set(first) - removed if count[n] != 1)
print(len(first), len(dup), len(lost), dup[:3], lost[:3])
EOF
expect_eq "getdents in pieces: every name that stayed once, none twice" "1500 0 0 [] []" \
	"$(cat "$T/big.out")"
expect_eq "  ... and a listing after it is the sandbox's" \
	"$(rx sh -c 'ls -a /srv/work/big' | sort | md5sum)" "$(ls -a "$MNT/big" | sort | md5sum)"
# removed in the sandbox by a job: one round trip, where rm -r through the
# mount makes one per name (over the shell transport a minute)
tm python3 -c 'import os, sys
fd = os.open(sys.argv[1] + "/.ctl/exec", os.O_RDWR)
os.write(fd, b"rm -rf /srv/work/big")
while os.read(fd, 65536):
    pass' "$MNT"
check "  ... removed by a job, it is gone from the mount" test ! -e "$MNT/big"

# --- errno of each failure ----------------------------------------------------------------------------------
section "errno of each failure"
python3 - "$MNT" <<'EOF' >"$T/errno.out"
import ctypes, errno, os, sys
m = sys.argv[1]
os.mkdir(m + "/e"); os.mkdir(m + "/e/full"); open(m + "/e/full/x", "w").close()
open(m + "/e/file", "w").close(); open(m + "/e/other", "w").close()
def code(f):
    try:
        f()
        return "OK"
    except OSError as x:
        return errno.errorcode[x.errno]
libc = ctypes.CDLL(None, use_errno=True)
def renameat2(a, b, flags):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
checks = [
    ("open missing", lambda: open(m + "/e/missing")),
    ("stat missing", lambda: os.stat(m + "/e/nope/x")),
    ("mkdir existing", lambda: os.mkdir(m + "/e/full")),
    ("O_EXCL existing", lambda: os.open(m + "/e/file", os.O_CREAT | os.O_EXCL | os.O_WRONLY)),
    ("rmdir non-empty", lambda: os.rmdir(m + "/e/full")),
    ("open dir for writing", lambda: open(m + "/e/full", "w")),
    ("unlink dir", lambda: os.unlink(m + "/e/full")),
    ("listdir of a file", lambda: os.listdir(m + "/e/file")),
    ("file as a dir", lambda: open(m + "/e/file/x", "w")),
    ("rmdir a file", lambda: os.rmdir(m + "/e/file")),
    ("rename dir onto non-empty dir", lambda: os.rename(m + "/e", m + "/e/full")),
    ("RENAME_NOREPLACE", lambda: renameat2(m + "/e/file", m + "/e/other", 1)),
    ("RENAME_EXCHANGE", lambda: renameat2(m + "/e/file", m + "/e/other", 2)),
    ("rename file onto dir", lambda: os.rename(m + "/e/file", m + "/e/full")),
    ("symlink onto existing", lambda: os.symlink("x", m + "/e/file")),
    ("link onto existing", lambda: os.link(m + "/e/file", m + "/e/other")),
]
for name, f in checks:
    print(name + ": " + code(f))
EOF
# swapping two names is done by the agent, refused by the shell transport
XCHG=EINVAL
grep -q '"transport": *"agent"' "$MNT/.ctl/info" && XCHG=OK
expect_eq "errno of each failure" "open missing: ENOENT
stat missing: ENOENT
mkdir existing: EEXIST
O_EXCL existing: EEXIST
rmdir non-empty: ENOTEMPTY
open dir for writing: EISDIR
unlink dir: EISDIR
listdir of a file: ENOTDIR
file as a dir: ENOTDIR
rmdir a file: ENOTDIR
rename dir onto non-empty dir: EINVAL
RENAME_NOREPLACE: EEXIST
RENAME_EXCHANGE: $XCHG
rename file onto dir: EISDIR
symlink onto existing: EEXIST
link onto existing: EEXIST" "$(cat "$T/errno.out")"

# --- consistency: changes made in the sandbox show up ----------------------------------------------------------
section "consistency:"
rx sh -c 'echo remote > /srv/work/remote.txt'
echo drop-caches >"$MNT/.ctl/ctl"
expect_eq "a file made in the sandbox shows after drop-caches" remote "$(cat "$MNT/remote.txt")"
rx sh -c 'echo changed > /srv/work/remote.txt'
sleep 6 # past attr_timeout (5 s): close-to-open
expect_eq "a file changed in the sandbox shows at the next open" changed "$(cat "$MNT/remote.txt")"

# --- unmount -----------------------------------------------------------------------------------------------
section "unmount"
# a second sbxd started while the mount exists copies the mount table into
# its own namespace: it must not keep the mount (and so sbxfs) alive
mkdir -p "$T/state2"
"$BUILD/sbxd" --state-dir "$T/state2" --listen 127.0.0.1:0 >>"$T/sbxd2.log" 2>&1 &
SBXD2=$!
for i in $(seq 1 500); do [ -s "$T/state2/sbxd.json" ] && break; sleep 0.01; done
check "a second sbxd started during the mount" test -s "$T/state2/sbxd.json"
tm fusermount3 -u "$MNT"
expect_eq "fusermount3 -u" 0 $?
for i in $(seq 1 300); do pgrep -f "sbxfs $ID:/srv/work $MNT" >/dev/null || break; sleep 0.1; done
check "sbxfs exited after the unmount" bash -c '! pgrep -f "sbxfs $1:/srv/work $2" >/dev/null' _ "$ID" "$MNT"
kill -TERM "$SBXD2" && wait "$SBXD2"
sbx rm "$ID" >/dev/null
finish
