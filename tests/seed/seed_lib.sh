# shellcheck shell=bash
# seed_lib.sh - helpers for the seed tests that interrupt a running seed.
# Source it after cli_lib.sh; it takes over the EXIT trap to also kill the
# background seeds listed in PIDS.
# SPDX-License-Identifier: MIT

PIDS=() # background seeds, killed on exit
cleanup_pids() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null
    done
}
trap 'cleanup_pids; rm -rf "$TMP"' EXIT

# wait_committed DIR PID: wait (at most 60 s) until the seed PID has
# committed a batch of collection "contacts" into DIR. Fails if the seed
# ended first.
wait_committed() {
    local _
    for _ in $(seq 1 1200); do
        if [ -n "$("$CRMSYNC" scan --data "$1" contacts 2>/dev/null | head -c 1)" ]; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# wait_gone PID: wait (at most 60 s) for PID to end; its status in $RC.
# shellcheck disable=SC2034 # RC is for the caller
wait_gone() {
    local _
    for _ in $(seq 1 600); do
        if ! kill -0 "$1" 2>/dev/null; then
            wait "$1" 2>/dev/null
            RC=$?
            return 0
        fi
        sleep 0.1
    done
    RC=999
    return 1
}
