#!/usr/bin/env bash
# bench_sync.sh - benchmark `crmsync node` sync on loopback over CURVE: a
# fresh site's full catch-up against the seed of the same data, the
# write-to-visible latency between three sites, and the wire bytes per
# changed field.
# SPDX-License-Identifier: MIT
#
# Usage: tests/bench/bench_sync.sh [--build DIR] [--crmsync PATH]
#                                  [--gen PATH] [--latency PATH]
#                                  [--rows N] [--rounds R]
#                                  [--batch-bytes B[,B...]]
#                                  [--mode dialout|listen] [--seed S]
#                                  [--writes W] [--rate HZ]
#                                  [--fields F] [--only PARTS]
#                                  [--perf DIR] [--timeout SECONDS]
#
#   --build DIR     build tree holding tools/crmsync, tests/bench/gen_contacts
#                   and tests/bench/bench_latency (default: build/release of
#                   the source tree)
#   --crmsync PATH  the crmsync binary (overrides --build)
#   --gen PATH      the gen_contacts binary (overrides --build)
#   --latency PATH  the bench_latency binary (overrides --build)
#   --rows N        contacts seeded into site A (default 1000000)
#   --rounds R      rounds of seed + catch-up (default 3, at most 99)
#   --batch-bytes B sync/batch_bytes of both nodes during the catch-up; a
#                   comma-separated list times each value in every round
#                   (default: none set, i.e. the node's default)
#   --mode M        dialout: B dials A, which listens (a new branch joining
#                   HQ; the default); listen: A dials B, which listens
#   --seed S        generator seed (default 1)
#   --writes W      latency: writes, spread over the three sites (default 600)
#   --rate HZ       latency: writes per second, all sites together (default
#                   100)
#   --fields F      wire bytes: records whose 28-byte Email changes at A
#                   (default 10000, at most --rows)
#   --only PARTS    a comma-separated subset of catchup,latency,wire
#                   (default: all three)
#   --perf DIR      after the rounds, one more catch-up (not in the figures)
#                   under `perf record -g` on both nodes; the data and the
#                   top of `perf report` go to DIR
#   --timeout SECONDS  give up on any one catch-up after this long (default
#                   1800)
#
# Builds nothing. Everything lives in a temporary directory (under $TMPDIR,
# default /tmp; removed on exit); allow about 3 GB for 1,000,000 rows (the
# CSV, two stores and the seed's sort file). Nodes bind 127.0.0.1 only.
#
# Catch-up: each round seeds a fresh site A with `crmsync seed` (timed: the
# baseline), then for each batch size starts A's node and, on a fresh site
# B, B's node, and times from B's start until B's cursor on A reaches A's
# feed head (status polled every 0.1 s); the digests of A and B must then be
# equal. Reports the catch-up time, records/s, the ratio catch-up / seed,
# the CPU seconds and peak RSS of both nodes, and the medians over rounds.
# Latency: three fresh, empty sites in a full mesh; bench_latency writes at
# all three at a steady rate and times when each write is visible at the
# two others. Wire: after a catch-up, A's Email (28 bytes) is changed on F
# records by a `crmsync seed` of an (Id, Email) file; bytes A sent to B per
# changed field, from the status counters.
#
# A miss is a result, not an error: the exit status is 0 unless a tool
# failed or a check did not hold (then 1); 64 for a bad command line.

set -euo pipefail
export LC_ALL=C

TARGET_RATIO=2     # catch-up within 2x the seed time
TARGET_P99_MS=50   # write-to-visible p99 on loopback
FIELD_BYTES=28     # size of the changed value in the wire test
POLL=0.1           # seconds between status polls

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build/release
crmsync=
gen=
latency=
rows=1000000
rounds=3
batches=default
mode=dialout
seed=1
writes=600
rate=100
fields=10000
only=catchup,latency,wire
perf_dir=
timeout=1800

usage() {
    awk 'NR > 7 && /^#/ { sub(/^# ?/, ""); print; next } NR > 7 { exit }' "$0"
}

