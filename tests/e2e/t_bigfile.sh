#!/usr/bin/env bash
# t_bigfile.sh - a 2 GiB file each way through a mount (issue 6, item 8: a
# large read used to stall for good when a PONG emptied sbxd's queue). The
# write goes through `cp` into the mount and is checked inside the sandbox;
# the read is of a file made inside the sandbox and is checked locally. Both
# checksums must match. SBX_STRESS=N repeats the pair N times. Every transfer
# is bounded (timeout) so a stall fails the test instead of hanging it.
# A round takes 6 to 7 minutes on a 2-core machine (the shell transport of
# sbxfs runs at ~12 MB/s, bound by sbxfs's own CPU), hence the budget:
# e2e-timeout-per-round: 900
. "$(dirname "$0")/lib.sh"

SIZE_MB=${SBX_BIGFILE_MB:-2048}
ROUNDS=${SBX_STRESS:-1}
LIMIT=600
MNT=$T/mnt
rx() { timeout $LIMIT "$BUILD/sbx" -q exec "$ID" -- "$@"; }
sum_of() { sha256sum | cut -d' ' -f1; }

start_sbxd
# the largest instance type sbxd knows, so that 2 GiB fits under a disk limit
ITYPE=2xlarge
ID=$(sbx create --name big --instance-type $ITYPE)
check "sandbox created ($ITYPE)" test -n "$ID"
rx mkdir -p /srv/big
mkdir -p "$MNT"
timeout 60 "$BUILD/sbx" -q mount "$ID:/srv/big" "$MNT"
check "mounted" mountpoint -q "$MNT"

echo "# making a local file of $SIZE_MB MiB"
want=$(head -c $((SIZE_MB << 20)) /dev/urandom | tee "$T/local" | sum_of)
for round in $(seq 1 "$ROUNDS"); do
	# write: cp into the mount, then the checksum inside the sandbox
	rx rm -f /srv/big/up
	t0=$(date +%s.%N)
	timeout $LIMIT cp "$T/local" "$MNT/up"
	rc=$?
	t1=$(date +%s.%N)
	expect_eq "round $round: cp of $SIZE_MB MiB into the mount exits 0" 0 $rc
	echo "# round $round: write took $(awk "BEGIN {printf \"%.1f\", $t1 - $t0}") s"
	# what the read below must give, summed here while the sandbox sums
	# its copy (a core each)
	{ printf 'down %s\n' "$round"; cat "$T/local"; } | sum_of >"$T/theirs" &
	sumpid=$!
	expect_eq "round $round: the sandbox holds the same bytes" "$want" \
		"$(rx sh -c 'sha256sum /srv/big/up' | cut -d' ' -f1)"

	# read: a file made in the sandbox (up's bytes moved by a line: other
	# bytes at each offset, another inode), read through the mount
	rx sh -c "{ printf 'down %s\\n' $round; cat /srv/big/up; } >/srv/big/down"
	wait $sumpid
	theirs=$(cat "$T/theirs")
	echo drop-caches >"$MNT/.ctl/ctl"
	t0=$(date +%s.%N)
	ours=$(timeout $LIMIT cat "$MNT/down" | sum_of)
	rc=$?
	t1=$(date +%s.%N)
	expect_eq "round $round: cat of $SIZE_MB MiB out of the mount exits 0" 0 $rc
	echo "# round $round: read took $(awk "BEGIN {printf \"%.1f\", $t1 - $t0}") s"
	expect_eq "round $round: the bytes read equal the sandbox's" "$theirs" "$ours"
	rx rm -f /srv/big/down
done
finish
