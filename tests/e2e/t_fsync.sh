#!/usr/bin/env bash
# t_fsync.sh - fsync(2) through the mount reaches the sandbox's disk: the
# agent calls fsync(2) on the file there (seen with strace on the agent
# from the host), for a small file stored whole, for a large file written
# through, and for a file stored at an earlier close; a write and close
# without fsync make none (that is close-to-open, not durability). A large
# file's writes start their writeback in the sandbox as they arrive
# (sync_file_range), so its fsync has only the tail left to wait for.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
mnt() { tm "$BUILD/sbxfs" "$ID:/srv/f" "$MNT"; }
fsyncs() { sed -n 's/^store .* fsyncs=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
# traced CMD...: runs CMD with strace on the sandbox's agent; prints how
# many of the calls in $CALLS (default fsync,fdatasync) the agent made
# meanwhile
traced() {
	local st=$T/strace.$RANDOM n calls=${CALLS:-fsync,fdatasync}
	strace -qq -f -e trace="$calls" -p "$APID" -o "$st" 2>/dev/null &
	local sp=$!
	# strace is attached once it wrote its first line or a little later:
	# wait until /proc says the agent is traced
	for _ in $(seq 1 200); do
		[ "$(sed -n 's/^TracerPid:\t//p' "/proc/$APID/status")" != 0 ] && break
		sleep 0.01
	done
	"$@" >/dev/null
	kill -INT "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	n=$(grep -cE "(${calls//,/|})\(" "$st" 2>/dev/null)
	echo "${n:-0}"
}

if ! command -v strace >/dev/null; then
	echo "# needs strace: skipped"
	finish
	exit
fi
start_sbxd
ID=$(sbx create --name fsync)
check "sandbox created" test -n "$ID"
rx mkdir -p /srv/f
mkdir -p "$MNT"
mnt
check "mounted" mountpoint -q "$MNT"
if ! grep -q '"transport": *"agent"' "$MNT/.ctl/info"; then
	echo "# needs the agent transport: skipped"
	finish
	exit
fi
touch "$MNT/first" # the agent is up
APID=
for p in $(pgrep -f "^/var/tmp/\.sbx-agent-"); do
	grep -q "/sbxd/$ID\$" "/proc/$p/cgroup" 2>/dev/null && APID=$p && break
done
check "the sandbox's agent is found ($APID)" test -n "$APID"
head -c $((64 << 10)) /dev/urandom >"$T/small"
head -c $((24 << 20)) /dev/urandom >"$T/large"

f0=$(fsyncs)
n=$(traced cp "$T/small" "$MNT/plain")
expect_eq "a write and close without fsync: no fsync in the sandbox" 0 "$n"
expect_eq "  ... and none counted" "$f0" "$(fsyncs)"

n=$(traced dd if="$T/small" of="$MNT/small" conv=fsync status=none)
check "dd conv=fsync of a small file: the agent fsyncs ($n)" test "$n" -ge 1
expect_eq "  ... counted once" $((f0 + 1)) "$(fsyncs)"
expect_eq "  ... and the sandbox holds its bytes" "$(sha256sum <"$T/small" | cut -d' ' -f1)" \
	"$(rx sha256sum /srv/f/small | cut -d' ' -f1)"

n=$(traced dd if="$T/large" of="$MNT/large" bs=1M conv=fsync status=none)
check "dd conv=fsync of a large file written through: the agent fsyncs ($n)" test "$n" -ge 1
expect_eq "  ... and the sandbox holds its bytes" "$(sha256sum <"$T/large" | cut -d' ' -f1)" \
	"$(rx sha256sum /srv/f/large | cut -d' ' -f1)"

n=$(CALLS=sync_file_range traced cp "$T/small" "$MNT/small2")
expect_eq "a small file starts no writeback of its own" 0 "$n"
n=$(CALLS=sync_file_range traced cp "$T/large" "$MNT/large2")
check "a large file written through starts its writeback as it goes ($n)" test "$n" -ge 1
n=$(traced sync "$MNT/large2")
check "sync of a large file written through and closed: the agent fsyncs ($n)" test "$n" -ge 1
expect_eq "  ... and the sandbox holds its bytes" "$(sha256sum <"$T/large" | cut -d' ' -f1)" \
	"$(rx sha256sum /srv/f/large2 | cut -d' ' -f1)"

# stored at its close, then fsync'd through a new handle (sync FILE)
n=$(traced sync "$MNT/plain")
check "sync of a file stored at an earlier close: the agent fsyncs ($n)" test "$n" -ge 1
n=$(traced sync "$MNT/plain")
expect_eq "  ... a second sync has nothing left to make durable" 0 "$n"
cp "$T/small" "$MNT/dropped"
echo drop-caches >"$MNT/.ctl/ctl"
n=$(traced sync "$MNT/dropped")
check "sync of a file stored before a drop-caches: the agent fsyncs ($n)" test "$n" -ge 1
f1=$(fsyncs)
n=$(traced sync "$MNT/first")
expect_eq "sync of a file this mount never wrote: none" 0 "$n"
expect_eq "  ... none counted" "$f1" "$(fsyncs)"
fusermount3 -u "$MNT"
finish
