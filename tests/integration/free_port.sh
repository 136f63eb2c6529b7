# shellcheck shell=bash
# free_port.sh - one function, free_port, for the scripts that start nodes
# on loopback (sync_lib.sh, tests/bench/bench_sync.sh).
# SPDX-License-Identifier: MIT

# free_port: a loopback TCP port nobody listens on now.
free_port() {
    local port hex _
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        hex=$(printf '%04X' "$port")
        if ! grep -q ":$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}
