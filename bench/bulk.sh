#!/usr/bin/env bash
# bench/bulk.sh - the bulk rows of the benchmark alone: a sequential write
# (dd bs=1M conv=fsync) and a cold read (cat after a remount) of one large
# file, through sbxfs with the agent and through sshfs, side by side in one
# run, no delay proxy (the 0 ms case, straight to sbxd and sshd on loopback).
# Prints every timing and the medians. Needs root; installs nothing.
#
#   bench/bulk.sh [--build DIR] [--reps N] [--mb N] [--perf DIR]
#
# SBXFS_OPTS in the environment: more -o options for sbxfs (e.g. max_conns=2).
# --perf DIR: then one more write and cold read through sbxfs under
# `perf record -g` of sbxfs and of sbxd (DIR/{sbxfs,sbxd}-{write,read}.data).

set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$SRC/build
REPS=3
MB=256
PERF=
usage() {
	sed -n '8p' "$0" | sed 's/^# *//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=${2:-}; shift 2 || usage ;;
	--reps) REPS=${2:-}; shift 2 || usage ;;
	--mb) MB=${2:-}; shift 2 || usage ;;
	--perf) PERF=${2:-}; shift 2 || usage ;;
	*) usage ;;
	esac
done
[[ $REPS =~ ^[1-9][0-9]?$ && $MB =~ ^[1-9][0-9]{0,4}$ ]] || usage
[ "$(id -u)" -eq 0 ] || { echo "bulk: needs root (sbxd does)" >&2; exit 1; }
command -v sshfs >/dev/null && [ -x /usr/sbin/sshd ] || { echo "bulk: needs sshfs and openssh-server" >&2; exit 1; }
BUILD=$(cd "$BUILD" && pwd) || exit 1
[ -z "$PERF" ] || { mkdir -p "$PERF" && PERF=$(cd "$PERF" && pwd); } || exit 1

T=$(mktemp -d /tmp/sbx-bulk.XXXXXX)
export SBX_STATE_DIR=$T/state
unset KOYEB_API_TOKEN KOYEB_API_HOST
SBXD_PID='' SSHD_PID='' ID=''
NFILES=0 SHELL_FILES=0 # columns.sh wants them; no trees here
declare -A FSPID
log() { echo "# $(date -u +%H:%M:%S) $*" >&2; }
die() { echo "bulk: $*" >&2; exit 1; }
stop_pid() {
	local p=$1 i
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}
cleanup() {
	local rc=$? m
	trap - EXIT INT TERM
	for m in "$T"/mnt-*; do
		mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null; }
	done
	for m in "${FSPID[@]}"; do stop_pid "$m"; done
	[ -n "$ID" ] && [ -n "$SBXD_PID" ] && timeout 30 "$BUILD/sbx" -q rm "$ID" >/dev/null 2>&1
	stop_pid "$SSHD_PID"
	stop_pid "$SBXD_PID"
	rm -rf "$T" 2>/dev/null
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting sbxd"
mkdir -p "$SBX_STATE_DIR"
"$BUILD/sbxd" --state-dir "$SBX_STATE_DIR" --listen 127.0.0.1:0 >>"$T/sbxd.log" 2>&1 &
SBXD_PID=$!
for i in $(seq 1 500); do
	[ -s "$SBX_STATE_DIR/sbxd.json" ] && break
	kill -0 "$SBXD_PID" 2>/dev/null || break
	sleep 0.02
done
[ -s "$SBX_STATE_DIR/sbxd.json" ] || { cat "$T/sbxd.log" >&2; die "sbxd did not start"; }
PX_API_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_host"].rsplit(":",1)[1])' \
	"$SBX_STATE_DIR/sbxd.json") || die "no api_host in sbxd.json"
TOKEN_FILE=$SBX_STATE_DIR/token
ID=$(timeout 120 "$BUILD/sbx" -q create --name bulk --instance-type 2xlarge) || die "sbx create failed"
timeout 60 "$BUILD/sbx" -q exec "$ID" -- mkdir -p /srv/bench/agent || die "mkdir in the sandbox failed"

