#!/usr/bin/env bash
# t_store_cut.sh - a cut upload never destroys a file.
#
# Trials: a large `cp` through the mount over an existing file in the
# sandbox, and at a random point during it `kill -9` of sbxd (then started
# again on the same port: the sandbox comes back with its files) or of
# sbxfs (then mounted again). Afterwards the file must be exactly its old
# or its new content (sha256), cp must have failed whenever the new content
# is not there, and after the next mount no temporary of a store (.sbx~*)
# and no journal entry may be left. Prints the figures.
. "$(dirname "$0")/lib.sh"

TRIALS=${TRIALS:-24}
SIZE_MB=${SIZE_MB:-24}
MNT=$T/mnt
FS_PID=
OLD_FS=
on_exit() {
	local rc=$? p
	fusermount3 -u -z "$MNT" 2>/dev/null
	for p in $FS_PID $OLD_FS; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	(exit $rc)
	cleanup
}
trap on_exit EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# mount_fs: sbxfs in the foreground of a background job (so $! is its
# pid), no caching that could answer for the sandbox, unsaved contents in
# $T (a failed last store keeps one there); waits for the mount.
mount_fs() {
	local i
	mkdir -p "$T/cache"
	SBX_DEBUG=1 "$BUILD/sbxfs" -f -o attr_timeout=0,entry_timeout=0,dir_cache_timeout=0 \
		-o cache_dir="$T/cache" "$ID:/srv/w" "$MNT" 2>>"$T/sbxfs.log" &
	FS_PID=$!
	for i in $(seq 1 1000); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$FS_PID" 2>/dev/null || break
		sleep 0.01
	done
	echo "# sbxfs did not mount:"
	tail -5 "$T/sbxfs.log" | sed 's/^/#   /'
	return 1
}

# kill_sbxfs: kill -9, then the dead mount is detached and mounted again
# (which sweeps what interrupted stores left)
remount_after_kill() {
	wait "$FS_PID" 2>/dev/null
	fusermount3 -u -z "$MNT" 2>/dev/null
	mount_fs
}

# restart_sbxd: after a kill -9, the same state dir and port
restart_sbxd() {
	local i
	wait "$SBXD_PID" 2>/dev/null
	rm -f "$SBX_STATE_DIR/sbxd.json"
	"$BUILD/sbxd" --state-dir "$SBX_STATE_DIR" --listen "127.0.0.1:$PORT" \
		>>"$T/sbxd.log" 2>&1 &
	SBXD_PID=$!
	for i in $(seq 1 500); do
		[ -s "$SBX_STATE_DIR/sbxd.json" ] && break
		kill -0 "$SBXD_PID" 2>/dev/null || break
		sleep 0.01
	done
	wait_status "$ID" HEALTHY && return 0
	tail -5 "$T/sbxd.log" | sed 's/^/#   sbxd: /'
	return 1
}

