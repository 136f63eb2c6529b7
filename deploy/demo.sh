#!/usr/bin/env bash
# The crmsync demo: install what is needed, build, then run three branch
# offices on this machine (loopback), each a crmsync node with its own data
# directory and CURVE keys, and show them converge with no central server:
# a seed of a legacy export at one site, two sites editing the same record
# at once, one site offline while the others (and itself) keep working,
# then back. Everything the demo makes is in one temporary directory.
# Usage: deploy/demo.sh [WORK_DIR]   (default: a fresh temporary directory)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash deploy/deps.sh
# A tree of its own: the tests' build/release keeps its test binaries.
bash deploy/build.sh build/demo -DBUILD_TESTING=OFF
crmsync=$top/build/demo/tools/crmsync

work=${1:-$(mktemp -d /tmp/crmsync-demo.XXXXXX)}
mkdir -p "$work"
sites=(hq east west)
declare -A pid=() port=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$@"; }
run() { printf '$ %s\n' "$*"; "$@"; }
stop_all() {
    local site
    for site in "${!pid[@]}"; do
        kill -TERM "${pid[$site]}" 2>/dev/null || true
        wait "${pid[$site]}" 2>/dev/null || true
    done
}
trap stop_all EXIT

free_port() {
    local p hex
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        hex=$(printf '%04X' "$p")
        grep -q ":$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$p"; return; }
    done
    return 1
}

start() { # start SITE: run its node in the background, wait until it answers
    "$crmsync" node --config "$work/$1.conf" 2>>"$work/$1.log" &
    pid[$1]=$!
    for _ in $(seq 1 100); do
        "$crmsync" status --data "$work/$1" --json --timeout 300 2>/dev/null |
            jq -e .running >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "node $1 did not start; see $work/$1.log" >&2
    exit 1
}

stop() { # stop SITE: SIGTERM, as systemd would
    kill -TERM "${pid[$1]}"
    wait "${pid[$1]}"
    unset "pid[$1]"
}

digests() { # one line per site: its digest
    local site
    for site in "$@"; do
        printf '   %-5s %s\n' "$site" "$("$crmsync" digest --data "$work/$site")"
    done
}

converge() { # wait (at most 30 s) until the given sites hold the same state
    local first site same
    for _ in $(seq 1 300); do
        first=$("$crmsync" digest --data "$work/$1")
        same=1
        for site in "$@"; do
            [[ "$("$crmsync" digest --data "$work/$site")" == "$first" ]] || same=0
        done
        [[ $same == 1 ]] && return 0
        sleep 0.1
    done
    echo "the sites did not converge within 30 s" >&2
    exit 1
}

say "1. Three offices, each with a data directory: keys, node id, empty store"
for site in "${sites[@]}"; do
    run "$crmsync" init --data "$work/$site"
done
declare -A pub=()
for site in "${sites[@]}"; do
    pub[$site]=$("$crmsync" pubkey --data "$work/$site")
    printf '   %-5s public key %s\n' "$site" "${pub[$site]}"
done
note "Each site's config lists the public keys of its peers: nobody else may" \
     "connect (CURVE encryption, zauth allow-list)."

say "2. Configs: hq and east listen; west is behind NAT and only dials out"
port[hq]=$(free_port)
port[east]=$(free_port)
conf() { # conf SITE LISTEN PEER... (PEER+ : we dial it)
    local site=$1 listen=$2 peer name
    shift 2
    {
        echo "node"
        echo "    data = $work/$site"
        [[ $listen == listen ]] && echo "    bind = tcp://127.0.0.1:${port[$site]}"
        echo "sync"
        echo "    heartbeat = 250"
        echo "    peer_timeout = 1500"
        echo "peers"
        for peer in "$@"; do
            name=${peer%+}
            echo "    $name"
            [[ $peer != "$name" ]] && echo "        endpoint = tcp://127.0.0.1:${port[$name]}"
            echo "        public_key = \"${pub[$name]}\""
        done
    } >"$work/$site.conf"
}
conf hq listen east west
conf east listen hq+ west
conf west dialout hq+ east+
run cat "$work/west.conf"

