#!/bin/bash
# test_seed_basics.sh - crmsync seed: round trip, idempotence, incremental
# seeds, live edits, --delete-missing, mapping, ids, nulls and times.
# Usage: test_seed_basics.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

# shellcheck source=../cli/cli_lib.sh
. "$(dirname "$0")/../cli/cli_lib.sh" "$@"

GEN="$SRC/tests/seed/gen_contacts.sh"
AS_OF=2024-07-01T00:00:00Z

# seed_json NAME EXPECTED_RC ARGS...: run crmsync seed --json ARGS, check
# the exit status; the summary is in $OUT.
seed_json() {
    local name=$1 expected=$2
    shift 2
    run seed --json --progress never "$@"
    check_rc "$name" "$expected"
}

# digest DIR: the store digest of DIR.
digest() {
    "$CRMSYNC" digest --data "$1"
}

# field DIR COLLECTION ID FIELD: one field of a record, as JSON.
field() {
    "$CRMSYNC" get --data "$1" "$2" "$3" | jq -c --arg f "$4" '.[$f]'
}

sh "$GEN" 200 >"$TMP/c200.csv"
first_id=$(sed -n 2p "$TMP/c200.csv" | cut -d, -f1)

# ---- first seed, summary, as-of from --as-of ----
A=$(new_node a)
seed_json "first seed exits 0" 0 --data "$A" -c contacts -i Id \
    --as-of "$AS_OF" "$TMP/c200.csv"
check_jq "first seed: 200 new" \
    '.rows_read == 200 and .new == 200 and .updated == 0 and .rejected == 0' 
check_jq "first seed: as-of from the option" \
    '.as_of == "2024-07-01T00:00:00.000Z" and .as_of_source == "option"'
check_eq "id column is a field too" "\"$first_id\"" \
    "$(field "$A" contacts "$first_id" Id)"
check_eq "a quoted value with a comma and quotes" \
    '"Contact 1, imported from the legacy CRM; notes: \"VIP\" level 1"' \
    "$(field "$A" contacts "$first_id" Description)"
d1=$(digest "$A")

# ---- re-seed: idempotent ----
seed_json "re-seed exits 0" 0 --data "$A" -c contacts -i Id \
    --as-of "$AS_OF" "$TMP/c200.csv"
check_jq "re-seed: 0 new, 0 updated, 200 unchanged" \
    '.new == 0 and .updated == 0 and .unchanged == 200 and .deleted == 0'
check_eq "re-seed: digest unchanged" "$d1" "$(digest "$A")"

# ---- the human summary ----
run seed --data "$A" -c contacts -i Id --as-of "$AS_OF" "$TMP/c200.csv"
check_rc "text summary exits 0" 0
check_grep "text summary: rows read" '^  rows read +200$' "$OUT"
check_grep "text summary: unchanged" '^  unchanged +200$' "$OUT"
check_grep "text summary: as-of source" 'as-of +2024-07-01T00:00:00.000Z \(--as-of\)' "$OUT"
check_grep "text summary: rows/s" '^  time .* rows/s' "$OUT"
check_empty "text summary: nothing on stderr when piped" "$ERR"

# ---- round trip: export csv -> seed into a fresh store -> equal digests ----
run export --data "$A" --collection contacts --format csv --out "$TMP/export.csv"
check_rc "export csv" 0
B=$(new_node b)
seed_json "round trip: seed the export" 0 --data "$B" -c contacts -i _id \
    --as-of "$AS_OF" "$TMP/export.csv"
check_jq "round trip: 200 new" '.new == 200 and .rejected == 0'
check_eq "round trip: equal digests" "$d1" "$(digest "$B")"
B2=$(new_node b2)
seed_json "round trip with --exclude _id" 0 --data "$B2" -c contacts -i _id \
    --exclude _id --as-of "$AS_OF" "$TMP/export.csv"
check_eq "round trip with --exclude _id: equal digests" "$d1" "$(digest "$B2")"

# the same with stamps from a timestamp column
C=$(new_node c)
seed_json "timestamp column seed" 0 --data "$C" -c contacts -i Id \
    -t LastModifiedDate "$TMP/c200.csv"
