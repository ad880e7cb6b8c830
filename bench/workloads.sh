# shellcheck shell=bash
# bench/workloads.sh - what scripts/bench.sh times (sourced by it).
#
# A workload name is BASE or BASE.cold / BASE.warm: .cold remounts the
# column's mount right before (outside the timed window), .warm runs again
# right after the .cold one in the same mount. Each rep at each delay works
# in its own MNT/dD-rR, so `tar x` always goes into an empty directory.

WORKLOADS=(untar cpin
	cpout.cold cpout.warm grep.cold grep.warm lsr.cold lsr.warm
	find.cold find.warm git.cold git.warm
	saves write read.cold read.warm ctl_exec sbx_exec)

# settle MNT COL: for sbxfs, waits until every store queued behind a close
# (write-behind) is in the sandbox, so that a write workload is timed until
# its data is there, as sshfs's close waits for its writes
settle() {
	case $2 in agent | shell) echo sync >"$1/.ctl/ctl" ;; esac
}

# work W MNT DIR COL: the command of workload W in MNT/DIR (runs in its own
# bash under timeout)
work() {
	local W=$1 M=$2 c=$4 d=$2/$3 i tok
	local tar=$T/tree-$5.tar out=$T/out/$4
	case $W in
	untar) mkdir -p "$d" && tar -C "$d" -xf "$tar" && settle "$M" "$c" ;;
	cpin) mkdir -p "$d" && cp -a "$T/tree-$5/tree" "$d/cpin" && settle "$M" "$c" ;;
	cpout.*) rm -rf "$out" && cp -a "$d/tree" "$out" ;;
	grep.*) grep -r -c -e let "$d/tree" >/dev/null; [ $? -le 1 ] ;;
	lsr.*) ls -lR "$d/tree" >/dev/null ;;
	find.*) find "$d/tree" -newer "$d/tree" >/dev/null ;;
	git.*) cd "$M/repo" && git status --porcelain >/dev/null ;;
	saves) # an editor's save: write a temporary, fsync it, rename it over
		mkdir -p "$d" || return 1 # (also without untar before it)
		for i in $(seq 1 "$SAVES"); do
			printf 'save %s\n' "$i" | dd of="$d/.save.txt.swp" conv=fsync status=none &&
				mv -f "$d/.save.txt.swp" "$d/save.txt" || return 1
		done ;;
	write) mkdir -p "$d" && dd if="$T/big" of="$d/big" bs=1M conv=fsync status=none ;;
	read.*) cat "$d/big" >/dev/null ;;
	ctl_exec) # sbxfs: `true` through MNT/.ctl/exec; sshfs: `ssh host true`
		for i in $(seq 1 "$EXECS"); do
			if [ "$c" = agent ] || [ "$c" = shell ]; then
				{ exec 3<>"$M/.ctl/exec" && printf true >&3 && cat <&3 >/dev/null &&
					exec 3>&-; } || return 1
			else
				ssh -p "$PX_SSH_PORT" -o "IdentityFile=$T/ssh/id" -o StrictHostKeyChecking=no \
					-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
					root@127.0.0.1 true || return 1
			fi
		done ;;
	sbx_exec) # `sbx exec -- true` through the proxy (the mount plays no part)
		tok=$(<"$TOKEN_FILE")
		for i in $(seq 1 "$EXECS"); do
			KOYEB_API_HOST=http://127.0.0.1:$PX_API_PORT KOYEB_API_TOKEN=$tok \
				"$BUILD/sbx" -q exec "$ID" -- true || return 1
		done ;;
	*) return 2 ;;
	esac
}

# run_one DELAY W COL R: times W on COL and appends a line to $RAW
run_one() {
	local D=$1 W=$2 c=$3 R=$4 M r0='' r1='' t0 t1 rc secs dir=d$1-r$4
	M=$(col_mnt "$c")
	col_is_sbx "$c" || [ "$W" != sbx_exec ] || return 0 # sshfs: ssh is timed in ctl_exec
	if ! alive "$c"; then
		log "the $c mount died before $W at $D ms (see logs/); mounting it again"
		printf '%s\tmount-died\t%s\t%s\tfail\t\n' "$D" "$c" "$R" >>"$RAW"
		col_is_sbx "$c" && stop_pid "${FSPID[$c]:-}"
		col_umount "$c"
		col_mount "$c" || die "$c does not mount again"
	fi
	case $W in *.cold) remount "$c" || die "remount of $c failed" ;; esac
	col_is_sbx "$c" && r0=$(rt "$c")
	t0=$EPOCHREALTIME
	timeout "$TMO" bash -c "$(declare -f work); $(declare -p T BUILD ID SAVES EXECS PX_API_PORT \
		PX_SSH_PORT TOKEN_FILE); $(declare -f settle); work \"\$@\"" _ "$W" "$M" "$dir" "$c" "$(col_files "$c")" \
		>>"$T/work.log" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b-a}')
	if [ $rc -ne 0 ]; then
		log "$W on $c at $D ms failed (exit $rc): $(tail -2 "$T/work.log" | tr '\n' ' ')"
		secs=fail
	fi
	col_is_sbx "$c" && r1=$(rt "$c") && [ -n "$r0" ] && [ -n "$r1" ] && r1=$((r1 - r0)) || r1=
	note_hwm "$c"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$D" "$W" "$c" "$R" "$secs" "$r1" >>"$RAW"
	[ "$W" = read.warm ] && rm -f "$M/$dir/big" # keep the disk use bounded
	return 0
}
