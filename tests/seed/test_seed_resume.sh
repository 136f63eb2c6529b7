#!/bin/bash
# test_seed_resume.sh - crmsync seed: SIGKILL mid-seed then --resume gives
# the digest of one clean run; SIGINT/SIGTERM stop after a batch with exit
# 130; --resume refuses another input or other options.
# Usage: test_seed_resume.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

# shellcheck source=../cli/cli_lib.sh
. "$(dirname "$0")/../cli/cli_lib.sh" "$@"
# shellcheck source=seed_lib.sh
. "$(dirname "$0")/seed_lib.sh"

ROWS=40000
BATCH=1000
SMALL_BATCH=100 # 400 synced commits: the signals below land mid-run

# Contacts with a bad row (empty id) every 10,000 rows, so the rejects file
# is checked across the interruption too.
sh "$SRC/tests/seed/gen_contacts.sh" "$ROWS" |
    awk 'NR > 1 && NR % 4000 == 0 { sub(/^[^,]*/, "") } { print }' \
        >"$TMP/big.csv"
bad_rows=$(grep -c '^,' "$TMP/big.csv")

# The reference: one clean run.
REF=$(new_node ref)
run seed --data "$REF" -c contacts -i Id --batch-size "$BATCH" \
    --rejects "$TMP/ref.jsonl" --json "$TMP/big.csv"
check_rc "clean run: exit 2 (some rows rejected)" 2
check_jq "clean run: complete" ".complete and .rejected == $bad_rows"
ref_digest=$("$CRMSYNC" digest --data "$REF")

# ---- SIGKILL mid-seed, then --resume ----
K=$(new_node killed)
"$CRMSYNC" seed --data "$K" -c contacts -i Id --batch-size "$SMALL_BATCH" \
    --rejects "$TMP/k.jsonl" --json "$TMP/big.csv" >"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
PIDS+=("$pid")
if wait_committed "$K" "$pid"; then
    pass "kill: the first batch was committed"
else
    fail "kill: the first batch was committed"
fi
{ kill -9 "$pid"; wait_gone "$pid"; } 2>/dev/null
check_eq "kill: the seed was killed mid-run (no summary)" "" "$(cat "$TMP/k.out")"
before=$("$CRMSYNC" scan --data "$K" contacts | wc -l)
if [ "$before" -gt 0 ] && [ "$before" -lt $((ROWS - bad_rows)) ]; then
    pass "kill: part of the input was loaded ($before records)"
else
    fail "kill: part of the input was loaded" "records: $before"
fi
run seed --data "$K" -c contacts -i Id --batch-size "$BATCH" \
    --rejects "$TMP/k.jsonl" --json --resume "$TMP/big.csv"
check_rc "resume after kill: exit 2 (the bad rows)" 2
check_jq "resume after kill: resumed, rows add up" \
    ".resumed and .complete and .earlier_rows > 0 and
     .earlier_rows + .rows_read == $ROWS"
check_eq "resume after kill: same digest as one clean run" "$ref_digest" \
    "$("$CRMSYNC" digest --data "$K")"
check_eq "resume after kill: rejects file as a clean run's" \
    "$(jq -c '[.line, .reason]' "$TMP/ref.jsonl")" \
    "$(jq -c '[.line, .reason]' "$TMP/k.jsonl")"
run seed --data "$K" -c contacts -i Id --batch-size "$BATCH" --json \
    "$TMP/big.csv"
check_jq "after resume: a re-seed changes nothing" '.new == 0 and .updated == 0'
if grep -q discarded "$ERR"; then
    fail "after resume: the checkpoint is gone (no note)"
else
    pass "after resume: the checkpoint is gone (no note)"
fi

# ---- SIGTERM and SIGINT: stop after the current batch, exit 130 ----
for sig in TERM INT; do
    S=$(new_node "sig$sig")
    set -m # a job of its own: a background job would ignore SIGINT
    "$CRMSYNC" seed --data "$S" -c contacts -i Id --batch-size "$SMALL_BATCH" \
        --json "$TMP/big.csv" >"$TMP/s.out" 2>"$TMP/s.err" &
    pid=$!
    set +m
    PIDS+=("$pid")
    wait_committed "$S" "$pid"
    kill -"$sig" "$pid"
    wait_gone "$pid"
    check_eq "SIG$sig: exit 130" 130 "$RC"
    check_jq "SIG$sig: summary says interrupted" \
        '.interrupted == true and .complete == false' "$TMP/s.out"
    check_grep "SIG$sig: tells to resume" 'again with --resume' "$TMP/s.err"
    if [ "$sig" = TERM ]; then
        # a checkpoint is there: another input or other options are refused
        cp "$TMP/big.csv" "$TMP/copy.csv"
        run seed --data "$S" -c contacts -i Id --resume "$TMP/copy.csv"
        check_rc "resume with another input: exit 1" 1
        check_grep "resume with another input: says so" 'another input' "$ERR"
        run seed --data "$S" -c contacts -i Id --null NULL --resume \
            "$TMP/big.csv"
        check_rc "resume with other options: exit 1" 1
        check_grep "resume with other options: says so" 'other options' "$ERR"
    fi
    run seed --data "$S" -c contacts -i Id --batch-size "$BATCH" --json \
        --resume "$TMP/big.csv"
    check_rc "SIG$sig: resume exit 2 (the bad rows)" 2
    check_jq "SIG$sig: resumed and complete" '.resumed and .complete'
    check_eq "SIG$sig: resume gives the clean digest" "$ref_digest" \
        "$("$CRMSYNC" digest --data "$S")"
done

# ---- --resume without a checkpoint starts from the beginning ----
N=$(new_node fresh)
run seed --data "$N" -c contacts -i Id --json --resume "$TMP/big.csv"
check_rc "resume without a checkpoint: runs" 2
check_jq "resume without a checkpoint: from the start" \
    ".resumed == false and .rows_read == $ROWS"
check_eq "resume without a checkpoint: clean digest" "$ref_digest" \
    "$("$CRMSYNC" digest --data "$N")"

# ---- a new run over an interrupted one says it started over ----
O=$(new_node over)
"$CRMSYNC" seed --data "$O" -c contacts -i Id --batch-size "$SMALL_BATCH" \
    "$TMP/big.csv" >/dev/null 2>&1 &
pid=$!
PIDS+=("$pid")
wait_committed "$O" "$pid"
{ kill -9 "$pid"; wait_gone "$pid"; } 2>/dev/null
run seed --data "$O" -c contacts -i Id --json "$TMP/big.csv"
check_grep "start over: note on stderr" 'discarded' "$ERR"
check_eq "start over: clean digest" "$ref_digest" \
    "$("$CRMSYNC" digest --data "$O")"

cli_finish
