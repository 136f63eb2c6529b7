#!/usr/bin/env bash
# test_sync_security.sh - who may talk to a node, and what a peer's bad
# input does to it: the start-up CURVE self-check, an unknown key, hostile
# frames from a trusted key (exact rejected count, memory bounded, honest
# peers still served), revocation by SIGHUP, repeated SIGHUPs, and a
# dialling site let in after a refused handshake.
# Usage: test_sync_security.sh CRMSYNC_BINARY SOURCE_DIR PROBE NOZAP_SO
# SPDX-License-Identifier: MIT
here=$(dirname "$0")
PROBE=${3:?usage: test_sync_security.sh CRMSYNC SOURCE_DIR PROBE NOZAP_SO}
NOZAP=${4:?usage: test_sync_security.sh CRMSYNC SOURCE_DIR PROBE NOZAP_SO}
# shellcheck source=../cli/cli_lib.sh
. "$here/../cli/cli_lib.sh" "$@"
# shellcheck source=sync_lib.sh
. "$here/sync_lib.sh"
# Under AddressSanitizer, freed memory sits in a quarantine (256 MB by
# default) that would hide what the node itself keeps; a small one keeps
# the memory bound below meaningful. Without ASan the variable is unused.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8"

site_init a || exit 1
site_init b || exit 1
# mallory: a probe whose key a trusts (a peer gone rogue); stranger: one
# whose key nobody trusts.
"$PROBE" --cert "$TMP/mallory.cert" >"$TMP/mallory.key" || exit 1
"$PROBE" --cert "$TMP/stranger.cert" >/dev/null || exit 1
PUB[mallory]=$(awk '{ print $2 }' "$TMP/mallory.key")

# probe CERT OUTFILE [OPTIONS] MESSAGE...: the probe dials a with CERT.
probe() {
    local cert=$1 out=$2
    shift 2
    "$PROBE" --cert "$TMP/$cert.cert" --server-key "${PUB[a]}" \
        --connect "tcp://127.0.0.1:${PORT[a]}" "$@" >"$out" 2>&1
}
# has_event OUTFILE NAME: the probe saw the connection event NAME.
has_event() { grep -q "^event [0-9]* $2\$" "$1"; }
# a_status JQ: a's status --json passes the jq test JQ.
a_status() {
    "$CRMSYNC" status --data "$TMP/a" --json 2>/dev/null | jq -e "$1" >/dev/null
}
# rss SITE: its node's resident memory in kB.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/${NODE_PID[$1]}/status"; }

# ---- the start-up self-check ------------------------------------------
# With a zauth that never serves ZAP, libzmq lets every CURVE client in:
# the node must see that and refuse to run, before it listens.
site_init c || exit 1
site_config c listen a
LD_PRELOAD=$NOZAP ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
    timeout 30 "$CRMSYNC" node --config "$TMP/c.conf" 2>"$TMP/c.log"
RC=$?
check "without a working ZAP handler the node refuses to run" \
    test "$RC" -ne 0 -a "$RC" -ne 124
check "... saying the self-check failed" \
    grep -q "CURVE self-check FAILED" \
    "$TMP/c.log"
port_hex=$(printf '%04X' "${PORT[c]}")
check "... and nothing listens on its port" \
    test -z "$(grep ":$port_hex " /proc/net/tcp)"

site_config a listen mallory
check "a starts (mallory trusted, b not yet)" node_start a
check "a's self-check passed" \
    grep -q "CURVE self-check passed" "$TMP/a.log"

# ---- an unknown key -----------------------------------------------------
digest0=$(site_digest a)
# A valid PULL and NOTIFY: if they got through, a would answer.
probe stranger "$TMP/stranger.out" --timeout 3000 --wait 500 \
    hex:960102000000ce00010000 hex:9401010000
check "an unknown key's handshake is refused" \
    has_event "$TMP/stranger.out" handshake-failed
check "... it never gets a message in or out" \
    grep -q '^done sent=0 recv=0$' "$TMP/stranger.out"
check "... it changed nothing" test "$(site_digest a)" = "$digest0"
check "... not even a frame reached the node" a_status '.unknown_frames == 0'

