#!/bin/bash
# test_seed_rejects.sh - crmsync seed: every kind of bad row is skipped and
# written to --rejects with its line, offset, reason and text; the good rows
# load; exit 2; --max-errors stops.
# Usage: test_seed_rejects.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

# shellcheck source=../cli/cli_lib.sh
. "$(dirname "$0")/../cli/cli_lib.sh" "$@"

long_id=$(repeat x 300)
big_value=$(repeat v 1100000)

# One file with a good row between each kind of bad row. Line numbers are
# physical lines (the header is line 1).
{
    printf 'Id,Name,Mod\n'                        # 1
    printf 'g1,good one,2024-01-01\n'             # 2
    printf 'b1,"unbalanced,2024-01-01\n'          # 3  unbalanced quote
    printf 'g2,good two,2024-01-01\n'             # 4
    printf 'b2,too,many,2024-01-01\n'             # 5  wrong column count
    printf 'g3,good three,2024-01-01\n'           # 6
    printf 'b3,bad \xff\xfe bytes,2024-01-01\n'   # 7  invalid UTF-8
    printf 'g4,good four,2024-01-01\n'            # 8
    printf 'b4,nul \0 byte,2024-01-01\n'          # 9  NUL
    printf ',empty id,2024-01-01\n'               # 10 empty id
    printf '%s,long id,2024-01-01\n' "$long_id"   # 11 over-long id
    printf 'b7,%s,2024-01-01\n' "$big_value"      # 12 field over the limits
    printf 'b8,bad time,yesterday\n'              # 13 unparsable timestamp
    printf 'g5,good five,2024-01-01\n'            # 14
} >"$TMP/bad.csv"

A=$(new_node a)
run seed --data "$A" -c t -i Id -t Mod --encoding utf-8 \
    --rejects "$TMP/rejects.jsonl" --json "$TMP/bad.csv"
check_rc "bad rows: exit 2" 2
check_grep "bad rows: says how many and where" \
    "rows rejected; written to $TMP/rejects.jsonl" "$ERR"
check_jq "bad rows: good rows loaded, bad counted" \
    '.new == 5 and .rejected == 8 and .rows_read == 13'
run scan --data "$A" t
check_eq "bad rows: the good ids are in the store" "g1 g2 g3 g4 g5" \
    "$(jq -r .id "$OUT" | sort | tr '\n' ' ' | sed 's/ $//')"

# check_jqs NAME FILTER FILE: jq -e FILTER is true on the array of FILE's
# lines (JSON Lines).
check_jqs() {
    if jq -e -s "$2" "$3" >/dev/null 2>"$TMP/jq.err"; then
        pass "$1"
    else
        fail "$1" "jq -s filter false or error: $2" "$(head -c 200 "$TMP/jq.err")"
    fi
}

R=$TMP/rejects.jsonl
check_eq "rejects: one line per bad row" 8 "$(wc -l <"$R" | tr -d ' ')"
check_jqs "rejects: every line has line, offset, reason, raw" \
    'all(.[]; (.line|type) == "number" and (.offset|type) == "number" and
              (.reason|type) == "string" and (.raw|type) == "string")' "$R"

# reject_at NAME LINE REGEX: the reject of LINE has a reason matching REGEX
reject_at() {
    local reason
    reason=$(jq -r --argjson l "$2" 'select(.line == $l) | .reason' "$R")
    if printf '%s' "$reason" | grep -Eqi -- "$3"; then
        pass "$1"
    else
        fail "$1" "line $2: reason '$reason' does not match $3"
    fi
}
reject_at "reject: unbalanced quote" 3 'quote'
reject_at "reject: wrong column count" 5 'column'
reject_at "reject: invalid bytes for the encoding" 7 'utf-8|encoding|invalid'
reject_at "reject: NUL" 9 'nul'
reject_at "reject: empty id" 10 'empty id'
reject_at "reject: over-long id" 11 'id over 256'
reject_at "reject: field over the limits" 12 'limit|over|long|large'
reject_at "reject: unparsable timestamp" 13 'unparsable timestamp'

offset10=$(jq -r 'select(.line == 10) | .offset' "$R")
check_eq "rejects: offset is the row's byte offset" ",empty id" \
    "$(tail -c +$((offset10 + 1)) "$TMP/bad.csv" | head -c 9)"
check_jqs "rejects: raw text of a row" \
    '.[] | select(.line == 13) | .raw == "b8,bad time,yesterday"' "$R"
