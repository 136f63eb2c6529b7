#!/usr/bin/env bash
# test_cli_scan_export.sh - crmsync CLI: scan and export (JSON Lines, CSV,
# --out).
# Usage: test_cli_scan_export.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/cli_lib.sh" "$@"

D=$(new_node node) || exit 1

# ---------------- scan ----------------

# put out of order; bytewise key order is A < a < "a b" < a- < b < c < é
for id in b a c 'a b' A é a- gone; do
    "$CRMSYNC" put --data "$D" contacts "$id" "Name=n:$id" 'Seq:=1' \
        || fail "put contacts $id"
done
"$CRMSYNC" del --data "$D" contacts gone || fail "del contacts gone"
"$CRMSYNC" put --data "$D" con x1 'Name=short' || fail "put con x1"
"$CRMSYNC" put --data "$D" contacts2 y1 'Name=longer' || fail "put contacts2"
"$CRMSYNC" put --data "$D" accounts acc1 'Name=Acme' || fail "put accounts"

run scan --data "$D" contacts
check_rc "scan exits 0" 0
check_eq "scan lists ids in key order, deleted skipped" \
    'A|a|a b|a-|b|c|é' "$(jq -r .id "$OUT" | paste -sd '|')"
check_eq "scan prints one JSON object per line" 7 "$(jq -s length "$OUT")"
check_eq "scan prints 7 lines" 7 "$(wc -l <"$OUT")"
check_jq "every line has collection, id, fields" \
    'keys == ["collection","fields","id"] and .collection == "contacts"'
check_eq "scan line format is exact" \
    '{"collection":"contacts","id":"A","fields":{"Name":"n:A","Seq":1}}' \
    "$(head -n 1 "$OUT")"
check_eq "scan line fields match the put" 'n:é' \
    "$(jq -r 'select(.id == "é") | .fields.Name' "$OUT")"
cp "$OUT" "$TMP/scan.contacts"

run scan --data "$D" --limit 2 contacts
check_eq "scan --limit 2 prints the first two" 'A|a' \
    "$(jq -r .id "$OUT" | paste -sd '|')"
run scan --data "$D" contacts -n 1
check_eq "scan -n 1 after the collection prints one" 'A' "$(jq -r .id "$OUT")"
run scan --data "$D" --limit 0 contacts
check_rc "scan --limit 0 exits 0" 0
check_empty "scan --limit 0 prints nothing" "$OUT"
run scan --data "$D" --limit 100 contacts
check_files "scan --limit larger than the collection prints all" \
    "$TMP/scan.contacts" "$OUT"

run scan --data "$D" con
check_eq "scan con does not see contacts (prefix isolation)" 'con/x1' \
    "$(jq -r '.collection + "/" + .id' "$OUT" | paste -sd '|')"
run scan --data "$D" cont
check_rc "scan of an absent collection exits 0" 0
check_empty "scan cont sees neither con nor contacts" "$OUT"
run scan --data "$D" contacts2
check_eq "scan contacts2 sees only its own record" 'contacts2/y1' \
    "$(jq -r '.collection + "/" + .id' "$OUT")"
run scan --data "$D" $'bad\xff'
check_rc "scan of an invalid collection name exits 64" 64

# ---------------- export: JSON Lines ----------------

run export --data "$D"
check_rc "export exits 0" 0
{
    "$CRMSYNC" scan --data "$D" accounts
    "$CRMSYNC" scan --data "$D" con
    "$CRMSYNC" scan --data "$D" contacts
    "$CRMSYNC" scan --data "$D" contacts2
} >"$TMP/scan.all"
check_files "export (all) equals the scans of each collection in key order" \
    "$TMP/scan.all" "$OUT"
check_eq "export lines parse one by one with jq" 10 \
    "$(while IFS= read -r line; do
           printf '%s\n' "$line" | jq -e 'type == "object"' >/dev/null \
               && echo ok
       done <"$OUT" | wc -l)"
check_eq "export has no record of the deleted id" 0 \
    "$(jq -r 'select(.id == "gone") | .id' "$OUT" | wc -l)"
run export --data "$D" --collection contacts --format jsonl
check_files "export --collection contacts equals scan contacts" \
    "$TMP/scan.contacts" "$OUT"
run export --data "$D" --collection nothing
check_rc "export of an empty collection exits 0" 0
check_empty "export of an empty collection prints nothing" "$OUT"

# ---------------- export: CSV ----------------

C=$(new_node csv) || exit 1
"$CRMSYNC" put --data "$C" people p1 'Name=Smith, John' \
    $'Note=He said "hi"\nbye' 'Age:=42' || fail "put p1"
"$CRMSYNC" put --data "$C" people p2 'Name=Zoë' 'Score:=1.5' 'Flag:=true' \
    'N:=null' 'B:={"$binary":"AAEC/w=="}' 'Big:=1e21' 'Whole:=2.0' \
    || fail "put p2"
"$CRMSYNC" put --data "$C" people p3 'Name=Gone' 'Secret=x' || fail "put p3"
"$CRMSYNC" del --data "$C" people p3 || fail "del p3"
"$CRMSYNC" put --data "$C" people p4 $'CR=a\rb' 'Plain=x y' || fail "put p4"
"$CRMSYNC" put --data "$C" people 'id,"q"' 'Plain=z' || fail "put id,q"
"$CRMSYNC" put --data "$C" other o1 'Name=elsewhere' || fail "put o1"
{
    printf '_id,Age,B,Big,CR,Flag,N,Name,Note,Plain,Score,Whole\r\n'
    printf '"id,""q""",,,,,,,,,z,,\r\n'
    printf 'p1,42,,,,,,"Smith, John","He said ""hi""\nbye",,,\r\n'
    printf 'p2,,AAEC/w==,1e+21,,true,,Zoë,,,1.5,2\r\n'
    printf 'p4,,,,"a\rb",,,,,x y,,\r\n'
} >"$TMP/people.csv"

