#!/usr/bin/env bash
# t_api.sh - sbxd speaks the Koyeb API: the REST sequence of the Python SDK,
# auth, error bodies and status codes, the exec WebSocket as the SDK frames
# it, and delete leaving nothing behind.
. "$(dirname "$0")/lib.sh"
start_sbxd

expect_eq "token file is mode 0600" 600 "$(stat -c %a "$SBX_STATE_DIR/token")"

r=$(curl -s -o "$T/o" -w '%{http_code}' "$API/v1/apps")
expect_eq "no token -> 401" 401 "$r"
check "401 body is an Error" grep -q '"status":401' "$T/o"
r=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x$TOKEN" "$API/v1/apps")
expect_eq "wrong token -> 401" 401 "$r"
r=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer wrong" \
	"$API/v1/services/00000000-0000-0000-0000-000000000000")
expect_eq "wrong token on DELETE -> 401" 401 "$r"

out=$(api POST /v1/apps '{"name": "x"')
expect_eq "malformed JSON -> 400" 400 "${out%% *}"
check "400 body has code and message" \
	bash -c 'echo "$1" | cut -d" " -f2- | grep -q "\"message\""' _ "$out"
out=$(api GET /v1/instances/00000000-0000-0000-0000-000000000000)
expect_eq "unknown instance -> 404" 404 "${out%% *}"
out=$(api GET /v1/services/nope)
expect_eq "unknown service -> 404" 404 "${out%% *}"
out=$(api GET /v1/nothing-here)
expect_eq "unknown path -> 404" 404 "${out%% *}"

# The sequence of the Python SDK (docs/executor-protocol.md 2.1), bodies as it sends them.
now=$(date +%s)
out=$(api POST /v1/apps "{\"name\": \"sandbox-app-t-$now\"}")
expect_eq "create app -> 200" 200 "${out%% *}"
APP=$(echo "${out#* }" | json_get app.id)
SECRET=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ
svc_body() {
	cat <<JSON
{"app_id": "$APP", "definition": {"name": "sandbox-service-t", "type": "WEB",
 "docker": {"image": "$1"},
 "env": [{"key": "SANDBOX_SECRET", "value": "$SECRET"}, {"key": "MODE", "value": "test"}],
 "ports": [{"port": 3030, "protocol": "http"}, {"port": 3031, "protocol": "http"}],
 "routes": [{"port": 3030, "path": "/koyeb-sandbox/"}, {"port": 3031, "path": "/"}],
 "instance_types": [{"type": "nano"}], "scalings": [{"min": 1, "max": 1}], "regions": ["eu"]}}
JSON
}
out=$(api POST /v1/services "$(svc_body no-such/image:1)")
expect_eq "unknown image -> 400" 400 "${out%% *}"
check "400 says how to register an image" bash -c 'echo "$1" | grep -q "image add"' _ "$out"
out=$(api POST /v1/services "$(svc_body koyeb/sandbox)")
expect_eq "create service -> 200" 200 "${out%% *}"
SVC=$(echo "${out#* }" | json_get service.id)
DEP=$(echo "${out#* }" | json_get service.latest_deployment_id)
check "service has a deployment id" test -n "$DEP"

INST=
for i in $(seq 1 200); do
	out=$(api GET "/v1/deployment/$DEP/scaling")
	INST=$(echo "${out#* }" | json_get replicas.0.instances.0.id 2>/dev/null) && break
	sleep 0.05
done
check "scaling shows an instance" test -n "$INST"
st=
for i in $(seq 1 400); do
	st=$(api GET "/v1/instances/$INST" | cut -d' ' -f2- | json_get instance.status)
	[ "$st" = HEALTHY ] && break
	sleep 0.05
done
expect_eq "instance becomes HEALTHY" HEALTHY "$st"
out=$(api GET "/v1/deployments/$DEP")
check "deployment keeps the secret in its env" \
	bash -c 'echo "$1" | grep -q "$2"' _ "$out" "$SECRET"

# exec exactly as the SDK frames it (no idType, no disableTty)
echo "$TOKEN" >"$T/tok"
got=$(python3 "$SRC/tests/e2e/ws_client.py" --host "$API" --token-file "$T/tok" --id "$INST" \
	-- sh -c 'echo "hi $MODE"; echo oops >&2; exit 3' 2>"$T/err")
rc=$?
expect_eq "SDK-shaped exec: stdout" "hi test" "$got"
expect_eq "SDK-shaped exec: stderr" "oops" "$(cat "$T/err")"
expect_eq "SDK-shaped exec: exit code" 3 "$rc"
got=$(python3 "$SRC/tests/e2e/ws_client.py" --host "$API" --token-file "$T/tok" --id "$INST" \
	-- sh -c 'echo "$SANDBOX_SECRET"')
expect_eq "sandbox env holds SANDBOX_SECRET" "$SECRET" "$got"
echo "bad" >"$T/badtok"
python3 "$SRC/tests/e2e/ws_client.py" --host "$API" --token-file "$T/badtok" --id "$INST" \
	-- true >/dev/null 2>&1
check "exec with a bad token fails" test $? -ne 0

check "sandbox state exists" test -d "$SBX_STATE_DIR/sandboxes/$SVC"
out=$(api DELETE "/v1/services/$SVC")
expect_eq "delete service -> 200 {}" "200 {}" "$out"
out=$(api DELETE "/v1/apps/$APP")
expect_eq "delete app -> 200 {}" "200 {}" "$out"
for i in $(seq 1 400); do
	st=$(api GET "/v1/instances/$INST" | cut -d' ' -f2- | json_get instance.status 2>/dev/null)
	[ "$st" = STOPPED ] && break
	sleep 0.05
done
expect_eq "instance ends STOPPED" STOPPED "$st"
check "delete removed the sandbox state" test ! -e "$SBX_STATE_DIR/sandboxes/$SVC"
check "no process of the sandbox is left" no_procs "$SVC"
finish
