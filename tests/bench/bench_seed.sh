#!/usr/bin/env bash
# bench_seed.sh - benchmark `crmsync seed` against `sqlite3 .import` on the
# same realistic Contacts CSV, in one run, as a ratio of medians.
# SPDX-License-Identifier: MIT
#
# Usage: tests/bench/bench_seed.sh [--build DIR] [--crmsync PATH]
#                                  [--gen PATH] [--rows N] [--rounds R]
#                                  [--seed S] [--order random|id]
#                                  [--keyed]
#
#   --build DIR     build tree holding tools/crmsync and
#                   tests/bench/gen_contacts (default: build/release of the
#                   source tree)
#   --crmsync PATH  the crmsync binary (overrides --build)
#   --gen PATH      the gen_contacts binary (overrides --build)
#   --rows N        data rows in the CSV (default 1000000, about 250 MB)
#   --rounds R      timed rounds of each tool (default 3, at most 99)
#   --seed S        generator seed (default 1)
#   --order O       row order of the CSV: random (default; the seed sorts
#                   it through a temporary file) or id (exports sorted by
#                   Id: written as read, no sort)
#   --keyed         also time, in each round, sqlite3 .import into a table
#                   keyed by Id (Id TEXT PRIMARY KEY, WITHOUT ROWID: rows
#                   stored in Id order, as the seed stores records) and
#                   print the seed's ratio to that too (information only;
#                   the targets are against the plain .import)
#
# Builds nothing. Generates the CSV once into a temporary directory
# (under $TMPDIR, default /tmp; removed on exit), then in each round times
# `crmsync seed` into a fresh data directory and `sqlite3 .import` into a
# fresh database with /usr/bin/time (wall seconds, peak RSS). Odd rounds
# run the seed first, even rounds sqlite3 first. Prints every round, then
# the medians, the ratio of rows/s and PASS or MISS against the targets:
# seed at least 3x the rows/s of sqlite3 (aim 5x), seed peak RSS under
# 256 MB. A miss is a result, not an error: the exit status is 0 unless a
# tool failed or a sanity check (same digest every round, all rows
# imported) did not hold, then 1; 64 for a bad command line.

set -euo pipefail
export LC_ALL=C

TARGET_RATIO=3
AIM_RATIO=5
TARGET_RSS_MB=256

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build/release
crmsync=
gen=
rows=1000000
rounds=3
seed=1
order=random
keyed=false

usage() {
    awk 'NR > 5 && /^#/ { sub(/^# ?/, ""); print; next } NR > 5 { exit }' "$0"
}

die_usage() {
    echo "bench_seed: $*" >&2
    echo "Try 'bench_seed.sh --help'." >&2
    exit 64
}

while (($# > 0)); do
    case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --crmsync) crmsync=${2:?--crmsync needs a path}; shift 2 ;;
    --gen) gen=${2:?--gen needs a path}; shift 2 ;;
    --rows) rows=${2:?--rows needs a number}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --order) order=${2:?--order needs random or id}; shift 2 ;;
    --keyed) keyed=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown argument '$1'" ;;
    esac
done
if ! [[ $rows =~ ^[0-9]{1,9}$ ]] || ((rows < 1 || rows > 100000000)); then
    die_usage "--rows wants 1 to 100000000, not '$rows'"
fi
if ! [[ $rounds =~ ^[0-9]{1,2}$ ]] || ((rounds < 1)); then
    die_usage "--rounds wants 1 to 99, not '$rounds'"
fi
[[ $seed =~ ^[0-9]{1,19}$ ]] || die_usage "--seed wants a number, not '$seed'"
[[ $order == random || $order == id ]] ||
    die_usage "--order wants random or id, not '$order'"
crmsync=${crmsync:-$build/tools/crmsync}
gen=${gen:-$build/tests/bench/gen_contacts}

fail() {
    echo "bench_seed: $*" >&2
    exit 1
}
[[ -x $crmsync ]] || fail "no crmsync binary at $crmsync (build first:" \
    "bash deploy/build.sh build/release, or pass --crmsync)"
[[ -x $gen ]] || fail "no gen_contacts binary at $gen (pass --gen)"
[[ -x /usr/bin/time ]] || fail "/usr/bin/time is missing:" \
    "bash deploy/deps.sh --test installs it"
command -v sqlite3 >/dev/null || fail "sqlite3 is missing:" \
    "bash deploy/deps.sh --test installs it"
"$crmsync" seed --help >/dev/null 2>&1 ||
    fail "$crmsync has no working 'seed' subcommand"

