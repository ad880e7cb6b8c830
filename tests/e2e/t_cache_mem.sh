#!/usr/bin/env bash
# t_cache_mem.sh - where sbxfs keeps file contents (fcache.h): a small
# file's content is in memory (a memfd), not a file of the cache dir (on
# ext4 making thousands of those cost more than the network: a cold
# grep -r of 3,700 files took 5.2 s instead of 1.3 s); a content that grows
# past FCACHE_MEM_MAX (1 MiB) moves to the cache dir whole, by appends, by
# one large write, by truncate, and the bytes stay right; a large file read
# by ranges lives in the cache dir. (A small file whose store failed is
# still kept in the cache dir: t_defer.sh, t_mount_fail.sh.) And the
# memory of 100 stores at once stays bounded (the frames in flight).
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
CD=$T/cache
on_exit() {
	local rc=$?
	exec 7>&- 8>&- 9>&- 2>/dev/null
	fusermount3 -u -z "$MNT" 2>/dev/null
	(exit $rc)
	cleanup
}
trap on_exit EXIT
tm() { timeout 120 "$@"; }
rx() { timeout 120 "$BUILD/sbx" -q exec "$ID" -- "$@"; }
sum_of() { sha256sum | cut -d' ' -f1; }
spilled() { sed -n 's/^cache\.data .* spilled=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
mnt() {
	tm "$BUILD/sbxfs" -o "cache_dir=$CD,sync_close" "$ID:/srv/m" "$MNT"
	FSPID=$(pgrep -n -f "sbxfs .*$MNT")
}
# fds of sbxfs: in memory, and in the cache dir
fds_mem() { ls -l "/proc/$FSPID/fd" 2>/dev/null | grep -c '/memfd:sbxfs-content'; }
fds_dir() { ls -l "/proc/$FSPID/fd" 2>/dev/null | grep -c -- "-> $CD/"; }

start_sbxd
ID=$(sbx create --name cachemem)
check "sandbox created" test -n "$ID"
rx sh -c 'mkdir -p /srv/m/d && for i in $(seq 1 40); do printf "small %s\n" $i >/srv/m/d/f$i; done'
mkdir -p "$MNT" "$CD"
mnt
check "mounted" mountpoint -q "$MNT"
check "sbxfs found" test -n "$FSPID"

# --- small files read: contents in memory, none in the cache dir --------------
tm cat "$MNT"/d/f* >"$T/all"
expect_eq "40 small files read" 40 "$(wc -l <"$T/all")"
m=$(fds_mem)
check "their contents are kept in memory ($m memfds)" test "$m" -ge 40
expect_eq "and no file of the cache dir holds one" 0 "$(fds_dir)"
expect_eq "nothing spilled" 0 "$(spilled)"

# --- growth past 1 MiB: by appends, the bytes stay right -----------------------
head -c 3000000 /dev/urandom >"$T/grow"
s0=$(spilled)
exec 9>>"$MNT/grow"
for off in 0 500000 1000000 1500000 2000000 2500000; do
	dd if="$T/grow" iflag=skip_bytes,count_bytes skip=$off count=500000 status=none >&9
done
exec 9>&-
expect_eq "a file grown by appends to 3 MB reads back the same" "$(sum_of <"$T/grow")" \
	"$(sum_of <"$MNT/grow")"
expect_eq "and the sandbox has the same bytes" "$(sum_of <"$T/grow")" \
	"$(rx sha256sum /srv/m/grow | cut -d' ' -f1)"
check "its content moved to the cache dir once it grew ($(spilled) spilled)" \
	test "$(spilled)" -gt "$s0"

# --- one write of 2 MiB into a new file ------------------------------------------
head -c 2097152 /dev/urandom >"$T/big"
tm cp "$T/big" "$MNT/big"
expect_eq "a 2 MiB file written at once is right in the sandbox" "$(sum_of <"$T/big")" \
	"$(rx sha256sum /srv/m/big | cut -d' ' -f1)"

# --- truncate a small open file up past 1 MiB, then write at its end ----------
printf 'head' >"$MNT/tr"
exec 8<>"$MNT/tr"
tm truncate -s 1500000 "$MNT/tr"
printf 'tail' | dd of="$MNT/tr" bs=1 seek=1500000 conv=notrunc status=none
exec 8>&-
expect_eq "truncated up and written at the end: size" 1500004 "$(rx stat -c %s /srv/m/tr)"
expect_eq "the head is there" head "$(rx head -c 4 /srv/m/tr)"
expect_eq "the tail is there" tail "$(rx tail -c 4 /srv/m/tr)"
expect_eq "zeros between" 0 "$(rx sh -c 'head -c 1500000 /srv/m/tr | tail -c +5 | tr -d "\0" | wc -c')"

# --- a large file by ranges: its copy is in the cache dir ------------------------
rx sh -c 'head -c 8388608 /dev/urandom >/srv/m/large'
want=$(rx sha256sum /srv/m/large | cut -d' ' -f1)
exec 7<"$MNT/large"
expect_eq "an 8 MiB file reads right" "$want" "$(sum_of <&7)"
check "while open, its copy is a file of the cache dir" test "$(fds_dir)" -ge 1
exec 7>&-

# --- the memory of many stores at once ----------------------------------------
# 100 processes close rewritten files of 4 MB (whole files: each close is
# a store answered later) at about the same time: the stores' frames are
# not kept until answered, their senders take room in the session's stdin
# window before they read their data, and blocks that large are given
# back when freed (src/fs/main.c, tune_malloc), so sbxfs's peak memory
# grows by about the window and the FUSE buffers (27 MiB here), not by the
# bytes in flight (400 MB: 107 MiB of growth here with d4374f7, before
# these bounds)
fusermount3 -u "$MNT"
K=100
rx sh -c "mkdir -p /srv/m/w && for i in \$(seq 1 $K); do head -c 4000000 /dev/zero >/srv/m/w/f\$i; done"
mnt
ls -l "$MNT/w" >/dev/null
hwm0=$(awk '/^VmHWM/{print $2}' "/proc/$FSPID/status")
head -c 4000000 /dev/urandom >"$T/w4"
pids=()
for i in $(seq 1 $K); do
	python3 -c 'import os, sys, time
src = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, src)
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
os.close(fd)' "$MNT/w/f$i" "$T/w4" "$(($(date +%s) + 3))" 2>"$T/w$i.err" &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
expect_eq "$K closes of 4 MB files at once succeed" "0 " "$bad $(cat "$T"/w*.err)"
grown=$(($(awk '/^VmHWM/{print $2}' "/proc/$FSPID/status") - hwm0))
check "  ... and sbxfs's peak memory grew by less than 40 MiB ($((grown / 1024)) MiB)" \
	test "$grown" -lt 40960
expect_eq "  ... the sandbox has every content" "1 $(sum_of <"$T/w4")" \
	"$(rx sh -c "sha256sum /srv/m/w/f* | cut -d' ' -f1 | sort -u | wc -l; sha256sum /srv/m/w/f$K | cut -d' ' -f1" | tr '\n' ' ' | sed 's/ $//')"
fusermount3 -u "$MNT"
check "unmounted" sh -c "! mountpoint -q '$MNT'"
rx rm -rf /srv/m
finish