say "3. Start the three nodes (logs in $work/*.log)"
for site in "${sites[@]}"; do
    start "$site"
done
sleep 1
run "$crmsync" status --data "$work/west"

say "4. Seed a legacy CRM export into hq only"
run "$crmsync" seed --data "$work/hq" --collection contacts --id-column Id \
    --timestamp-column LastModifiedDate deploy/sample/contacts.csv
note "Replication does the rest: hq notifies its peers, they pull the changes."
converge hq east west
digests hq east west
note "Same digest = same data at every site, down to every field's timestamp."
run "$crmsync" get --data "$work/west" contacts 0035g00000ABCDEAA5

say "5. east and west edit the same contact at the same moment"
rec=0035g00000ABCDEAA5
note "east sets Title; west sets Title and Phone. Each put prints its stamp:"
note "hybrid logical clock, UTC time, logical counter."
"$crmsync" put -v --data "$work/east" contacts "$rec" 'Title=Head of Sales EMEA' >"$work/east.stamp" &
edit_east=$!
"$crmsync" put -v --data "$work/west" contacts "$rec" 'Title=Chief Revenue Officer' 'Phone=+49 30 7654321' >"$work/west.stamp" &
edit_west=$!
wait "$edit_east" "$edit_west"
printf '   east  wrote at %s\n' "$(head -n 1 "$work/east.stamp")"
printf '   west  wrote at %s\n' "$(head -n 1 "$work/west.stamp")"
converge hq east west
for site in "${sites[@]}"; do
    printf '   %-5s now has Title = %s, Phone = %s\n' "$site" \
        "$("$crmsync" get --data "$work/$site" contacts "$rec" | jq -r .Title)" \
        "$("$crmsync" get --data "$work/$site" contacts "$rec" | jq -r .Phone)"
done
declare -A name_of=()
for site in "${sites[@]}"; do
    name_of[$("$crmsync" pubkey --node-id --data "$work/$site")]=$site
done
note "All three agree. Why? Per field, the write with the larger clock wins"
note "(equal clocks: the larger node id). Phone was written only by west, so"
note "it stands whichever Title won. crmsync get --stamps shows the winners:"
"$crmsync" get --stamps --data "$work/hq" contacts "$rec" |
    jq -r 'to_entries[] | select(.key == "Title" or .key == "Phone") |
           "\(.key)\t\(.value.value)\t\(.value.written)\t\(.value.origin)"' |
    while IFS=$'\t' read -r key value written origin; do
        printf '   %-5s = %-24s written %s by %s\n' "$key" "$value" \
            "$written" "${name_of[$origin]:-$origin}"
    done

say "6. west goes offline; everyone keeps working"
stop west
run "$crmsync" put --data "$work/hq" contacts 0035g00000Bq7LmAAJ 'Title=CFO'
run "$crmsync" put --data "$work/east" contacts 0035g00000NEW01AAA 'FirstName=Ines' 'LastName=Ortega'
run "$crmsync" del --data "$work/east" contacts 0035g00000Cr2XaAAJ
run "$crmsync" put --data "$work/west" contacts 0035g00000DkP4zAAF 'MailingCity=Kraków'
converge hq east
note "hq and east agree; west (stopped, edited locally) does not:"
digests hq east west

say "7. west comes back and catches up, in both directions"
start west
converge hq east west
digests hq east west
run "$crmsync" get --data "$work/west" contacts 0035g00000NEW01AAA
run "$crmsync" get --data "$work/hq" contacts 0035g00000DkP4zAAF
if "$crmsync" get --data "$work/west" contacts 0035g00000Cr2XaAAJ 2>/dev/null; then
    echo "unexpected: the contact deleted at east is visible at west" >&2
    exit 1
fi
note "(the contact deleted at east is gone at west too: deletes replicate as tombstones)"
run "$crmsync" status --data "$work/hq"

say "8. Stop the nodes"
for site in "${sites[@]}"; do
    stop "$site"
done
echo "All three sites hold the same data. Work directory: $work"