check_jqs "rejects: invalid bytes as U+FFFD plus base64" \
    '.[] | select(.line == 7) | (.raw | contains("\ufffd")) and .raw_base64 != null' "$R"
check_jqs "rejects: NUL escaped in JSON" \
    '.[] | select(.line == 9) | .raw | contains("\u0000")' "$R"
check_jqs "rejects: big rows cut" \
    '.[] | select(.line == 12) | .raw_truncated == true and (.raw | length) <= 65536' "$R"

# without --rejects the summary shows the first reasons
run seed --data "$A" -c t2 -i Id -t Mod --encoding utf-8 "$TMP/bad.csv"
check_rc "no rejects file: exit 2" 2
check_grep "no rejects file: summary shows reasons" '^ +line 3: .*quote' "$OUT"
check_grep "no rejects file: hint" 'use --rejects FILE' "$ERR"

# a clean file after a bad one truncates the rejects file
printf 'Id,Name\nz1,fine\n' >"$TMP/good.csv"
run seed --data "$A" -c t3 -i Id --rejects "$TMP/rejects.jsonl" "$TMP/good.csv"
check_rc "clean file: exit 0" 0
check_empty "clean file: rejects file emptied" "$TMP/rejects.jsonl"

# ---- --max-errors ----
{
    printf 'Id,Name\n'
    for i in $(seq 1 50); do
        printf 'r%d,ok\n' "$i"
        printf ',bad %d\n' "$i"
    done
} >"$TMP/many.csv"
B=$(new_node b)
run seed --data "$B" -c t -i Id --max-errors 3 --json \
    --rejects "$TMP/max.jsonl" "$TMP/many.csv"
check_rc "max-errors: exit 2" 2
check_jq "max-errors: stopped after 3" \
    '.stopped_max_errors == true and .rejected == 3 and .complete == false'
check_jq "max-errors: the rows before loaded" '.new == 3'
check_eq "max-errors: 3 rejects written" 3 "$(wc -l <"$TMP/max.jsonl" | tr -d ' ')"
check_grep "max-errors: message" 'stopped after 3 rejected rows' "$ERR"
run seed --data "$B" -c t -i Id --max-errors 3 --delete-missing \
    --as-of 2030-01-01 "$TMP/many.csv"
check_rc "max-errors with --delete-missing: exit 2" 2
run get --data "$B" t r1
check_rc "max-errors: no --delete-missing on a stopped run" 0

# ---- a bad JSON Lines row ----
printf '{"id":"a","v":1}\n{"id":"b",oops}\n{"v":2}\n{"id":"","v":3}\n{"id":"c","v":4}\n' \
    >"$TMP/bad.jsonl"
C=$(new_node c)
run seed --data "$C" -c j -i id --rejects "$TMP/j.jsonl" --json "$TMP/bad.jsonl"
check_rc "jsonl bad rows: exit 2" 2
check_jq "jsonl bad rows: 2 loaded, 3 rejected" '.new == 2 and .rejected == 3'
check_eq "jsonl rejects: lines" "2 3 4" \
    "$(jq -r .line "$TMP/j.jsonl" | tr '\n' ' ' | sed 's/ $//')"

# ---- --sf-ids: a case-mangled 18-character id ----
printf 'Id,AccountId\n001x0000002xLD0,001X0000002XLD0AAM\n001X0000002XLD0AAM,\n0019000000B98de,\n' \
    >"$TMP/sf.csv"
D=$(new_node d)
run seed --data "$D" -c a -i Id --sf-ids --rejects "$TMP/sf.jsonl" --json \
    "$TMP/sf.csv"
check_rc "sf-ids bad suffix: exit 2" 2
check_jq "sf-ids bad suffix: 1 loaded, 2 rejected" '.new == 1 and .rejected == 2'
check_jqs "sf-ids bad suffix: reason" \
    '.[] | select(.line == 3) | .reason | test("do not match")' "$TMP/sf.jsonl"
check_jqs "sf-ids bad suffix in a lookup column: reason names it" \
    '.[] | select(.line == 2) | .reason | test("AccountId")' "$TMP/sf.jsonl"

# ---- dry run reports rejects too, writes nothing ----
E=$(new_node e)
run seed --data "$E" -c t -i Id -t Mod --encoding utf-8 --dry-run --json \
    "$TMP/bad.csv"
check_rc "dry run with bad rows: exit 2" 2
check_jq "dry run with bad rows: same counts" '.new == 5 and .rejected == 8'
check_eq "dry run with bad rows: nothing written" "" \
    "$("$CRMSYNC" scan --data "$E" t)"

cli_finish
