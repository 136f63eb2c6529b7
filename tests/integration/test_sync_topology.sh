#!/usr/bin/env bash
# test_sync_topology.sh - changes reach sites that are not direct peers:
# a line a-b-c-d (each knows only its neighbours) and a hub with three
# spokes that only dial out; and a wiped site (new store, new epoch, same
# keys) gets everything again.
# Usage: test_sync_topology.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT
here=$(dirname "$0")
# shellcheck source=../cli/cli_lib.sh
. "$here/../cli/cli_lib.sh" "$@"
# shellcheck source=sync_lib.sh
. "$here/sync_lib.sh"

# ---------------- line a - b - c - d ----------------

for site in a b c d; do
    site_init "$site" || exit 1
done
site_config a listen b
site_config b listen a+ c
site_config c listen b+ d
site_config d dialout c+
for site in a b c d; do
    check "line: node $site starts" node_start "$site"
done
put a contacts from-a Name=alpha
put d contacts from-d Name=delta
check "line: a's write reaches d through b and c" \
    wait_field 30 d contacts from-a Name alpha
check "line: d's write reaches a through c and b" \
    wait_field 30 a contacts from-d Name delta
check "line: all four converge" wait_converged 30 a b c d
run status --data "$TMP/a" --json
check "line: a has one peer, b" jq -e '[.peers[].name] == ["b"]' "$OUT"

# ---------------- a wiped site (new epoch) ----------------

for i in $(seq 1 20); do
    put b contacts "b-$i" "N:=$i"
done
check "line: converged before the wipe" wait_converged 30 a b c d
epoch_before=$("$CRMSYNC" status --data "$TMP/c" --json | jq -r .epoch)
check "wipe: c stops" node_stop c
rm -f "$TMP/c/data.mdb" "$TMP/c/lock.mdb"
run init --keep-keys --data "$TMP/c"
check_rc "wipe: init --keep-keys makes a new store" 0
check "wipe: c's store is empty" \
    test "$("$CRMSYNC" scan --data "$TMP/c" contacts | wc -l)" = 0
check "wipe: c restarts" node_start c
check "wipe: c gets everything again from b and d" wait_converged 30 a b c d
epoch_after=$("$CRMSYNC" status --data "$TMP/c" --json | jq -r .epoch)
check "wipe: c has a new epoch" test "$epoch_before" != "$epoch_after"
cursor_on_c_follows() {
    "$CRMSYNC" status --data "$TMP/b" --json |
        jq -e --arg e "$epoch_after" \
            '.peers[] | select(.name == "c") | .cursor_epoch == $e' >/dev/null
}
check "wipe: b's cursor on c follows c's new epoch" \
    wait_for 30 cursor_on_c_follows
put c contacts after-wipe Name=again
check "wipe: c's new writes reach a" wait_field 30 a contacts after-wipe Name again
for site in a b c d; do
    check "line: node $site stops" node_stop "$site"
done

# ---------------- hub and spokes ----------------

for site in hub s1 s2 s3; do
    site_init "$site" || exit 1
done
site_config hub listen s1 s2 s3
for site in s1 s2 s3; do
    site_config "$site" dialout hub+
done
for site in hub s1 s2 s3; do
    check "hub: node $site starts" node_start "$site"
done
for site in s1 s2 s3; do
    put "$site" deals "deal-$site" "Owner=$site" "Amount:=100"
done
check "hub: every spoke sees every other spoke's deal" \
    wait_converged 30 hub s1 s2 s3
check "hub: s3 has s1's deal" test "$(field s3 deals deal-s1 Owner)" = s1
for site in hub s1 s2 s3; do
    check "hub: node $site stops" node_stop "$site"
done
cli_finish
