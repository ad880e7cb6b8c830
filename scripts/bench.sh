#!/usr/bin/env bash
# scripts/bench.sh - sbxfs with each transport against sshfs, at several
# added round trips, side by side in one run. See bench/README.md.
#
# Starts a private sbxd with one sandbox and a private sshd on loopback, and
# a delay proxy (sbx-delayproxy) in front of each: sbxfs (-o api_host=) and
# `sbx exec` talk to sbxd through one, sshfs and ssh to sshd through the
# other. For every added round trip (--delays), every rep and every
# workload, each mount runs the same command in turn (the order rotates by
# rep; a warm run follows its own mount's cold run); round trips of sbxfs come from /.ctl/stats, its peak memory from
# VmHWM. A transport that sbxfs refuses is reported "n/a". Writes
# table.txt, results.json, raw.tsv and ratios.png into --out; installs
# nothing, downloads nothing; everything it started is stopped on exit.
#
#   scripts/bench.sh [--reps N] [--delays 0,10,50] [--transports agent,shell]
#                    [--files N] [--shell-files N] [--quick] [--out DIR] [--build DIR]
#                    [--workloads W,W...]

set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$SRC/build
CACHE=${SBX_BENCH_CACHE:-/var/cache/sbx-bench}
REPS=1
DELAYS=0,10,50
TRANSPORTS=agent,shell
NFILES=200     # tree of the agent transport and of sshfs
SHELL_FILES=50 # tree of the shell transport (and of an sshfs beside it)
BIGMB=256
SAVES=100
EXECS=10  # calls per `true` workload; the table shows one call
TMO=1800  # bound of any one timed command, seconds
OUT=
ONLY= # --workloads: a subset of bench/workloads.sh's WORKLOADS

usage() {
	sed -n '14,16p' "$0" | sed 's/^# *//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--reps) REPS=${2:-}; shift 2 || usage ;;
	--delays) DELAYS=${2:-}; shift 2 || usage ;;
	--transports) TRANSPORTS=${2:-}; shift 2 || usage ;;
	--files) NFILES=${2:-}; shift 2 || usage ;;
	--shell-files) SHELL_FILES=${2:-}; shift 2 || usage ;;
	--quick) REPS=1 DELAYS=0,50 NFILES=100 SHELL_FILES=30 BIGMB=16 SAVES=10 EXECS=3; shift ;;
	--out) OUT=${2:-}; shift 2 || usage ;;
	--build) BUILD=${2:-}; shift 2 || usage ;;
	--workloads) ONLY=${2:-}; shift 2 || usage ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) usage ;;
	esac
done
num() { [[ $1 =~ ^[1-9][0-9]{0,5}$ ]]; }
num "$REPS" && num "$NFILES" && num "$SHELL_FILES" || usage
[[ $DELAYS =~ ^[0-9]{1,4}(,[0-9]{1,4})*$ ]] || usage
[[ $TRANSPORTS =~ ^(agent|shell)(,(agent|shell))?$ ]] || usage
IFS=, read -ra DELAY_LIST <<<"$DELAYS"
IFS=, read -ra TR_LIST <<<"$TRANSPORTS"
[ -n "$OUT" ] || OUT=$SRC/bench/out/$(date -u +%Y%m%d-%H%M)

# --- prerequisites (checked, never installed) ---------------------------------------
missing=()
command -v sshfs >/dev/null || missing+=(sshfs)
[ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null || missing+=(openssh-server)
command -v fusermount3 >/dev/null || missing+=(fuse3)
command -v git >/dev/null || missing+=(git)
command -v python3 >/dev/null || missing+=(python3)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench: missing ${missing[*]}; install with: apt-get install ${missing[*]}" >&2
	exit 1
fi
for b in sbx sbxd sbxfs sbx-delayproxy; do
	[ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b missing; run scripts/build.sh" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (sbxd does)" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "bench: /dev/fuse missing" >&2; exit 1; }
TREE_SRC=$CACHE/ocaml-4.13.1
[ -d "$TREE_SRC" ] && [ -s "$CACHE/SOURCE" ] ||
	{ echo "bench: no source tree in $CACHE; run bench/fetch-tree.sh once" >&2; exit 1; }
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)

