#!/usr/bin/env bash
# t_queued.sh - a request for a file whose store, or read, or setattr is
# in flight waits for it in a queue, not on a worker thread
# (src/fs/fcache_lock.c): with two worker threads and the link to the
# sandbox stopped, thirty closes storing their files are in flight, and
# then thirty writes, truncates, fsyncs, reads, opens or closes of the same
# files (through descriptors opened before) join them, while a cached stat
# is answered. When the link comes back each lands after what it waited
# for, in order. Also: a setattr of an open file is answered when the
# sandbox answered, and requests for that file queue behind it; a store
# at a file's last release (writes through a mapping after its close)
# holds no worker, and an open of the file queues behind it.
# The link is a delay proxy (bench/delayproxy.c) stopped with SIGSTOP.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
mnt() { tm "$BUILD/sbxfs" -o "transport=agent,api_host=http://127.0.0.1:$PX_PORT,token_file=$SBX_STATE_DIR/token,$1" "$ID:/srv/q" "$MNT"; }
N=30

start_sbxd
ID=$(sbx create --name queued1)
check "sandbox created" test -n "$ID"
rx sh -c "mkdir -p /srv/q && echo hi >/srv/q/cached && for i in \$(seq 1 $N); do mkdir /srv/q/d\$i && echo old\$i >/srv/q/d\$i/s; done"
check "the proxy listens" start_delayproxy
mkdir -p "$MNT"
mnt max_threads=2
ls -l "$MNT" "$MNT"/d* >/dev/null
cat "$MNT/cached" >/dev/null

# op.py PATH FIFO OP OUT: opens PATH read-write (then makes OUT.open),
# waits until FIFO says go, makes OP through that descriptor (OUT: what a
# read got), closes it
cat >"$T/op.py" <<'PY'
import os, sys
path, fifo, op, out = sys.argv[1:5]
fd = os.open(path, os.O_RDWR)
open(out + ".open", "w").close()
with open(fifo, "rb") as f:
    f.read(1)
try:
    if op == "write":
        os.pwrite(fd, b"W", 0)
    elif op == "truncate":
        os.ftruncate(fd, 2)
    elif op == "fsync":
        os.fsync(fd)
    elif op == "read":
        with open(out, "wb") as o:
            o.write(os.pread(fd, 100, 0))
    elif op == "open":
        os.close(os.open(path, os.O_RDONLY))
    os.close(fd)
except OSError as e:
    print(e, file=sys.stderr)
    sys.exit(1)
PY
# behind_stores OP: thirty closes storing new$i into d$i/s, in flight with
# the link stopped; then OP through a descriptor of each file opened
# before: all sixty in flight at once while a cached stat is answered
behind_stores() {
	local i ops=()
	# the contents here, so that each store's write needs no fetch (the
	# kernel holds a file's lock over a write: the OP would wait there)
	cat "$MNT"/d*/s >/dev/null
	for i in $(seq 1 $N); do
		rm -f "$T/go$i" "$T/out$i.open"
		mkfifo "$T/go$i"
		python3 "$T/op.py" "$MNT/d$i/s" "$T/go$i" "$1" "$T/out$i" 2>"$T/op$i.err" &
		ops+=($!)
	done
	for i in $(seq 1 $N); do
		for _ in $(seq 1 500); do [ -e "$T/out$i.open" ] && break; sleep 0.01; done
	done
	burst "closes storing" 'store_new $i'
	for i in $(seq 1 $N); do echo >"$T/go$i"; done
	expect_eq "  ... and $N ${1}s of the same files queued behind them" $N "$(waiting $N)"
	expect_eq "  ... the stores still in flight" $N "$(async in_flight)"
	check "  ... a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
	# (no `sbx exec` now: it would wait for these stores, as it must)
	thaw
	reap
	expect_eq "  ... every close succeeded" "0 " "$bad $(cat "$T"/st*.err)"
	pids=("${ops[@]}")
	reap
	expect_eq "  ... and every $1" "0 " "$bad $(cat "$T"/op*.err)"
	expect_eq "  ... nothing left in flight or queued" "0 0" "$(async in_flight) $(async lock_waiting)"
}
# store_new I: rewrites d$I/s in place with new$I (one close, one store)
store_new() {
	python3 -c 'import sys; open(sys.argv[1], "r+b").write(sys.argv[2].encode())' \
		"$MNT/d$1/s" "new$1
" 2>"$T/st$1.err"
}
# waiting N: at_least N requests wait for a file's lock in a queue
waiting() { at_least lock_waiting "$1"; }
sandbox() { echo "$(rx cat /srv/q/d1/s) $(rx cat /srv/q/d$N/s)"; }

behind_stores write
expect_eq "each write landed after the close's store" "Wew1 Wew$N" "$(sandbox)"
behind_stores truncate
expect_eq "each truncate landed after the close's store" "ne ne" "$(sandbox)"
behind_stores fsync
expect_eq "each fsync came after the close's store" "new1 new$N" "$(sandbox)"
behind_stores read
expect_eq "each read saw what the close stored" "new1 new$N" \
	"$(cat "$T/out1" "$T/out$N" | tr '\n' ' ' | sed 's/ $//')"
behind_stores open
behind_stores close
expect_eq "and the sandbox has what the closes stored" "new1 new$N" "$(sandbox)"

# --- a setattr of an open file: answered when the sandbox answered ------------
# (ftruncate of a file with nothing to store: the size is set in the
# sandbox, so that its errno and a sparse file are the sandbox's)
for i in $(seq 1 $N); do rm -f "$T/go$i" && mkfifo "$T/go$i"; done
cat >"$T/tr.py" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
with open(sys.argv[2], "rb") as f:
    f.read(1)
