#!/bin/bash
# test_seed_full.sh - crmsync seed on a file system that fills up: a clear
# error and exit 1, what was committed stays readable, and after space is
# freed a --resume completes to the digest of a clean run. The data
# directory lives on a small tmpfs in a mount namespace of its own, so this
# needs root (or user namespaces); otherwise it is skipped (exit 77).
# Usage: test_seed_full.sh CRMSYNC_BINARY SOURCE_DIR GEN_CONTACTS_BINARY
# SPDX-License-Identifier: MIT

# shellcheck source=../cli/cli_lib.sh
. "$(dirname "$0")/../cli/cli_lib.sh" "$@"
GEN=${3:?usage: test_seed_full.sh CRMSYNC SOURCE_DIR GEN_CONTACTS}

if ! unshare -m --propagation private true 2>/dev/null; then
    echo "SKIP: cannot make a mount namespace (needs root)"
    exit 77
fi

ROWS=20000
"$GEN" --rows "$ROWS" --seed 5 --order random --output "$TMP/random.csv"
OPTS="-c contacts -i Id --timestamp-column LastModifiedDate --batch-size 1000"
export CRMSYNC TMP OPTS

REF=$(new_node ref)
# shellcheck disable=SC2086
run seed --data "$REF" $OPTS "$TMP/random.csv"
check_rc "clean run: exit 0" 0
ref_digest=$("$CRMSYNC" digest --data "$REF")

# in_small_fs MB SCRIPT: run SCRIPT (bash; sees CRMSYNC, TMP, OPTS) with
# $SMALL a fresh tmpfs of MB megabytes, in a private mount namespace (gone
# when SCRIPT ends).
# shellcheck disable=SC2016 # the scripts expand in the namespace's bash
in_small_fs() {
    mkdir -p "$TMP/small"
    unshare -m --propagation private bash -c \
        'mount -t tmpfs -o size="$1"m tmpfs "$2" && SMALL=$2 && shift 2 && eval "$1"' \
        _ "$1" "$TMP/small" "$2"
}

# The sort file does not fit: nothing of the unordered part is written.
# shellcheck disable=SC2016
in_small_fs 6 '
    "$CRMSYNC" init --data "$SMALL/n" >/dev/null &&
    "$CRMSYNC" seed --data "$SMALL/n" $OPTS "$TMP/random.csv" \
        >"$TMP/sort.out" 2>"$TMP/sort.err"
    echo $? >"$TMP/sort.rc"
    "$CRMSYNC" scan --data "$SMALL/n" contacts | wc -l >"$TMP/sort.count"
' 2>/dev/null
check_eq "sort file on a full disk: exit 1" 1 "$(cat "$TMP/sort.rc")"
check_grep "sort file on a full disk: says to free space or --no-sort" \
    'free space in .*--no-sort' "$TMP/sort.err"
check_eq "sort file on a full disk: the store is readable and empty" 0 \
    "$(tr -d ' ' <"$TMP/sort.count")"

# Writing in input order fills the store itself: what was committed stays,
# and once there is room a --resume finishes to the clean digest.
# shellcheck disable=SC2016
in_small_fs 6 '
    "$CRMSYNC" init --data "$SMALL/n" >/dev/null &&
    "$CRMSYNC" seed --data "$SMALL/n" $OPTS --no-sort \
        "$TMP/random.csv" >"$TMP/full.out" 2>"$TMP/full.err"
    echo $? >"$TMP/full.rc"
    "$CRMSYNC" scan --data "$SMALL/n" contacts | wc -l >"$TMP/full.count"
    cp -a "$SMALL/n" "$TMP/moved"
' 2>/dev/null
check_eq "store on a full disk: exit 1" 1 "$(cat "$TMP/full.rc")"
check_grep "store on a full disk: says the file system is full" \
    'file system is full' "$TMP/full.err"
count=$(tr -d ' ' <"$TMP/full.count")
if [ "$count" -gt 0 ] && [ "$count" -lt "$ROWS" ] && [ $((count % 1000)) -eq 0 ]; then
    pass "store on a full disk: whole batches committed ($count records)"
else
    fail "store on a full disk: whole batches committed" "records: $count"
fi
# shellcheck disable=SC2086
run seed --data "$TMP/moved" $OPTS --no-sort --resume "$TMP/random.csv"
check_rc "after freeing space: --resume completes" 0
check_eq "after freeing space: the clean run's digest" "$ref_digest" \
    "$("$CRMSYNC" digest --data "$TMP/moved")"

cli_finish
