#!/usr/bin/env bash
# setup.sh - install every Debian package that building and testing sbx needs.
# Idempotent: when everything is present it changes nothing and exits at once.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config ca-certificates
	libfuse3-dev fuse3 libcurl4-openssl-dev libwebsockets-dev libjson-c-dev libssl-dev
	check
	libseccomp-dev libcap-dev slirp4netns
	bubblewrap util-linux procps coreutils python3 curl
	git tar vim findutils sed grep diffutils busybox
	e2fsprogs
	# t_cli_install.sh renders the man pages (man -l, groff -ww); t_cli_cp.sh
	# and t_cli_tty.sh drive sbx on a terminal with script(1)
	man-db groff-base bsdutils
	# tests/e2e/t_posix.sh: setfattr and getfattr, through the mount and in the sandbox
	attr
	# tests/e2e/t_fsync.sh: watches the sandbox's agent call fsync(2)
	strace
	# tests/e2e/t_tls.sh: a test authority and certificates (openssl req)
	openssl
	# scripts/fuzz.sh: libFuzzer and the sanitizer runtimes ship with clang
	clang-14 libclang-rt-14-dev
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#PKGS[@]} packages present"
	exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
