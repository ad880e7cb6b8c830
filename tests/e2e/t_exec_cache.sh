#!/usr/bin/env bash
# t_exec_cache.sh - sbx exec's id cache (STATE/ids.json): used without a
# REST call (and without loading libcurl), never a way into the wrong
# sandbox: stale entries of a deleted and recreated sandbox, entries for
# another host, tampered, corrupt or non-private files.
. "$(dirname "$0")/lib.sh"
start_sbxd
C=$SBX_STATE_DIR/ids.json
chmod 700 "$SBX_STATE_DIR"

# ids NAME FIELD : the service or instance id the cache holds for NAME
ids() {
	python3 -c 'import json,sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["name"] == sys.argv[2]: print(e[sys.argv[3]])' "$C" "$1" "$2" 2>/dev/null
}
# inst ID : the instance id of a sandbox, as the API says
inst() { "$BUILD/sbx" -q status --json "$1" | json_get instance_id; }

A=$(sbx create --name alpha)
B=$(sbx create --name beta)

# the cache is written by create (name and id) and used by exec
check "create wrote the cache" test -s "$C"
expect_eq "the cache file is 0600" 600 "$(stat -c %a "$C")"
expect_eq "the cached service is alpha's" "$A" "$(ids alpha service)"
expect_eq "the cached instance is alpha's" "$(inst "$A")" "$(ids alpha instance)"
expect_eq "the sandbox's id is cached too" "$A" "$(ids "$A" service)"
sbx exec alpha -- sh -c 'echo alpha >/marker'
sbx exec beta -- sh -c 'echo beta >/marker'
out=$(SBX_DEBUG=1 "$BUILD/sbx" -q exec alpha -- cat /marker 2>"$T/dbg")
expect_eq "a cached exec runs in the sandbox" alpha "$out"
check "a cached exec makes no REST call" bash -c '! grep -q "rest:" "$1" && grep -q "ids from the cache" "$1"' _ "$T/dbg"
n=$(LD_DEBUG=files "$BUILD/sbx" -q exec alpha -- true 2>&1 | grep -c 'file=libcurl')
expect_eq "a cached exec does not load libcurl" 0 "$n"
n=$(LD_DEBUG=files "$BUILD/sbx" --version 2>&1 | grep -c 'file=libcurl')
expect_eq "sbx --version does not load libcurl" 0 "$n"

# SBX_NO_ID_CACHE: no file read or written
rm -f "$C"
out=$(SBX_NO_ID_CACHE=1 "$BUILD/sbx" -q exec alpha -- cat /marker)
expect_eq "SBX_NO_ID_CACHE=1 execs" alpha "$out"
check "SBX_NO_ID_CACHE=1 writes no cache" test ! -e "$C"
sbx exec alpha -- true
expect_eq "an exec that resolved the name stores it" "$A" "$(ids alpha service)"

# deleted by another client and recreated under the same name: the stale
# instance is refused, the name is resolved again, the new one runs it
old_inst=$(ids alpha instance)
SBX_NO_ID_CACHE=1 sbx rm alpha
A2=$(SBX_NO_ID_CACHE=1 sbx create --name alpha)
sbx exec "$A2" -n -- sh -c 'echo alpha2 >/marker'
expect_eq "the cache still names the deleted sandbox" "$old_inst" "$(ids alpha instance)"
out=$(sbx exec alpha -n -- cat /marker)
expect_eq "a stale entry reaches the new sandbox of that name" alpha2 "$out"
expect_eq "the entry now names the new sandbox" "$A2" "$(ids alpha service)"
# with stdin read before the refusal the exec is not repeated, but the
# entry is dropped so that the next one is right
SBX_NO_ID_CACHE=1 sbx rm alpha
A3=$(SBX_NO_ID_CACHE=1 sbx create --name alpha)
sbx exec "$A3" -n -- sh -c 'echo alpha3 >/marker'
out=$(sbx exec alpha -- cat /marker </dev/null)
expect_eq "stdin at EOF still allows the second try" alpha3 "$out"

# sbx rm and sbx create forget the name
sbx rm alpha
expect_eq "sbx rm forgets the entry" "" "$(ids alpha service)"

# entries the cache must not follow: they all name beta's instance under
# the name "gamma", a sandbox that runs elsewhere
G=$(sbx create --name gamma)
sbx exec gamma -- sh -c 'echo gamma >/marker'
binst=$(inst "$B")
tok=$(python3 -c 'import json,sys; print([e for e in json.load(open(sys.argv[1]))["entries"] if e["name"]=="gamma"][0]["tok"])' "$C")
# forge HOST TOK INSTANCE : a cache whose gamma entry names INSTANCE
forge() {
	python3 -c 'import json,sys
h,t,i,s,path=sys.argv[1:]
json.dump({"v":1,"entries":[{"host":h,"tok":t,"name":"gamma","service":s,"instance":i}]},open(path,"w"))' \
		"$1" "$2" "$3" "$B" "$C"
	chmod 600 "$C"
}
forge "$API" "$tok" "$binst"
expect_eq "(sanity) a forged private entry is followed: the user's own file" beta \
	"$(sbx exec gamma -n -- cat /marker)"
forge "http://127.0.0.1:1" "$tok" "$binst"
expect_eq "an entry for another host is not used" gamma "$(sbx exec gamma -n -- cat /marker)"
forge "$API" 0000000000000000 "$binst"
expect_eq "an entry for another token is not used" gamma "$(sbx exec gamma -n -- cat /marker)"
forge "$API" "$tok" "$binst&id_type=SERVICE_ID"
expect_eq "an id with URL characters is not used" gamma "$(sbx exec gamma -n -- cat /marker)"
forge "$API" "$tok" "$binst"
chmod 644 "$C"
expect_eq "a cache file others can read is not used" gamma "$(sbx exec gamma -n -- cat /marker)"
forge "$API" "$tok" "$binst"
chmod 755 "$SBX_STATE_DIR"
expect_eq "a state dir others can enter is not used" gamma "$(sbx exec gamma -n -- cat /marker)"
chmod 700 "$SBX_STATE_DIR"
forge "$API" "$tok" "$binst"
mv "$C" "$T/elsewhere.json"
ln -s "$T/elsewhere.json" "$C"
expect_eq "a symlinked cache file is not used" gamma "$(sbx exec gamma -n -- cat /marker)"
rm -f "$C"
printf '{"v":1,"entries":[{"host":' >"$C"
chmod 600 "$C"
expect_eq "a corrupt cache file is ignored" gamma "$(sbx exec gamma -n -- cat /marker)"
expect_eq "and replaced by a good one" "$G" "$(ids gamma service)"
head -c 70000 /dev/zero | tr '\0' ' ' >"$C"
expect_eq "an oversized cache file is ignored" gamma "$(sbx exec gamma -n -- cat /marker)"

sbx rm gamma beta
finish
