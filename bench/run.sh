#!/usr/bin/env bash
# bench/run.sh - sbxfs against sshfs on the same machine, side by side.
#
# Starts a private sbxd (state in a temp dir) with one sandbox mounted by
# sbxfs, and a private sshd on a free loopback port with a directory mounted
# by sshfs. Runs the same workloads on both mounts, alternating which goes
# first, N times, and prints the medians, the ratio sbxfs/sshfs and the round
# trips sbxfs spent (from /.ctl/stats). Installs nothing. Everything it
# started is stopped and removed on exit. See bench/README.md.
#
#   bench/run.sh [--reps N] [--build DIR] [--files N]

set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$SRC/build
REPS=3
NFILES=300
BIGMB=50
TMO=600 # bound of any one timed command, seconds

usage() { echo "usage: $0 [--reps N] [--build DIR] [--files N]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--reps) REPS=${2:-}; shift 2 || usage ;;
	--build) BUILD=${2:-}; shift 2 || usage ;;
	--files) NFILES=${2:-}; shift 2 || usage ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) usage ;;
	esac
done
[[ $REPS =~ ^[1-9][0-9]*$ && $NFILES =~ ^[1-9][0-9]*$ ]] || usage

# --- prerequisites (checked, never installed) ---------------------------------------
missing=()
command -v sshfs >/dev/null || missing+=(sshfs)
[ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null || missing+=(openssh-server)
command -v fusermount3 >/dev/null || missing+=(fuse3)
command -v git >/dev/null || missing+=(git)
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench: missing ${missing[*]}; install with: apt-get install ${missing[*]}" >&2
	exit 1
fi
for b in sbx sbxd sbxfs; do
	[ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b missing; run scripts/build.sh" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (sbxd does)" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "bench: /dev/fuse missing" >&2; exit 1; }

T=$(mktemp -d /tmp/sbx-bench.XXXXXX)
export SBX_STATE_DIR=$T/state
unset KOYEB_API_TOKEN KOYEB_API_HOST
SBXD_PID= SSHD_PID= ID=
MS=$T/mnt-sbxfs # sbxfs mount of SANDBOX:/srv/bench
MH=$T/mnt-sshfs # sshfs mount of root@127.0.0.1:$T/sshdir
SSHDIR=$T/sshdir
mkdir -p "$MS" "$MH" "$SSHDIR" "$T/ssh" "$T/out"

log() { echo "# $*" >&2; }

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for m in "$MS" "$MH"; do
		mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null; }
	done
	if [ -n "$ID" ] && [ -n "$SBXD_PID" ]; then
		timeout 30 "$BUILD/sbx" -q rm "$ID" >/dev/null 2>&1
	fi
	for p in "$SSHD_PID" "$SBXD_PID"; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T" 2>/dev/null
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }

# --- sbxd, a sandbox, sbxfs --------------------------------------------------------------------
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
ID=$(timeout 120 "$BUILD/sbx" -q create --name bench) || die "sbx create failed"
timeout 60 "$BUILD/sbx" -q exec "$ID" -- mkdir -p /srv/bench || die "mkdir in the sandbox failed"
timeout 60 "$BUILD/sbxfs" "$ID:/srv/bench" "$MS" || die "sbxfs did not mount"
mountpoint -q "$MS" || die "sbxfs mount missing"

# --- sshd on a free loopback port, sshfs ----------------------------------------------------------
log "starting sshd"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" || die "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/id" || die "ssh-keygen"
cp "$T/ssh/id.pub" "$T/ssh/authorized_keys"
SFTP=/usr/lib/openssh/sftp-server
[ -x "$SFTP" ] || SFTP=internal-sftp
mkdir -p /run/sshd # privilege separation dir sshd insists on (normally made by its unit)
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=
for p in $(seq 2222 2299); do
	port_busy "$p" && continue
	cat >"$T/ssh/sshd_config" <<EOF
Port $p
ListenAddress 127.0.0.1
HostKey $T/ssh/host_key
AuthorizedKeysFile $T/ssh/authorized_keys
PidFile $T/ssh/sshd.pid
StrictModes no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
Subsystem sftp $SFTP
LogLevel ERROR
EOF
	/usr/sbin/sshd -f "$T/ssh/sshd_config" -D -e >>"$T/sshd.log" 2>&1 &
	SSHD_PID=$!
	for i in $(seq 1 100); do
		port_busy "$p" && break
		kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SSHD_PID" 2>/dev/null && port_busy "$p"; then PORT=$p; break; fi
	kill "$SSHD_PID" 2>/dev/null; wait "$SSHD_PID" 2>/dev/null; SSHD_PID=
