#!/bin/bash
# test_seed_sorted.sh - crmsync seed of an input whose ids are not in
# order: sorted through a temporary file, then written in id order. The
# result equals writing in input order (--no-sort), duplicates included;
# ordered input is not sorted; a kill or SIGTERM while the sorted runs are
# written resumes to the same digest; nothing is left in the data dir.
# Usage: test_seed_sorted.sh CRMSYNC_BINARY SOURCE_DIR GEN_CONTACTS_BINARY
# SPDX-License-Identifier: MIT

# shellcheck source=../cli/cli_lib.sh
. "$(dirname "$0")/../cli/cli_lib.sh" "$@"
# shellcheck source=seed_lib.sh
. "$(dirname "$0")/seed_lib.sh"
GEN=${3:?usage: test_seed_sorted.sh CRMSYNC SOURCE_DIR GEN_CONTACTS}

ROWS=30000
BATCH=1000

"$GEN" --rows "$ROWS" --seed 3 --order random --output "$TMP/random.csv"
"$GEN" --rows 2000 --seed 3 --order id --output "$TMP/ordered.csv"
seed_opts=(-c contacts -i Id --timestamp-column LastModifiedDate
    --batch-size "$BATCH" --json)

# only the store's own files may be left in a data directory
check_clean_dir() {
    check_eq "$1: no temporary file left" "data.mdb feed.mark lock.mdb node.cert node.cert_secret" \
        "$(find "$2" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort |
            tr '\n' ' ' | sed 's/ $//')"
}

# ---- random order: sorted, same state as input order ----
S=$(new_node sorted)
run seed --data "$S" "${seed_opts[@]}" "$TMP/random.csv"
check_rc "random order: exit 0" 0
check_jq "random order: sorted, all new" \
    ".sorted == true and .complete and .new == $ROWS and .rows_read == $ROWS"
check_grep "random order: the summary says so" '"sorted":true' "$OUT"
check_clean_dir "random order" "$S"
U=$(new_node unsorted)
run seed --data "$U" "${seed_opts[@]}" --no-sort "$TMP/random.csv"
check_rc "--no-sort: exit 0" 0
check_jq "--no-sort: not sorted, all new" ".sorted == false and .new == $ROWS"
ref_digest=$("$CRMSYNC" digest --data "$U")
check_eq "random order: same digest as input order" "$ref_digest" \
    "$("$CRMSYNC" digest --data "$S")"
check_eq "random order: every record there" "$ROWS" \
    "$("$CRMSYNC" scan --data "$S" contacts | wc -l | tr -d ' ')"
run seed --data "$S" "${seed_opts[@]}" "$TMP/random.csv"
check_jq "re-seed of a sorted load: nothing changes, no sorting" \
    ".new == 0 and .updated == 0 and .unchanged == $ROWS and .sorted == false"

# ---- ids in order: written as read ----
O=$(new_node ordered)
run seed --data "$O" "${seed_opts[@]}" "$TMP/ordered.csv"
check_jq "ordered input: not sorted" '.sorted == false and .new == 2000'

# ---- duplicates across runs: the later row wins unless older ----
{
    printf 'Id,Name,Mod\n'
    printf 'c,first c,2024-01-01\na,first a,2024-01-01\nb,only b,2024-01-01\n'
    printf 'a,second a,2024-01-01\nc,older c,2023-01-01\na,old a,2023-01-01\n'
    printf 'd,first d,2024-01-01\nd,newer d,2024-02-01\n'
} >"$TMP/dups.csv"
for mode in sort no-sort; do
    D=$(new_node "dups-$mode")
    flag=()
    sorted=true
    if [ "$mode" = no-sort ]; then
        flag=(--no-sort)
        sorted=false
    fi
    run seed --data "$D" -c t -i Id --timestamp-column Mod --batch-size 2 \
        --json "${flag[@]}" "$TMP/dups.csv"
    check_jq "dups ($mode): 4 records, 4 duplicates" \
        ".new == 4 and .duplicates == 4 and .sorted == $sorted"
    got=""
    for id in a b c d; do
        got="$got$("$CRMSYNC" get --data "$D" t "$id" | jq -r .Name);"
    done
    check_eq "dups ($mode): the later row wins unless older" \
        "second a;only b;first c;newer d;" "$got"
    eval "dups_digest_${mode//-/_}=\$(\"\$CRMSYNC\" digest --data \"\$D\")"
