#!/usr/bin/env bash
# t_async.sh - sbxfs with the agent answers FUSE when the sandbox replies,
# without holding a worker thread per request (src/fs/later.h): with two
# worker threads and the link to the sandbox stopped, thirty mkdirs are in
# flight at once (and listings, first reads, setattrs, getxattrs,
# listxattrs, statfs, setxattrs, removexattrs), and requests the caches
# answer (stat, cat, /.ctl/stats) are answered meanwhile. When the link comes back every one of them lands;
# errors of the sandbox come back through the same path; a request past
# op_timeout fails with EIO; SIGTERM answers what is in flight first.
# The link is a delay proxy (bench/delayproxy.c) stopped with SIGSTOP.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
mnt() { tm "$BUILD/sbxfs" -o "transport=agent,api_host=http://127.0.0.1:$PX_PORT,token_file=$SBX_STATE_DIR/token,$1" "$ID:/srv/a" "$MNT"; }
fspid() { pgrep -f "[s]bxfs .*$ID:/srv/a $MNT" | head -1; }
N=30

start_sbxd
ID=$(sbx create --name async1)
check "sandbox created" test -n "$ID"
rx sh -c "mkdir -p /srv/a/full/x && echo hi >/srv/a/cached && for i in \$(seq 1 $N); do mkdir /srv/a/d\$i; done"
check "the proxy listens" start_delayproxy
mkdir -p "$MNT"

# --- many requests in flight, two workers -----------------------------------
mnt max_threads=2
ls -l "$MNT" "$MNT"/d* >/dev/null # listings and attributes cached, watched
cat "$MNT/cached" >/dev/null # its content too
expect_eq "nothing in flight before" 0 "$(async in_flight)"
# each mkdir is in another directory, so the kernel sends them all at once
burst mkdirs 'mkdir "$MNT/d$i/new" 2>"$T/mkdir$i.err"'
check "a stat the caches answer is answered meanwhile" timeout 10 stat "$MNT/cached"
expect_eq "and so is a read of a cached file" hi "$(timeout 10 cat "$MNT/cached")"
check "nothing reached the sandbox yet" test -z "$(rx sh -c 'ls -d /srv/a/d*/new 2>/dev/null')"
thaw
reap
expect_eq "every mkdir succeeded once the link came back" "0 " "$bad $(cat "$T"/mkdir*.err)"
expect_eq "every directory is in the sandbox" $N "$(rx sh -c 'ls -d /srv/a/d*/new | wc -l')"
expect_eq "and in the mount" $N "$(ls -d "$MNT"/d*/new | wc -l)"
expect_eq "nothing left in flight" 0 "$(async in_flight)"
check "the most at once is counted ($(async most))" test "$(async most)" -ge $N

# --- listings too: thirty directories the mount never read --------------------
rx sh -c "for i in \$(seq 1 $N); do mkdir /srv/a/e\$i && echo \$i >/srv/a/e\$i/f\$i; done"
for _ in $(seq 1 500); do [ "$(ls "$MNT" | grep -c '^e')" = $N ] && break; sleep 0.02; done
expect_eq "the new directories are reported" $N "$(ls "$MNT" | grep -c '^e')"
burst listings 'ls "$MNT/e$i" >"$T/ls$i.out" 2>&1'
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every listing succeeded" 0 "$bad"
expect_eq "with the sandbox's names" "f1 f$N" "$(cat "$T/ls1.out") $(cat "$T/ls$N.out")"
expect_eq "and the contents came along" "1 $N" "$(cat "$MNT/e1/f1") $(cat "$MNT/e$N/f$N")"

