#!/usr/bin/env bash
# Differential test: random messy CSV files read by csv_dump (cs_csv) and by
# papaparse must agree value for value (tests/import/csv_fuzz_diff.js).
# Usage: test_csv_papaparse.sh CSV_DUMP NPM_PREFIX
# Environment: CS_TEST_SEED replays a run (its seed is printed);
# CS_CSV_DIFF_FILES sets the number of files (300).
# Exit: 0 pass, 1 fail, 77 skipped (papaparse not installed: tests/run.sh
# installs it with npm install --prefix NPM_PREFIX).
set -euo pipefail
dump=$(realpath "$1")
npm_prefix=$(realpath -m "$2")
papaparse=$npm_prefix/node_modules/papaparse

if ! command -v node >/dev/null; then
    echo "SKIP: node is not installed (deploy/deps.sh --test installs it)"
    exit 77
fi
if [[ ! -f $papaparse/package.json ]]; then
    echo "SKIP: papaparse is not installed in $npm_prefix"
    echo "      (tests/run.sh runs: npm install --no-save --prefix" \
         "$npm_prefix csv-spectrum@2.0.0 papaparse@5)"
    exit 77
fi
echo "papaparse $(node -p 'require(process.argv[1]).version' \
    "$papaparse/package.json")"
exec node "$(dirname "$0")/csv_fuzz_diff.js" "$dump" "$papaparse"