run export --data "$C" --collection people --format csv
check_rc "export csv exits 0" 0
check_files "export csv: header, quoting, CRLF, types (exact bytes)" \
    "$TMP/people.csv" "$OUT"
run export --data "$C" --format=csv --collection=people
check_files "export csv with --opt=value spelling" "$TMP/people.csv" "$OUT"

run export --data "$C" --collection nothing --format csv
check_out "export csv of an empty collection is the header alone" $'_id\r\n'

"$CRMSYNC" put --data "$C" clash k1 '_id=oops' 'Name=K' || fail "put clash"
run export --data "$C" --collection clash --format csv
check_rc "export csv with a field named _id exits 1" 1
check_grep "the _id clash suggests --id-header" "id-header" "$ERR"
run export --data "$C" --collection clash --format csv --id-header RecordId
check_rc "export csv --id-header exits 0" 0
check_out "--id-header names the id column" \
    $'RecordId,Name,_id\r\nk1,K,oops\r\n'
run export --data "$C" --collection clash --format csv --id-header Name
check_rc "--id-header equal to a field name exits 1" 1

# ---------------- export --out ----------------

mkdir "$TMP/outdir"
target=$TMP/outdir/people.csv
run export --data "$C" --collection people --format csv --out "$target"
check_rc "export --out exits 0" 0
check_empty "export --out prints nothing on stdout" "$OUT"
check_files "export --out writes the same bytes" "$TMP/people.csv" "$target"
check_eq "export --out leaves no temporary file" "people.csv" \
    "$(ls -A "$TMP/outdir")"
check_eq "export --out file has mode 644 under umask 022" 644 \
    "$(stat -c %a "$target")"

run export --data "$C" --collection people -o "$target"
check_rc "export -o over an existing file exits 0" 0
"$CRMSYNC" scan --data "$C" people >"$TMP/people.jsonl"
check_files "export -o replaces the file" "$TMP/people.jsonl" "$target"

run export --data "$C" --collection clash --format csv --out "$target"
check_rc "a failing export --out exits 1" 1
check_files "a failing export leaves the target as it was" \
    "$TMP/people.jsonl" "$target"
check_eq "a failing export leaves no temporary file" "people.csv" \
    "$(ls -A "$TMP/outdir")"
run export --data "$C" --collection clash --format csv \
    --out "$TMP/outdir/new.csv"
check "a failing export does not create the target" \
    test ! -e "$TMP/outdir/new.csv"

run export --data "$C" --out "$TMP/no-such-dir/x.jsonl"
check_rc "export --out into a missing directory exits 1" 1
check_grep "the missing directory is reported" "no-such-dir" "$ERR"
run export --data "$C" --collection people --out -
check_files "export --out - writes to stdout" "$TMP/people.jsonl" "$OUT"

# the file appears complete: a reader polling during a larger export never
# sees a partial file at the target path
big=$(new_node big) || exit 1
for i in $(seq 1 40); do
    printf "contacts c%03d 'Blob@=%s'\n" "$i" "$TMP/blob"
done >"$TMP/big.args"
repeat x 1000000 >"$TMP/blob"
xargs -L 1 "$CRMSYNC" put --data "$big" <"$TMP/big.args" || fail "big puts"
"$CRMSYNC" export --data "$big" >"$TMP/big.expected"
"$CRMSYNC" export --data "$big" --out "$TMP/outdir/big.jsonl" &
exporter=$!
partial=0
deadline=$((SECONDS + 60))
while kill -0 "$exporter" 2>/dev/null && ((SECONDS < deadline)); do
    if [ -e "$TMP/outdir/big.jsonl" ] &&
        ! cmp -s "$TMP/outdir/big.jsonl" "$TMP/big.expected"; then
        partial=1
    fi
done
wait "$exporter"
check_eq "export --out exits 0 for a larger export" 0 "$?"
check_eq "the target never appears partial" 0 "$partial"
check_files "the larger export is complete" "$TMP/big.expected" \
    "$TMP/outdir/big.jsonl"

# an export killed before it completes leaves neither its temporary file
# nor a target behind; one that finished first leaves the complete target.
# The kill is sent the moment the temporary file exists, which also tests
# that no signal can slip in between its creation and its clean-up guard.
"$CRMSYNC" export --data "$big" --out "$TMP/outdir/killed.jsonl" &
exporter=$!
seen=0
deadline=$((SECONDS + 60))
while kill -0 "$exporter" 2>/dev/null && ((SECONDS < deadline)); do
    if compgen -G "$TMP/outdir/.killed.jsonl.*" >/dev/null; then
        seen=1
        kill -TERM "$exporter"
        break
    fi
done
wait "$exporter"
status=$?
if [ "$seen" -eq 1 ] && [ "$status" -ne 0 ]; then
    check_eq "a killed export dies of SIGTERM" 143 "$status"
    check "a killed export leaves no target" \
        test ! -e "$TMP/outdir/killed.jsonl"
    check_eq "a killed export removes its temporary file" \
        "big.jsonl|people.csv" "$(ls -A "$TMP/outdir" | paste -sd '|')"
else
    check_eq "an export that beat the kill exits 0" 0 "$status"
    check_files "an export that beat the kill is complete" \
        "$TMP/big.expected" "$TMP/outdir/killed.jsonl"
    rm -f "$TMP/outdir/killed.jsonl"
fi

cli_finish