log "starting sshd"
mkdir -p "$T/ssh" "$T/sshdir" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/id" ||
	die "ssh-keygen"
cp "$T/ssh/id.pub" "$T/ssh/authorized_keys"
SFTP=/usr/lib/openssh/sftp-server
[ -x "$SFTP" ] || SFTP=internal-sftp
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PX_SSH_PORT=
for p in $(seq 2300 2399); do
	port_busy "$p" && continue
	printf '%s\n' "Port $p" "ListenAddress 127.0.0.1" "HostKey $T/ssh/host_key" \
		"AuthorizedKeysFile $T/ssh/authorized_keys" "PidFile $T/ssh/sshd.pid" "StrictModes no" \
		"PermitRootLogin yes" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
		"UsePAM no" "UseDNS no" "Subsystem sftp $SFTP" "LogLevel ERROR" >"$T/ssh/sshd_config"
	/usr/sbin/sshd -f "$T/ssh/sshd_config" -D -e >>"$T/sshd.log" 2>&1 &
	SSHD_PID=$!
	for i in $(seq 1 100); do
		port_busy "$p" && break
		kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SSHD_PID" 2>/dev/null && port_busy "$p"; then PX_SSH_PORT=$p; break; fi
	stop_pid "$SSHD_PID"
	SSHD_PID=
done
[ -n "$PX_SSH_PORT" ] || die "sshd did not start"

. "$SRC/bench/columns.sh"
head -c $((MB << 20)) /dev/urandom >"$T/big"
col_mount agent || die "sbxfs did not mount (see $T/sbxfs-agent.log)"
col_mount ssh || die "sshfs did not mount"
log "sbxd :$PX_API_PORT, sshd :$PX_SSH_PORT, sandbox $ID, $MB MiB, $REPS reps"

timed() { # prints the seconds COMMAND took; empty if it failed
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" || { echo fail; return 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}'
}
declare -A RES
for r in $(seq 1 "$REPS"); do
	for c in agent ssh; do
		m=$(col_mnt "$c")
		rm -f "$m/big"
		w=$(timed dd if="$T/big" of="$m/big" bs=1M conv=fsync status=none)
		remount "$c" || die "remount of $c failed"
		rd=$(timed dd if="$m/big" of=/dev/null bs=1M status=none)
		cmp -s "$T/big" "$m/big" || die "$c: the file read back differs"
		echo "rep $r $c write ${w}s read ${rd}s"
		RES[$c.write]+="$w " RES[$c.read]+="$rd "
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
printf '%-8s %12s %12s %8s\n' "$MB MiB" sbxfs sshfs ratio
for k in write read; do
	a=$(median <<<"${RES[agent.$k]}") s=$(median <<<"${RES[ssh.$k]}")
	printf '%-8s %11ss %11ss %7sx\n' "$k" "$a" "$s" "$(awk -v a="$a" -v s="$s" 'BEGIN{printf "%.2f", a/s}')"
done

# perf_of WHAT COMMAND...: COMMAND under `perf record -g` of sbxfs and sbxd
perf_of() {
	local what=$1 p1 p2
	shift
	perf record -g -o "$PERF/sbxfs-$what.data" -p "${FSPID[agent]}" 2>>"$T/perf.log" &
	p1=$!
	perf record -g -o "$PERF/sbxd-$what.data" -p "$SBXD_PID" 2>>"$T/perf.log" &
	p2=$!
	sleep 1
	echo "$what under perf: $(timed "$@")s"
	kill -INT "$p1" "$p2"
	wait "$p1" "$p2"
}
if [ -n "$PERF" ]; then
	m=$(col_mnt agent)
	rm -f "$m/big"
	perf_of write dd if="$T/big" of="$m/big" bs=1M conv=fsync status=none
	remount agent || die "remount failed"
	perf_of read dd if="$m/big" of=/dev/null bs=1M status=none
fi