# leftovers: temporaries of stores in the sandbox's dir, and journal entries
temporaries() { rx sh -c 'find /srv/w -name ".sbx~*" | wc -l'; }
journal() { rx sh -c 'ls -A /var/tmp/.sbx-stores-$(id -u) 2>/dev/null | wc -l'; }
# live_stores: the processes of the journal's entries that still run
live_stores() {
	rx sh -c 'for e in /var/tmp/.sbx-stores-$(id -u)/*; do
		[ -L "$e" ] || continue
		p=${e##*/}; p=${p#*.}; p=${p%%.*}
		[ -d "/proc/$p" ] && echo "$p $(tr "\000" " " <"/proc/$p/cmdline" | head -c 60)"
	done'
}

start_sbxd
PORT=${API##*:}
ID=$(sbx create --name cut --region eu)
check "sandbox created" test -n "$ID"
rx mkdir -p /srv/w
mkdir -p "$MNT"
check "mounted" mount_fs

head -c "${SIZE_MB}M" /dev/urandom >"$T/old"
head -c "${SIZE_MB}M" /dev/urandom >"$T/new"
OLD=$(sha256sum <"$T/old" | cut -d' ' -f1)
NEW=$(sha256sum <"$T/new" | cut -d' ' -f1)
check "the old content goes in whole" timeout 120 cp "$T/old" "$MNT/seed"
expect_eq "and arrives whole" "$OLD" "$(rx sha256sum /srv/w/seed | cut -d' ' -f1)"

# one uncut store sets the window the kills are spread over
rx cp /srv/w/seed "/srv/w/base line"
t0=$(now_ms)
check "an uncut cp over the old file succeeds" timeout 120 cp "$T/new" "$MNT/base line"
WINDOW=$(($(now_ms) - t0))
expect_eq "and the file is new" "$NEW" "$(rx sha256sum "/srv/w/base line" | cut -d' ' -f1)"
echo "# uncut cp of $SIZE_MB MiB: $WINDOW ms; kills land in [0, $((WINDOW * 5 / 4))] ms"

n_sbxd=0 n_fs=0 torn=0 unreported=0 failed=0 kept_old=0 got_new=0 left_max=0 left_sum=0
for k in $(seq 1 "$TRIALS"); do
	f="big file $k"
	rx cp /srv/w/seed "/srv/w/$f" || { not_ok "trial $k: preparing the old file"; continue; }
	# the mount must know the file before cp opens it: else cp makes a new
	# one there, whose store is made behind its close (write-behind)
	echo drop-caches >"$MNT/.ctl/ctl"
	test -e "$MNT/$f" || not_ok "trial $k: the mount sees the old file"
	delay=$((RANDOM * 32768 + RANDOM))
	delay=$((delay % (WINDOW * 5 / 4 + 1)))
	timeout 120 cp "$T/new" "$MNT/$f" 2>>"$T/cp.err" &
	cp_pid=$!
	sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
	if [ $((k % 2)) -eq 1 ]; then
		kind=sbxd
		n_sbxd=$((n_sbxd + 1))
		kill -KILL "$SBXD_PID"
	else
		kind=sbxfs
		n_fs=$((n_fs + 1))
		kill -KILL "$FS_PID"
	fi
	wait "$cp_pid" 2>/dev/null # (also silences bash's note on the killed job)
	rc=$?
	if [ $kind = sbxd ]; then
		restart_sbxd || { not_ok "trial $k: sbxd came back"; break; }
	fi
	left=$(temporaries)
	if [ $kind = sbxfs ]; then
		remount_after_kill || { not_ok "trial $k: mounted again"; break; }
	fi
	sum=$(rx sha256sum "/srv/w/$f" 2>/dev/null | cut -d' ' -f1)
	case $sum in
	"$OLD") what=old kept_old=$((kept_old + 1)) ;;
	"$NEW") what=new got_new=$((got_new + 1)) ;;
	*) what=TORN torn=$((torn + 1)) ;;
	esac
	[ "$rc" -ne 0 ] && failed=$((failed + 1))
	if [ "$what" != new ] && [ "$rc" -eq 0 ]; then
		unreported=$((unreported + 1))
		what="$what (cp said 0)"
	fi
	left_sum=$((left_sum + left))
	[ "$left" -gt "$left_max" ] && left_max=$left
	echo "# trial $k: kill $kind at $delay ms: cp exit $rc, file $what, temporaries now $left"
	rx rm -f "/srv/w/$f"
done

# the next mount sweeps whatever interrupted stores left. The sbxfs just
# unmounted may outlive its unmount: an sbxd started while it was mounted
# holds a copy of the mount (sbxd makes its mount namespace MS_PRIVATE, so
# the unmount does not reach that copy); it is stopped at the end.
fusermount3 -u "$MNT"
OLD_FS=$FS_PID
# a store whose client was killed runs until sbxd kills it: the sweep
# rightly spares it until then, so wait for that (bounded)
t0=$(now_ms)
for i in $(seq 1 300); do
	[ -z "$(live_stores)" ] && break
	[ "$i" = 1 ] && live_stores | sed 's/^/# still running: /'
	sleep 0.1
done
echo "# stores of killed clients all ended $(($(now_ms) - t0)) ms after the last trial's checks"
check "mounted again after the trials" mount_fs
LEFT=$(temporaries)
JOURNAL=$(journal)
if [ "$LEFT$JOURNAL" != 00 ]; then
	echo "# left after the sweep (journal entries SUFFIX.PID.START, and processes):"
	rx sh -c 'ls -l /var/tmp/.sbx-stores-$(id -u); find /srv/w -name ".sbx~*"; ps -eo pid,lstart,args' |
		sed 's/^/#   /'
	grep -i sweep "$T/sbxfs.log" | tail -4 | sed 's/^/#   /'
fi
check "the mount still stores" timeout 120 cp "$T/old" "$MNT/after"
expect_eq "whole" "$OLD" "$(rx sha256sum /srv/w/after | cut -d' ' -f1)"

echo "# trials: $TRIALS ($n_sbxd kill -9 of sbxd, $n_fs kill -9 of sbxfs), $SIZE_MB MiB each"
echo "# outcomes: $got_new new, $kept_old old, $torn torn; cp failed $failed times," \
	"$unreported failures not reported"
echo "# temporaries in the sandbox right after a kill (before the next mount's sweep):" \
	"at most $left_max at once, $left_sum summed over the trials"
echo "# after the next mount: $LEFT temporaries, $JOURNAL journal entries"
expect_eq "torn files" 0 "$torn"
expect_eq "failures not reported to the writer (cp exit 0, new content absent)" 0 "$unreported"
expect_eq "temporaries left after the next mount" 0 "$LEFT"
expect_eq "journal entries left after the next mount" 0 "$JOURNAL"
check "both kinds of kill were tried" test "$n_sbxd" -ge 10 -a "$n_fs" -ge 10
finish
