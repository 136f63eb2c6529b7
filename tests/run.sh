#!/usr/bin/env bash
# Install what is needed, build, and run the whole test suite through ctest:
# 1. the normal optimised build (RelWithDebInfo, asserts on, -Werror);
# 2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer;
# 3. the fuzz targets built with clang + libFuzzer, each run for
#    CS_FUZZ_SECONDS (default 30; 0 skips this step).
# Build trees go to build/ in the checkout. Exit status: 0 only if all pass.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash deploy/deps.sh --test

# npm packages the CSV reader is compared with (tests/import/): CS_NPM_DIR
# of the builds below points here. Without them those two ctests skip.
echo "== npm: csv-spectrum, papaparse"
# Bounded: a registry that does not answer fails the run instead of hanging.
timeout 600 npm install --no-save --no-audit --no-fund --loglevel=error \
    --fetch-timeout=60000 --fetch-retries=3 \
    --prefix "$top/build/npm" csv-spectrum@2.0.0 papaparse@5 >/dev/null

jobs=$(nproc)
summary=()
passed=0
failed=0

run_suite() { # name build-dir ctest-args...
    local name=$1 dir=$2
    shift 2
    echo "== $name: ctest in $dir"
    local log="$dir/ctest.log" rc=0
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" "$@" 2>&1 |
        tee "$log" || rc=$?
    local line
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -n 1)
    local total fail
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    fail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    if [[ -z "$line" ]]; then
        total=0
        fail=1
        rc=1
    fi
    passed=$((passed + total - fail))
    failed=$((failed + fail))
    summary+=("$name: $((total - fail)) passed, $fail failed")
    return 0
}

echo "== build: release"
bash deploy/build.sh build/release -DBUILD_TESTING=ON
run_suite release build/release

echo "== build: address,undefined sanitizers"
bash deploy/build.sh build/asan -DCMAKE_BUILD_TYPE=Debug \
    -DCS_SANITIZER=address,undefined
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite asan build/asan

if [[ "${CS_FUZZ_SECONDS:-30}" != 0 ]]; then
    echo "== build: libFuzzer targets (clang)"
    CC=clang bash deploy/build.sh build/fuzz -DCMAKE_BUILD_TYPE=Debug \
        -DCS_FUZZ=ON -DCS_FUZZ_SECONDS="${CS_FUZZ_SECONDS:-30}"
    run_suite fuzz build/fuzz -L fuzz
fi

echo
printf '%s\n' "${summary[@]}"
echo "total: $passed passed, $failed failed"
((failed == 0))