done
# shellcheck disable=SC2154
check_eq "dups: sorted and unsorted agree" "$dups_digest_no_sort" \
    "$dups_digest_sort"

# ---- ids the sort key alone cannot order ----
# The sort orders a batch by the 8 bytes after its ids' common prefix and
# only then by the whole id: ids that agree on those 8 bytes, ids that are
# prefixes of others, bytes over 0x7f (unsigned), a batch of one id. A run
# out of order trips the spill's order check (an abort); a group split by
# the sort would update the record it just made. (Batches of 1 write the
# first row before they find the input out of order: it is updated.)
tricky=(X0035g0000AAAAAAAAz X0035g0000AAAAAAAAa X0035g0000AAAAAAAA
    X0035g0000AAAAAAA X0035g0000AAAAAAAAaa X0035g0000 X0035g0000é
    X0035g0000E X0035g0000Éa X0035g0000é1 Y X Xa X0035g0000AAAAAAAAz)
{
    printf 'Id,Name\n'
    for i in "${!tricky[@]}"; do
        printf '%s,row %d\n' "${tricky[$i]}" "$i"
    done
} >"$TMP/tricky.csv"
unique=$(printf '%s\n' "${tricky[@]}" | LC_ALL=C sort -u)
for size in 1 3 5 100; do
    for mode in sort no-sort; do
        D=$(new_node "tricky-$size-$mode")
        flag=()
        [ "$mode" = no-sort ] && flag=(--no-sort)
        run seed --data "$D" -c t -i Id --as-of 2024-01-01 --json \
            --batch-size "$size" "${flag[@]}" "$TMP/tricky.csv"
        updated=0
        if [ "$size" -lt "${#tricky[@]}" ] &&
            { [ "$mode" = no-sort ] || [ "$size" = 1 ]; }; then
            updated=1 # the duplicate is in a later batch than its first row
        fi
        check_jq "tricky ids (batches of $size, $mode): 13 new, 1 duplicate" \
            ".new == 13 and .updated == $updated and .duplicates == 1"
        eval "tricky_digest_${mode//-/_}=\$(\"\$CRMSYNC\" digest --data \"\$D\")"
    done
    check_eq "tricky ids (batches of $size): scan in byte order" "$unique" \
        "$("$CRMSYNC" scan --data "$D" t | jq -r .id)"
    # shellcheck disable=SC2154
    check_eq "tricky ids (batches of $size): sorted and unsorted agree" \
        "$tricky_digest_no_sort" "$tricky_digest_sort"
done

# ---- many repeated ids: 300 ids, 3 rows each, interleaved ----
# (the counts of repeated ids live in a table of their own that must grow)
{
    printf 'Id,Name\n'
    for round in 1 2 3; do
        for ((i = 0; i < 300; i++)); do
            printf 'id%03d,round %d\n' "$(((i * 7 + round) % 300))" "$round"
        done
    done
} >"$TMP/repeats.csv"
for mode in sort no-sort; do
    D=$(new_node "repeats-$mode")
    flag=()
    [ "$mode" = no-sort ] && flag=(--no-sort)
    run seed --data "$D" -c t -i Id --as-of 2024-01-01 --json \
        --batch-size 100 "${flag[@]}" "$TMP/repeats.csv"
    check_jq "repeated ids ($mode): 300 records, 600 duplicates" \
        '.new == 300 and .duplicates == 600 and .rows_read == 900'
    check_eq "repeated ids ($mode): the last row wins" "round 3" \
        "$("$CRMSYNC" get --data "$D" t id123 | jq -r .Name)"
    eval "repeats_digest_${mode//-/_}=\$(\"\$CRMSYNC\" digest --data \"\$D\")"
done
# shellcheck disable=SC2154
check_eq "repeated ids: sorted and unsorted agree" "$repeats_digest_no_sort" \
    "$repeats_digest_sort"