done
[ -n "$PORT" ] || { cat "$T/sshd.log" >&2; die "sshd did not start on any port of 2222-2299"; }
SSHFS_OPTS=IdentityFile=$T/ssh/id,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,port=$PORT,BatchMode=yes
mount_sshfs() {
	timeout 60 sshfs -o "$SSHFS_OPTS" "root@127.0.0.1:$SSHDIR" "$MH" 2>>"$T/sshfs.log" &&
		mountpoint -q "$MH"
}
umount_sshfs() {
	local i
	fusermount3 -u "$MH" 2>/dev/null || return 1
	for i in $(seq 1 100); do mountpoint -q "$MH" || return 0; sleep 0.05; done
	return 1
}
mount_sshfs || { cat "$T/sshfs.log" >&2; die "sshfs did not mount"; }
log "sshd on 127.0.0.1:$PORT, sandbox $ID"

# --- the source tree: NFILES headers of /usr/include, sorted, fixed metadata -------------------
log "building the source tarball"
mkdir -p "$T/src/tree"
(cd /usr/include && find . -type f -name '*.h' | LC_ALL=C sort | head -n "$NFILES") >"$T/list"
[ "$(wc -l <"$T/list")" -ge 10 ] || die "too few headers in /usr/include"
tar -C /usr/include -cf - -T "$T/list" | tar -C "$T/src/tree" -xf -
tar -C "$T/src" --sort=name --mtime='2020-01-01 00:00Z' --owner=0 --group=0 --numeric-owner \
	-cf "$T/tree.tar" tree
TREE_FILES=$(find "$T/src/tree" -type f | wc -l)
TREE_ENTRIES=$(find "$T/src/tree" | wc -l)
TREE_KB=$(du -sk "$T/src/tree" | cut -f1)
head -c $((BIGMB * 1024 * 1024)) /dev/urandom >"$T/big"

# --- a small git repo on each mount (once, untimed) ---------------------------------------------------
log "creating the git repos on the mounts"
for M in "$MS" "$MH"; do
	(
		mkdir -p "$M/repo" && cd "$M/repo" &&
			timeout $TMO tar -xf "$T/tree.tar" && git init -q . &&
			git config user.email bench@example.com && git config user.name bench &&
			timeout $TMO git add -A && timeout $TMO git commit -q -m tree
	) >>"$T/git.log" 2>&1 || { cat "$T/git.log" >&2; die "git repo on $M failed"; }
done

# --- measuring ---------------------------------------------------------------------------------------------
# rt: sbxfs round trips so far
rt() { sed -n 's/^rfs.total requests=[0-9]* round_trips=//p' "$MS/.ctl/stats"; }
# cold FS: start a read workload with nothing cached on the client side.
# Both mounts are unmounted and mounted again (same method for both): the
# FUSE process goes, and with it its attribute/listing caches, sbxfs's local
# file copies and the kernel's page cache and dentries of the mount. (sbxfs's
# `drop-caches` verb is not enough: local copies whose attributes still match
# are reused without a fetch.) The server side (sandbox overlay, sshd's
# disk) stays as warm as it is for both.
remount_sbxfs() {
	local i
	fusermount3 -u "$MS" 2>/dev/null || return 1
	for i in $(seq 1 200); do
		mountpoint -q "$MS" || pgrep -f "sbxfs $ID:/srv/bench $MS" >/dev/null || break
		sleep 0.05
	done
	timeout 60 "$BUILD/sbxfs" "$ID:/srv/bench" "$MS" && mountpoint -q "$MS"
}
cold() {
	if [ "$1" = sbxfs ]; then
		remount_sbxfs || die "sbxfs remount failed"
	else
		umount_sshfs && mount_sshfs || die "sshfs remount failed"
	fi
}

