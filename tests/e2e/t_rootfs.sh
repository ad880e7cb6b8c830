#!/usr/bin/env bash
# t_rootfs.sh - what a sandbox's filesystem holds and costs the host: no host
# data in the default image (shadow, ssh keys, planted host files, the state
# dir), the host's /usr read-only, the usual tools working, files kept
# across a restart of sbxd and gone after delete, a bounded disk fill that
# ends in ENOSPC without filling the host, and registered images (added
# directory, imported tarball, a tarball trying to escape).
. "$(dirname "$0")/lib.sh"

BASE=1000000000             # SBX_IDMAP_BASE_DEFAULT
NANO_DISK=$((2 * 1024 ** 3)) # spec.c: the nano disk
PLANT="/srv/sbx-test-$$ /opt/sbx-test-$$ /var/lib/sbx-test-$$"
trap 'rm -rf $PLANT /tmp/sbx-test-escape-$$ /tmp/sbx-test-link-$$; cleanup' EXIT
for d in $PLANT; do
	mkdir -p "$d" && echo "host secret" >"$d/secret"
done

start_sbxd
ID=$(sbx create --name rootfs)
check "a sandbox on the default image starts" test -n "$ID"
in_sb() { sbx exec "$ID" -n -- sh -c "$1"; }

# ---- no host data
check "/etc/shadow is absent" in_sb '! test -e /etc/shadow && ! test -e /etc/gshadow'
check "/etc/ssh (host keys) is absent" in_sb '! test -e /etc/ssh'
check "/etc/ssl/private is absent" in_sb '! test -e /etc/ssl/private'
for d in $PLANT; do
	check "a file planted in the host's $d is invisible" in_sb "! test -e $d"
done
check "the state dir (token, db.json) is invisible" in_sb "! test -e '$SBX_STATE_DIR'"
check "the host's /root and /home are not shown" in_sb '[ -z "$(ls -A /root)$(ls -A /home)" ]'
check "passwd has no hash and no host user" \
	in_sb '! cut -d: -f2 /etc/passwd | grep -qv "^x\$" && grep -q "^root:x:0:0:" /etc/passwd &&
	! grep -q ":/home/" /etc/passwd'
expect_eq "resolv.conf points at the private network's DNS" "nameserver 10.0.2.3" \
	"$(in_sb 'cat /etc/resolv.conf')"
expect_eq "/tmp is 1777, /root 0700" "1777 700" "$(in_sb 'stat -c %a /tmp /root' | xargs)"

# ---- the host's programs, read-only
out=$(in_sb 'touch /usr/bin/sbx-x 2>&1; echo rc=$?')
check "/usr is read-only" grep -q "Read-only file system" <<<"$out"
check "/usr/local is the sandbox's own and writable" \
	in_sb 'touch /usr/local/sbx-x && test -z "$(ls /usr/local | grep -v sbx-x)"'
check "sh bash coreutils grep sed awk find tar vim make run" in_sb '
	bash -c true && ls / >/dev/null && echo a | grep -q a && echo a | sed s/a/b/ | grep -q b &&
	echo 1 2 | awk "{exit \$2 != 2}" && find /etc -maxdepth 0 >/dev/null &&
	tar -cf /tmp/t.tar /etc/hostname 2>/dev/null && vim --version >/dev/null &&
	make --version >/dev/null'
check "gcc compiles and the program runs" \
	in_sb 'printf "int main(void){return 3;}\n" >/tmp/a.c && gcc -o /tmp/a /tmp/a.c; /tmp/a; [ $? = 3 ]'
check "python3 and git work" \
	in_sb 'python3 -c "import ssl, json" && cd /root && git init -q r && cd r &&
	git -c user.email=a@b -c user.name=a commit -q --allow-empty -m x && git log --oneline | grep -q x'

# ---- ownership: the sandbox's root owns its tree (BASE on the host)
SB=$SBX_STATE_DIR/sandboxes/$ID
host_stat() { nsenter -t "$SBXD_PID" -m stat -c %u "$@"; }
expect_eq "on the host, the sandbox's /root belongs to the range" "$BASE" \
	"$(host_stat "$SB/root/root")"
# in_userns SANDBOX: true once sandboxes run in a user namespace
in_userns() { ! sbx exec "$1" -n -- cat /proc/self/uid_map | grep -Eq '^ *0 +0 +4294967295'; }
if in_userns "$ID"; then
	expect_eq "inside, / and /etc/passwd belong to root" "0 0" "$(in_sb 'stat -c %u / /etc/passwd' | xargs)"
	in_sb 'echo x >/root/mine'
	expect_eq "a file the sandbox writes is owned by the range on the host" "$BASE" \
		"$(host_stat "$SB/root/root/mine")"
else
	ok "inside ownership: skipped, sandboxes have no user namespace yet"
fi

# ---- persistence across a restart of sbxd
in_sb 'echo kept >/root/k && echo kept >/etc/k && echo kept >/var/lib/k && echo kept >/opt/k && echo kept >/tmp/k'
stop_sbxd
start_sbxd
check "the sandbox comes back after a restart" wait_status "$ID" HEALTHY
expect_eq "with its files in /root /etc /var/lib /opt /tmp" "kept kept kept kept kept" \
	"$(in_sb 'cat /root/k /etc/k /var/lib/k /opt/k /tmp/k' | xargs)"

