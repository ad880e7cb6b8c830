#!/usr/bin/env bash
# t_tls.sh - https and wss, as a client meets Koyeb: sbxd behind a TLS
# front (tls_proxy.py) whose certificate a test authority signed. With
# SSL_CERT_FILE naming that authority, the REST calls (libcurl), exec over
# the WebSocket (libwebsockets) and a mount with its agent session all
# work. Without it, or when the front shows a certificate for another
# name, each fails and says why: verification is never off, on either
# channel. (`sbx exec` of a sandbox whose ids it cached goes straight to
# the WebSocket, so those cases check libwebsockets's verification alone.)
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
FRONT=
# cert NAME: a key and a certificate for NAME in $T/NAME, signed by $T/ca
cert() {
	mkdir -p "$T/$1"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1/key.pem" -out "$T/$1/crt.pem" \
		-days 2 -subj "/CN=$1" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-addext "subjectAltName=DNS:$1" 2>/dev/null
}
# as CMD...: CMD speaking to the front with the test's token
as() { KOYEB_API_HOST=https://localhost:$P KOYEB_API_TOKEN=$TOKEN "$@"; }
# err CMD...: CMD must fail; prints its message
err() { if "$@" >"$T/out" 2>&1; then echo "SUCCEEDED"; else cat "$T/out"; fi; }
trap '[ -n "$FRONT" ] && kill "$FRONT" 2>/dev/null; cleanup' EXIT

if ! command -v openssl >/dev/null || ! openssl req -help 2>&1 | grep -q -- '-CA '; then
	echo "# needs openssl 3 (req -CA): skipped"
	finish
	exit
fi
start_sbxd
ID=$(sbx create --name tls)
check "sandbox created" test -n "$ID"
rx sh -c 'mkdir -p /srv/t && echo "over tls" >/srv/t/f'
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
	-subj "/CN=sbx test authority" 2>/dev/null
cert localhost && cert other.example
check "certificates for localhost and for other.example" test -s "$T/other.example/crt.pem"
python3 "$SRC/tests/e2e/tls_proxy.py" "$T/localhost/crt.pem" "$T/localhost/key.pem" "${API##*:}" \
	"$T/other.example/crt.pem" "$T/other.example/key.pem" "$T/swap" >"$T/front.port" 2>/dev/null &
FRONT=$!
for _ in $(seq 1 200); do [ -s "$T/front.port" ] && break; sleep 0.02; done
P=$(head -1 "$T/front.port")
check "a TLS front for sbxd listens ($P)" test -n "$P"

export SSL_CERT_FILE=$T/ca.pem
expect_eq "REST over https: sbx ls finds the sandbox" "$ID" \
	"$(as tm "$BUILD/sbx" -q ls | awk -v id="$ID" '$1 == id {print $1}')"
expect_eq "exec over wss: sbx exec" "over tls" "$(as tm "$BUILD/sbx" -q exec "$ID" -- cat /srv/t/f)"
expect_eq "  ... with its exit status" 3 "$(as tm "$BUILD/sbx" -q exec "$ID" -- sh -c 'exit 3'; echo $?)"
mkdir -p "$MNT"
printf '%s' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
tm "$BUILD/sbxfs" -o "api_host=https://localhost:$P,token_file=$T/token" "$ID:/srv/t" "$MNT"
check "a mount over https and wss" mountpoint -q "$MNT"
check "  ... with the agent" grep -q '"transport": *"agent"' "$MNT/.ctl/info"
expect_eq "  ... reads the sandbox's file" "over tls" "$(tm cat "$MNT/f")"
echo "written over tls" >"$MNT/g"
expect_eq "  ... and writes one" "written over tls" "$(rx cat /srv/t/g)"
fusermount3 -u "$MNT"

# refused: an authority not trusted
unset SSL_CERT_FILE
out=$(err as tm "$BUILD/sbx" -q exec "$ID" -- true)
check "an untrusted authority: sbx exec (the WebSocket) fails and says why: $out" \
	grep -q "certificate was refused: unable to get local issuer certificate" "$T/out"
out=$(err as tm "$BUILD/sbx" -q ls)
check "  ... sbx ls (REST) fails and says why: $out" grep -qi "certificate" "$T/out"
export SSL_CERT_FILE=$T/ca.pem

# refused: a certificate for another name, shown by the same front
touch "$T/swap"
out=$(err as tm "$BUILD/sbx" -q exec "$ID" -- true)
check "a certificate for other.example at localhost: sbx exec fails and says why: $out" \
	grep -q "certificate was refused: .*mismatch" "$T/out"
out=$(err as tm "$BUILD/sbx" -q ls)
check "  ... sbx ls fails and says why: $out" grep -qi "host name\|hostname" "$T/out"
out=$(err tm "$BUILD/sbxfs" -o "api_host=https://localhost:$P,token_file=$T/token" "$ID:/srv/t" "$MNT")
check "  ... and the mount is refused: $out" test "$out" != SUCCEEDED
rm "$T/swap"
expect_eq "the right certificate again: exec works" ok "$(as tm "$BUILD/sbx" -q exec "$ID" -- echo ok)"
finish