# ---- deleted rows and JSON Lines out of order: as --no-sort ----
# (z is deleted by its later row, y made again by its later row, q's n
# changed by its later row: all at the same time, so only the count of
# earlier rows ranks them)
{
    printf 'Id,Name,Gone\nm,em,no\nb,bee,true\nx,ex,no\na,ay,yes\nk,kay,0\n'
    printf '%s\n' 'z,zed,no' 'y,why,yes' 'z,zed,yes' 'y,why again,no'
} >"$TMP/del.csv"
printf '%s\n' '{"id":"q","n":1,"f":2.5}' '{"id":"c","ok":true,"nested":{"a":[1]}}' \
    '{"id":"j","none":null,"s":"caf\u00e9"}' '{"id":"a","n":-7}' \
    '{"id":"q","n":2}' >"$TMP/typed.jsonl"
for mode in sort no-sort; do
    D=$(new_node "del-$mode")
    flag=()
    [ "$mode" = no-sort ] && flag=(--no-sort)
    run seed --data "$D" -c t -i Id --deleted-column Gone --batch-size 2 \
        --as-of 2024-01-01 --json "${flag[@]}" "$TMP/del.csv"
    check_jq "deleted rows ($mode): 7 records of 9 rows, 2 duplicates" \
        '.new == 7 and .rows_read == 9 and .duplicates == 2'
    run get --data "$D" t b
    check_rc "deleted rows ($mode): a deleted id is not found" 1
    run get --data "$D" t z
    check_rc "deleted rows ($mode): deleted by a later row of the same time" 1
    run get --data "$D" t y
    check_jq "deleted rows ($mode): made again by a later row" \
        '.Name == "why again"'
    run seed --data "$D" -c j -i id --batch-size 2 --as-of 2024-01-01 --json \
        "${flag[@]}" "$TMP/typed.jsonl"
    check_jq "JSON Lines ($mode): 4 new" '.new == 4 and .duplicates == 1'
    run get --data "$D" j c
    check_jq "JSON Lines ($mode): types kept" \
        '.ok == true and .nested == "{\"a\":[1]}"'
    run get --data "$D" j q
    check_jq "JSON Lines ($mode): the later row of the same time wins" \
        '.n == 2 and .f == 2.5'
    eval "del_digest_${mode//-/_}=\$(\"\$CRMSYNC\" digest --data \"\$D\")"
done
# shellcheck disable=SC2154
check_eq "deleted rows and JSON Lines: sorted and unsorted agree" \
    "$del_digest_no_sort" "$del_digest_sort"

# ---- SIGKILL while the sorted runs are written, then --resume ----
# The interrupted runs use batches of 20 rows: 1,500 commits, each synced,
# so the signal lands while they are written however fast the machine.
K=$(new_node killed)
"$CRMSYNC" seed --data "$K" "${seed_opts[@]}" --batch-size 20 \
    "$TMP/random.csv" >"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
PIDS+=("$pid")
if wait_committed "$K" "$pid"; then
    pass "kill: a sorted batch was committed"
else
    fail "kill: a sorted batch was committed"
fi
{ kill -9 "$pid"; wait_gone "$pid"; } 2>/dev/null
before=$("$CRMSYNC" scan --data "$K" contacts | wc -l)
if [ "$before" -gt 0 ] && [ "$before" -lt "$ROWS" ]; then
    pass "kill: part of the records were written ($before)"
else
    fail "kill: part of the records were written" "records: $before"
fi
# written in id order: what is there are the lowest ids (scan is in order)
check_eq "kill: the records written are the lowest ids" \
    "$("$CRMSYNC" scan --data "$U" contacts | jq -r .id | head -n "$before")" \
    "$("$CRMSYNC" scan --data "$K" contacts | jq -r .id)"
run seed --data "$K" "${seed_opts[@]}" --batch-size 200 --resume \
    "$TMP/random.csv"
check_rc "resume after kill: exit 0" 0
check_jq "resume after kill: resumed, complete, rows add up" \
    ".resumed and .complete and .earlier_rows + .rows_read == $ROWS"