os.ftruncate(fd, 3)
os.pwrite(fd, b"T", 0)
os.close(fd)
PY
freeze
pids=()
for i in $(seq 1 $N); do
	python3 "$T/tr.py" "$MNT/d$i/s" "$T/go$i" 2>"$T/tr$i.err" &
	pids+=($!)
done
for i in $(seq 1 $N); do echo >"$T/go$i"; done
expect_eq "$N ftruncates of open files in flight at once on 2 worker threads" $N "$(in_flight $N)"
check "  ... a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
thaw
reap
expect_eq "  ... every one succeeded, then its write and close" "0 " "$bad $(cat "$T"/tr*.err)"
expect_eq "  ... in that order" "Tew Tew" "$(sandbox)"
# an ftruncate past the sandbox filesystem's largest file: its errno
expect_eq "an ftruncate past the largest file gives the sandbox's EFBIG" EFBIG \
	"$(python3 -c 'import os,sys,errno
fd = os.open(sys.argv[1], os.O_RDWR)
try: os.ftruncate(fd, 999999999999999); print("ok")
except OSError as e: print(errno.errorcode[e.errno])' "$MNT/d1/s")"
expect_eq "  ... and the file is as it was" Tew "$(rx cat /srv/q/d1/s)"
# an open and read of the file queue behind the setattr in flight (a
# write could not: the kernel holds the file's lock over a truncate)
exec 9<>"$MNT/d2/s"
freeze
python3 -c 'import os; os.ftruncate(9, 1)' &
pids=($!)
expect_eq "an ftruncate is in flight" 1 "$(in_flight 1)"
python3 -c 'import sys; sys.stdout.write(open(sys.argv[1]).read())' "$MNT/d2/s" \
	>"$T/qr.out" 2>"$T/qr.err" &
pids+=($!)
expect_eq "  ... and an open of the same file queued behind it" 1 "$(waiting 1)"
check "  ... while a close of the file does not wait (nothing to store)" \
	timeout 10 sh -c "exec 9<&-"
thaw
reap
exec 9<&-
expect_eq "  ... both succeeded, and the read saw the truncated file" "0 T T" \
	"$bad $(cat "$T/qr.out" "$T/qr.err") $(rx cat /srv/q/d2/s)"

# --- a store at a file's last release -------------------------------------
# Writes through a shared mapping after the file's last close are written
# back when it is unmapped, then the file is released: that release
# stores them. The kernel does not wait for its answer; sbxfs answers at
# once and the store holds no thread (src/fs/fcache_release.c).
# mm.py PATH FIFO READY: writes the file's first byte again (its content
# comes here, the close stores it), maps it, closes it, writes M through
# the mapping, makes READY, waits until FIFO says go, and unmaps it.
# (mmap(2) through ctypes: Python's mmap module keeps a descriptor of its
# own, whose close would store the file before the release.)
cat >"$T/mm.py" <<'PY'
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
path, fifo, ready = sys.argv[1:4]
fd = os.open(path, os.O_RDWR)
os.pwrite(fd, os.pread(fd, 1, 0), 0)
p = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
if p == ctypes.c_void_p(-1).value:
    sys.exit("mmap: " + os.strerror(ctypes.get_errno()))
os.close(fd)
ctypes.memmove(p, b"M", 1)
open(ready, "w").close()
with open(fifo, "rb") as f:
    f.read(1)
if libc.munmap(p, 4096) != 0:
    sys.exit("munmap: " + os.strerror(ctypes.get_errno()))
PY
pids=()
for i in $(seq 1 $N); do
	rm -f "$T/go$i" "$T/mm$i.ready" && mkfifo "$T/go$i"
	python3 "$T/mm.py" "$MNT/d$i/s" "$T/go$i" "$T/mm$i.ready" 2>"$T/mm$i.err" &
	pids+=($!)
done
for i in $(seq 1 $N); do
	for _ in $(seq 1 500); do [ -e "$T/mm$i.ready" ] && break; sleep 0.01; done
done
freeze
for i in $(seq 1 $N); do echo >"$T/go$i"; done
reap
expect_eq "$N processes that wrote through mappings after the close unmapped them" "0 " \
	"$bad $(cat "$T"/mm*.err)"
expect_eq "  ... their files' stores at the last release in flight on 2 worker threads" \
	$N "$(in_flight $N)"
check "  ... a cached stat is answered meanwhile" timeout 10 stat "$MNT/cached"
cat "$MNT/d1/s" >"$T/mmr.out" 2>&1 &
pids=($!)
expect_eq "  ... an open of such a file is queued behind its store" 1 "$(waiting 1)"
# an sbx exec started now waits for those stores (it sees every write)
rx cat /srv/q/d1/s /srv/q/d$N/s >"$T/mmx.out" 2>&1 &
pids+=($!)
thaw
reap
expect_eq "  ... the open saw what was stored, and so did an sbx exec started meanwhile" \
	"0 Mew MewMew" "$bad $(cat "$T/mmr.out") $(cat "$T/mmx.out")"
expect_eq "the sandbox has every file's new byte" "Mew M Mew" \
	"$(rx cat /srv/q/d1/s) $(rx cat /srv/q/d2/s) $(rx cat /srv/q/d$N/s)"
expect_eq "  ... nothing left in flight or queued" "0 0" "$(async in_flight) $(async lock_waiting)"
fusermount3 -u "$MNT"

finish