# --- and reads: a first read's listing or fetch ------------------------------
# thirty directories listed but never read: each first read asks for a tree
# listing that brings the small files (prefetch); thirty files larger than
# prefetch= get a fetch each. Neither holds a worker thread.
rx sh -c "for i in \$(seq 1 $N); do mkdir /srv/a/g\$i && echo g\$i >/srv/a/g\$i/s && head -c 300000 /dev/urandom >/srv/a/g\$i/big; done; sha256sum /srv/a/g*/big | sed 's| /srv/a/| |' >/srv/a/sums"
for _ in $(seq 1 500); do [ "$(ls "$MNT" | grep -c '^g')" = $N ] && break; sleep 0.02; done
ls -l "$MNT"/g* >/dev/null
burst "first reads (listings)" 'cat "$MNT/g$i/s" >"$T/rs$i.out" 2>&1'
expect_eq "a read of a cached file is answered meanwhile" hi "$(timeout 10 cat "$MNT/cached")"
thaw
reap
expect_eq "every read succeeded" 0 "$bad"
expect_eq "with the sandbox's bytes" "g1 g$N" "$(cat "$T/rs1.out") $(cat "$T/rs$N.out")"
burst "first reads (fetches)" 'sha256sum "$MNT/g$i/big" >"$T/rb$i.out" 2>&1'
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every fetch succeeded" 0 "$bad"
expect_eq "with the sandbox's bytes" "$(rx cat /srv/a/sums | sort -k2 -V)" \
	"$(cat "$T"/rb*.out | sed "s| $MNT/| |" | sort -k2 -V)"
# and writes that need the content first: appends to files never read
rx sh -c "for i in \$(seq 1 $N); do mkdir /srv/a/h\$i && echo h\$i >/srv/a/h\$i/a; done"
for _ in $(seq 1 500); do [ "$(ls "$MNT" | grep -c '^h')" = $N ] && break; sleep 0.02; done
ls -l "$MNT"/h* >/dev/null
burst "appends to files not read yet" 'echo more 2>"$T/ap$i.err" >>"$MNT/h$i/a"'
expect_eq "a read of a cached file is answered meanwhile" hi "$(timeout 10 cat "$MNT/cached")"
thaw
reap
expect_eq "every append succeeded" "0 " "$bad $(cat "$T"/ap*.err)"
expect_eq "  ... after the sandbox's bytes" "h1 more h$N more" \
	"$(rx cat /srv/a/h1/a /srv/a/h$N/a | tr '\n' ' ' | sed 's/ $//')"
rx sh -c "echo changed >/srv/a/g1/s; head -c 300000 /dev/urandom >/srv/a/g2/big"
expect_eq "a file changed in the sandbox reads anew" changed "$(tm cat "$MNT/g1/s")"
expect_eq "and a large one too" "$(rx sha256sum /srv/a/g2/big | cut -d' ' -f1)" \
	"$(sha256sum "$MNT/g2/big" | cut -d' ' -f1)"
# many reads of one file while its fetch is in flight (threads reading
# one descriptor at four places): each is answered when the fetch ends
rx sh -c "head -c 3000000 /dev/urandom >/srv/a/g3/big3"
tm ls -l "$MNT/g3" >/dev/null
q0=$(async reads_queued)
exec 9<"$MNT/g3/big3" # another descriptor of it, closed meanwhile
freeze
python3 - "$MNT/g3/big3" "$T/b3" <<'PY' &
import os, sys, threading
fd = os.open(sys.argv[1], os.O_RDONLY)
def part(i):
    with open(f"{sys.argv[2]}.{i}", "wb") as f:
        f.write(os.pread(fd, 65536, i * 524288))