# a link planted where sbxd writes at start (/etc/resolv.conf) must not
# lead it outside the sandbox
mkdir -p "/tmp/sbx-test-link-$$"
in_sb "mv /etc /etc.old && ln -s /tmp/sbx-test-link-$$ /etc"
kill -9 "$SBXD_PID"
wait "$SBXD_PID" 2>/dev/null
rm -f "$SBX_STATE_DIR/sbxd.json" # a killed sbxd leaves it behind
start_sbxd
check "after sbxd was killed (-9), the sandbox comes back" wait_status "$ID" HEALTHY
expect_eq "with its files" kept "$(in_sb 'cat /root/k')"
check "sbxd wrote nothing through the link the sandbox planted at /etc" \
	test -z "$(ls -A "/tmp/sbx-test-link-$$")"
in_sb 'rm /etc && mv /etc.old /etc'

# ---- the disk limit
free_before=$(df -B1 --output=avail "$SBX_STATE_DIR" | tail -1)
out=$(in_sb 'dd if=/dev/zero of=/root/fill bs=1M 2>&1; echo rc=$?; stat -c %s /root/fill')
free_after=$(df -B1 --output=avail "$SBX_STATE_DIR" | tail -1)
written=$(tail -1 <<<"$out")
check "dd past the disk size fails with ENOSPC" grep -q "No space left on device" <<<"$out"
check "and it wrote most of the nano disk ($written bytes)" test "$written" -gt $((NANO_DISK * 8 / 10))
check "the disk image holds at most the limit" \
	test "$(du -B1 "$SB/disk.img" | cut -f1)" -le "$NANO_DISK"
drop=$((free_before - free_after))
echo "# disk fill: wrote $written bytes; host free $free_before -> $free_after (drop $drop)"
# slack: other processes of the machine write too
check "the host's free space dropped by at most the limit (+256 MiB slack)" \
	test "$drop" -le $((NANO_DISK + 256 * 1024 ** 2))
check "a write in /tmp fails too" in_sb '! echo x >/tmp/more 2>/dev/null || ! dd if=/dev/zero of=/tmp/more bs=1M count=8 2>/dev/null'
in_sb 'rm -f /root/fill /tmp/more'
check "space comes back when the sandbox deletes the file" in_sb 'dd if=/dev/zero of=/root/f2 bs=1M count=8 2>/dev/null'

# ---- delete: the files and the disk go
sbx rm "$ID"
gone() {
	local i
	for i in $(seq 1 200); do
		[ ! -e "$SB" ] && return 0
		sleep 0.05
	done
	return 1
}
check "delete removes the sandbox's disk and files" gone
loop_free() {
	local i
	for i in $(seq 1 200); do
		! grep -qs "$ID" /sys/block/loop*/loop/backing_file && return 0
		sleep 0.05
	done
	return 1
}
check "and frees its loop device" loop_free

# ---- registered images
mkimg() {
	local d=$1 b l
	mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/root"
	for b in /usr/bin/busybox /usr/bin/setpriv; do
		cp "$b" "$d/bin/"
		for l in $(ldd "$b" | grep -o '/[^ ]*'); do
			mkdir -p "$d$(dirname "$l")"
			cp -L "$l" "$d$l"
		done
	done
	for b in sh ls cat stat touch echo sleep rm; do ln -sf busybox "$d/bin/$b"; done
	echo 'root:x:0:0:image root:/root:/bin/sh' >"$d/etc/passwd"
}
mkimg "$T/img"
"$BUILD/sbx" host image add bb "$T/img" >/dev/null
check "image add registers a directory" test $? -eq 0
B=$(sbx create --name bb --image bb)
check "a sandbox on the added image starts" test -n "$B"
expect_eq "it sees the image's files" "image root" \
	"$(sbx exec "$B" -n -- sh -c 'cat /etc/passwd' | cut -d: -f5)"
if in_userns "$B"; then
	want=0
else
	want=$BASE
fi
expect_eq "the image's files belong to the sandbox's root (idmapped)" "$want" \
	"$(sbx exec "$B" -n -- stat -c %u /bin/busybox)"
sbx exec "$B" -n -- sh -c 'echo x >/bin/new && echo y >/etc/passwd'
check "its root can change the image's files" test $? -eq 0
check "without touching the image on the host" \
	bash -c '! test -e "$1/bin/new" && grep -q "image root" "$1/etc/passwd"' _ "$T/img"
sbx rm "$B"

tar -C "$T/img" -cf "$T/img.tar" .
"$BUILD/sbx" host image import bbt "$T/img.tar" >/dev/null 2>"$T/imp.err"
check "image import extracts and registers a tarball" test $? -eq 0
dir=$(ls -d "$SBX_STATE_DIR"/images/bbt.* 2>/dev/null)
expect_eq "its files land owned by root (0), not by the range" "0" "$(stat -c %u "$dir/bin/busybox")"
C=$(sbx create --name bbt --image bbt)
expect_eq "a sandbox on the imported image runs" "image root" \
	"$(sbx exec "$C" -n -- sh -c 'cat /etc/passwd' | cut -d: -f5)"
sbx rm "$C"
"$BUILD/sbx" host image rm bbt >/dev/null
check "image rm removes the imported files" test ! -e "$dir"

python3 - "$T/evil.tar" "$$" <<'EOF'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
link = tarfile.TarInfo("escape"); link.type = tarfile.SYMTYPE; link.linkname = "/tmp"
t.addfile(link)
for name in ("escape/sbx-test-escape-" + sys.argv[2], "../sbx-test-escape-" + sys.argv[2]):
	data = b"pwned\n"; f = tarfile.TarInfo(name); f.size = len(data)
	t.addfile(f, io.BytesIO(data))
t.close()
EOF
"$BUILD/sbx" host image import evil "$T/evil.tar" >/dev/null 2>&1
check "a tarball writing through a link is refused" test $? -ne 0
check "and wrote nothing outside" \
	bash -c '! test -e /tmp/sbx-test-escape-$1 && ! ls "$2"/images/ | grep -q evil' _ "$$" "$SBX_STATE_DIR"
finish