WORKLOADS=(untar cpout grep stat write read gitst)
declare -A DESC=(
	[untar]="tar x of $TREE_FILES files into the mount"
	[cpout]="cp -a of the tree out (cold)"
	[grep]="grep -r over the tree (cold)"
	[stat]="find -type f | xargs stat (cold)"
	[write]="write ${BIGMB} MB + fsync + close"
	[read]="cat ${BIGMB} MB > /dev/null (cold)"
	[gitst]="git status, $TREE_FILES files (cold)"
)
declare -A COLD=([cpout]=1 [grep]=1 [stat]=1 [read]=1 [gitst]=1)

# work W M R : the command of workload W on mount M in rep R
work() {
	local W=$1 M=$2 R=$3
	case $W in
	untar) mkdir -p "$M/r$R" && tar -C "$M/r$R" -xf "$T/tree.tar" ;;
	cpout) rm -rf "$T/out/x" && cp -a "$M/r$R/tree" "$T/out/x" ;;
	grep) grep -r -c 'define' "$M/r$R/tree" >/dev/null ;;
	stat) find "$M/r$R/tree" -type f -print0 | xargs -0 stat >/dev/null ;;
	write) dd if="$T/big" of="$M/r$R/big" bs=1M conv=fsync status=none ;;
	read) cat "$M/r$R/big" >/dev/null ;;
	gitst) (cd "$M/repo" && git status --porcelain >/dev/null) ;;
	esac
}

declare -A RES # RES[W,fs] = "t1 t2 ..."; RES[W,rt] = round trips of sbxfs
run_one() {
	local W=$1 fs=$2 R=$3 M r0 t0 t1 rc
	[ "$fs" = sbxfs ] && M=$MS || M=$MH
	[ -n "${COLD[$W]:-}" ] && cold "$fs"
	[ "$fs" = sbxfs ] && r0=$(rt)
	t0=$EPOCHREALTIME
	timeout $TMO bash -c "$(declare -f work); T='$T'; work '$W' '$M' '$R'" 2>>"$T/work.log"
	rc=$?
	t1=$EPOCHREALTIME
	[ $rc -eq 0 ] || { tail -5 "$T/work.log" >&2; die "$W on $fs failed (exit $rc)"; }
	RES[$W,$fs]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') "
	[ "$fs" = sbxfs ] && RES[$W,rt]+="$(($(rt) - r0)) "
	return 0
}

for R in $(seq 1 "$REPS"); do
	if [ $((R % 2)) -eq 1 ]; then ORDER=(sbxfs sshfs); else ORDER=(sshfs sbxfs); fi
	log "rep $R/$REPS (${ORDER[0]} first)"
	for W in "${WORKLOADS[@]}"; do
		for fs in "${ORDER[@]}"; do run_one "$W" "$fs" "$R"; done
	done
	rm -f "$MS/r$R/big" "$MH/r$R/big" # keep the disk use bounded
done

# --- report ---------------------------------------------------------------------------------------------------
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END{if(NR%2)print v[(NR+1)/2]; else printf "%.3f\n",(v[NR/2]+v[NR/2+1])/2}'; }
echo
echo "sbxfs vs sshfs, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) CPUs, kernel $(uname -r)"
echo "tree: $TREE_FILES files, $TREE_ENTRIES entries, ${TREE_KB} KB; median of $REPS reps; times in seconds"
echo
printf '%-40s %9s %9s %8s %8s\n' workload sbxfs sshfs ratio "sbxfs RT"
printf '%-40s %9s %9s %8s %8s\n' ---------------------------------------- --------- --------- -------- --------
for W in "${WORKLOADS[@]}"; do
	a=$(echo "${RES[$W,sbxfs]}" | median)
	b=$(echo "${RES[$W,sshfs]}" | median)
	n=$(echo "${RES[$W,rt]}" | median)
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN{if (b > 0) printf "%.1fx", a/b; else print "-"}')
	printf '%-40s %9.3f %9.3f %8s %8s\n' "${DESC[$W]}" "$a" "$b" "$ratio" "$n"
done
echo
echo "ratio = sbxfs/sshfs (above 1: sbxfs slower). RT = sbxfs round trips (/.ctl/stats)."
echo "all reps (s): $(for W in "${WORKLOADS[@]}"; do printf '%s=[%s| %s] ' "$W" "${RES[$W,sbxfs]}" "${RES[$W,sshfs]}"; done)"