ts = [threading.Thread(target=part, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
PY
pids=($!)
expect_eq "one fetch is in flight for them" 1 "$(in_flight 1)"
for _ in $(seq 1 500); do [ "$(async reads_queued)" -ge $((q0 + 3)) ] && break; sleep 0.02; done
check "  ... and the other reads wait with it, not on a worker ($q0 -> $(async reads_queued))" \
	test "$(async reads_queued)" -ge $((q0 + 3))
check "  ... and a close of the file does not wait for it (nothing to store)" \
	timeout 10 sh -c "exec 9<&-"
exec 9<&-
thaw
reap
expect_eq "every read of it succeeded" 0 "$bad"
for i in 0 1 2 3; do
	rx dd if=/srv/a/g3/big3 bs=64k skip=$((i * 8)) count=1 status=none >"$T/b3s.$i"
	check "  ... part $i is the sandbox's" cmp "$T/b3.$i" "$T/b3s.$i"
done
rx sh -c "head -c 300000 /dev/urandom >/srv/a/g4/big4"
tm ls -l "$MNT/g4" >/dev/null
pid=$(fspid)
freeze
dd if="$MNT/g4/big4" bs=4k count=1 status=none 2>"$T/term.err" | sha256sum >"$T/term.out" &
rd=$!
expect_eq "a fetch is in flight" 1 "$(in_flight 1)"
kill -TERM "$pid"
thaw
wait $rd
# (its close comes after the unmount: ENOTCONN)
expect_eq "a read in flight at SIGTERM is answered first, with the sandbox's bytes" "$(rx sh -c 'head -c 4096 /srv/a/g4/big4 | sha256sum' | cut -d' ' -f1)" \
	"$(cut -d' ' -f1 "$T/term.out")"
for _ in $(seq 1 500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
check "  ... and sbxfs exits" test ! -d "/proc/$pid"

# --- and large files' reads by ranges ----------------------------------------
# with whole_max=64 the g*/big files (300000 bytes) are read by ranges
# (fcache_range.c): a read that waits for its ranged reads is parked, it
# holds no worker thread
mnt max_threads=2,whole_max=64
ls -l "$MNT" "$MNT"/g* >/dev/null
cat "$MNT/cached" >/dev/null
p0=$(async reads_parked)
freeze
pids=()
for i in $(seq 1 $N); do
	dd if="$MNT/g$i/big" bs=4k count=1 skip=$((i * 2)) status=none >"$T/rr$i.out" 2>"$T/rr$i.err" &
	pids+=($!)
done
n=$(in_flight $N)
check "$N large files' reads in flight at once on 2 worker threads ($n)" test "${n:-0}" -ge $N
check "  ... each parked, none on a worker ($p0 -> $(async reads_parked))" \
	test "$(async reads_parked)" -ge $((p0 + N))
check "  ... and a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every ranged read succeeded" "0 " "$bad $(cat "$T"/rr*.err)"
rx sh -c "for i in \$(seq 1 $N); do dd if=/srv/a/g\$i/big bs=4k count=1 skip=\$((i * 2)) status=none | sha256sum; done" >"$T/rr.want"
for i in $(seq 1 $N); do sha256sum <"$T/rr$i.out"; done >"$T/rr.got"
check "  ... with the sandbox's bytes" cmp "$T/rr.want" "$T/rr.got"
# and their closes after writes through: each waits for its writes'
# answers and the stat sent behind them, on no worker thread (the bytes
# at 150000, where the reads below do not look)
head -c 100000 /dev/urandom >"$T/wt"
burst "closes of large files written through" \
	'dd if="$T/wt" of="$MNT/g$i/big" bs=100000 count=1 oflag=seek_bytes seek=150000 conv=notrunc status=none 2>"$T/wt$i.err"'
check "  ... and a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every close succeeded" "0 " "$bad $(cat "$T"/wt*.err)"
expect_eq "  ... the sandbox has the bytes written, and the rest" \
	"$(sha256sum <"$T/wt" | cut -d' ' -f1) 300000" \
	"$(rx sh -c "tail -c +150001 /srv/a/g$N/big | head -c 100000 | sha256sum | cut -d' ' -f1; stat -c %s /srv/a/g1/big" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "  ... and the mount shows what the sandbox has" \
	"$(rx sha256sum /srv/a/g1/big | cut -d' ' -f1)" "$(sha256sum <"$MNT/g1/big" | cut -d' ' -f1)"
# and their fsyncs: an FSYNC on the handle behind the writes, then a stat
f0=$(sed -n 's/^store .*fsyncs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats")
burst "fsyncs of large files written through" \
	'python3 -c "import os,sys; fd = os.open(sys.argv[1], os.O_WRONLY); os.pwrite(fd, b\"fsynced\", 150000); os.fsync(fd)" "$MNT/g$i/big" 2>"$T/wf$i.err"'
check "  ... and a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every fsync succeeded" "0 " "$bad $(cat "$T"/wf*.err)"
expect_eq "  ... counted, and the sandbox has the bytes" "$((f0 + N)) fsynced" \
	"$(sed -n 's/^store .*fsyncs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats") $(rx sh -c "tail -c +150001 /srv/a/g$N/big | head -c 7")"
# many reads of one large file, at four places: the first parks, the
# others queue behind it and are answered in turn, each parking again
q0=$(async reads_queued)
freeze
python3 - "$MNT/g3/big3" "$T/r3" <<'PY' &
import os, sys, threading
fd = os.open(sys.argv[1], os.O_RDONLY)
def part(i):
    with open(f"{sys.argv[2]}.{i}", "wb") as f:
        f.write(os.pread(fd, 65536, 2097152 + i * 196608))
ts = [threading.Thread(target=part, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
PY
pids=($!)
for _ in $(seq 1 500); do [ "$(async reads_queued)" -ge $((q0 + 3)) ] && break; sleep 0.02; done
check "the reads of one large file queue behind its parked read ($q0 -> $(async reads_queued))" \
	test "$(async reads_queued)" -ge $((q0 + 3))
thaw
reap
expect_eq "  ... every one succeeded" 0 "$bad"
for i in 0 1 2 3; do
	rx dd if=/srv/a/g3/big3 bs=64k skip=$((32 + i * 3)) count=1 status=none >"$T/r3s.$i"
	check "  ... part $i is the sandbox's" cmp "$T/r3.$i" "$T/r3s.$i"
done
# an open large file after a cache drop: the read's stat (the copy is
# checked) is parked too
exec 9<"$MNT/g5/big"
dd bs=4k count=1 status=none <&9 >/dev/null
echo drop-caches >"$MNT/.ctl/ctl"
rx sh -c "head -c 300000 /dev/urandom >/srv/a/g5/new && mv /srv/a/g5/new /srv/a/g5/big"
p0=$(async reads_parked)
freeze
python3 -c 'import os,sys; sys.stdout.buffer.write(os.pread(9, 4096, 200704))' >"$T/r5.out" &
pids=($!)
n=$(in_flight 1)
check "a revalidating read is in flight ($n)" test "${n:-0}" -ge 1
check "  ... parked ($p0 -> $(async reads_parked))" test "$(async reads_parked)" -gt "$p0"
# (every process started here has fd 9: its exit closes it, a flush)
check "  ... and a close of the file meanwhile does not wait for it (nothing to store)" \
	timeout 10 sh -c "exec 9<&-"
thaw
reap
exec 9<&-
expect_eq "  ... and it reads the file's new bytes" \
	"$(rx sh -c 'dd if=/srv/a/g5/big bs=4k skip=49 count=1 status=none | sha256sum')" \
	"$(sha256sum <"$T/r5.out")"
# SIGTERM: a parked read is answered before the unmount
pid=$(fspid)
ls -l "$MNT/g6" >/dev/null # (attributes dropped above)
p0=$(async reads_parked)
freeze
dd if="$MNT/g6/big" bs=4k count=1 skip=20 status=none 2>"$T/rterm.err" | sha256sum >"$T/rterm.out" &
rd=$!
for _ in $(seq 1 500); do [ "$(async reads_parked)" -gt "$p0" ] && break; sleep 0.02; done
check "a ranged read is parked ($p0 -> $(async reads_parked))" test "$(async reads_parked)" -gt "$p0"
kill -TERM "$pid"
thaw
wait $rd
expect_eq "a ranged read parked at SIGTERM is answered first, with the sandbox's bytes" \
	"$(rx sh -c 'dd if=/srv/a/g6/big bs=4k skip=20 count=1 status=none | sha256sum' | cut -d' ' -f1)" \
	"$(cut -d' ' -f1 "$T/rterm.out")"
for _ in $(seq 1 500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
check "  ... and sbxfs exits" test ! -d "/proc/$pid"
mnt max_threads=2
ls -l "$MNT" "$MNT"/e* >/dev/null

# --- and setattr of files not open: chmod, chown, touch ------------------------
burst chmods 'chmod 600 "$MNT/e$i/f$i"'
thaw
reap
expect_eq "every chmod succeeded" 0 "$bad"
expect_eq "the mount shows the new mode" "600 600" "$(stat -c %a "$MNT/e1/f1" "$MNT/e$N/f$N" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "and so does the sandbox" "600 600" "$(rx stat -c %a /srv/a/e1/f1 /srv/a/e$N/f$N | tr '\n' ' ' | sed 's/ $//')"
touch -d @1500000000 "$MNT/e2/f2"
expect_eq "utimensat lands" 1500000000 "$(rx stat -c %Y /srv/a/e2/f2)"

# --- extended attributes and statfs ------------------------------------------
for i in $(seq 1 $N); do setfattr -n user.k -v "v$i" "$MNT/e$i/f$i"; done
ls -l "$MNT"/e* >/dev/null
echo drop-caches >"$MNT/.ctl/ctl" # no list of names known: the list, then the value
tm stat "$MNT"/e*/f* >/dev/null
burst getxattrs 'getfattr -n user.k --only-values "$MNT/e$i/f$i" >"$T/xa$i.out" 2>/dev/null'
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every getxattr succeeded" 0 "$bad"
expect_eq "with the sandbox's values" "v1 v$N" "$(cat "$T/xa1.out") $(cat "$T/xa$N.out")"
expect_eq "a name the sandbox does not have: ENODATA" "No such attribute" \
	"$(getfattr -n user.none "$MNT/e1/f1" 2>&1 >/dev/null | sed 's/.*: //')"
echo drop-caches >"$MNT/.ctl/ctl"
tm stat "$MNT"/e*/f* >/dev/null
freeze
pids=()
for i in $(seq 1 $N); do
	getfattr -d "$MNT/e$i/f$i" >"$T/xl$i.out" 2>/dev/null &
	pids+=($!)
done
stat -f -c %b "$MNT" >"$T/statfs.out" &
pids+=($!)
n=$(in_flight $((N + 1)))
expect_eq "$N listxattrs and a statfs in flight at once" $((N + 1)) "$n"
thaw
reap
expect_eq "every listxattr and the statfs succeeded" 0 "$bad"
expect_eq "the names and values listed" 'user.k="v7"' "$(grep user "$T/xl7.out")"
expect_eq "the statfs says the sandbox's size" "$(rx stat -f -c %b /srv/a)" "$(cat "$T/statfs.out")"

# --- and setxattr, removexattr --------------------------------------------------
# (the kernel holds the file's lock over each: one per file at a time)
for op in "-n user.new -v n" "-x user.k"; do
	before=$(rx getfattr -d /srv/a/e1/f1 2>/dev/null | grep user | tr '\n' ' ')
	freeze
	pids=()
	for i in $(seq 1 $N); do
		# shellcheck disable=SC2086 # the words of op
		setfattr ${op/#-n user.new -v n/-n user.new -v n$i} "$MNT/e$i/f$i" &
		pids+=($!)
	done
	n=$(in_flight $N)
	expect_eq "$N setfattr $op in flight at once on 2 worker threads" $N "$n"
	check "  ... nothing reached the sandbox yet" \
		test "$(rx getfattr -d /srv/a/e1/f1 2>/dev/null | grep user | tr '\n' ' ')" = "$before"
	thaw
	reap
	expect_eq "  ... and every one succeeded" 0 "$bad"
done
expect_eq "the sandbox has the new names, not the old" 'user.new="n1" user.new="n30"' \
	"$(rx getfattr -d /srv/a/e1/f1 /srv/a/e$N/f$N 2>/dev/null | grep user | tr '\n' ' ' | sed 's/ $//')"
expect_eq "and so has the mount" 'user.new="n1" user.new="n30"' \
	"$(getfattr -d "$MNT/e1/f1" "$MNT/e$N/f$N" 2>/dev/null | grep user | tr '\n' ' ' | sed 's/ $//')"
expect_eq "a value set is read back" n7 "$(getfattr -n user.new --only-values "$MNT/e7/f7")"
expect_eq "a removed name: ENODATA" "No such attribute" \
	"$(getfattr -n user.k "$MNT/e7/f7" 2>&1 >/dev/null | sed 's/.*: //')"
expect_eq "removing a name the file does not have: ENODATA" "No such attribute" \
	"$(setfattr -x user.none "$MNT/e7/f7" 2>&1 | sed 's/.*: //')"
expect_eq "XATTR_CREATE of a name that exists: EEXIST" EEXIST \
	"$(python3 -c 'import os,sys
try: os.setxattr(sys.argv[1], "user.new", b"x", os.XATTR_CREATE); print("ok")
except OSError as e: print(__import__("errno").errorcode[e.errno])' "$MNT/e7/f7")"
c0=$(stat -c %Z "$MNT/e8/f8")
sleep 1.1
setfattr -n user.t -v 1 "$MNT/e8/f8"
check "the ctime moved" test "$(stat -c %Z "$MNT/e8/f8")" -gt "$c0"

# --- the sandbox's answers through the same path ----------------------------
err() { "$@" 2>&1 >/dev/null | sed 's/.*: //'; }
expect_eq "mkdir of an existing name: EEXIST" "File exists" "$(err mkdir "$MNT/d1/new")"
expect_eq "rmdir of a non-empty directory: ENOTEMPTY" "Directory not empty" \
	"$(err rmdir "$MNT/full")"
ln -s "target with space" "$MNT/d1/sl"
expect_eq "symlink and readlink" "target with space" "$(readlink "$MNT/d1/sl")"
echo data >"$MNT/d2/f"
ln "$MNT/d2/f" "$MNT/d2/g"
mv "$MNT/d2/g" "$MNT/d3/h"
expect_eq "link and rename land" "data 2" "$(rx sh -c 'cat /srv/a/d3/h; stat -c %h /srv/a/d2/f' | tr '\n' ' ' | sed 's/ $//')"
rm "$MNT/d3/h" "$MNT/d1/sl"
rmdir "$MNT/d1/new"
expect_eq "unlink and rmdir land" "" "$(rx sh -c 'ls -d /srv/a/d3/h /srv/a/d1/sl /srv/a/d1/new 2>/dev/null')"
fusermount3 -u "$MNT"

# --- and stores: the close or fsync of a file the sandbox has ----------------
# close-to-open: each close stores the file and returns the store's error,
# and so does fsync; the store is in flight without a worker thread
# (src/fs/fcache_astore.c)
rx sh -c "for i in \$(seq 1 $N); do echo old\$i >/srv/a/d\$i/s; done"
mnt max_threads=2
ls -l "$MNT" "$MNT"/d* >/dev/null
cat "$MNT/cached" >/dev/null
stores() { timeout 10 sed -n "s/^store .*in_flight=\([0-9]*\).*/\1/p" "$MNT/.ctl/stats"; }
burst "closes storing" 'echo new$i 2>"$T/st$i.err" >"$MNT/d$i/s"'
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
expect_eq "  ... and /.ctl/stats, with the stores in flight" $N "$(stores)"
# (no `sbx exec` now: it would wait for these stores, as it must)
thaw
reap
expect_eq "every close succeeded" "0 " "$bad $(cat "$T"/st*.err)"
expect_eq "the sandbox has every new content" "$(seq 1 $N | sed 's/^/new/')" \
	"$(rx sh -c "for i in \$(seq 1 $N); do cat /srv/a/d\$i/s; done")"
expect_eq "nothing left in flight" "0 0" "$(async in_flight) $(stores)"
f0=$(sed -n 's/^store .*fsyncs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats")
burst "fsyncs storing" 'python3 -c "import os,sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND); os.write(fd, b\"more\\n\"); os.fsync(fd)" "$MNT/d$i/s" 2>"$T/fs$i.err"'
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every fsync succeeded" "0 " "$bad $(cat "$T"/fs*.err)"
expect_eq "  ... the sandbox has the appended bytes" "new$N more" \
	"$(rx cat /srv/a/d$N/s | tr '\n' ' ' | sed 's/ $//')"
check "  ... and each is counted as an FSYNC made" \
	test "$(sed -n 's/^store .*fsyncs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats")" -ge $((f0 + N))
# an fsync with nothing left to store (a close stored the file, not onto
# the sandbox's disk) is an FSYNC alone: in flight without a worker too
for i in $(seq 1 $N); do echo again$i >"$MNT/d$i/s"; done
f0=$(sed -n 's/^store .*fsyncs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats")
burst "fsyncs of stored files" 'python3 -c "import os,sys; os.fsync(os.open(sys.argv[1], os.O_RDONLY))" "$MNT/d$i/s" 2>"$T/fa$i.err"'
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every fsync succeeded" "0 " "$bad $(cat "$T"/fa*.err)"
expect_eq "  ... each an FSYNC of the sandbox, counted" "$((f0 + N)) $N" \
	"$(sed -n 's/^store .*fsyncs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats") $(sed -n 's/^rfs\.fsync requests=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats")"
# a change of mode made while a close's store is in flight is applied
# right after it (fcache_attr.c), from the completion thread; the mount
# knows it by then that the agent's files are root's (a first create tells)
echo x >"$MNT/d1/made"
freeze
echo late >"$MNT/d1/s" &
cl=$!
expect_eq "a close's store is in flight" 1 "$(in_flight 1)"
chmod 0604 "$MNT/d1/s"
thaw
wait $cl
expect_eq "  ... the close succeeded" 0 $?
expect_eq "  ... the sandbox has the content and the mode" "late 604" \
	"$(rx sh -c 'cat /srv/a/d1/s; stat -c %a /srv/a/d1/s' | tr '\n' ' ' | sed 's/ $//')"
# an sbx exec waits for the stores in flight (it sees every earlier
# write), and after a while says what it waits for
freeze
printf slow | dd of="$MNT/d2/s" status=none &
cl=$!
expect_eq "a close's store is in flight" 1 "$(in_flight 1)"
timeout 60 "$BUILD/sbx" exec "$ID" -- cat /srv/a/d2/s >"$T/ex.out" 2>"$T/ex.err" &
ex=$!
for _ in $(seq 1 300); do grep -q "waiting for files" "$T/ex.err" && break; sleep 0.02; done
check "an sbx exec meanwhile says what it waits for" \
	grep -q "sbx: waiting for files written through a mount of $ID" "$T/ex.err"
thaw
wait $cl
expect_eq "  ... the close succeeded" 0 $?
wait $ex
expect_eq "  ... and the exec, which sees the file as closed" "0 slow" "$? $(cat "$T/ex.out")"
# the close of a new file is queued (write-behind, src/fs/wback.h) up to
# 1,024 files; past that bound a close stores its file itself, answered
# later as well
ls -l "$MNT/full" >/dev/null
freeze
(for i in $(seq 1 1100); do echo q$i >"$MNT/full/q$i" || exit 1; done) 2>"$T/pq.err" &
ql=$!
expect_eq "with the link stopped, closes of new files are queued up to the bound" 1 \
	"$(in_flight 1)"
pids=()
for i in $(seq 1 $N); do
	echo p$i 2>"$T/pb$i.err" >"$MNT/full/p$i" &
	pids+=($!)
done
expect_eq "  ... and past it $((N + 1)) closes in flight at once on 2 worker threads" \
	$((N + 1)) "$(in_flight $((N + 1)))"
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
wait $ql
expect_eq "every close succeeded" "0 0 " "$bad $? $(cat "$T"/pb*.err "$T/pq.err")"
echo sync >"$MNT/.ctl/ctl"
expect_eq "  ... the sandbox has every file" "$((1100 + N)) q1100 p$N" \
	"$(rx sh -c "ls /srv/a/full | grep -c '^[pq]'; cat /srv/a/full/q1100 /srv/a/full/p$N" | tr '\n' ' ' | sed 's/ $//')"
fusermount3 -u "$MNT"

# --- and creates that wait for the sandbox (not deferred: -o sync_create,
# another user's, a mount's first): each is answered when its CREATE is
mnt max_threads=2,sync_create
ls -l "$MNT" "$MNT"/d* >/dev/null
cat "$MNT/cached" >/dev/null
burst "creates" 'echo c$i 2>"$T/cr$i.err" >"$MNT/d$i/c"'
check "a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "every create succeeded" "0 " "$bad $(cat "$T"/cr*.err)"
expect_eq "  ... none deferred, and the sandbox has the files" "0 c1 c$N" \
	"$(sed -n 's/^store .*creates_deferred=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats") $(rx cat /srv/a/d1/c /srv/a/d$N/c | tr '\n' ' ' | sed 's/ $//')"
check "  ... an exclusive create of one of them fails" \
	sh -c "! python3 -c 'import os,sys; os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)' '$MNT/d1/c' 2>/dev/null"
fusermount3 -u "$MNT"

# --- a deadline: op_timeout, then EIO; the worker was free all along ----------
# past_deadline WHAT CMD: with the link stopped, CMD (a shell string; its
# stderr goes to $T/late.err) fails with EIO at op_timeout, and a cached
# stat is answered meanwhile
past_deadline() {
	local late
	freeze
	eval "$2" 2>"$T/late.err" &
	late=$!
	check "a cached stat is answered while the $1 waits" timeout 10 stat "$MNT/cached"
	wait $late
	expect_eq "the $1 past op_timeout fails" 1 $?
	expect_eq "  ... with EIO" "Input/output error" "$(sed 's/.*: //' "$T/late.err")"
	thaw
	expect_eq "  ... nothing left in flight after the deadline" 0 "$(async in_flight)"
}
mnt max_threads=2,op_timeout=2,whole_max=64
ls "$MNT" "$MNT/d4" >/dev/null
past_deadline mkdir 'mkdir "$MNT/d4/late"'
# and a large file's read by ranges (whole_max=64), parked meanwhile
ls -l "$MNT/g7" >/dev/null
past_deadline "ranged read" 'dd if="$MNT/g7/big" bs=4k count=1 status=none >/dev/null'
expect_eq "  ... and the next read gets the sandbox's bytes" \
	"$(rx sh -c 'head -c 4096 /srv/a/g7/big | sha256sum')" \
	"$(dd if="$MNT/g7/big" bs=4k count=1 status=none | sha256sum)"
# and a close that stores a file the sandbox has
rx sh -c 'echo before >/srv/a/d6/s'
tm cat "$MNT/d6/s" >/dev/null
past_deadline "close's store" 'printf after | dd of="$MNT/d6/s" status=none'
# (its release, on the link still stopped, fails too: the content is kept
# in the cache dir, and the file as the sandbox had it, never a part)
expect_eq "  ... the sandbox keeps the file as it was" before "$(rx cat /srv/a/d6/s)"
# the agent may still have made it: the mount learns it from the sandbox
rx mkdir -p /srv/a/d4/late
check "the name is usable afterwards" tm ls -d "$MNT/d4/late"

# --- SIGTERM: what is in flight is answered before the unmount --------------
pid=$(fspid)
ls "$MNT/d5" >/dev/null
# a directory and a /.ctl file still open at SIGTERM: their handles are
# released at teardown (the ASan round reports them otherwise)
exec 7<"$MNT/d5" 8<"$MNT/.ctl/stats"
freeze
mkdir "$MNT/d5/atexit" 2>"$T/atexit.err" &
mk=$!
expect_eq "a mkdir is in flight" 1 "$(in_flight 1)"
kill -TERM "$pid"
thaw
wait $mk
expect_eq "the mkdir in flight at SIGTERM succeeds" "0 " "$? $(cat "$T/atexit.err")"
exec 7<&- 8<&-
for _ in $(seq 1 500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
check "sbxfs exits" test ! -d "/proc/$pid"
check "the directory reached the sandbox" rx test -d /srv/a/d5/atexit
check "the mount is gone" sh -c "! grep -q ' $MNT ' /proc/self/mounts"

finish
