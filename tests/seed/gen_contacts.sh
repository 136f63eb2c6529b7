#!/bin/sh
# gen_contacts.sh ROWS [SEED] - print a Salesforce-like Contact export (CSV,
# UTF-8, CRLF rows, about 250 bytes a row) with ROWS data rows on stdout.
# Ids are valid 18-character Salesforce ids; LastModifiedDate is ISO 8601.
# The same ROWS and SEED always give the same bytes.
# SPDX-License-Identifier: MIT
set -eu
rows=${1:?usage: gen_contacts.sh ROWS [SEED]}
seed=${2:-1}
exec awk -v rows="$rows" -v seed="$seed" '
function sfid(prefix, n,    id, i, digits, chunk, bits, j, c, out) {
    # prefix + 5 chars from the seed + n in base 62 (7 digits): unique
    id = prefix
    for (i = 0; i < 5; i++) {
        id = id substr(alnum, (seed * 17 + i * 29) % 62 + 1, 1)
    }
    digits = ""
    for (i = 0; i < 7; i++) {
        digits = substr(alnum, n % 62 + 1, 1) digits
        n = int(n / 62)
    }
    id = id digits
    out = id
    for (chunk = 0; chunk < 3; chunk++) {
        bits = 0
        for (j = 0; j < 5; j++) {
            c = substr(id, chunk * 5 + j + 1, 1)
            if (c >= "A" && c <= "Z") {
                bits += 2 ^ j
            }
        }
        out = out substr(suffix, bits + 1, 1)
    }
    return out
}
BEGIN {
    alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    suffix = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    split("Anna Bruno Chloe David Emma Felix Greta Hugo Ines Jonas", first, " ")
    split("Meyer Rossi Dubois Novak Smith Garcia Jensen Kowalski Silva Berg", last, " ")
    split("Berlin Lyon Milano Porto Gdansk Aarhus Leeds Graz Brno Ghent", city, " ")
    split("Buyer Manager Director Engineer Analyst", title, " ")
    printf "Id,FirstName,LastName,Email,Phone,AccountId,Title,MailingStreet,MailingCity,Description,LastModifiedDate,IsDeleted\r\n"
    for (r = 1; r <= rows; r++) {
        f = first[(r * 7 + seed) % 10 + 1]
        l = last[(r * 3 + seed) % 10 + 1]
        printf "%s,%s,%s,%s.%s%d@example.com,+49 30 %08d,%s,%s,\"%d Main Street, Suite %d\",%s,\"Contact %d, imported from the legacy CRM; notes: \"\"VIP\"\" level %d\",2024-%02d-%02dT%02d:%02d:%02d.000Z,false\r\n", \
            sfid("003", r), f, l, tolower(f), tolower(l), r, (r * 7919 + seed) % 100000000, \
            sfid("001", r % 5000 + 7), title[r % 5 + 1], r % 999 + 1, r % 50, \
            city[(r + seed) % 10 + 1], r, r % 7, (r % 12) + 1, (r % 28) + 1, \
            r % 24, (r * 7) % 60, (r * 13) % 60
    }
}'