die_usage() {
    echo "bench_sync: $*" >&2
    echo "Try 'bench_sync.sh --help'." >&2
    exit 64
}

while (($# > 0)); do
    case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --crmsync) crmsync=${2:?--crmsync needs a path}; shift 2 ;;
    --gen) gen=${2:?--gen needs a path}; shift 2 ;;
    --latency) latency=${2:?--latency needs a path}; shift 2 ;;
    --rows) rows=${2:?--rows needs a number}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --batch-bytes) batches=${2:?--batch-bytes needs a size}; shift 2 ;;
    --mode) mode=${2:?--mode needs dialout or listen}; shift 2 ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --writes) writes=${2:?--writes needs a number}; shift 2 ;;
    --rate) rate=${2:?--rate needs a number}; shift 2 ;;
    --fields) fields=${2:?--fields needs a number}; shift 2 ;;
    --only) only=${2:?--only needs parts}; shift 2 ;;
    --perf) perf_dir=${2:?--perf needs a directory}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown argument '$1'" ;;
    esac
done
number() { [[ $1 =~ ^[0-9]{1,9}$ ]] && (($1 >= $2 && $1 <= $3)); }
number "$rows" 1 100000000 || die_usage "--rows wants 1 to 100000000"
number "$rounds" 1 99 || die_usage "--rounds wants 1 to 99"
number "$writes" 1 1000000 || die_usage "--writes wants 1 to 1000000"
number "$rate" 1 10000 || die_usage "--rate wants 1 to 10000"
number "$fields" 1 "$rows" || die_usage "--fields wants 1 to --rows"
number "$timeout" 1 86400 || die_usage "--timeout wants 1 to 86400"
[[ $seed =~ ^[0-9]{1,19}$ ]] || die_usage "--seed wants a number"
[[ $mode == dialout || $mode == listen ]] ||
    die_usage "--mode wants dialout or listen, not '$mode'"
IFS=, read -r -a batch_list <<<"$batches"
for b in "${batch_list[@]}"; do
    [[ $b == default ]] || number "$b" 4096 8388608 ||
        die_usage "--batch-bytes wants 4096 to 8388608 (or default), not '$b'"
done
want_catchup=0 want_latency=0 want_wire=0
IFS=, read -r -a parts <<<"$only"
for part in "${parts[@]}"; do
    case $part in
    catchup) want_catchup=1 ;;
    latency) want_latency=1 ;;
    wire) want_wire=1 ;;
    *) die_usage "--only takes catchup, latency and wire, not '$part'" ;;
    esac
done
crmsync=${crmsync:-$build/tools/crmsync}
gen=${gen:-$build/tests/bench/gen_contacts}
latency=${latency:-$build/tests/bench/bench_latency}

fail() {
    echo "bench_sync: $*" >&2
    exit 1
}
[[ -x $crmsync ]] || fail "no crmsync binary at $crmsync (build first:" \
    "bash deploy/build.sh build/release -DBUILD_TESTING=ON, or pass --crmsync)"
[[ -x $gen ]] || fail "no gen_contacts binary at $gen (pass --gen)"
if ((want_latency)); then
    [[ -x $latency ]] || fail "no bench_latency binary at $latency" \
        "(pass --latency)"
fi
[[ -x /usr/bin/time ]] || fail "/usr/bin/time is missing:" \
    "bash deploy/deps.sh --test installs it"
if [[ -n $perf_dir ]]; then
    command -v perf >/dev/null || fail "perf is missing"
    mkdir -p "$perf_dir" || fail "cannot make $perf_dir"
    perf_dir=$(cd "$perf_dir" && pwd)
fi

