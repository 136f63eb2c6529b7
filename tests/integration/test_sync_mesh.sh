#!/usr/bin/env bash
# test_sync_mesh.sh - three nodes in separate processes on loopback: hq and
# east listen, west only dials out. Concurrent writes at every site
# converge; the same field written at two sites ends with the same,
# predictable winner everywhere; a site stopped while the others write
# catches up when it is back; status reports the peers.
# Usage: test_sync_mesh.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT
here=$(dirname "$0")
# shellcheck source=../cli/cli_lib.sh
. "$here/../cli/cli_lib.sh" "$@"
# shellcheck source=sync_lib.sh
. "$here/sync_lib.sh"

for site in hq east west; do
    site_init "$site" || { echo "cannot init $site" >&2; exit 1; }
done
site_config hq listen east west
site_config east listen hq+ west
site_config west dialout hq+ east+
for site in hq east west; do
    check "node $site starts" node_start "$site"
done
check_grep "the node proved its CURVE self-check" "self-check passed" \
    "$TMP/hq.log"

# ---------------- concurrent writes at every site ----------------

writers=()
for site in hq east west; do
    (
        for i in $(seq 1 25); do
            put "$site" contacts "$site-$i" "Name=$site $i" "N:=$i" || exit 1
        done
    ) &
    writers+=($!)
done
ok=1
for pid in "${writers[@]}"; do
    wait "$pid" || ok=0
done
check "75 concurrent local writes succeed" test "$ok" = 1
check "the three sites converge" wait_converged 30 hq east west
for site in hq east west; do
    n=$("$CRMSYNC" scan --data "$TMP/$site" contacts | wc -l)
    check "$site holds all 75 records" test "$n" = 75
done
check "west (dial-out only) received hq's writes" \
    test "$(field west contacts hq-7 Name)" = "hq 7"
check "hq received west's writes" \
    test "$(field hq contacts west-7 Name)" = "west 7"

# ---------------- the same field at two sites ----------------

# Both writes run at once; each put prints its stamp "<hlc> <time> <n>".
"$CRMSYNC" put -v --data "$TMP/east" contacts shared Title=east >"$TMP/east.stamp" &
p1=$!
"$CRMSYNC" put -v --data "$TMP/west" contacts shared Title=west >"$TMP/west.stamp" &
p2=$!
wait "$p1" "$p2"
check "the sites converge after the conflict" wait_converged 30 hq east west
hlc_east=$(awk '{print $1; exit}' "$TMP/east.stamp")
hlc_west=$(awk '{print $1; exit}' "$TMP/west.stamp")
id_east=$("$CRMSYNC" status --data "$TMP/east" --json | jq -r .node_id)
id_west=$("$CRMSYNC" status --data "$TMP/west" --json | jq -r .node_id)
# The larger (hlc, origin) wins: compare hlcs as numbers, then node ids.
if [ "$hlc_east" -gt "$hlc_west" ] ||
    { [ "$hlc_east" = "$hlc_west" ] && [[ "$id_east" > "$id_west" ]]; }; then
    winner=east
else
    winner=west
fi
for site in hq east west; do
    check "$site shows the LWW winner ($winner)" \
        test "$(field "$site" contacts shared Title)" = "$winner"
done
stamp=$("$CRMSYNC" get --stamps --data "$TMP/hq" contacts shared)
want_origin=$([ "$winner" = east ] && echo "$id_east" || echo "$id_west")
check "get --stamps names the winning node" \
    test "$(jq -r .Title.origin <<<"$stamp")" = "$want_origin"

# ---------------- a site offline ----------------

check "west stops cleanly (exit 0)" node_stop west
for i in $(seq 1 10); do
    put hq contacts "while-away-$i" "Name=away $i"
done
put east contacts hq-1 Name=renamed
put west contacts west-1 Name=offline-edit
check "hq and east converge without west" wait_converged 30 hq east
check "west does not have what was written while it was away" \
    test -z "$(field west contacts while-away-3 Name)"
check "west restarts" node_start west
check "west catches up, and its offline edit goes out" \
    wait_converged 30 hq east west
check "west has the writes made while it was away" \
    test "$(field west contacts while-away-3 Name)" = "away 3"
check "hq has west's offline edit" \
    test "$(field hq contacts west-1 Name)" = "offline-edit"

# ---------------- status ----------------

run status --data "$TMP/hq" --json
check_rc "status exits 0" 0
check "status: running, 2 peers" \
    jq -e '.running and (.peers | length) == 2' "$OUT"
check "status: east is connected and not behind" \
    jq -e '.peers[] | select(.name == "east") | .connected and .behind == 0' "$OUT"
check "status: counters moved" \
    jq -e '.peers[] | select(.name == "west") | .changes_in > 0 and .bytes_out > 0' "$OUT"
check "status: records" jq -e '.records == 86' "$OUT"
run status --data "$TMP/hq"
check_grep "status text shows the peer" "^peer east .* connected" "$OUT"

for site in hq east west; do
    check "node $site stops cleanly" node_stop "$site"
done
run status --data "$TMP/hq" --json --timeout 200
check "status of a stopped node: running false, store numbers" \
    jq -e '(.running | not) and (.unresponsive | not) and .records == 86' "$OUT"
# A process that holds the node's lock but does not answer (a node starting
# up, busy or stuck) is told apart from a stopped one.
flock -x "$TMP/hq/node.lock" "$CRMSYNC" status --data "$TMP/hq" --json \
    --timeout 200 >"$OUT" 2>"$ERR" </dev/null
check "status while the lock is held: unresponsive" \
    jq -e '(.running | not) and .unresponsive' "$OUT"
cli_finish