check_eq "resume after kill: same digest as one clean run" "$ref_digest" \
    "$("$CRMSYNC" digest --data "$K")"
check_clean_dir "resume after kill" "$K"

# ---- SIGTERM while the sorted runs are written: exit 130, resume ----
T=$(new_node term)
"$CRMSYNC" seed --data "$T" "${seed_opts[@]}" --batch-size 20 \
    "$TMP/random.csv" >"$TMP/t.out" 2>"$TMP/t.err" &
pid=$!
PIDS+=("$pid")
wait_committed "$T" "$pid"
kill -TERM "$pid"
wait_gone "$pid"
check_eq "SIGTERM: exit 130" 130 "$RC"
check_jq "SIGTERM: interrupted, not complete" \
    '.interrupted == true and .complete == false and .sorted == true' \
    "$TMP/t.out"
run seed --data "$T" "${seed_opts[@]}" --batch-size 200 --resume \
    "$TMP/random.csv"
check_rc "SIGTERM: resume exit 0" 0
check_eq "SIGTERM: resume gives the clean digest" "$ref_digest" \
    "$("$CRMSYNC" digest --data "$T")"

# ---- duplicates with the same timestamp, killed and resumed ----
# The first 3,000 rows again at the end, each e-mail changed, same Id and
# LastModifiedDate: only the count of earlier rows tells the later row
# apart. A first seed counts them in the sorted load; --no-sort and a
# resumed seed count them as they read (the id set): all three agree.
{
    cat "$TMP/random.csv"
    "$GEN" --rows 3000 --seed 3 --order random | tail -n +2 |
        sed 's/@/+dup@/'
} >"$TMP/redone.csv"
first_id=$(sed -n 2p "$TMP/random.csv" | cut -d, -f1)
R=$(new_node redone)
run seed --data "$R" "${seed_opts[@]}" "$TMP/redone.csv"
check_jq "same-time duplicates: sorted, 3,000 duplicates" \
    ".sorted == true and .new == $ROWS and .duplicates == 3000"
check_grep "same-time duplicates: the later row wins" '[+]dup@' \
    <("$CRMSYNC" get --data "$R" contacts "$first_id")
redone_digest=$("$CRMSYNC" digest --data "$R")
RU=$(new_node redone-unsorted)
run seed --data "$RU" "${seed_opts[@]}" --no-sort "$TMP/redone.csv"
check_jq "same-time duplicates, --no-sort: 3,000 duplicates" \
    ".sorted == false and .duplicates == 3000"
check_eq "same-time duplicates: --no-sort agrees" "$redone_digest" \
    "$("$CRMSYNC" digest --data "$RU")"
RK=$(new_node redone-killed)
"$CRMSYNC" seed --data "$RK" "${seed_opts[@]}" --batch-size 20 \
    "$TMP/redone.csv" >"$TMP/rk.out" 2>"$TMP/rk.err" &
pid=$!
PIDS+=("$pid")
wait_committed "$RK" "$pid"
{ kill -9 "$pid"; wait_gone "$pid"; } 2>/dev/null
run seed --data "$RK" "${seed_opts[@]}" --resume "$TMP/redone.csv"
check_jq "same-time duplicates: resumed and complete" \
    '.resumed and .complete'
check_eq "same-time duplicates: resumed after kill, same digest" \
    "$redone_digest" "$("$CRMSYNC" digest --data "$RK")"

# ---- --max-errors on unordered input: the rows before the stop load ----
{
    printf 'Id,Name\n'
    for i in $(seq 1 40); do
        printf 'r%d,ok\n' $(((i * 7919) % 1000))
        [ $((i % 10)) -eq 0 ] && printf ',bad %d\n' "$i"
    done
} >"$TMP/many.csv"
M=$(new_node max)
run seed --data "$M" -c t -i Id --max-errors 3 --batch-size 5 --json \
    "$TMP/many.csv"
check_rc "max-errors: exit 2" 2
check_jq "max-errors: stopped, sorted, the rows before loaded" \
    '.stopped_max_errors and .complete == false and .sorted and .new == 30'

cli_finish
