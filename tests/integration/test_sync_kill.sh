#!/usr/bin/env bash
# test_sync_kill.sh - a node SIGKILLed again and again while it applies
# large batches from a peer restarts, converges, and loses no write whose
# commit had returned (its own puts, made before each kill).
# Usage: test_sync_kill.sh CRMSYNC_BINARY SOURCE_DIR GEN_CONTACTS
# SPDX-License-Identifier: MIT
here=$(dirname "$0")
# shellcheck source=../cli/cli_lib.sh
. "$here/../cli/cli_lib.sh" "$@"
# shellcheck source=sync_lib.sh
. "$here/sync_lib.sh"
GEN=${3:?usage: test_sync_kill.sh CRMSYNC SOURCE_DIR GEN_CONTACTS}
ROWS=100000

site_init a || exit 1
site_init b || exit 1
"$GEN" --rows "$ROWS" --seed 11 --order id --output "$TMP/contacts.csv"
run seed --data "$TMP/a" --collection contacts --id-column Id \
    --progress never "$TMP/contacts.csv"
check_rc "a is seeded with $ROWS contacts" 0
site_config a listen b
site_config b dialout a+
# Small batches: many commits to be killed between and inside, and a
# catch-up slow enough (one commit per 8 KiB) that four rounds of
# kills still find b mid-way.
sed -i 's/^sync$/sync\n    batch_bytes = 8192/' "$TMP/b.conf"
check "a starts" node_start a

last=0
for round in 1 2 3 4; do
    put b acked "round-$round" "Round:=$round"
    check "round $round: b starts" node_start b
    grown() { [ "$(records b contacts)" -gt "$last" ]; }
    check "round $round: b applies batches" wait_for 60 grown
    node_kill b
    now=$(records b contacts)
    check "round $round: b's store opens after SIGKILL ($now records)" \
        test "$now" -gt "$last"
    last=$now
done
check "b is mid-way, not done, after the kills" test "$last" -lt "$ROWS"
check "b restarts once more" node_start b
check "a and b converge" wait_converged 60 a b
check "b holds all $ROWS contacts" test "$(records b contacts)" = "$ROWS"
for round in 1 2 3 4; do
    check "b's acknowledged write of round $round reached a" \
        test "$(field a acked "round-$round" Round)" = "$round"
done
check "a stops" node_stop a
check "b stops" node_stop b
cli_finish
