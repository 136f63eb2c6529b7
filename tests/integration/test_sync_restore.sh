#!/usr/bin/env bash
# test_sync_restore.sh - a site restored from an older backup (mdb_copy,
# as the README suggests) uses the seqs of its change feed again. Its
# peers' cursors are past its head, so without care they would skip its
# new writes for ever. The node sees a peer pull from past its head, takes
# a new epoch, and every peer pulls it all again: the sites converge, the
# writes made after the backup come back from the peers, and the writes
# made after the restore reach them.
# Usage: test_sync_restore.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT
here=$(dirname "$0")
# shellcheck source=../cli/cli_lib.sh
. "$here/../cli/cli_lib.sh" "$@"
# shellcheck source=sync_lib.sh
. "$here/sync_lib.sh"
command -v mdb_copy >/dev/null || { echo "mdb_copy (lmdb-utils) is required" >&2; exit 2; }

site_init a || exit 1
site_init b || exit 1
site_config a listen b
site_config b dialout a+
check "a starts" node_start a
check "b starts" node_start b
for i in 1 2 3; do put a contacts "before-$i" Name="Before $i"; done
check "a and b converge" wait_converged 30 a b

check "a stops for its backup" node_stop a
mkdir "$TMP/backup"
check "mdb_copy backs a up" mdb_copy "$TMP/a" "$TMP/backup"
epoch0=$("$CRMSYNC" status --data "$TMP/a" --json | jq -r .epoch)
check "a starts again" node_start a
for i in 1 2 3 4 5; do put a contacts "after-backup-$i" Name="After backup $i"; done
check "a's writes after the backup reach b" \
    wait_field 30 b contacts after-backup-5 Name "After backup 5"

# a loses its disk: its data file comes back from the backup.
check "a stops" node_stop a
cp "$TMP/backup/data.mdb" "$TMP/a/data.mdb"
check "a's restored store lacks the writes after the backup" \
    test -z "$(field a contacts after-backup-1 Name)"
check "a starts from its restored store" node_start a
# Its feed head is 3 again: this write takes seq 4, which b has applied
# before (it was after-backup-1).
put a contacts after-restore Name="After restore"
check "a's write after the restore reaches b" \
    wait_field 30 b contacts after-restore Name "After restore"
check "the writes after the backup come back to a from b" \
    wait_field 30 a contacts after-backup-5 Name "After backup 5"
check "a and b converge" wait_converged 30 a b
check "a logged that it was restored" \
    grep -q "restored from an older copy" "$TMP/a.log"
epoch1=$("$CRMSYNC" status --data "$TMP/a" --json | jq -r .epoch)
check "a has a new epoch ($epoch0 -> $epoch1)" test "$epoch1" != "$epoch0"
cursor_on_a() {
    "$CRMSYNC" status --data "$TMP/b" --json |
        jq -e --arg e "$epoch1" '.peers[] | select(.name == "a") |
                                  .cursor_epoch == $e' >/dev/null
}
check "b's cursor on a is in a's new epoch" wait_for 10 cursor_on_a

# The whole directory restored, feed.mark included: nothing tells a at
# start-up. It pulls from b under its old epoch, and b leaves out what it
# took from a under that epoch, the writes a lost among them. b pulls from
# past a's head, a takes a new epoch, forgets its cursors and pulls all of
# b again: the lost writes still come back.
check "a stops for a whole-directory backup" node_stop a
mkdir "$TMP/backup2"
check "mdb_copy backs a up again" mdb_copy "$TMP/a" "$TMP/backup2"
cp "$TMP/a/feed.mark" "$TMP/backup2/feed.mark"
check "a starts again" node_start a
for i in 1 2 3; do put a contacts "lost-$i" Name="Lost $i"; done
check "a's writes after the second backup reach b" \
    wait_field 30 b contacts lost-3 Name "Lost 3"
check "a stops" node_stop a
cp "$TMP/backup2/data.mdb" "$TMP/a/data.mdb"
cp "$TMP/backup2/feed.mark" "$TMP/a/feed.mark"
check "a's restored directory lacks them" \
    test -z "$(field a contacts lost-1 Name)"
check "a starts from its restored directory" node_start a
check "the writes a lost come back to it from b" \
    wait_field 30 a contacts lost-1 Name "Lost 1"
check "a and b converge again" wait_converged 30 a b
epoch2=$("$CRMSYNC" status --data "$TMP/a" --json | jq -r .epoch)
check "a has another new epoch ($epoch1 -> $epoch2)" test "$epoch2" != "$epoch1"
check "a stops" node_stop a
check "b stops" node_stop b
cli_finish