run export --data "$C" --collection contacts --format csv --out "$TMP/export2.csv"
D=$(new_node d)
seed_json "round trip (timestamp column)" 0 --data "$D" -c contacts -i _id \
    -x _id -t LastModifiedDate "$TMP/export2.csv"
check_eq "round trip (timestamp column): equal digests" "$(digest "$C")" \
    "$(digest "$D")"

# ---- default as-of: the input's modification time ----
cp "$TMP/c200.csv" "$TMP/mtime.csv"
touch -d 2024-05-04T03:02:01Z "$TMP/mtime.csv"
E=$(new_node e)
seed_json "as-of from mtime" 0 --data "$E" -c contacts -i Id "$TMP/mtime.csv"
check_jq "as-of from mtime: reported" \
    '.as_of == "2024-05-04T03:02:01.000Z" and .as_of_source == "mtime"'
run seed --data "$E" -c contacts -i Id "$TMP/mtime.csv"
check_grep "as-of from mtime: text says so" \
    'as-of +2024-05-04T03:02:01.000Z \(input modification time\)' "$OUT"
# same data, same time: same state as --as-of with that time
F=$(new_node f)
seed_json "as-of option equals mtime" 0 --data "$F" -c contacts -i Id \
    --as-of 2024-05-04T03:02:01Z "$TMP/c200.csv"
check_eq "mtime as-of: same digest as the option" "$(digest "$E")" \
    "$(digest "$F")"

# ---- a newer export changes only the fields that changed ----
sed -e 's/,Milano,/,Torino,/' "$TMP/c200.csv" >"$TMP/newer.csv"
changed=$(grep -c ',Torino,' "$TMP/newer.csv")
G=$(new_node g)
seed_json "newer export: base" 0 --data "$G" -c contacts -i Id \
    --as-of "$AS_OF" "$TMP/c200.csv"
seed_json "newer export: seed" 0 --data "$G" -c contacts -i Id \
    --as-of 2024-08-01T00:00:00Z "$TMP/newer.csv"
check_jq "newer export: only changed records updated" \
    ".new == 0 and .updated == $changed and .unchanged == $((200 - changed))"
# expected state: the base, plus only MailingCity of the changed rows
# stamped at the newer time
H=$(new_node h)
seed_json "newer export: expected base" 0 --data "$H" -c contacts -i Id \
    --as-of "$AS_OF" "$TMP/c200.csv"
{ head -1 "$TMP/newer.csv"; grep ',Torino,' "$TMP/newer.csv"; } >"$TMP/only.csv"
printf 'MailingCity=MailingCity\n' >"$TMP/city.sdl"
seed_json "newer export: expected city fields" 0 --data "$H" -c contacts \
    -i Id --map "$TMP/city.sdl" --as-of 2024-08-01T00:00:00Z "$TMP/only.csv"
check_eq "newer export: only the changed fields got the new stamp" \
    "$(digest "$H")" "$(digest "$G")"
seed_json "newer export: again is idempotent" 0 --data "$G" -c contacts -i Id \
    --as-of 2024-08-01T00:00:00Z "$TMP/newer.csv"
check_jq "newer export again: nothing changes" '.updated == 0 and .new == 0'

# ---- a live edit after the as-of time survives a re-seed ----
run put --data "$A" contacts "$first_id" FirstName=Live
check_rc "live put" 0
seed_json "re-seed after a live put" 0 --data "$A" -c contacts -i Id \
    --as-of "$AS_OF" "$TMP/c200.csv"
check_eq "live put survives the re-seed" '"Live"' \
    "$(field "$A" contacts "$first_id" FirstName)"
check_jq "re-seed after a live put: nothing updated" '.updated == 0'

# ---- --delete-missing ----
I=$(new_node i)
seed_json "delete-missing: base" 0 --data "$I" -c contacts -i Id \
    --as-of "$AS_OF" "$TMP/c200.csv"
