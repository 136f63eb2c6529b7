# shellcheck shell=bash
# sync_lib.sh - helpers for the multi-process sync tests: sites on
# loopback, each a data directory, a config file and a crmsync node.
# Source it after cli_lib.sh; it takes over the EXIT trap to stop every
# node it started.
# SPDX-License-Identifier: MIT

declare -A NODE_PID=() # site -> pid of its running node
declare -A PORT=()     # site -> port it listens on (if it listens)
declare -A PUB=()      # site -> public key (Z85)

sync_cleanup() {
    local site
    for site in "${!NODE_PID[@]}"; do
        kill -9 "${NODE_PID[$site]}" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap sync_cleanup EXIT

# shellcheck source=free_port.sh
. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"

# site_init SITE: a data directory with keys and an empty store.
site_init() {
    "$CRMSYNC" init --data "$TMP/$1" >/dev/null || return 1
    PUB[$1]=$("$CRMSYNC" pubkey --data "$TMP/$1") || return 1
}

# site_config SITE LISTEN PEER...: write $TMP/SITE.conf. LISTEN is "listen"
# or "dialout"; each PEER is "NAME" (it dials us) or "NAME+" (we dial it;
# it must listen). Timers are short so that the tests run fast.
site_config() {
    local site=$1 listen=$2 peer name
    shift 2
    if [ "$listen" = listen ] && [ -z "${PORT[$site]:-}" ]; then
        PORT[$site]=$(free_port) || return 1
    fi
    {
        echo "node"
        echo "    data = $TMP/$site"
        if [ "$listen" = listen ]; then
            echo "    bind = tcp://127.0.0.1:${PORT[$site]}"
        fi
        echo "sync"
        echo "    heartbeat = 200"
        echo "    peer_timeout = 1500"
        echo "    pull_timeout = 2000"
        echo "    anti_entropy = 3000"
        echo "peers"
        for peer in "$@"; do
            name=${peer%+}
            echo "    $name"
            if [ "$peer" != "$name" ]; then
                echo "        endpoint = tcp://127.0.0.1:${PORT[$name]}"
            fi
            echo "        public_key = \"${PUB[$name]}\""
        done
    } >"$TMP/$site.conf"
}

# node_running SITE: its node answers crmsync status.
node_running() {
    "$CRMSYNC" status --data "$TMP/$1" --json --timeout 500 2>/dev/null |
        jq -e '.running' >/dev/null 2>&1
}

# node_start SITE: start its node in the background (log: $TMP/SITE.log)
# and wait (at most 15 s) until it answers.
node_start() {
    "$CRMSYNC" node --config "$TMP/$1.conf" 2>>"$TMP/$1.log" &
    NODE_PID[$1]=$!
    local _
    for _ in $(seq 1 150); do
        node_running "$1" && return 0
        kill -0 "${NODE_PID[$1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "node $1 did not start; its log:" >&2
    tail -n 20 "$TMP/$1.log" >&2
    return 1
}

# node_stop SITE: SIGTERM, wait (at most 15 s); fails unless it exits 0.
node_stop() {
    local pid=${NODE_PID[$1]} _
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 150); do
        if ! kill -0 "$pid" 2>/dev/null; then
            unset "NODE_PID[$1]"
            wait "$pid"
            return $?
        fi
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    unset "NODE_PID[$1]"
    return 1
}

# node_kill SITE: SIGKILL, and reap it.
node_kill() {
    kill -9 "${NODE_PID[$1]}" 2>/dev/null
    wait "${NODE_PID[$1]}" 2>/dev/null
    unset "NODE_PID[$1]"
}

# site_digest SITE: its store digest.
site_digest() {
    "$CRMSYNC" digest --data "$TMP/$1"
}

# put SITE COLLECTION ID FIELD=VALUE...: a local write at SITE.
put() {
    local site=$1
    shift
    "$CRMSYNC" put --data "$TMP/$site" "$@" >/dev/null
}

# field SITE COLLECTION ID FIELD: the field's value at SITE ("" if none).
field() {
    "$CRMSYNC" get --data "$TMP/$1" "$2" "$3" 2>/dev/null |
        jq -r --arg f "$4" '.[$f] // empty'
}

# wait_converged SECONDS SITE...: wait until every SITE has the same
# digest; fails after SECONDS.
wait_converged() {
    local limit=$1 site first same _
    shift
    for _ in $(seq 1 $((limit * 10))); do
        first=$(site_digest "$1")
        same=1
        for site in "$@"; do
            [ "$(site_digest "$site")" = "$first" ] || { same=0; break; }
        done
        [ "$same" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_field SECONDS SITE COLLECTION ID FIELD VALUE: until SITE sees it.
wait_field() {
    local limit=$1 _
    shift
    for _ in $(seq 1 $((limit * 10))); do
        [ "$(field "$1" "$2" "$3" "$4")" = "$5" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds; fails after SECONDS.
wait_for() {
    local limit=$1 _
    shift
    for _ in $(seq 1 $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# records SITE COLLECTION: how many visible records SITE holds.
records() {
    "$CRMSYNC" scan --data "$TMP/$1" "$2" 2>/dev/null | wc -l
}
