#!/usr/bin/env bash
# test_cli_digest_sample.sh - crmsync CLI: digest, and loading the sample
# data of deploy/sample/contacts.args with xargs.
# Usage: test_cli_digest_sample.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/cli_lib.sh" "$@"

D=$(new_node node) || exit 1
E=$(new_node other) || exit 1

# ---------------- digest ----------------

run digest --data "$D"
check_rc "digest exits 0" 0
check_grep "digest is one line of 64 lowercase hex digits" '^[0-9a-f]{64}$' \
    "$OUT"
check_eq "digest prints exactly one line" 1 "$(wc -l <"$OUT")"
empty=$(cat "$OUT")
check_eq "two empty stores have equal digests" "$empty" \
    "$("$CRMSYNC" digest --data "$E")"

"$CRMSYNC" put --data "$D" contacts a 'Name=A' || fail "put a"
d1=$("$CRMSYNC" digest --data "$D")
check "the digest changes after a put" test "$d1" != "$empty"
run put --data "$D" contacts a 'Name:=bad'
check_rc "a bad put fails" 64
check_eq "the digest does not change after a failed put" "$d1" \
    "$("$CRMSYNC" digest --data "$D")"
run del --data "$D" contacts absent
check_rc "del of an absent record fails" 1
check_eq "the digest does not change after a failed del" "$d1" \
    "$("$CRMSYNC" digest --data "$D")"
"$CRMSYNC" get --data "$D" contacts a >/dev/null || fail "get a"
"$CRMSYNC" scan --data "$D" contacts >/dev/null || fail "scan"
"$CRMSYNC" export --data "$D" >/dev/null || fail "export"
check_eq "the digest does not change after get, scan, export" "$d1" \
    "$("$CRMSYNC" digest --data "$D")"
"$CRMSYNC" put --data "$D" contacts a 'Name=A' || fail "put a again"
d2=$("$CRMSYNC" digest --data "$D")
check "the digest changes after rewriting the same value (new stamp)" \
    test "$d2" != "$d1"
"$CRMSYNC" del --data "$D" contacts a || fail "del a"
d3=$("$CRMSYNC" digest --data "$D")
check "the digest changes after a del" test "$d3" != "$d2"

run digest --data "$D" --buckets
check_rc "digest --buckets exits 0" 0
check_eq "digest --buckets prints 257 lines" 257 "$(wc -l <"$OUT")"
check_eq "the first line of --buckets is the digest" "$d3" \
    "$(head -n 1 "$OUT")"
check_eq "bucket lines are 'NN <64 hex>' for NN = 00..ff in order" \
    "$(for i in $(seq 0 255); do printf '%02x\n' "$i"; done)" \
    "$(tail -n +2 "$OUT" | grep -E '^[0-9a-f]{2} [0-9a-f]{64}$' | cut -c1-2)"
check_eq "exactly one bucket differs from an empty store's" 1 \
    "$(diff <(tail -n +2 "$OUT") \
            <("$CRMSYNC" digest --data "$E" --buckets | tail -n +2) \
       | grep -c '^<')"

# ---------------- the sample data ----------------

S=$(new_node sample) || exit 1
sample=$SRC/deploy/sample/contacts.args
check "the sample file exists" test -f "$sample"
xargs -L 1 "$CRMSYNC" put --data "$S" <"$sample" 2>"$ERR"
RC=$?
check_rc "xargs -L 1 crmsync put loads the sample" 0
check_empty "loading the sample prints no error" "$ERR"
check_eq "the sample has 30 lines" 30 "$(grep -c . "$sample")"
run scan --data "$S" contacts
check_eq "scan returns the 25 sample contacts" 25 "$(jq -s length "$OUT")"
check_jq "every sample contact id is 18 characters" \
    '.id | test("^003[0-9A-Za-z]{15}$")'
check_jq "every sample contact has a first and last name and an email" \
    '.fields | has("FirstName") and has("LastName") and has("Email")'
check_eq "the non-ASCII names are intact" 'Zoë Müller|José|Ægir|Łukasz|李娜' \
    "$(jq -r 'select(.fields.FirstName | IN("Zoë","José","Ægir","Łukasz","娜"))
              | if .fields.FirstName == "Zoë"
                then "Zoë Müller"
                elif .fields.FirstName == "娜" then "李娜"
                else .fields.FirstName end' "$OUT" | paste -sd '|')"
run scan --data "$S" accounts
check_eq "scan returns the 5 sample accounts" 5 "$(jq -s length "$OUT")"
check_jq "account numbers are integers" \
    '.fields.NumberOfEmployees | type == "number" and . == floor'

run get --data "$S" contacts 0035g00000FaB3cAAF
check_jq "the apostrophe in O'Brien survives xargs quoting" \
    '.LastName == "O'"'"'Brien"'
run get --data "$S" contacts 0035g00000ABCDEAA5
check_jq "Zoë's record: comma in the title, typed amount and bool" \
    '.Title == "VP, Sales" and .Amount == 1200 and .DoNotCall == false
     and .Phone == "+49 30 1234567"'
run get --data "$S" contacts 0035g00000K8vYsAAJ
check_jq "a JSON string with escaped quotes" \
    '.Nickname == "Dima \"the hammer\""'
run get --data "$S" contacts 0035g00000Tt3AgAAF
check_jq "null typed value" 'has("Description") and .Description == null'
run get --data "$S" accounts 0015g00000Sol7aAAB
check_jq "float typed value" '.AnnualRevenue == 42000000 and .Active == true'
run export --data "$S" --collection contacts --format csv
check_rc "the sample contacts export as CSV" 0
check_eq "the CSV has a header and 25 rows" 26 \
    "$(grep -c $'\r$' "$OUT")"
check_grep "the CSV header starts with _id and is sorted" \
    '^_id,AccountId,Amount,Birthdate,' "$OUT"

cli_finish