gone1=$(sed -n 3p "$TMP/c200.csv" | cut -d, -f1)
gone2=$(sed -n 4p "$TMP/c200.csv" | cut -d, -f1)
edited=$(sed -n 5p "$TMP/c200.csv" | cut -d, -f1)
sed -e 3,5d "$TMP/c200.csv" >"$TMP/fewer.csv"
run put --data "$I" contacts "$edited" Title=LiveEdit
check_rc "delete-missing: live edit" 0
seed_json "delete-missing: dry run" 0 --data "$I" -c contacts -i Id \
    --as-of 2024-08-01T00:00:00Z --delete-missing --dry-run "$TMP/fewer.csv"
check_jq "delete-missing: dry run counts 2" '.deleted == 2 and .dry_run'
seed_json "delete-missing: seed" 0 --data "$I" -c contacts -i Id \
    --as-of 2024-08-01T00:00:00Z --delete-missing "$TMP/fewer.csv"
check_jq "delete-missing: 2 deleted" '.deleted == 2 and .missing_deleted == 2'
run get --data "$I" contacts "$gone1"
check_rc "delete-missing: absent record is gone" 1
run get --data "$I" contacts "$gone2"
check_rc "delete-missing: second absent record is gone" 1
check_eq "delete-missing: newer live edit survives" '"LiveEdit"' \
    "$(field "$I" contacts "$edited" Title)"
seed_json "delete-missing: again changes nothing" 0 --data "$I" -c contacts \
    -i Id --as-of 2024-08-01T00:00:00Z --delete-missing "$TMP/fewer.csv"
check_jq "delete-missing again: 0 deleted" '.deleted == 0 and .updated == 0'

# ---- --deleted-column ----
{ head -1 "$TMP/c200.csv"; sed -n 2p "$TMP/c200.csv" | sed 's/,false\r$/,TRUE\r/'; } \
    >"$TMP/del.csv"
seed_json "deleted column" 0 --data "$I" -c contacts -i Id \
    --deleted-column IsDeleted --as-of 2024-09-01T00:00:00Z "$TMP/del.csv"
check_jq "deleted column: 1 deleted" '.deleted == 1'
run get --data "$I" contacts "$first_id"
check_rc "deleted column: record gone" 1

# ---- --dry-run writes nothing ----
J=$(new_node j)
dj=$(digest "$J")
seed_json "dry run" 0 --data "$J" -c contacts -i Id --dry-run "$TMP/c200.csv"
check_jq "dry run counts 200 new" '.new == 200 and .dry_run == true'
check_eq "dry run: digest unchanged" "$dj" "$(digest "$J")"
check_eq "dry run: no records" "" "$("$CRMSYNC" scan --data "$J" contacts)"

# ---- duplicates: the later row wins unless its time is older ----
printf 'Id,Name,City,Mod\n1,first,A,2024-01-01\n2,only,B,2024-01-01\n1,second,,2024-01-01\n3,new,C,2024-03-01\n3,old,D,2024-02-01\n' \
    >"$TMP/dups.csv"
K=$(new_node k)
seed_json "duplicates" 0 --data "$K" -c t -i Id -t Mod "$TMP/dups.csv"
check_jq "duplicates counted" '.duplicates == 2 and .new == 3'
check_eq "duplicate with the same time: later row wins" '"second"' \
    "$(field "$K" t 1 Name)"
check_eq "duplicate: later empty value wins too" '""' "$(field "$K" t 1 City)"
check_eq "duplicate with an older time: earlier row wins" '"new"' \
    "$(field "$K" t 3 Name)"
# the same rows one batch at a time give the same state
K2=$(new_node k2)
seed_json "duplicates, batch size 1" 0 --data "$K2" -c t -i Id -t Mod \
    --batch-size 1 "$TMP/dups.csv"
check_eq "duplicates: batch boundaries do not matter" "$(digest "$K")" \
    "$(digest "$K2")"

# ---- --sf-ids ----
printf 'Id,Name,AccountId,Paid\n001x0000002xLD0,Acme,0019000000B98de,001x0000002xLD0\n0019000000B98deAAB,Beta,,no\n' \
    >"$TMP/sf.csv"
