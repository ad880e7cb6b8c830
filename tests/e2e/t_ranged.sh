#!/usr/bin/env bash
# t_ranged.sh - large files by ranges (issue 7): a file past whole_max is
# never moved whole. A sparse 1 GiB file made through the mount stays
# sparse in the sandbox, and reading 4 KiB of its middle moves little (the
# bytes come from .ctl/stats, no timing); random-offset reads, a whole
# sequential read, writes into the middle of a large file, truncation, and
# a change made inside the sandbox all agree with the sandbox's bytes.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
rx() { timeout 120 "$BUILD/sbx" -q exec "$ID" -- "$@"; }
sum_of() { sha256sum | cut -d' ' -f1; }
# stat_of OP FIELD: a counter of rfs.OP in .ctl/stats
stat_of() { sed -n "s/^rfs\.$1\( .*\)\? $2=\([0-9]*\).*/\2/p" "$MNT/.ctl/stats"; }
# moved: bytes that came from the sandbox as file content so far
moved() { echo $(($(stat_of fetch bytes_in) + $(stat_of read_range bytes_in))); }
mnt() { tm "$BUILD/sbxfs" "$ID:/srv/r" "$MNT"; }
remount() { fusermount3 -u "$MNT" && mnt; }
# part FILE OFF LEN: sha256 of LEN bytes at OFF, locally
part() { dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none | sum_of; }
# rpart FILE OFF LEN: the same inside the sandbox
rpart() {
	rx sh -c "dd if='$1' iflag=skip_bytes,count_bytes skip=$2 count=$3 status=none |
		sha256sum" | cut -d' ' -f1
}

start_sbxd
ID=$(sbx create --name ranged)
check "sandbox created" test -n "$ID"
rx mkdir -p /srv/r
mkdir -p "$MNT"
mnt
check "mounted" mountpoint -q "$MNT"

# --- a sparse 1 GiB file -----------------------------------------------------
tm truncate -s 1G "$MNT/sparse"
expect_eq "truncate -s 1G through the mount exits 0" 0 $?
expect_eq "the sandbox's file is 1 GiB" 1073741824 "$(rx stat -c %s /srv/r/sparse)"
kb=$(rx du -k /srv/r/sparse | cut -f1)
check "the sandbox's file is sparse (du: ${kb} KiB)" test "$kb" -lt 1024
remount
m0=$(moved)
tm dd if="$MNT/sparse" of="$T/mid" bs=4096 skip=131072 count=1 status=none
expect_eq "4 KiB from the middle read" 4096 "$(stat -c %s "$T/mid")"
expect_eq "and they are zeros" 0 "$(tr -d '\0' <"$T/mid" | wc -c)"
m1=$(moved)
echo "# reading 4 KiB of the middle moved $((m1 - m0)) bytes"
check "reading 4 KiB of the middle moved under 1 MiB ($((m1 - m0)) bytes)" \
	test $((m1 - m0)) -lt 1048576
expect_eq "and no whole-file fetch" 0 "$(stat_of fetch bytes_in)"
expect_eq "the mount shows 1 GiB" 1073741824 "$(stat -c %s "$MNT/sparse")"
rx rm -f /srv/r/sparse