unset CRMSYNC_DATA
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crmsync-bench-sync.XXXXXX")
declare -A NODE_PID=() # site -> pid of its running node
declare -A PORT=()     # site -> the port it listens on
declare -A PUB=()      # site -> its public key
helpers=()             # other background pids (perf, time)
cleanup() {
    local site pid
    for site in "${!NODE_PID[@]}"; do
        kill -9 "${NODE_PID[$site]}" 2>/dev/null || true
    done
    for pid in "${helpers[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
errors=0
tick=$(getconf CLK_TCK)

error() {
    echo "ERROR: $*"
    errors=$((errors + 1))
}

# median NUMBERS...: the median (mean of the middle two for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) { print v[(NR + 1) / 2] }
              else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# maximum NUMBERS...
maximum() {
    printf '%s\n' "$@" | sort -g | tail -n 1
}

# calc EXPR: floating-point arithmetic.
calc() {
    awk "BEGIN { printf \"%.6g\", $1 }"
}

# now: wall-clock seconds with microseconds.
now() {
    echo "$EPOCHREALTIME"
}

# ---------------- sites and nodes ----------------

# shellcheck source=../integration/free_port.sh
. "$top/tests/integration/free_port.sh"

# site_init SITE: a fresh data directory with keys and an empty store.
site_init() {
    rm -rf "${tmp:?}/$1"
    "$crmsync" init --data "$tmp/$1" >/dev/null || return 1
    PUB[$1]=$("$crmsync" pubkey --data "$tmp/$1") || return 1
}

# site_config SITE LISTEN BATCH PEER...: write $tmp/SITE.conf. LISTEN is
# "listen" or "dialout"; BATCH is a batch_bytes or "default"; each PEER is
# "NAME" (it dials us) or "NAME+" (we dial it; it must listen). The sync
# timers are the defaults: a benchmark measures what a user gets.
site_config() {
    local site=$1 listen=$2 batch=$3 peer name
    shift 3
    if [[ $listen == listen && -z ${PORT[$site]:-} ]]; then
        PORT[$site]=$(free_port) || return 1
    fi
    {
        echo "node"
        echo "    data = $tmp/$site"
        if [[ $listen == listen ]]; then
            echo "    bind = tcp://127.0.0.1:${PORT[$site]}"
        fi
        if [[ $batch != default ]]; then
            echo "sync"
            echo "    batch_bytes = $batch"
        fi
        echo "peers"
        for peer in "$@"; do
            name=${peer%+}
            echo "    $name"
            if [[ $peer != "$name" ]]; then
                echo "        endpoint = tcp://127.0.0.1:${PORT[$name]}"
            fi
            echo "        public_key = \"${PUB[$name]}\""
        done
    } >"$tmp/$site.conf"
}

# status SITE: its status as one line of JSON (from the data directory if
# no node runs there).
status() {
    "$crmsync" status --data "$tmp/$1" --json --timeout "${2:-1000}" \
        2>/dev/null
}

# node_start SITE: start its node (log: $tmp/SITE.log); returns at once.
node_start() {
    "$crmsync" node --config "$tmp/$1.conf" 2>>"$tmp/$1.log" &
    NODE_PID[$1]=$!
}

# node_wait SITE: wait (at most 15 s) until its node answers.
node_wait() {
    local _
    for _ in $(seq 1 150); do
        [[ $(status "$1" 500) == '{"running":true'* ]] && return 0
        kill -0 "${NODE_PID[$1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "node $1 did not start; its log:" >&2
    tail -n 20 "$tmp/$1.log" >&2
    return 1
}

# node_stop SITE: SIGTERM, wait (at most 30 s), else SIGKILL.
node_stop() {
    local pid=${NODE_PID[$1]} _ rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
        rc=1
    fi
    wait "$pid" 2>/dev/null || rc=1
    unset "NODE_PID[$1]"
    return "$rc"
}

# json_num JSON KEY [PEER]: the number KEY of the node, or of its peer PEER.
json_num() {
    local json=$1
    if (($# > 2)); then
        json=${json#*\"name\":\""$3"\"}
    fi
    if [[ $json =~ \"$2\":([0-9]+) ]]; then
        echo "${BASH_REMATCH[1]}"
    else
        echo -1
    fi
}

# json_str JSON KEY [PEER]: the same for a text value.
json_str() {
    local json=$1
    if (($# > 2)); then
        json=${json#*\"name\":\""$3"\"}
    fi
    if [[ $json =~ \"$2\":\"([^\"]*)\" ]]; then
        echo "${BASH_REMATCH[1]}"
    fi
}

# cpu_ticks PID: its user+system CPU time in clock ticks (0 if gone).
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) } # fields from the third on; the name may hold spaces
    read -r -a f <<<"$stat"
    echo $((f[11] + f[12]))
}

# proc_kb PID KEY: a kB figure of /proc/PID/status (VmHWM, RssAnon...).
proc_kb() {
    local key value _
    while read -r key value _; do
        if [[ $key == "$2:" ]]; then
            echo "$value"
            return
        fi
    done 2>/dev/null <"/proc/$1/status"
    echo 0
}

# wait_cursor SITE PEER EPOCH HEAD LIMIT: poll SITE's status until its
# cursor on PEER is (EPOCH, HEAD); meanwhile keep the largest RssAnon of
# every running node in ANON_MAX[site]. Fails after LIMIT seconds.
declare -A ANON_MAX=()
wait_cursor() {
    local site=$1 peer=$2 epoch=$3 head=$4 limit=$5 s json anon
    local deadline=$((SECONDS + limit))
    for ((poll = 0; poll < 100000000; poll++)); do
        json=$(status "$site" 2000) || true
        if [[ $(json_str "$json" cursor_epoch "$peer") == "$epoch" &&
            $(json_num "$json" cursor "$peer") == "$head" ]]; then
            return 0
        fi
        for s in "${!NODE_PID[@]}"; do
            anon=$(proc_kb "${NODE_PID[$s]}" RssAnon)
            if ((anon > ${ANON_MAX[$s]:-0})); then
                ANON_MAX[$s]=$anon
            fi
        done
        if ((SECONDS > deadline)); then
            return 1
        fi
        sleep "$POLL"
    done
    return 1
}

# ---------------- environment and input ----------------

echo "== crmsync node: catch-up, latency and wire bytes on loopback (CURVE)"
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "host:     $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' \
    /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
    /proc/meminfo) RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "crmsync:  $crmsync ($("$crmsync" --version 2>/dev/null | head -n 1))"
echo "tmp dir:  $tmp"
echo "note:     a shared machine: compare ratios and medians, not seconds"

csv=$tmp/contacts.csv
if ((want_catchup || want_wire)); then
    "$gen" --rows "$rows" --seed "$seed" --output "$csv" ||
        fail "gen_contacts failed"
    bytes=$(stat -c %s "$csv")
    printf 'input:    %d contacts, %d bytes (%.1f MB), seed %s\n' "$rows" \
        "$bytes" "$(calc "$bytes / 1e6")" "$seed"
    cat "$csv" >/dev/null # the seed reads it from the page cache
fi

# seed_a: a fresh site A seeded with the CSV, timed. Sets SEED_WALL and
# SEED_RSS (kB); A_EPOCH, A_HEAD from A's store.
seed_a() {
    site_init a || { error "crmsync init a failed"; return 1; }
    if ! /usr/bin/time -o "$tmp/seed.time" -f '%e %M' "$crmsync" seed \
        --data "$tmp/a" --collection contacts --id-column Id \
        --timestamp-column LastModifiedDate --progress never "$csv" \
        >"$tmp/seed.out" 2>"$tmp/seed.err" </dev/null; then
        error "crmsync seed failed: $(tail -n 3 "$tmp/seed.err")"
        return 1
    fi
    read -r SEED_WALL SEED_RSS <"$tmp/seed.time"
    SEED_WALL=$(calc "$SEED_WALL < 0.01 ? 0.01 : $SEED_WALL")
    local json
    json=$(status a 100) || true
    A_EPOCH=$(json_str "$json" epoch)
    A_HEAD=$(json_num "$json" feed_head)
    if [[ $(json_num "$json" records) != "$rows" ]]; then
        error "A holds $(json_num "$json" records) records, not $rows"
        return 1
    fi
}

# pair_config BATCH: configs of A and B for the mode.
pair_config() {
    if [[ $mode == dialout ]]; then
        site_config a listen "$1" b
        site_config b dialout "$1" a+
    else
        site_config b listen "$1" a
        site_config a dialout "$1" b+
    fi
}

# catch_up BATCH: start A, then a fresh B, and time B's catch-up. Sets
# CU_WALL, CU_CPU_A, CU_CPU_B (s), CU_HWM_A, CU_HWM_B, CU_ANON_A, CU_ANON_B
# (kB), CU_BYTES (A to B), CU_MSGS (CHANGES + NOTIFY A sent B), CU_ECHO
# (deltas B served back to A by then). Leaves both nodes running.
catch_up() {
    local batch=$1 t0 t1 cpu_a0 json
    site_init b || { error "crmsync init b failed"; return 1; }
    pair_config "$batch"
    ANON_MAX=()
    node_start a
    node_wait a || { error "node a did not start"; return 1; }
    cpu_a0=$(cpu_ticks "${NODE_PID[a]}")
    echo 5 >"/proc/${NODE_PID[a]}/clear_refs" 2>/dev/null || true
    t0=$(now)
    node_start b
    if ! wait_cursor b a "$A_EPOCH" "$A_HEAD" "$timeout"; then
        error "B did not catch up within $timeout s"
        return 1
    fi
    t1=$(now)
    CU_WALL=$(calc "$t1 - $t0")
    CU_CPU_A=$(calc "($(cpu_ticks "${NODE_PID[a]}") - $cpu_a0) / $tick")
    CU_CPU_B=$(calc "$(cpu_ticks "${NODE_PID[b]}") / $tick")
    CU_HWM_A=$(proc_kb "${NODE_PID[a]}" VmHWM)
    CU_HWM_B=$(proc_kb "${NODE_PID[b]}" VmHWM)
    CU_ANON_A=${ANON_MAX[a]:-0}
    CU_ANON_B=${ANON_MAX[b]:-0}
    json=$(status a) || true
    CU_BYTES=$(json_num "$json" bytes_out b)
    CU_MSGS=$(json_num "$json" msgs_out b)
    CU_ECHO=$(json_num "$json" changes_in b)
}

# same_digest: A's and B's digests are equal (nodes may run).
same_digest() {
    local da db
    da=$("$crmsync" digest --data "$tmp/a" 2>/dev/null) || da=error-a
    db=$("$crmsync" digest --data "$tmp/b" 2>/dev/null) || db=error-b
    [[ $da == "$db" ]]
}

# stop_all: stop every node; a node that does not stop cleanly is an error.
stop_all() {
    local site
    for site in "${!NODE_PID[@]}"; do
        node_stop "$site" || error "node $site did not stop cleanly"
    done
}

# ---------------- catch-up ----------------

declare -A cu_walls=() cu_ratios=() cu_cpu_a=() cu_cpu_b=() cu_hwm_a=()
declare -A cu_hwm_b=() cu_anon_a=() cu_anon_b=() cu_bytes=() cu_msgs=()
declare -A cu_echo=()
seed_walls=()
seed_rsss=()
pair_ready=0 # A and B hold the same rows (for the wire part)

if ((want_catchup)); then
    echo
    echo "== catch-up: seed A, then a fresh B catches up from A" \
        "(mode $mode: $([[ $mode == dialout ]] && echo "B dials A" ||
            echo "A dials B"))"
    for ((round = 1; round <= rounds; round++)); do
        seed_a || break
        seed_walls+=("$SEED_WALL")
        seed_rsss+=("$SEED_RSS")
        printf '  round %d  seed      %8.2f s %10.0f rec/s  peak RSS %.0f MB\n' \
            "$round" "$SEED_WALL" "$(calc "$rows / $SEED_WALL")" \
            "$(calc "$SEED_RSS / 1024")"
        n=${#batch_list[@]}
        for ((k = 0; k < n; k++)); do
            # rotate the order so that no batch size always runs first
            batch=${batch_list[$(((k + round - 1) % n))]}
            if ! catch_up "$batch"; then
                stop_all
                continue
            fi
            stop_all
            if ! same_digest; then
                error "round $round, batch $batch: digests of A and B differ"
            fi
            ratio=$(calc "$CU_WALL / $SEED_WALL")
            cu_walls[$batch]+="$CU_WALL "
            cu_ratios[$batch]+="$ratio "
            cu_cpu_a[$batch]+="$CU_CPU_A "
            cu_cpu_b[$batch]+="$CU_CPU_B "
            cu_hwm_a[$batch]+="$CU_HWM_A "
            cu_hwm_b[$batch]+="$CU_HWM_B "
            cu_anon_a[$batch]+="$CU_ANON_A "
            cu_anon_b[$batch]+="$CU_ANON_B "
            cu_bytes[$batch]+="$CU_BYTES "
            cu_msgs[$batch]+="$CU_MSGS "
            cu_echo[$batch]+="$CU_ECHO "
            printf '  round %d  catch-up  %8.2f s %10.0f rec/s  ratio %.2fx' \
                "$round" "$CU_WALL" "$(calc "$rows / $CU_WALL")" "$ratio"
            printf '  batch %s\n' "$batch"
            printf '%21s CPU A %.1f s, B %.1f s; peak RSS A %.0f MB, B %.0f MB' \
                "" "$CU_CPU_A" "$CU_CPU_B" "$(calc "$CU_HWM_A / 1024")" \
                "$(calc "$CU_HWM_B / 1024")"
            printf ' (heap A %.0f, B %.0f)\n' "$(calc "$CU_ANON_A / 1024")" \
                "$(calc "$CU_ANON_B / 1024")"
            printf '%21s %d messages, %.1f MB A to B (%.0f B/record);' "" \
                "$CU_MSGS" "$(calc "$CU_BYTES / 1e6")" \
                "$(calc "$CU_BYTES / $rows")"
            printf ' echo: %d deltas B to A by then\n' "$CU_ECHO"
            pair_ready=1
        done
    done

    if ((${#seed_walls[@]} > 0)); then
        seed_wall=$(median "${seed_walls[@]}")
        echo
        echo "== catch-up medians over ${#seed_walls[@]} rounds ($rows rows)"
        printf '  seed (baseline)   %8.2f s %10.0f rec/s  peak RSS %.0f MB\n' \
            "$seed_wall" "$(calc "$rows / $seed_wall")" \
            "$(calc "$(median "${seed_rsss[@]}") / 1024")"
        for batch in "${batch_list[@]}"; do
            [[ -n ${cu_walls[$batch]:-} ]] || continue
            # shellcheck disable=SC2086 # the lists are space-separated
            {
                wall=$(median ${cu_walls[$batch]})
                ratio=$(median ${cu_ratios[$batch]})
                printf '  catch-up %-8s %8.2f s %10.0f rec/s  ratio %.2fx' \
                    "$batch" "$wall" "$(calc "$rows / $wall")" "$ratio"
                printf ' (of medians %.2fx)\n' "$(calc "$wall / $seed_wall")"
                printf '%20s CPU A %.1f s, B %.1f s;' "" \
                    "$(median ${cu_cpu_a[$batch]})" \
                    "$(median ${cu_cpu_b[$batch]})"
                printf ' peak RSS A %.0f MB, B %.0f MB (max %.0f, %.0f);' \
                    "$(calc "$(median ${cu_hwm_a[$batch]}) / 1024")" \
                    "$(calc "$(median ${cu_hwm_b[$batch]}) / 1024")" \
                    "$(calc "$(maximum ${cu_hwm_a[$batch]}) / 1024")" \
                    "$(calc "$(maximum ${cu_hwm_b[$batch]}) / 1024")"
                printf ' heap A %.0f MB, B %.0f MB\n' \
                    "$(calc "$(median ${cu_anon_a[$batch]}) / 1024")" \
                    "$(calc "$(median ${cu_anon_b[$batch]}) / 1024")"
                printf '%20s %.0f messages A to B, %.0f B/record;' "" \
                    "$(median ${cu_msgs[$batch]})" \
                    "$(calc "$(median ${cu_bytes[$batch]}) / $rows")"
                printf ' echo B to A by then: %.0f deltas\n' \
                    "$(median ${cu_echo[$batch]})"
            }
            verdict=MISS
            if awk "BEGIN { exit !($ratio <= $TARGET_RATIO) }"; then
                verdict=PASS
            fi
            printf '%s catch-up (batch %s): %.2fx the seed time' "$verdict" \
                "$batch" "$ratio"
            printf ' (target <= %sx)\n' "$TARGET_RATIO"
        done
        echo "  (peak RSS is VmHWM: it counts the pages of the memory-mapped" \
            "store the node touched; heap is the largest sampled RssAnon)"
    fi
fi

# ---------------- perf ----------------

if [[ -n $perf_dir ]] && ((want_catchup)); then
    echo
    echo "== perf: one more catch-up under perf record -g (not in the figures)"
    if seed_a; then
        pair_config "${batch_list[0]}"
        site_init b
        pair_config "${batch_list[0]}"
        node_start a
        node_wait a || error "node a did not start"
        perf record -q -g -o "$perf_dir/perf.a.data" -p "${NODE_PID[a]}" \
            2>"$perf_dir/perf.a.err" &
        helpers+=($!)
        perf_a=$!
        node_start b
        perf record -q -g -o "$perf_dir/perf.b.data" -p "${NODE_PID[b]}" \
            2>"$perf_dir/perf.b.err" &
        helpers+=($!)
        perf_b=$!
        t0=$(now)
        wait_cursor b a "$A_EPOCH" "$A_HEAD" "$timeout" ||
            error "B did not catch up under perf"
        printf '  catch-up under perf: %.2f s\n' "$(calc "$(now) - $t0")"
        kill -INT "$perf_a" "$perf_b" 2>/dev/null || true
        wait "$perf_a" "$perf_b" 2>/dev/null || true
        helpers=()
        stop_all
        for site in a b; do
            perf report -i "$perf_dir/perf.$site.data" --stdio --no-children \
                --percent-limit 1.5 -g none 2>/dev/null |
                grep -v '^#' | grep -v '^$' >"$perf_dir/top.$site.txt" || true
            echo "  node $site, self time (top 12; $perf_dir/top.$site.txt):"
            head -n 12 "$perf_dir/top.$site.txt" | sed 's/^/    /'
        done
        pair_ready=1
    fi
fi

# ---------------- wire bytes per changed field ----------------

if ((want_wire)); then
    echo
    echo "== wire: change the ${FIELD_BYTES}-byte Email of $fields records at A"
    if ((!pair_ready)); then
        # A and B in sync without a timed round
        if seed_a && catch_up "${batch_list[0]}"; then
            pair_ready=1
        fi
        stop_all
    fi
    if ((pair_ready)); then
        pair_config default
        node_start a
        node_start b
        if ! node_wait a || ! node_wait b; then
            error "the nodes did not start"
        fi
        wait_cursor b a "$A_EPOCH" "$A_HEAD" 60 || error "A and B not in sync"
        # (Id, Email) of the first F contacts of the CSV (the same rows as
        # JSON Lines), a new address of exactly FIELD_BYTES bytes each
        {
            echo "Id,Email"
            "$gen" --rows "$fields" --seed "$seed" --format jsonl |
                jq -r .Id | awk '{ printf "%s,w%06d@bench.example.org.uk\n", $1, NR }'
        } >"$tmp/email.csv"
        changed=$(($(wc -l <"$tmp/email.csv") - 1))
        json=$(status a) || true
        before_bytes=$(json_num "$json" bytes_out b)
        before_msgs=$(json_num "$json" msgs_out b)
        before_in=$(json_num "$json" bytes_in b)
        t0=$(now)
        if ! "$crmsync" seed --data "$tmp/a" --collection contacts \
            --id-column Id --progress never "$tmp/email.csv" >"$tmp/email.out" 2>&1; then
            error "seed of the new Emails failed: $(tail -n 2 "$tmp/email.out")"
        fi
        json=$(status a) || true
        head=$(json_num "$json" feed_head)
        if wait_cursor b a "$A_EPOCH" "$head" 600; then
            wall=$(calc "$(now) - $t0")
            json=$(status a) || true
            out=$(($(json_num "$json" bytes_out b) - before_bytes))
            msgs=$(($(json_num "$json" msgs_out b) - before_msgs))
            in=$(($(json_num "$json" bytes_in b) - before_in))
            per=$(calc "$out / $changed")
            printf '  %d fields changed (feed head %d -> %d), at B in %.2f s\n' \
                "$changed" "$A_HEAD" "$head" "$wall"
            printf '  A sent B %d bytes in %d messages (and got %d bytes)\n' \
                "$out" "$msgs" "$in"
            printf '  %.1f bytes sent per changed field of %d bytes:' "$per" \
                "$FIELD_BYTES"
            printf ' %.2fx the field'"'"'s size\n' "$(calc "$per / $FIELD_BYTES")"
            printf '  (payload of the frames; CURVE adds about 33 bytes a'
            printf ' message, TCP/IP more)\n'
            bf=$("$crmsync" get --data "$tmp/b" contacts \
                "$(sed -n 2p "$tmp/email.csv" | cut -d, -f1)" 2>/dev/null |
                jq -r .Email) || bf=
            [[ $bf == "$(sed -n 2p "$tmp/email.csv" | cut -d, -f2)" ]] ||
                error "B does not hold the new Email of the first record"
        else
            error "B did not apply the changed fields within 600 s"
        fi
        stop_all
    fi
fi

# ---------------- latency ----------------

if ((want_latency)); then
    echo
    echo "== latency: three sites in a full mesh, $writes writes at" \
        "$rate/s spread over them"
    PORT=()
    for site in x y z; do
        site_init "$site" || error "init $site failed"
    done
    site_config x listen default y z
    site_config y listen default x+ z
    site_config z dialout default x+ y+
    for site in x y z; do
        node_start "$site"
    done
    for site in x y z; do
        node_wait "$site" || error "node $site did not start"
    done
    # let the three connect and greet
    for site in x y z; do
        for _ in $(seq 1 100); do
            json=$(status "$site") || true
            [[ $json != *'"connected":false'* ]] && break
            sleep 0.1
        done
    done
    if "$latency" --writes "$writes" --rate "$rate" "$tmp/x" "$tmp/y" \
        "$tmp/z" >"$tmp/latency.out" 2>"$tmp/latency.err"; then
        sed 's/^/  /' "$tmp/latency.out"
        p99=$(awk '$1 == "pair" { print $5 }' "$tmp/latency.out")
        verdict=MISS
        if awk "BEGIN { exit !($p99 < $TARGET_P99_MS) }"; then
            verdict=PASS
        fi
        printf '%s latency: p99 %s ms write-to-visible at a peer' "$verdict" \
            "$p99"
        printf ' (target < %s ms)\n' "$TARGET_P99_MS"
        total=0
        for site in x y z; do
            json=$(status "$site") || true
            for peer in x y z; do
                [[ $peer == "$site" ]] && continue
                total=$((total + $(json_num "$json" bytes_out "$peer")))
            done
        done
        printf '  all sites sent %d bytes: %.0f per write (to 2 peers each)\n' \
            "$total" "$(calc "$total / $writes")"
    else
        error "bench_latency failed: $(tail -n 5 "$tmp/latency.err")"
    fi
    stop_all
fi

echo
if ((errors > 0)); then
    echo "RESULT: ERROR ($errors problems above)"
    exit 1
fi
echo "RESULT: DONE (see PASS/MISS lines)"