# ---- hostile frames from a trusted key ---------------------------------
# Each message below must be refused; --repeat sends the set 200 times.
hostile=(
    rand:1 rand:7 rand:100 rand:4000 # random bytes
    hex:                             # an empty frame
    hex:9601020000                   # PULL cut short
    hex:940101000000                 # NOTIFY with a trailing byte
    hex:9402010000                   # protocol version 2
    hex:9401090000                   # unknown message type
    hex:9201a178                     # [1, "x"]
    hex:94a131a1310000               # version and type as strings
    hex:940101ff00                   # a negative epoch
    hex:970102000501ce0001000000     # PULL with base > since
    hex:ddffffffff                   # array of 2^32-1 items, no bytes
    hex:dfffffffff                   # map of 2^32-1 pairs
    hex:c6ffffffff                   # bin of 4 GB, no bytes
    hex:9801030000000000dd000f4240   # CHANGES claiming 10^6 deltas
    str:multi+str:part               # a multipart message
)
rounds=200
expected=$((rounds * ${#hostile[@]}))
probe mallory "$TMP/mallory.out" --timeout 20000 --wait 1000 \
    --repeat "$rounds" "${hostile[@]}"
check "mallory's handshake succeeds (its key is trusted)" \
    has_event "$TMP/mallory.out" handshake-ok
check "mallory sent all $expected messages" \
    grep -q "^sent $expected\$" "$TMP/mallory.out"
rejected_all() { a_status ".peers[] | select(.name == \"mallory\") |
                          .rejected == $expected"; }
check "a rejected exactly the $expected hostile messages" \
    wait_for 10 rejected_all
check "... and took none of them as a message" \
    a_status '.peers[] | select(.name == "mallory") | .msgs_in == 0'
check "... and is still running" node_running a
check "... and logged them" grep -q "peer mallory: .* malformed messages dropped" "$TMP/a.log"

# Big random frames (4 MB each, 100 MB in all) and one frame over the
# limit, which makes libzmq drop the connection before the node sees it.
rss0=$(rss a)
probe mallory "$TMP/big.out" --timeout 30000 --wait 500 --repeat 25 rand:4000000
probe mallory "$TMP/oversized.out" --timeout 5000 --wait 1500 rand:16781313
check "a frame over the limit drops the connection" \
    has_event "$TMP/oversized.out" disconnected
rss1=$(rss a)
echo "     a's VmRSS: ${rss0} kB before, ${rss1} kB after 100 MB of junk"
check "a's memory grew by less than 64 MB" test $((rss1 - rss0)) -lt 65536
check "a is still running" node_running a

# ---- revocation and reloads --------------------------------------------
# b dials a, which does not trust it yet: refused. Trusting it by SIGHUP
# lets it in without restarting b (it keeps re-dialling).
site_config b dialout a+
check "b starts" node_start b
put b contacts early Name=before-trust
sleep 1
check "b's change does not reach a while a does not trust b" \
    test -z "$(field a contacts early Name)"
site_config a listen mallory b
# Several reloads in a row: each is one reload, the node keeps running.
for _ in 1 2 3 4 5; do
    kill -HUP "${NODE_PID[a]}"
    sleep 0.05
done
check "after SIGHUPs a trusts b: b's change arrives" \
    wait_field 20 a contacts early Name before-trust
check "a is still running after 5 SIGHUPs" node_running a

# mallory holds a connection open; a drops mallory from its config.
probe mallory "$TMP/revoked.out" --timeout 3000 --wait 8000 hex:9401010000 &
probe_pid=$!
mallory_connected() { a_status '.peers[] | select(.name == "mallory") |
                                 .connected'; }
check "mallory is connected" wait_for 10 mallory_connected
site_config a listen b
kill -HUP "${NODE_PID[a]}"
mallory_gone() { a_status '[.peers[].name] == ["b"]'; }
check "after SIGHUP mallory is no longer a peer" wait_for 10 mallory_gone
wait "$probe_pid"
check "mallory's open connection was dropped" \
    has_event "$TMP/revoked.out" disconnected
check "... and its reconnection refused" \
    has_event "$TMP/revoked.out" handshake-failed
probe mallory "$TMP/after.out" --timeout 3000 --wait 300 hex:9401010000
check "a new connection with mallory's key is refused" \
    grep -q '^done sent=0 recv=0$' "$TMP/after.out"

# Honest peers are still served after all of it.
put a contacts late Name=after-revocation
check "a's change reaches b" wait_field 20 b contacts late Name after-revocation
check "a and b converge" wait_converged 30 a b
check "a stops cleanly" node_stop a
check "b stops cleanly" node_stop b
cli_finish