T=$(mktemp -d /tmp/sbx-bench.XXXXXX)
export SBX_STATE_DIR=$T/state
unset KOYEB_API_TOKEN KOYEB_API_HOST
SBXD_PID='' SSHD_PID='' ID='' PX_API='' PX_SSH=''
declare -A FSPID # sbxfs process of a mounted column
mkdir -p "$T/ssh" "$T/out" "$T/sshdir"

log() { echo "# $(date -u +%H:%M:%S) $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# stop_pid PID: TERM, then KILL after 10 s; reaps it (our child)
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
	# the logs outlive the run: a failed workload or a dead mount is explained there
	mkdir -p "$OUT/logs" && cp "$T"/*.log "$OUT/logs/" 2>/dev/null
	for m in "$T"/mnt-*; do
		mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null; }
	done
	for m in "${FSPID[@]}"; do stop_pid "$m"; done
	stop_pid "$PX_API"
	stop_pid "$PX_SSH"
	if [ -n "$ID" ] && [ -n "$SBXD_PID" ]; then
		timeout 30 "$BUILD/sbx" -q rm "$ID" >/dev/null 2>&1
	fi
	stop_pid "$SSHD_PID"
	stop_pid "$SBXD_PID"
	rm -rf "$T" 2>/dev/null
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- sbxd and a sandbox -----------------------------------------------------------------------
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
API_PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_host"].rsplit(":",1)[1])' \
	"$SBX_STATE_DIR/sbxd.json") || die "no api_host in sbxd.json"
TOKEN_FILE=$SBX_STATE_DIR/token
# 2xlarge: 2 cores and 16 GiB, the machine's own. sshd runs with no cap, so
# only a sandbox without one compares like with like; the default (nano: a
# quarter of a core, 256 MiB) throttles the agent and the sandbox's page
# cache, and the bulk rows then measure the cap (bench/README.md).
ID=$(timeout 120 "$BUILD/sbx" -q create --name bench --instance-type 2xlarge) ||
	die "sbx create failed"
timeout 60 "$BUILD/sbx" -q exec "$ID" -- mkdir -p /srv/bench/agent /srv/bench/shell ||
	die "mkdir in the sandbox failed"

# --- sshd on a free loopback port -------------------------------------------------------------
log "starting sshd"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" || die "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/id" || die "ssh-keygen"
cp "$T/ssh/id.pub" "$T/ssh/authorized_keys"
SFTP=/usr/lib/openssh/sftp-server
[ -x "$SFTP" ] || SFTP=internal-sftp
mkdir -p /run/sshd # privilege separation dir sshd insists on (normally made by its unit)
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
SSH_PORT=
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
	if kill -0 "$SSHD_PID" 2>/dev/null && port_busy "$p"; then SSH_PORT=$p; break; fi
	stop_pid "$SSHD_PID"
	SSHD_PID=
done
[ -n "$SSH_PORT" ] || { cat "$T/sshd.log" >&2; die "sshd did not start on any port of 2222-2299"; }
log "sshd on 127.0.0.1:$SSH_PORT, sbxd on 127.0.0.1:$API_PORT, sandbox $ID"

# --- the delay proxies ------------------------------------------------------------------------------
# proxies D: one proxy in front of sbxd and one in front of sshd, each adding
# D/2 ms each way (D ms per round trip); sets PX_API_PORT and PX_SSH_PORT.
start_proxy() { # VAR_PID VAR_PORT TARGET_PORT ONE_WAY_MS
	local f=$T/proxy-$1.port i
	: >"$f"
	"$BUILD/sbx-delayproxy" -t "127.0.0.1:$3" -d "$4" >"$f" 2>>"$T/proxy.log" &
	printf -v "$1" %s $!
	for i in $(seq 1 200); do [ -s "$f" ] && break; sleep 0.02; done
	[ -s "$f" ] || die "sbx-delayproxy did not start"
	printf -v "$2" %s "$(cat "$f")"
}
proxies() {
	local half
	half=$(awk -v d="$1" 'BEGIN{printf "%g", d/2}')
	stop_pid "$PX_API"
	stop_pid "$PX_SSH"
	start_proxy PX_API PX_API_PORT "$API_PORT" "$half"
	start_proxy PX_SSH PX_SSH_PORT "$SSH_PORT" "$half"
}

# --- the source trees: the first N files of the cached tree, fixed metadata ----------------
# tree_tar N: $T/tree-N.tar (top dir "tree") and the number of files in it
tree_tar() {
	local n=$1 d=$T/tree-$1
	[ -s "$d.tar" ] && return 0
	mkdir -p "$d/tree"
	(cd "$TREE_SRC" && find . -type f | LC_ALL=C sort | head -n "$n") >"$d.list"
	tar -C "$TREE_SRC" -cf - -T "$d.list" | tar -C "$d/tree" -xf -
	tar -C "$d" --sort=name --mtime='2020-01-01 00:00Z' --owner=0 --group=0 --numeric-owner \
		-cf "$d.tar" tree
	echo "$(find "$d/tree" -type f | wc -l) $(find "$d/tree" | wc -l) $(du -sk "$d/tree" | cut -f1)" >"$d.info"
}
head -c $((BIGMB * 1024 * 1024)) /dev/urandom >"$T/big"

. "$SRC/bench/columns.sh"
. "$SRC/bench/workloads.sh"
if [ -n "$ONLY" ]; then
	IFS=, read -ra want <<<"$ONLY"
	for w in "${want[@]}"; do
		[[ " ${WORKLOADS[*]} " == *" $w "* ]] || die "--workloads: no workload '$w' (${WORKLOADS[*]})"
	done
	kept=()
	for w in "${WORKLOADS[@]}"; do [[ ",$ONLY," == *",$w,"* ]] && kept+=("$w"); done
	WORKLOADS=("${kept[@]}")
fi

# --- prepare: probe the transports, make the git repos (untimed) --------------------------------
log "preparing at 0 ms: probing transports, creating the git repos"
proxies 0
COLS=()
# the transport a mount really uses (.ctl/info "transport"; empty if not said)
in_use() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("transport",""), "-", d.get("transport_note",""))' \
		"$(col_mnt "$1")/.ctl/info" 2>/dev/null
}
for tr in "${TR_LIST[@]}"; do
	if ! col_mount "$tr"; then
		NA[$tr]=$(tail -3 "$T/sbxfs-$tr.log" | tr '\n' ' ')
		log "transport $tr refused: ${NA[$tr]}"
		continue
	fi
	u=$(in_use "$tr")
	case $u in
	"$tr "* | "" | " "*) COLS+=("$tr") ;;
	*) # sbxfs fell back to another transport: its figures would be mislabelled
		NA[$tr]="mounted, but with transport ${u}"
		log "transport $tr not in use: ${NA[$tr]}"
		col_umount "$tr" ;;
	esac
done
need_ssh=() # the sshfs columns the available transports are compared with
for c in "${COLS[@]}"; do need_ssh+=("$(ssh_col_of "$c")"); done
for c in $(printf '%s\n' "${need_ssh[@]}" | sort -u); do
	col_mount "$c" || die "sshfs did not mount (see $T/sshfs.log)"
	COLS+=("$c")
done
[ ${#COLS[@]} -gt 0 ] || die "nothing to measure"
for c in "${COLS[@]}"; do
	tree_tar "$(col_files "$c")"
	make_repo "$c" || die "git repo on $c failed (see $T/git.log)"
done
for c in "${COLS[@]}"; do col_umount "$c"; done

# --- what the run is (written first: report.py also reads a partial raw.tsv) ----------
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host=$(uname -n), $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "sshfs=$(sshfs --version 2>&1 | head -1)"
	echo "ssh=$(ssh -V 2>&1)"
	echo "sbx=$(git -C "$SRC" describe --always --dirty 2>/dev/null)"
	echo "tree=$(head -1 "$CACHE/SOURCE")"
	for c in "${COLS[@]}"; do echo "files_$c=$(cat "$T/tree-$(col_files "$c").info")"; done
	for tr in "${TR_LIST[@]}"; do
		[ -n "${NA[$tr]:-}" ] && echo "na_$tr=${NA[$tr]}"
	done
	echo "reps=$REPS"
	echo "delays=$DELAYS"
	echo "transports=$TRANSPORTS"
	echo "bigmb=$BIGMB"
	echo "saves=$SAVES"
	echo "execs=$EXECS"
} >"$OUT/meta.txt"

# --- measuring -----------------------------------------------------------------------------------------
RAW=$OUT/raw.tsv
printf 'delay_ms\tworkload\tcolumn\trep\tseconds\tround_trips\n' >"$RAW"
T_START=$EPOCHREALTIME
for D in "${DELAY_LIST[@]}"; do
	proxies "$D"
	for c in "${COLS[@]}"; do col_mount "$c" || die "$c did not mount at $D ms"; done
	for R in $(seq 1 "$REPS"); do
		n=${#COLS[@]}
		ORDER=()
		for i in $(seq 0 $((n - 1))); do ORDER+=("${COLS[$(((i + R) % n))]}"); done
		log "delay $D ms, rep $R/$REPS, order ${ORDER[*]}"
		# a W.warm right after its W.cold runs on each mount right after
		# that mount's own cold run: else, at 50 ms on a large tree, the
		# other mount's rows in between outlast the caches' timeouts
		for ((k = 0; k < ${#WORKLOADS[@]}; k++)); do
			W=${WORKLOADS[$k]}
			NEXT=${WORKLOADS[$((k + 1))]:-}
			if [[ $W == *.cold && $NEXT == "${W%.cold}.warm" ]]; then
				for c in "${ORDER[@]}"; do
					run_one "$D" "$W" "$c" "$R"
					run_one "$D" "$NEXT" "$c" "$R"
				done
				k=$((k + 1))
			else
				for c in "${ORDER[@]}"; do run_one "$D" "$W" "$c" "$R"; done
			fi
		done
	done
	for c in "${COLS[@]}"; do col_umount "$c"; done
done
ELAPSED=$(awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}')

# --- the floor: what no mount can go below --------------------------------------------------------
# floor W: the median of 9 runs of W on the local copy of the tree
# ($T/tree-N/tree), through the same harness as every figure above (a
# bash under timeout); W "none" runs the harness alone. Warm: the copy was
# just written and read.
floor() {
	local i t0 ts=()
	for i in $(seq 1 9); do
		t0=$EPOCHREALTIME
		if [ "$1" = none ]; then
			timeout "$TMO" bash -c "$(declare -f work); :"
		else
			timeout "$TMO" bash -c "$(declare -f work); $(declare -p T); work \"\$@\"" _ \
				"$1" "$T" "tree-$NFILES" local "$NFILES" >>"$T/work.log" 2>&1
		fi
		ts+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b-a}')")
	done
	printf '%s\n' "${ts[@]}" | sort -n | sed -n 5p
}
log "measuring the floor (the harness alone, the warm walks on the local disk)"
ls -lR "$T/tree-$NFILES/tree" >/dev/null
FLOOR_NONE=$(floor none)
FLOOR_LSR=$(floor lsr.warm)
FLOOR_FIND=$(floor find.warm)

# --- report -----------------------------------------------------------------------------------------------
{
	for tr in "${TR_LIST[@]}"; do
		[ -n "${HWM[$tr]:-}" ] && echo "vmhwm_kb_$tr=${HWM[$tr]}"
		[ -n "${MFD[$tr]:-}" ] && echo "memfd_kb_$tr=${MFD[$tr]}"
	done
	echo "elapsed_s=$ELAPSED"
	echo "floor_none_s=$FLOOR_NONE"
	echo "floor_lsr_s=$FLOOR_LSR"
	echo "floor_find_s=$FLOOR_FIND"
} >>"$OUT/meta.txt"
python3 "$SRC/bench/report.py" "$OUT" || die "report failed"
cat "$OUT/table.txt"
log "results in $OUT (measuring took ${ELAPSED} s)"
