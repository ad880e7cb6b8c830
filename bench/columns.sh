# shellcheck shell=bash
# bench/columns.sh - the mounts that scripts/bench.sh compares (sourced by it).
#
# A column is one mount: "agent" and "shell" are sbxfs with that transport
# (remote dir /srv/bench/<col> of the sandbox), "ssh" is sshfs on the tree
# of the agent transport, "ssh-s" sshfs on the smaller tree of the shell
# transport. Every mount goes through the current delay proxies. sbxfs runs
# in the foreground (-f) as our child, so that its pid is known for VmHWM
# and its end can be waited for.

declare -A NA  # NA[transport] = why sbxfs refused it
declare -A HWM # HWM[transport] = highest VmHWM of its sbxfs processes, kB
declare -A MFD # MFD[transport] = most kB of file contents sbxfs held in memfds (sampled)

col_is_sbx() { [ "$1" = agent ] || [ "$1" = shell ]; }
col_files() { if [ "$1" = shell ] || [ "$1" = ssh-s ]; then echo "$SHELL_FILES"; else echo "$NFILES"; fi; }
col_mnt() { echo "$T/mnt-$1"; }
# the sshfs column a transport is compared with (same tree size)
ssh_col_of() {
	if [ "$1" = shell ] && [ "$SHELL_FILES" != "$NFILES" ]; then echo ssh-s; else echo ssh; fi
}

# col_mount COL: mounts it through the proxies; 1 if it did not mount
col_mount() {
	local c=$1 m i p
	m=$(col_mnt "$c")
	mkdir -p "$m"
	if col_is_sbx "$c"; then
		"$BUILD/sbxfs" -f -o "api_host=http://127.0.0.1:$PX_API_PORT,token_file=$TOKEN_FILE,transport=$c${SBXFS_OPTS:+,$SBXFS_OPTS}" \
			"$ID:/srv/bench/$c" "$m" >>"$T/sbxfs-$c.log" 2>&1 &
		p=$!
		FSPID[$c]=$p
		for i in $(seq 1 1200); do
			mountpoint -q "$m" && [ -e "$m/.ctl/stats" ] && return 0
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		stop_pid "$p"
		unset 'FSPID[$c]'
		return 1
	fi
	mkdir -p "$T/sshdir/$c"
	timeout 60 sshfs -o "IdentityFile=$T/ssh/id,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null" \
		-o "BatchMode=yes,port=$PX_SSH_PORT" "root@127.0.0.1:$T/sshdir/$c" "$m" 2>>"$T/sshfs.log" &&
		mountpoint -q "$m"
}

# note_hwm COL: folds the VmHWM of the column's sbxfs into HWM
note_hwm() {
	local p=${FSPID[$1]:-} kb
	[ -n "$p" ] || return 0
	kb=$(awk '/^VmHWM:/{print $2}' "/proc/$p/status" 2>/dev/null)
	[ -n "$kb" ] && [ "$kb" -gt "${HWM[$1]:-0}" ] && HWM[$1]=$kb
	# contents of small files and copies of large ones live in memfds
	# (src/fs/fcache.h), which VmHWM does not count: what they hold (the
	# large ones are sparse), at this moment
	kb=$(find "/proc/$p/fd" -lname '/memfd:sbxfs-*' -print0 2>/dev/null |
		xargs -0 -r stat -L -c '%b %B' 2>/dev/null | awk '{s += $1 * $2} END {print int(s / 1024)}')
	[ -n "$kb" ] && [ "$kb" -gt "${MFD[$1]:-0}" ] && MFD[$1]=$kb
	return 0
}

# col_umount COL: unmounts it and waits until its FUSE process is gone
col_umount() {
	local c=$1 m i
	m=$(col_mnt "$c")
	note_hwm "$c"
	# a mount whose FUSE process died needs the lazy form
	fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || return 1
	if col_is_sbx "$c"; then
		for i in $(seq 1 600); do kill -0 "${FSPID[$c]}" 2>/dev/null || break; sleep 0.05; done
		stop_pid "${FSPID[$c]}"
		unset 'FSPID[$c]'
	fi
	for i in $(seq 1 200); do mountpoint -q "$m" || return 0; sleep 0.05; done
	return 1
}

# remount COL: a cold start (see bench/README.md, "cold")
remount() { col_umount "$1" && col_mount "$1"; }

# alive COL: the mount still answers (an sbxfs that died leaves ENOTCONN)
alive() {
	if col_is_sbx "$1"; then
		[ -e "$(col_mnt "$1")/.ctl/stats" ] && kill -0 "${FSPID[$1]:-0}" 2>/dev/null
	else
		stat "$(col_mnt "$1")/." >/dev/null 2>&1
	fi
}

# rt COL: round trips the column's sbxfs has spent so far
rt() { sed -n 's/^rfs.total requests=[0-9]* round_trips=//p' "$(col_mnt "$1")/.ctl/stats"; }

# make_repo COL: a git repository of the column's tree in MNT/repo (once, untimed)
make_repo() {
	local m
	m=$(col_mnt "$1")
	(
		mkdir -p "$m/repo" && cd "$m/repo" &&
			timeout $TMO tar -xf "$T/tree-$(col_files "$1").tar" && git init -q . &&
			git config user.email bench@example.com && git config user.name bench &&
			timeout $TMO git add -A && timeout $TMO git commit -q -m tree &&
			timeout $TMO git status --porcelain
	) >>"$T/git.log" 2>&1
}