L=$(new_node l)
seed_json "sf-ids" 0 --data "$L" -c accounts -i Id --sf-ids "$TMP/sf.csv"
check_eq "sf-ids: 15 -> 18 in the id" '"001x0000002xLD0AAM"' \
    "$(field "$L" accounts 001x0000002xLD0AAM Id)"
check_eq "sf-ids: lookup column normalised" '"0019000000B98deAAB"' \
    "$(field "$L" accounts 001x0000002xLD0AAM AccountId)"
check_eq "sf-ids: other columns untouched" '"001x0000002xLD0"' \
    "$(field "$L" accounts 001x0000002xLD0AAM Paid)"
check_eq "sf-ids: valid 18 kept" '"Beta"' \
    "$(field "$L" accounts 0019000000B98deAAB Name)"

# ---- --map (.sdl), --exclude, --null ----
cat >"$TMP/map.sdl" <<'EOF'
# Data Loader style mapping
ID=Id
FIRSTNAME=First_Name__c
lastname = Last\:Name , Surname   # two fields
EMAIL=
"Imported"=Source
EOF
M=$(new_node m)
seed_json "map" 0 --data "$M" -c contacts -i Id --map "$TMP/map.sdl" \
    "$TMP/c200.csv"
run get --data "$M" contacts "$first_id"
check_jq "map: only mapped fields, renamed, constant" \
    'keys == ["First_Name__c","Id","Last:Name","Source","Surname"] and .Source == "Imported"'
N=$(new_node n)
seed_json "exclude" 0 --data "$N" -c contacts -i Id -x Email,Phone \
    -x Description "$TMP/c200.csv"
run get --data "$N" contacts "$first_id"
check_jq "exclude: columns dropped" \
    'has("Email") or has("Phone") or has("Description") | not'
check_jq "exclude: others kept" 'has("FirstName") and has("Id")'
seed_json "exclude the id column" 0 --data "$N" -c other -i Id -x Id \
    "$TMP/c200.csv"
run get --data "$N" other "$first_id"
check_jq "exclude the id column: still the id, not a field" 'has("Id") | not'
printf 'Id,A,B,C\n1,,NULL,"NULL"\n2,"",x,\\N\n' >"$TMP/null.csv"
O=$(new_node o)
seed_json "null" 0 --data "$O" -c t -i Id --null NULL --null '\N' "$TMP/null.csv"
run get --data "$O" t 1
check_jq "null: empty stays an empty string by default" '.A == ""'
check_jq "null: unquoted NULL is nil" '.B == null and has("B")'
check_jq "null: quoted \"NULL\" stays a string" '.C == "NULL"'
run get --data "$O" t 2
check_jq "null: second spelling" '.C == null and .A == ""'
P=$(new_node p)
seed_json "null empty" 0 --data "$P" -c t -i Id --null '' "$TMP/null.csv"
run get --data "$P" t 1
check_jq "null '': unquoted empty is nil" '.A == null'
run get --data "$P" t 2
check_jq "null '': quoted empty stays \"\"" '.A == ""'

# ---- timestamps in each format ----
printf 'Id,T\n1,2024-06-10T12:34:56Z\n2,2024-06-10T14:34:56.000+02:00\n3,2024-06-10T14:34:56+0200\n4,2024-06-10 12:34:56\n5,2024-06-10\n' \
    >"$TMP/times.csv"
Q=$(new_node q)
seed_json "timestamp formats" 0 --data "$Q" -c t -i Id -t T "$TMP/times.csv"
check_jq "timestamp formats: all 5 load" '.new == 5 and .rejected == 0'
# rows 1-4 are the same instant: seeded with that as-of they are unchanged
printf 'Id,T\n1,2024-06-10T12:34:56Z\n2,2024-06-10T14:34:56.000+02:00\n3,2024-06-10T14:34:56+0200\n4,2024-06-10 12:34:56\n' \
    >"$TMP/same.csv"
seed_json "timestamp formats are one instant" 0 --data "$Q" -c t -i Id \
    --as-of 2024-06-10T12:34:56Z "$TMP/same.csv"