unset CRMSYNC_DATA
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crmsync-bench.XXXXXX")
running=() # pids of the timed command and its /usr/bin/time, if running
cleanup() {
    if ((${#running[@]} > 0)); then
        kill "${running[@]}" 2>/dev/null || true
        wait 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
csv=$tmp/contacts.csv
errors=0

# timed OUT_PREFIX CMD...: run CMD with its output in OUT_PREFIX.{out,err}
# and "wall_seconds peak_rss_kb" in OUT_PREFIX.time. Meanwhile sample
# CMD's RssAnon and RssFile every 0.2 s: their maxima, in kB, go to
# OUT_PREFIX.rss (0 0 if /proc shows nothing). Peak RSS counts the pages
# of memory-mapped files the command touched (LMDB's data file), which the
# split shows apart from its own heap. Returns CMD's status.
timed() {
    local prefix=$1
    shift
    /usr/bin/time -o "$prefix.time" -f '%e %M' "$@" \
        >"$prefix.out" 2>"$prefix.err" </dev/null &
    local time_pid=$! child='' anon=0 file=0 key value _ tick
    for ((tick = 0; tick < 1000000; tick++)); do
        kill -0 "$time_pid" 2>/dev/null || break
        if [[ -z $child ]]; then
            # (no newline at the end: read fails but sets child)
            read -r child _ 2>/dev/null \
                <"/proc/$time_pid/task/$time_pid/children" || true
            running=("$time_pid" ${child:+"$child"})
        fi
        if [[ -n $child ]]; then
            while read -r key value _; do
                case $key in
                RssAnon:) if ((value > anon)); then anon=$value; fi ;;
                RssFile:) if ((value > file)); then file=$value; fi ;;
                esac
            done 2>/dev/null <"/proc/$child/status" || true
        fi
        sleep 0.2
    done
    echo "$anon $file" >"$prefix.rss"
    local status=0
    wait "$time_pid" || status=$?
    running=()
    return "$status"
}

# show_failure WHAT OUT_PREFIX: report a failed command and its stderr.
show_failure() {
    echo "ERROR: $1 failed; its stderr:"
    tail -n 5 "$2.err" | sed 's/^/    /'
    errors=$((errors + 1))
}

# median NUMBERS...: the median (mean of the middle two for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) { print v[(NR + 1) / 2] }
              else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# calc EXPR: floating-point arithmetic.
calc() {
    awk "BEGIN { printf \"%.6g\", $1 }"
}

# ---------------- environment and input ----------------

echo "== crmsync seed vs sqlite3 .import"
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "host:     $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' \
    /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
    /proc/meminfo) RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "crmsync:  $crmsync ($("$crmsync" --version 2>/dev/null | head -n 1))"
echo "sqlite3:  $(sqlite3 --version | cut -d' ' -f1)"
echo "tmp dir:  $tmp"

timed "$tmp/gen" "$gen" --rows "$rows" --seed "$seed" --order "$order" \
    --output "$csv" ||
    { show_failure "gen_contacts" "$tmp/gen"; exit 1; }
read -r gen_wall gen_rss <"$tmp/gen.time"
bytes=$(stat -c %s "$csv")
printf 'input:    %d rows, %d bytes (%.1f MB, %.0f bytes/row), seed %s, %s order;' \
    "$rows" "$bytes" "$(calc "$bytes / 1e6")" "$(calc "$bytes / $rows")" \
    "$seed" "$order"
printf ' generated in %s s, %.1f MB RSS\n' "$gen_wall" \
    "$(calc "$gen_rss / 1024")"
# Both tools read the file from the page cache: warm it once for both.
cat "$csv" >/dev/null

# ---------------- the rounds ----------------

seed_walls=()
seed_rsss=()
seed_anons=()
seed_files=()
sqlite_walls=()
sqlite_rsss=()
keyed_walls=()
digests=()

# run_seed ROUND: one timed seed into a fresh node; appends the figures.
run_seed() {
    local round=$1 dir=$tmp/node prefix=$tmp/seed.$1
    rm -rf "$dir"
    if ! "$crmsync" init --data "$dir" >"$tmp/init.out" 2>&1; then
        echo "ERROR: crmsync init failed: $(tail -n 1 "$tmp/init.out")"
        errors=$((errors + 1))
        return
    fi
    if ! timed "$prefix" "$crmsync" seed --data "$dir" \
        --collection contacts --id-column Id \
        --timestamp-column LastModifiedDate --progress never "$csv"; then
        show_failure "crmsync seed (round $round)" "$prefix"
        rm -rf "$dir"
        return
    fi
    local wall rss digest store anon file
    read -r wall rss <"$prefix.time"
    read -r anon file <"$prefix.rss"
    wall=$(calc "$wall < 0.01 ? 0.01 : $wall") # %e has 10 ms resolution
    store=$(du -sk "$dir" | cut -f1)
    digest=$("$crmsync" digest --data "$dir" 2>/dev/null) || digest=error
    seed_walls+=("$wall")
    seed_rsss+=("$rss")
    seed_anons+=("$anon")
    seed_files+=("$file")
    digests+=("$digest")
    printf '  round %d  seed    %8.2f s %10.0f rows/s %7.1f MB RSS' \
        "$round" "$wall" "$(calc "$rows / $wall")" "$(calc "$rss / 1024")"
    printf '  store %.0f MB  digest %.16s\n' "$(calc "$store / 1024")" \
        "$digest"
    printf '                   (sampled peaks: heap etc. %.0f MB,' \
        "$(calc "$anon / 1024")"
    printf ' mapped files %.0f MB)\n' "$(calc "$file / 1024")"
    if ((round == 1)); then
        # Not timed: all rows must be in the store, or the speed is moot.
        local stored
        stored=$("$crmsync" scan --data "$dir" contacts | wc -l) ||
            stored=error
        if [[ $stored != "$rows" ]]; then
            echo "ERROR: the store holds $stored records, not $rows"
            errors=$((errors + 1))
        fi
        if [[ -s $prefix.out ]]; then
            echo "  seed's report (round 1):"
            head -n 10 "$prefix.out" | sed 's/^/    /'
        fi
    fi
    rm -rf "$dir"
}

# keyed_schema: CREATE TABLE for --keyed, from the CSV's header line: every
# column TEXT, Id the primary key, rows kept in key order (WITHOUT ROWID).
keyed_schema() {
    local header cols="" name names
    IFS= read -r header <"$csv"
    [[ $header =~ ^[A-Za-z0-9_,]+$ && ,$header, == *,Id,* ]] ||
        fail "--keyed needs a plain header with an Id column: $header"
    IFS=, read -ra names <<<"$header"
    for name in "${names[@]}"; do
        cols+="${cols:+, }\"$name\" TEXT"
        if [[ $name == Id ]]; then
            cols+=" PRIMARY KEY"
        fi
    done
    echo "CREATE TABLE contacts($cols) WITHOUT ROWID;"
}

# run_sqlite ROUND [keyed]: one timed .import into a fresh database, with
# no index, or into the keyed table of keyed_schema.
run_sqlite() {
    local round=$1 kind=${2:-plain} db=$tmp/contacts.db
    local prefix=$tmp/sqlite.$kind.$1 label=sqlite3 import
    rm -f "$db"
    import=".import --csv \"$csv\" contacts"
    if [[ $kind == keyed ]]; then
        label=keyed
        import=".import --csv --skip 1 \"$csv\" contacts"
        sqlite3 "$db" "$schema" || fail "sqlite3 could not create: $schema"
    fi
    if ! timed "$prefix" sqlite3 "$db" -cmd '.mode csv' "$import"; then
        show_failure "sqlite3 .import, $kind (round $round)" "$prefix"
        rm -f "$db"
        return
    fi
    if [[ -s $prefix.err ]]; then
        echo "ERROR: sqlite3 .import complained (round $round, $kind):"
        head -n 5 "$prefix.err" | sed 's/^/    /'
        errors=$((errors + 1))
    fi
    local wall rss count size
    read -r wall rss <"$prefix.time"
    wall=$(calc "$wall < 0.01 ? 0.01 : $wall") # %e has 10 ms resolution
    size=$(stat -c %s "$db")
    count=$(sqlite3 "$db" 'select count(*) from contacts') || count=error
    if [[ $kind == keyed ]]; then
        keyed_walls+=("$wall")
    else
        sqlite_walls+=("$wall")
        sqlite_rsss+=("$rss")
    fi
    printf '  round %d  %-7s %8.2f s %10.0f rows/s %7.1f MB RSS' \
        "$round" "$label" "$wall" "$(calc "$rows / $wall")" \
        "$(calc "$rss / 1024")"
    printf '  db    %.0f MB  rows %s\n' "$(calc "$size / 1048576")" "$count"
    if [[ $count != "$rows" ]]; then
        echo "ERROR: sqlite3 ($kind) holds $count rows, not $rows"
        errors=$((errors + 1))
    fi
    rm -f "$db"
}

# run_sqlites ROUND: the plain import, then the keyed one if asked for.
run_sqlites() {
    run_sqlite "$1"
    if $keyed; then
        run_sqlite "$1" keyed
    fi
}

if $keyed; then
    schema=$(keyed_schema)
fi
echo
echo "== rounds (odd: seed first; even: sqlite3 first)"
for ((round = 1; round <= rounds; round++)); do
    if ((round % 2 == 1)); then
        run_seed "$round"
        run_sqlites "$round"
    else
        run_sqlites "$round"
        run_seed "$round"
    fi
    if ((${#seed_walls[@]} == round && ${#sqlite_walls[@]} == round)); then
        printf '  round %d  ratio   %8.2fx\n' "$round" \
            "$(calc "${sqlite_walls[-1]} / ${seed_walls[-1]}")"
    fi
done

# ---------------- summary ----------------

echo
echo "== medians over $rounds rounds ($rows rows, $bytes bytes)"
if ((${#seed_walls[@]} == 0 || ${#sqlite_walls[@]} == 0)); then
    echo "no complete measurements: nothing to compare"
    echo "RESULT: ERROR"
    exit 1
fi
seed_wall=$(median "${seed_walls[@]}")
sqlite_wall=$(median "${sqlite_walls[@]}")
seed_rss=$(median "${seed_rsss[@]}")
sqlite_rss=$(median "${sqlite_rsss[@]}")
seed_rss_max=$(printf '%s\n' "${seed_rsss[@]}" | sort -g | tail -n 1)
sqlite_rss_max=$(printf '%s\n' "${sqlite_rsss[@]}" | sort -g | tail -n 1)
seed_rps=$(calc "$rows / $seed_wall")
sqlite_rps=$(calc "$rows / $sqlite_wall")
ratio=$(calc "$sqlite_wall / $seed_wall")
printf '  crmsync seed     %8.2f s %10.0f rows/s %7.1f MB/s' "$seed_wall" \
    "$seed_rps" "$(calc "$bytes / 1e6 / $seed_wall")"
printf '  peak RSS %.1f MB (max %.1f)\n' "$(calc "$seed_rss / 1024")" \
    "$(calc "$seed_rss_max / 1024")"
printf '  %-16s of which (sampled) heap etc. %.0f MB,' "" \
    "$(calc "$(median "${seed_anons[@]}") / 1024")"
printf ' mapped store file %.0f MB\n' \
    "$(calc "$(median "${seed_files[@]}") / 1024")"
printf '  sqlite3 .import  %8.2f s %10.0f rows/s %7.1f MB/s' "$sqlite_wall" \
    "$sqlite_rps" "$(calc "$bytes / 1e6 / $sqlite_wall")"
printf '  peak RSS %.1f MB (max %.1f)\n' "$(calc "$sqlite_rss / 1024")" \
    "$(calc "$sqlite_rss_max / 1024")"
printf '  ratio (seed rows/s / sqlite3 rows/s): %.2fx\n' "$ratio"
if ((${#keyed_walls[@]} > 0)); then
    keyed_wall=$(median "${keyed_walls[@]}")
    printf '  sqlite3 keyed    %8.2f s %10.0f rows/s %7.1f MB/s' \
        "$keyed_wall" "$(calc "$rows / $keyed_wall")" \
        "$(calc "$bytes / 1e6 / $keyed_wall")"
    printf '  (Id PRIMARY KEY, WITHOUT ROWID)\n'
    printf '  ratio to the keyed import (information only): %.2fx\n' \
        "$(calc "$keyed_wall / $seed_wall")"
fi

if ((${#digests[@]} > 0)) &&
    [[ $(printf '%s\n' "${digests[@]}" | sort -u | wc -l) == 1 &&
        ${digests[0]} != error ]]; then
    echo "  digest: the same in all ${#digests[@]} seeded stores" \
        "(${digests[0]})"
else
    echo "ERROR: digests differ between rounds: ${digests[*]}"
    errors=$((errors + 1))
fi
echo "  sqlite3 count(*): checked against $rows in every round"

verdict() {
    if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi
}
speed=$(verdict "$ratio >= $TARGET_RATIO")
aim=$(verdict "$ratio >= $AIM_RATIO")
memory=$(verdict "$seed_rss_max < $TARGET_RSS_MB * 1024")
echo
printf '%s speed: %.2fx the rows/s of sqlite3 (target >= %sx; aim %sx: %s)\n' \
    "$speed" "$ratio" "$TARGET_RATIO" "$AIM_RATIO" "$aim"
printf '%s memory: seed peak RSS %.1f MB (target < %s MB)\n' "$memory" \
    "$(calc "$seed_rss_max / 1024")" "$TARGET_RSS_MB"
if ((errors > 0)); then
    echo "RESULT: ERROR ($errors problems above)"
    exit 1
fi
if [[ $speed == PASS && $memory == PASS ]]; then
    echo "RESULT: PASS"
else
    echo "RESULT: MISS"
fi