# --- a 64 MiB random file made in the sandbox ---------------------------------
rx sh -c 'head -c $((64 << 20)) /dev/urandom >/srv/r/rand'
remount
bad=0
for spec in 0:4096 1:1 4095:8193 $((7 << 20)):$((3 << 20)) $(((64 << 20) - 5)):100 \
	$((33 << 20)):65536 $((50 << 20)):1000000; do
	off=${spec%%:*} len=${spec##*:}
	[ "$(part "$MNT/rand" "$off" "$len")" = "$(rpart /srv/r/rand "$off" "$len")" ] ||
		{ bad=$((bad + 1)); echo "# differs at $off+$len"; }
done
expect_eq "random-offset reads equal the sandbox's bytes" 0 $bad
remount
m0=$(moved) q0=$(stat_of read_range requests)
tm cat "$MNT/rand" >"$T/rand"
expect_eq "a sequential read equals the sandbox's bytes" \
	"$(rx sha256sum /srv/r/rand | cut -d' ' -f1)" "$(sum_of <"$T/rand")"
m1=$(moved) q1=$(stat_of read_range requests)
check "the sequential read moved the file about once ($((m1 - m0)) bytes)" \
	test $((m1 - m0)) -lt $((80 << 20))
# read-ahead goes in whole 1 MiB requests with the agent, not one per
# piece the reader advances by (85 and 95 requests before)
if grep -q '"transport": *"agent"' "$MNT/.ctl/info"; then
	check "  ... in about one request per MiB ($((q1 - q0)) for 64 MiB)" \
		test $((q1 - q0)) -le 72
fi

# --- writes into the middle, then truncation ---------------------------------
ino=$(rx stat -c %i /srv/r/rand)
head -c $((2 << 20)) /dev/urandom >"$T/patch"
tm dd if="$T/patch" of="$MNT/rand" bs=1M seek=10 conv=notrunc status=none
dd if="$T/patch" of="$T/rand" bs=1M seek=10 conv=notrunc status=none
printf 'hello' | tm dd of="$MNT/rand" bs=1 seek=$((33 << 20)) conv=notrunc status=none
printf 'hello' | dd of="$T/rand" bs=1 seek=$((33 << 20)) conv=notrunc status=none
expect_eq "writes into the middle: the sandbox holds the same bytes" \
	"$(sum_of <"$T/rand")" "$(rx sha256sum /srv/r/rand | cut -d' ' -f1)"
# the agent writes through in place; the shell transport (no handles)
# fetches the rest and stores the whole file on close
if grep -q '"transport": *"agent"' "$MNT/.ctl/info"; then
	expect_eq "written in place (same inode)" "$ino" "$(rx stat -c %i /srv/r/rand)"
fi
expect_eq "the mount reads the written bytes back" "$(sum_of <"$T/rand")" \
	"$(tm cat "$MNT/rand" | sum_of)"
tm truncate -s $((70 << 20)) "$MNT/rand"
truncate -s $((70 << 20)) "$T/rand"
expect_eq "grown to 70 MiB: the sandbox agrees" "$(sum_of <"$T/rand")" \
	"$(rx sha256sum /srv/r/rand | cut -d' ' -f1)"
tm truncate -s $((20 << 20)) "$MNT/rand"
truncate -s $((20 << 20)) "$T/rand"
expect_eq "cut to 20 MiB: the sandbox agrees" "$(sum_of <"$T/rand")" \
	"$(rx sha256sum /srv/r/rand | cut -d' ' -f1)"
expect_eq "cut to 20 MiB: the mount agrees" "$(sum_of <"$T/rand")" "$(tm cat "$MNT/rand" | sum_of)"

# --- a change made inside the sandbox ----------------------------------------
before=$(part "$MNT/rand" $((5 << 20)) 4096)
rx sh -c "head -c 4096 /dev/urandom | dd of=/srv/r/rand bs=4096 seek=1280 conv=notrunc status=none"
echo drop-caches >"$MNT/.ctl/ctl"
now=$(part "$MNT/rand" $((5 << 20)) 4096)
expect_eq "a change made in the sandbox shows after revalidation" \
	"$(rpart /srv/r/rand $((5 << 20)) 4096)" "$now"
check "and it is not the old content" test "$before" != "$now"
expect_eq "the rest is still right" "$(rx sha256sum /srv/r/rand | cut -d' ' -f1)" \
	"$(tm cat "$MNT/rand" | sum_of)"

# --- a small file that grows past whole_max in the sandbox -------------------
# (held open, so that its whole copy stays and must be revalidated)
rx sh -c 'head -c $((1 << 20)) /dev/urandom >/srv/r/grow'
exec 3<"$MNT/grow"
tm cat "$MNT/grow" >/dev/null
rx sh -c 'head -c $((8 << 20)) /dev/urandom >>/srv/r/grow'
echo drop-caches >"$MNT/.ctl/ctl"
f0=$(stat_of fetch requests)
expect_eq "grown to 9 MiB in the sandbox: the mount reads the new bytes" \
	"$(rx sha256sum /srv/r/grow | cut -d' ' -f1)" "$(tm cat "$MNT/grow" | sum_of)"
expect_eq "and it is read by ranges, not fetched whole again" "$f0" "$(stat_of fetch requests)"
exec 3<&-

# --- a new file written past whole_max goes through as it is written -------
# (its first whole_max is stored at once, the rest written in place: not
# copied whole to this disk first and sent only at close)
agent=false
grep -q '"transport": *"agent"' "$MNT/.ctl/info" && agent=true
head -c $((12 << 20)) /dev/urandom >"$T/new"
touch "$MNT/first-create" # the mount's first create is never deferred
s0=$(stat_of store bytes_out) w0=$(stat_of write_range requests)
tm dd if="$T/new" of="$MNT/new" bs=1M conv=fsync status=none
expect_eq "a new 12 MiB file (dd): the sandbox holds its bytes" "$(sum_of <"$T/new")" \
	"$(rx sha256sum /srv/r/new | cut -d' ' -f1)"
s1=$(stat_of store bytes_out) w1=$(stat_of write_range requests)
echo "# store moved $((s1 - s0)) bytes, $((w1 - w0)) writes in place"
if $agent; then
	check "its first 4 MiB were stored, the rest written through" \
		test $((s1 - s0)) -lt $((5 << 20)) -a $((w1 - w0)) -ge 8
else
	expect_eq "shell transport: stored whole, no write in place" 0 $((w1 - w0))
fi
(umask 077 && head -c $((9 << 20)) "$T/new" >"$MNT/new2")
expect_eq "a new 9 MiB file (shell redirection): the sandbox holds its bytes" \
	"$(head -c $((9 << 20)) "$T/new" | sum_of)" "$(rx sha256sum /srv/r/new2 | cut -d' ' -f1)"
expect_eq "with the mode it was created with" 600 "$(rx stat -c %a /srv/r/new2)"
expect_eq "the mount reads it back" "$(head -c $((9 << 20)) "$T/new" | sum_of)" \
	"$(tm cat "$MNT/new2" | sum_of)"
exec 4>"$MNT/gone"
rm "$MNT/gone"
head -c $((6 << 20)) "$T/new" >&4
expect_eq "writes past whole_max to a new file unlinked while open succeed" 0 $?
exec 4>&-
check "and it never reaches the sandbox" rx sh -c '! test -e /srv/r/gone'

# --- max_conns: the second session comes with the first bulk read -----------
if $agent; then
	rx sh -c 'head -c $((64 << 20)) /dev/urandom >/srv/r/bulk'
	want=$(rx sha256sum /srv/r/bulk | cut -d' ' -f1)
	remount
	head -c 100000 "$MNT/bulk" >/dev/null
	dd if="$MNT/rand" bs=64k skip=50 count=2 status=none >/dev/null
	expect_eq "a fresh mount has one session (short reads of large files)" 1 \
		"$(stat_of connect requests)"
	expect_eq "a bulk read of 64 MiB reads the sandbox's bytes" "$want" "$(tm cat "$MNT/bulk" | sum_of)"
	expect_eq "  ... and opened the second session of max_conns=2 (the default)" 2 \
		"$(stat_of connect requests)"
	expect_eq "  ... which did not fail" 0 "$(stat_of connect errors)"
	expect_eq "  ... and the file still reads right over both" "$want" \
		"$(echo drop-caches >"$MNT/.ctl/ctl" && tm cat "$MNT/bulk" | sum_of)"
	fusermount3 -u "$MNT"
	tm "$BUILD/sbxfs" -o max_conns=1 "$ID:/srv/r" "$MNT"
	expect_eq "with max_conns=1 the bulk read is right" "$want" "$(tm cat "$MNT/bulk" | sum_of)"
	expect_eq "  ... on the one session" 1 "$(stat_of connect requests)"
	fusermount3 -u "$MNT"

	# the local copy of an open large file stays within data_cache (here
	# 8 MiB, so the floor of two read-ahead windows: 32 MiB)
	mkdir -p "$T/cache"
	tm "$BUILD/sbxfs" -o "data_cache=8,cache_dir=$T/cache" "$ID:/srv/r" "$MNT"
	pid=$(pgrep -f "[s]bxfs -o data_cache=8,cache_dir=$T/cache")
	# local_mb dir|mem|all: the most MiB one local copy in the cache dir
	# holds now; mem: what the copies in memory (memfds) hold in all;
	# all: the two added
	local_mb() {
		local f l d=0 m=0 n
		for f in /proc/"$pid"/fd/*; do
			l=$(readlink "$f") || continue
			n=$(stat -L -c %b "$f" 2>/dev/null) || continue
			case $l in
			"$T/cache/"*) [ "$n" -gt $d ] && d=$n ;;
			/memfd:sbxfs-*) m=$((m + n)) ;;
			esac
		done
		case $1 in dir) echo $((d * 512 >> 20)) ;; mem) echo $((m * 512 >> 20)) ;;
		*) echo $(((d + m) * 512 >> 20)) ;; esac
	}
	# held FIELD: a number of the cache.held line of .ctl/stats
	held() { sed -n "s/^cache\.held.* $1=\([0-9]*\).*/\1/p" "$MNT/.ctl/stats"; }
	exec 3<"$MNT/bulk"
	expect_eq "a 64 MiB read with data_cache=8 reads the sandbox's bytes" "$want" "$(sum_of <&3)"
	n=$(local_mb all)
	check "  ... and its local copy, still open, holds at most 48 MiB ($n)" test "$n" -le 48
	check "  ... the rest was let go ($(sed -n 's/.*trimmed=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats") bytes)" \
		test "$(sed -n 's/.*trimmed=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats")" -gt 0
	expect_eq "  ... its start reads right again" "$(rpart /srv/r/bulk 0 1048576)" \
		"$(part "$MNT/bulk" 0 1048576)"
	exec 3<&-
	head -c $((96 << 20)) /dev/urandom >"$T/big96"
	exec 3>"$MNT/big96"
	cat "$T/big96" >&3
	n=$(local_mb all)
	# bytes that extend a file written through are not copied here: the
	# kernel's cache has them, and a read that misses fetches them
	check "a 96 MiB file written through, still open, keeps at most its stored first 4 MiB here ($n)" \
		test "$n" -le 5
	exec 3>&-
	expect_eq "  ... and the sandbox has all of it" "$(sum_of <"$T/big96")" \
		"$(rx sha256sum /srv/r/big96 | cut -d' ' -f1)"
	expect_eq "  ... and so has the mount" "$(sum_of <"$T/big96")" "$(tm cat "$MNT/big96" | sum_of)"
	rm -f "$T/big96"
	# extended, then partly replaced, then extended past a hole, all on
	# one descriptor still open: after the kernel's pages are dropped, the
	# replaced bytes come from the local copy and the rest from the sandbox
	python3 - "$MNT/mix" "$T/mix" <<-'EOF'
		import os, sys
		mnt, ref = sys.argv[1], sys.argv[2]
		data = bytearray(os.urandom(12 << 20))
		fd = os.open(mnt, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
		for off in range(0, len(data), 1 << 20):
		    os.pwrite(fd, data[off:off + (1 << 20)], off)
		for at in (1 << 20, 5 << 20):  # in the stored first 4 MiB, and past
		    patch = os.urandom(1 << 20)
		    os.pwrite(fd, patch, at)
		    data[at:at + (1 << 20)] = patch
		tail = os.urandom(1 << 20)
		os.pwrite(fd, tail, 20 << 20)
		data += bytes(8 << 20) + tail
		with open(ref, "wb") as f:
		    f.write(data)
		with open(os.path.join(os.path.dirname(mnt), ".ctl/ctl"), "w") as f:
		    f.write("drop-caches\n")
		with open(mnt, "rb") as f:
		    got = f.read()
		os.close(fd)
		sys.exit(0 if got == data else 1)
	EOF
	expect_eq "a file extended, partly replaced and extended past a hole reads right while open" 0 $?
	expect_eq "  ... and the sandbox has the same bytes" "$(sum_of <"$T/mix")" \
		"$(rx sha256sum /srv/r/mix | cut -d' ' -f1)"
	expect_eq "  ... and the mount, after the close" "$(sum_of <"$T/mix")" "$(tm cat "$MNT/mix" | sum_of)"
	rm -f "$T/mix"
	fusermount3 -u "$MNT"

	# the copies of large files live in memory while data_cache has room
	# for them (32 MiB each at least), then in the cache dir; closed files
	# make way for them
	rx sh -c 'head -c $((48 << 20)) /dev/urandom >/srv/r/bulk2'
	want2=$(rx sha256sum /srv/r/bulk2 | cut -d' ' -f1)
	tm "$BUILD/sbxfs" -o "data_cache=40,cache_dir=$T/cache" "$ID:/srv/r" "$MNT"
	pid=$(pgrep -f "[s]bxfs -o data_cache=40,cache_dir=$T/cache")
	tm cat "$MNT/first-create" "$MNT/new" >/dev/null
	idle0=$(held idle_bytes)
	check "two files read and closed are kept ($idle0 bytes)" test "${idle0:-0}" -gt 0
	exec 3<"$MNT/bulk"
	expect_eq "a 64 MiB read with data_cache=40 reads the sandbox's bytes" "$want" "$(sum_of <&3)"
	m=$(local_mb mem) d=$(local_mb dir)
	check "  ... its copy is in memory ($m MiB), none in the cache dir ($d)" \
		test "$m" -ge 16 -a "$m" -le 40 -a "$d" -eq 0
	n=$(held ranged_in_memory) i=$(held idle_bytes)
	check "  ... counted ($n bytes), the files kept made way ($i bytes left, $idle0 before)" \
		test "$n" -ge $((32 << 20)) -a $((n + i)) -le $((40 << 20)) -a "$i" -lt "$idle0"
	exec 5<"$MNT/bulk2"
	expect_eq "a second one open beside it reads the sandbox's bytes" "$want2" "$(sum_of <&5)"
	m=$(local_mb mem) d=$(local_mb dir)
	check "  ... its copy is in the cache dir ($d MiB): memory has no room ($m MiB)" \
		test "$d" -ge 16 -a "$m" -le 40
	exec 3<&-
	exec 5<&-
	n=$(held ranged_in_memory) i=$(held idle_bytes)
	check "closed, nothing counts as open in memory ($n), the kept stay within 40 MiB ($i)" \
		test "$n" -eq 0 -a "$i" -le $((40 << 20))
	expect_eq "  ... and the first reads right again" "$want" "$(tm cat "$MNT/bulk" | sum_of)"
	fusermount3 -u "$MNT"
	mnt
fi
rx rm -f /srv/r/new /srv/r/new2 /srv/r/first-create /srv/r/bulk /srv/r/bulk2 /srv/r/big96 /srv/r/mix
finish
