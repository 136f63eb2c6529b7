#!/usr/bin/env bash
# test_cli_pubkey.sh - crmsync pubkey: the node's public key (and node id)
# for the peers' config files, and a refusal when the secret key is bad.
# Usage: test_cli_pubkey.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/cli_lib.sh" "$@"

# cert_key FILE NAME: the quoted value of NAME (public-key, secret-key).
cert_key() {
    sed -n "s/^ *$2 = \"\\(.*\\)\"\$/\\1/p" "$1"
}

# ---------------- help and usage ----------------

run pubkey --help
check_rc "pubkey --help exits 0" 0
check_grep "pubkey --help prints its usage" '^Usage: crmsync pubkey ' "$OUT"
check_empty "pubkey --help writes nothing to stderr" "$ERR"
run help pubkey
check_rc "help pubkey exits 0" 0
run --help
check_grep "crmsync --help lists pubkey" '^  pubkey ' "$OUT"

D=$(new_node node) || exit 1
usage_error "pubkey with an unknown option" pubkey --data "$D" --bogus
check_grep "the unknown option is named" "unknown option '--bogus'" "$ERR"
usage_error "pubkey with an unknown short option" pubkey -x --data "$D"
usage_error "pubkey with an argument" pubkey --data "$D" extra
usage_error "pubkey --data without a value" pubkey --data
usage_error "pubkey without a data directory" pubkey
check_grep "missing data dir names CRMSYNC_DATA" "CRMSYNC_DATA" "$ERR"

# ---------------- the key ----------------

public=$(cert_key "$D/node.cert" public-key)
check_eq "node.cert holds a 40-character key" 40 "${#public}"
run pubkey --data "$D"
check_rc "pubkey exits 0" 0
check_out "pubkey prints the key of node.cert, one line" "$public"$'\n'
check_empty "pubkey writes nothing to stderr" "$ERR"
check_grep "the key is 40 Z85 characters" \
    '^[]0-9a-zA-Z.:+=^!/*?&<>()[{}@%$#-]{40}$' "$OUT"

CRMSYNC_DATA=$D run pubkey
check_rc "pubkey takes the directory from CRMSYNC_DATA" 0
check_out "... and prints the same key" "$public"$'\n'

# the node id, as init printed it
"$CRMSYNC" init --data "$TMP/other" >"$TMP/init.out" 2>&1 || exit 1
id=$(sed -n 's/.*(node id \([0-9a-f]*\))$/\1/p' "$TMP/init.out")
check_eq "init printed a 16-digit node id" 16 "${#id}"
run pubkey --data "$TMP/other" --node-id
check_rc "pubkey --node-id exits 0" 0
check_out "pubkey --node-id prints init's node id" "$id"$'\n'
run pubkey -n --data "$TMP/other"
check_out "pubkey -n is --node-id" "$id"$'\n'
other=$(cert_key "$TMP/other/node.cert" public-key)
check "two nodes have different keys" test "$other" != "$public"

# ---------------- a bad secret key is refused ----------------

# secret NAME SECRET_KEY: a copy of $D whose secret file has SECRET_KEY
# (empty: no secret file at all); prints the copy's path.
secret() {
    local copy=$TMP/$1
    cp -a "$D" "$copy"
    if [ -z "$2" ]; then
        rm "$copy/node.cert_secret"
    else
        sed -i "s/^\\( *secret-key = \"\\).*\"\$/\\1$2\"/" \
            "$copy/node.cert_secret"
    fi
    printf '%s' "$copy"
}

# refused NAME DIR: pubkey on DIR exits 1, prints no key, says why.
refused() {
    run pubkey --data "$2"
    check_rc "$1: exit 1" 1
    check_empty "$1: no key on stdout" "$OUT"
    check_grep "$1: the message names the secret key" \
        "crmsync: pubkey: .*secret key is missing, zero or does not match" \
        "$ERR"
}

refused "no secret file" "$(secret nosecret '')"
check_grep "no secret file: the file is named" "node.cert_secret" "$ERR"

zero=0000000000000000000000000000000000000000
Z=$(secret zero "$zero")
check_eq "the zero copy holds the zero key" "$zero" \
    "$(cert_key "$Z/node.cert_secret" secret-key)"
refused "all-zero secret key" "$Z"

# another node's secret key: valid, but not this node's
other_secret=$(cert_key "$TMP/other/node.cert_secret" secret-key)
# (escape '&' and '/' for the sed replacement)
escaped=$(printf '%s' "$other_secret" | sed 's/[&/\\]/\\&/g')
refused "another node's secret key" "$(secret mismatch "$escaped")"

run pubkey --data "$TMP/nothing-here"
check_rc "a missing directory: exit 1" 1
check_grep "a missing directory: not a data directory" \
    "not an initialised crmsync data directory" "$ERR"
check_grep "a missing directory: hint at init" \
    "Run 'crmsync init --data .*nothing-here'" "$ERR"
mkdir "$TMP/empty"
run pubkey --data "$TMP/empty"
check_rc "an empty directory: exit 1" 1

cli_finish
