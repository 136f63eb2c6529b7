#!/usr/bin/env bash
# test_sync_skew.sh - a peer's timestamps far ahead of our clock (beyond
# max_drift) are merged, so the sites still converge, but they do not drag
# the local clock forward: they are counted per peer, shown by status and
# logged.
# Usage: test_sync_skew.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT
here=$(dirname "$0")
# shellcheck source=../cli/cli_lib.sh
. "$here/../cli/cli_lib.sh" "$@"
# shellcheck source=sync_lib.sh
. "$here/sync_lib.sh"

site_init a || exit 1
site_init b || exit 1
site_config a listen b
site_config b dialout a+
check "a starts" node_start a
check "b starts" node_start b

# A seed stamped a year ahead: the stamps of another site's clock gone
# wrong (the seed itself does not move a's clock past the drift either).
year=$(( $(date -u +%Y) + 1 ))
printf 'Id,Name\nfuture-1,Ahead\nfuture-2,Ahead too\n' >"$TMP/future.csv"
run seed --data "$TMP/a" --collection contacts --id-column Id \
    --as-of "$year-06-01T00:00:00Z" --progress never "$TMP/future.csv"
check_rc "a seeds two records stamped in $year" 0
check "the far-future records reach b (merged)" \
    wait_field 30 b contacts future-2 Name "Ahead too"
check "a and b converge" wait_converged 30 a b
skew_counted() {
    "$CRMSYNC" status --data "$TMP/b" --json |
        jq -e '.peers[] | select(.name == "a") | .skewed >= 2' >/dev/null
}
check "b counts a's skewed stamps" wait_for 10 skew_counted
logged() { grep -q "peer a: .* timestamps more than the max drift ahead" "$TMP/b.log"; }
check "b logs them" wait_for 10 logged

# b's clock was not dragged to next year: its own next write is stamped now.
run put -v --data "$TMP/b" contacts local Name=now
check_rc "b writes" 0
check "b's next stamp is this year, not $year" \
    grep -q " $(date -u +%Y)-" "$OUT"
# ... so that write loses to the future one on the same field, but that is
# LWW: it shows the stamps, it does not hide them.
run put -v --data "$TMP/b" contacts future-1 Name=edited
check "a later edit of a skewed field keeps the skewed winner (LWW)" \
    wait_converged 30 a b
check "the record shows the far-future value" \
    test "$(field a contacts future-1 Name)" = "Ahead"
check "a stops" node_stop a
check "b stops" node_stop b
cli_finish