R=$(new_node r)
seed_json "same instant via as-of" 0 --data "$R" -c t -i Id \
    --as-of 2024-06-10T12:34:56Z "$TMP/same.csv"
S=$(new_node s)
seed_json "same instant via column" 0 --data "$S" -c t -i Id -t T \
    "$TMP/same.csv"
check_eq "timestamp formats: each is 2024-06-10T12:34:56Z" "$(digest "$R")" \
    "$(digest "$S")"
printf 'Id,T\n1,06/10/2024 12:34:56\n2,06/10/2024 12:34:56\n' >"$TMP/us.csv"
printf 'Id,T\n1,06/10/2024 12:34:56\n2,06/10/2024 12:34:56\n' >"$TMP/us2.csv"
U=$(new_node u)
seed_json "timestamp format option" 0 --data "$U" -c t -i Id -t T \
    --timestamp-format '%m/%d/%Y %H:%M:%S' "$TMP/us.csv"
V=$(new_node v)
seed_json "timestamp format option: reference" 0 --data "$V" -c t -i Id \
    --as-of 2024-06-10T12:34:56Z "$TMP/us2.csv"
check_eq "timestamp format option: same stamps" "$(digest "$V")" \
    "$(digest "$U")"

# ---- standard input ----
W=$(new_node w)
run_stdin "$TMP/c200.csv" seed --json --data "$W" -c contacts -i Id \
    --as-of "$AS_OF" -
check_rc "stdin (a redirected file)" 0
check_eq "stdin: same digest as the file" "$d1" "$(digest "$W")"
X=$(new_node x)
"$CRMSYNC" seed --data "$X" -c contacts -i Id - <"$TMP/c200.csv" \
    >"$OUT" 2>"$ERR"
RC=$?
check_rc "stdin file without --as-of uses its mtime" 0
cat "$TMP/c200.csv" | "$CRMSYNC" seed --data "$X" -c contacts -i Id - \
    >"$OUT" 2>"$ERR"
RC=$?
check_rc "a pipe without --as-of is refused" 1
check_grep "a pipe without --as-of: says why" 'as-of' "$ERR"

# ---- JSON Lines ----
printf '{"id":1,"name":"A","n":2.5,"ok":true,"tags":["x"],"m":null}\n{"id":"b","name":"B"}\n' \
    >"$TMP/rows.jsonl"
Y=$(new_node y)
seed_json "jsonl by extension" 0 --data "$Y" -c j -i id "$TMP/rows.jsonl"
check_jq "jsonl: 2 new" '.format == "jsonl" and .new == 2'
run get --data "$Y" j 1
check_jq "jsonl: types kept, nested as JSON text" \
    '.id == 1 and .n == 2.5 and .ok == true and .tags == "[\"x\"]" and .m == null'

# ---- usage errors ----
usage_error "seed: no collection" seed --data "$A" -i Id "$TMP/c200.csv"
usage_error "seed: no id column" seed --data "$A" -c contacts "$TMP/c200.csv"
usage_error "seed: no input" seed --data "$A" -c contacts -i Id
usage_error "seed: bad --as-of" seed --data "$A" -c contacts -i Id \
    --as-of yesterday "$TMP/c200.csv"
usage_error "seed: --resume from stdin" seed --data "$A" -c contacts -i Id \
    --resume -
usage_error "seed: --timestamp-format alone" seed --data "$A" -c contacts \
    -i Id --timestamp-format %s "$TMP/c200.csv"
run seed --data "$A" -c contacts -i NoSuchColumn "$TMP/c200.csv"
check_rc "seed: unknown id column is an error" 1
check_grep "seed: unknown id column named" "no column 'NoSuchColumn'" "$ERR"
run seed --data "$A" -c contacts -i Id -x Nope "$TMP/c200.csv"
check_rc "seed: unknown excluded column is an error" 1
run seed --help
check_rc "seed --help" 0
check_grep "seed --help mentions exit 2" '2 some rows were rejected' "$OUT"

cli_finish
