#!/usr/bin/env bash
# t_executor.sh - the executor API (docs/executor-protocol.md) as Koyeb's
# current SDKs use it, driven by an executor-era client written in Python
# from the protocol (executor_client.py) against a real sbxd; then the
# service fields around it: docker.privileged refused, sbx ls lists a
# sandbox created that way.
. "$(dirname "$0")/lib.sh"
start_sbxd

python3 "$SRC/tests/e2e/executor_client.py" "$API" "$TOKEN" >"$T/client.out" 2>&1
cat "$T/client.out"
PASS=$((PASS + $(grep -c '^ok - ' "$T/client.out")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$T/client.out")))
check "the client ran to its end" grep -q '^# executor checks done' "$T/client.out"

check "sbx ls lists the sandbox the SDK way named" bash -c '"$BUILD/sbx" -q ls | grep -q exec-era'
expect_eq "sbx finds it by its bare name" HEALTHY "$(sbx status exec-era)"
expect_eq "sbx exec reaches it by name too" hi "$(sbx exec exec-era -- echo hi)"

app=$(api POST /v1/apps '{"name":"priv"}' | cut -d' ' -f2- | json_get app.id)
out=$(api POST /v1/services "{\"app_id\":\"$app\",\"definition\":{\"name\":\"priv\",\"docker\":{\"image\":\"koyeb/sandbox\",\"privileged\":true}}}")
check "docker.privileged is refused with 400 ($out)" bash -c '[[ $1 == 400* && $1 == *privileged* ]]' _ "$out"
expect_eq "an app without delete_when_empty stays" HEALTHY \
	"$(api GET "/v1/apps/$app" | cut -d' ' -f2- | json_get app.status)"

# life_cycle.delete_when_empty: the app a failed create leaves empty goes
app=$(api POST /v1/apps '{"name":"empty"}' | cut -d' ' -f2- | json_get app.id)
out=$(api POST /v1/services "{\"app_id\":\"$app\",\"definition\":{\"name\":\"e\",\"type\":\"SANDBOX\",\"life_cycle\":{\"delete_when_empty\":true},\"docker\":{\"image\":\"no/such-image\"}}}")
check "a create with an unknown image fails (${out:0:3})" test "${out:0:3}" = 400
expect_eq "the app it left empty is deleted" DELETED \
	"$(api GET "/v1/apps/$app" | cut -d' ' -f2- | json_get app.status)"

# scaling to zero with an idle delay: accepted, stored, reported
app=$(api POST /v1/apps '{"name":"idle"}' | cut -d' ' -f2- | json_get app.id)
out=$(api POST /v1/services "{\"app_id\":\"$app\",\"definition\":{\"name\":\"idle\",\"type\":\"SANDBOX\",\"docker\":{\"image\":\"koyeb/sandbox\"},\"scalings\":[{\"min\":0,\"max\":1,\"targets\":[{\"sleep_idle_delay\":{\"value\":300}}]}]}}")
dep=$(cut -d' ' -f2- <<<"$out" | json_get service.latest_deployment_id)
expect_eq "the idle delay is reported back" 300 \
	"$(api GET "/v1/deployments/$dep" | cut -d' ' -f2- | json_get deployment.definition.scalings.0.targets.0.sleep_idle_delay.value)"

finish
