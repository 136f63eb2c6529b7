#!/bin/bash
# test_seed_sniff.sh - crmsync sniff: encoding, delimiter, columns and
# sample rows of a file, and the seed options that fit.
# Usage: test_seed_sniff.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

# shellcheck source=../cli/cli_lib.sh
. "$(dirname "$0")/../cli/cli_lib.sh" "$@"

# A ';' delimited Windows-1252 export, CRLF rows, as EU Excel writes it:
# "Café “Paris”" and "Müller" in cp1252 bytes.
printf 'Id;Name;City;LastModifiedDate;IsDeleted\r\n001x0000002xLD0;Caf\xe9 \x93Paris\x94;K\xf6ln;2024-01-01 10:00:00;false\r\n0019000000B98de;M\xfcller;Z\xfcrich;2024-02-01 10:00:00;false\r\n0019000000B98dX;"broken;Bern;2024-02-01;false\r\n' \
    >"$TMP/eu.csv"

run sniff "$TMP/eu.csv"
check_rc "sniff: exit 0" 0
check_grep "sniff: encoding" '^encoding +windows-1252 \(no byte order mark\)$' "$OUT"
check_grep "sniff: delimiter" "^delimiter +';'$" "$OUT"
check_grep "sniff: column count" '^columns +5$' "$OUT"
check_grep "sniff: column names" '^ +4  LastModifiedDate$' "$OUT"
check_grep "sniff: a row decoded to UTF-8" \
    '^  line 2: \{"Id":"001x0000002xLD0","Name":"Café “Paris”","City":"Köln"' "$OUT"
check_grep "sniff: second row" '"Name":"Müller","City":"Zürich"' "$OUT"
check_grep "sniff: a bad row says why" '^  line 4: bad row: .*quote' "$OUT"
check_grep "sniff: suggests the options" \
    "^suggested +crmsync seed .*--id-column Id --timestamp-column LastModifiedDate --deleted-column IsDeleted --sf-ids --delimiter ';' --encoding windows-1252" \
    "$OUT"

# the suggested options load the good rows
A=$(new_node a)
run seed --data "$A" -c accounts -i Id -t LastModifiedDate --deleted-column \
    IsDeleted --sf-ids --delimiter ';' --encoding windows-1252 --json \
    "$TMP/eu.csv"
check_rc "seed with the suggested options: exit 2 (the bad row)" 2
check_jq "seed with the suggested options: 2 new" '.new == 2 and .rejected == 1'
run get --data "$A" accounts 001x0000002xLD0AAM
check_jq "seed: cp1252 text stored as UTF-8" '.Name == "Café “Paris”" and .City == "Köln"'

# --rows, a UTF-8 file with a BOM, tabs, JSON Lines, errors
printf '\xef\xbb\xbfid\tname\n1\tAnna\n2\tBruno\n3\tChloe\n' >"$TMP/tab.tsv"
run sniff --rows 2 "$TMP/tab.tsv"
check_rc "sniff tsv: exit 0" 0
check_grep "sniff tsv: BOM seen" '^encoding +utf-8 \(byte order mark\)$' "$OUT"
check_grep "sniff tsv: tab" '^delimiter +TAB$' "$OUT"
check_grep "sniff tsv: first column without the BOM" '^ +1  id$' "$OUT"
check_eq "sniff tsv: --rows 2 shows 2 rows" 2 "$(grep -c '^  line ' "$OUT")"
check_grep "sniff tsv: suggests tab" '--delimiter tab' "$OUT"
printf '{"id":"a","n":1}\n{"id":"b","n":2}\n' >"$TMP/rows.jsonl"
run sniff "$TMP/rows.jsonl"
check_rc "sniff jsonl: exit 0" 0
check_grep "sniff jsonl: format" '^format +jsonl$' "$OUT"
check_grep "sniff jsonl: typed values" '^  line 1: \{"id":"a","n":1\}$' "$OUT"
run_stdin "$TMP/eu.csv" sniff -
check_rc "sniff stdin: exit 0" 0
check_grep "sniff stdin: named" '^file +standard input' "$OUT"
run sniff "$TMP/nope.csv"
check_rc "sniff: missing file is exit 1" 1
: >"$TMP/empty.csv"
run sniff "$TMP/empty.csv"
check_rc "sniff: empty file is exit 1" 1
usage_error "sniff: no file" sniff
usage_error "sniff: bad --rows" sniff --rows many "$TMP/eu.csv"
run sniff --help
check_rc "sniff --help" 0

cli_finish
