# cli_lib.sh - helpers for the crmsync CLI tests. Source it with the test's
# arguments:  . cli_lib.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT
#
# Every check prints one line, "ok   NAME" or "FAIL NAME" plus details;
# cli_finish prints the summary and returns non-zero if any check failed.

set -u

CRMSYNC=${1:?usage: test_cli_*.sh CRMSYNC_BINARY SOURCE_DIR}
# shellcheck disable=SC2034 # used by the scripts that source this file
SRC=${2:?usage: test_cli_*.sh CRMSYNC_BINARY SOURCE_DIR}
if [ ! -x "$CRMSYNC" ]; then
    echo "not executable: $CRMSYNC" >&2
    exit 2
fi
command -v jq >/dev/null || { echo "jq is required" >&2; exit 2; }

unset CRMSYNC_DATA
export LC_ALL=C.UTF-8
umask 022

TMP=$(mktemp -d "${TMPDIR:-/tmp}/crmsync-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/stdout    # stdout of the last run
ERR=$TMP/stderr    # stderr of the last run
RC=0               # exit status of the last run
PASS=0
FAIL=0

# run ARGS...: run crmsync, capture stdout, stderr and the exit status.
run() {
    "$CRMSYNC" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}

# run_stdin FILE ARGS...: the same with FILE on standard input.
run_stdin() {
    local input=$1
    shift
    "$CRMSYNC" "$@" >"$OUT" 2>"$ERR" <"$input"
    RC=$?
}

pass() {
    PASS=$((PASS + 1))
    printf 'ok   %s\n' "$1"
}

# fail NAME [DETAIL...]: also shows the last run's output, shortened.
fail() {
    FAIL=$((FAIL + 1))
    printf 'FAIL %s\n' "$1"
    shift
    local line
    for line in "$@"; do
        printf '     %s\n' "$line"
    done
    printf '     last exit status: %s\n' "$RC"
    printf '     stdout: %s\n' "$(head -c 400 "$OUT" 2>/dev/null | cat -v)"
    printf '     stderr: %s\n' "$(head -c 400 "$ERR" 2>/dev/null | cat -v)"
}

# check NAME COMMAND...: passes if COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then
        pass "$name"
    else
        fail "$name" "condition failed: $*"
    fi
}

# check_rc NAME EXPECTED: the last run exited with EXPECTED.
check_rc() {
    if [ "$RC" -eq "$2" ]; then
        pass "$1"
    else
        fail "$1" "expected exit status $2"
    fi
}

# check_run NAME EXPECTED ARGS...: run crmsync ARGS, check the status.
check_run() {
    local name=$1 expected=$2
    shift 2
    run "$@"
    check_rc "$name" "$expected"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "expected: $(printf '%s' "$2" | head -c 300 | cat -v)" \
            "actual:   $(printf '%s' "$3" | head -c 300 | cat -v)"
    fi
}

# check_out NAME BYTES: stdout of the last run is exactly BYTES.
check_out() {
    printf '%s' "$2" >"$TMP/expected"
    if cmp -s "$TMP/expected" "$OUT"; then
        pass "$1"
    else
        fail "$1" "expected: $(head -c 300 "$TMP/expected" | cat -v)"
    fi
}

# check_files NAME EXPECTED_FILE ACTUAL_FILE: byte-identical.
check_files() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1" "$2 and $3 differ: $(cmp "$2" "$3" 2>&1)"
    fi
}

# check_grep NAME EXTENDED_REGEX FILE
check_grep() {
    if grep -Eq -- "$2" "$3"; then
        pass "$1"
    else
        fail "$1" "no line of $3 matches: $2"
    fi
}

# check_empty NAME FILE
check_empty() {
    if [ ! -s "$2" ]; then
        pass "$1"
    else
        fail "$1" "$2 is not empty"
    fi
}

# check_jq NAME FILTER [FILE]: jq -e FILTER is true on FILE (default stdout).
check_jq() {
    local file=${3:-$OUT}
    if jq -e "$2" "$file" >/dev/null 2>"$TMP/jq.err"; then
        pass "$1"
    else
        fail "$1" "jq filter false or error: $2" "$(head -c 200 "$TMP/jq.err")"
    fi
}

# usage_error NAME ARGS...: crmsync ARGS must exit 64 with a hint.
usage_error() {
    local name=$1
    shift
    run "$@"
    if [ "$RC" -eq 64 ] && grep -q "crmsync" "$ERR" && [ ! -s "$OUT" ]; then
        pass "$name"
    else
        fail "$name" "expected exit 64, a message on stderr, no stdout"
    fi
}

# new_node NAME: initialise a data directory $TMP/NAME, print its path.
new_node() {
    local dir=$TMP/$1
    "$CRMSYNC" init --data "$dir" >/dev/null 2>"$TMP/init.err" || {
        echo "cannot init $dir: $(cat "$TMP/init.err")" >&2
        return 1
    }
    printf '%s' "$dir"
}

# repeat CHAR COUNT: CHAR repeated COUNT times.
repeat() {
    head -c "$2" /dev/zero | tr '\0' "$1"
}

cli_finish() {
    echo "----"
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
