#!/usr/bin/env bash
# test_cli_basics.sh - crmsync CLI: help, usage errors, init, put/get/del,
# value syntax and limits.
# Usage: test_cli_basics.sh CRMSYNC_BINARY SOURCE_DIR
# SPDX-License-Identifier: MIT

. "$(dirname "$0")/cli_lib.sh" "$@"

# ---------------- help and version ----------------

version=$(sed -n 's/^project(crmsync VERSION \([0-9.]*\).*/\1/p' \
    "$SRC/CMakeLists.txt")
run --version
check_rc "--version exits 0" 0
check_out "--version prints 'crmsync $version'" "crmsync $version"$'\n'

run --help
check_rc "--help exits 0" 0
check_grep "--help lists the export command" '^  export ' "$OUT"
check_empty "--help writes nothing to stderr" "$ERR"
check_run "help exits 0" 0 help
check_grep "help prints the usage" '^Usage: crmsync COMMAND' "$OUT"
check_run "help help exits 0" 0 help help
check_run "help put exits 0" 0 help put
check_grep "help put prints put's usage" '^Usage: crmsync put ' "$OUT"

for cmd in init put get del scan export digest; do
    run "$cmd" --help
    check_rc "$cmd --help exits 0" 0
    check_grep "$cmd --help prints its usage on stdout" \
        "^Usage: crmsync $cmd( |\$)" "$OUT"
    check_empty "$cmd --help writes nothing to stderr" "$ERR"
    run "$cmd" -h
    check_rc "$cmd -h exits 0" 0
done

# ---------------- usage errors (exit 64) ----------------

D=$(new_node node) || exit 1
usage_error "no arguments" 
check_grep "no arguments prints the usage" '^Usage: crmsync' "$ERR"
usage_error "unknown command" frobnicate
check_grep "unknown command is named" "unknown command 'frobnicate'" "$ERR"
usage_error "option before the command" --data "$D" get c i
usage_error "help of an unknown command" help frobnicate
usage_error "put without fields" put --data "$D" contacts 003
usage_error "put with an unknown option" put --data "$D" --bogus c i a=1
check_grep "unknown long option is named" "unknown option '--bogus'" "$ERR"
check_grep "usage errors hint at --help" "Try 'crmsync put --help'" "$ERR"
usage_error "put with an unknown short option" put -x --data "$D" c i a=1
usage_error "get with one argument" get --data "$D" contacts
usage_error "get with three arguments" get --data "$D" contacts a b
usage_error "--data without a value" get contacts a --data
check_grep "missing option value is named" "option '--data' needs a value" \
    "$ERR"
usage_error "--data with an empty value" get --data "" contacts a
usage_error "del with one argument" del --data "$D" contacts
usage_error "scan without a collection" scan --data "$D"
usage_error "scan --limit abc" scan --data "$D" --limit abc contacts
usage_error "scan --limit -1" scan --data "$D" --limit -1 contacts
usage_error "export --format xml" export --data "$D" --format xml
usage_error "export --format csv without --collection" \
    export --data "$D" --format csv
usage_error "export --id-header with jsonl" export --data "$D" --id-header X
usage_error "export with a positional argument" export --data "$D" contacts
usage_error "init with a positional argument" init --data "$TMP/x" extra
usage_error "digest with a positional argument" digest --data "$D" extra
usage_error "no --data and no CRMSYNC_DATA" get contacts a
check_grep "missing data dir names CRMSYNC_DATA" "CRMSYNC_DATA" "$ERR"

# ---------------- init and opening ----------------

run init --data "$TMP/fresh"
check_rc "init exits 0" 0
check_grep "init prints the node id" \
    "^initialised .*/fresh \(node id [0-9a-f]{16}\)\$" "$OUT"
check "init makes node.cert" test -f "$TMP/fresh/node.cert"
check "init makes node.cert_secret" test -f "$TMP/fresh/node.cert_secret"
check "init makes data.mdb" test -f "$TMP/fresh/data.mdb"
check_eq "node.cert_secret has mode 600" 600 \
    "$(stat -c %a "$TMP/fresh/node.cert_secret")"
check_eq "the data directory has mode 700" 700 "$(stat -c %a "$TMP/fresh")"
run init --data "$TMP/fresh"
check_rc "init twice fails with 1" 1
check_grep "init twice says the node exists" "already" "$ERR"

run get --data "$TMP/nowhere" contacts a
check_rc "get on a missing data dir exits 1" 1
check_grep "missing data dir: tells to run crmsync init" \
    "crmsync init --data .*nowhere" "$ERR"
run put --data "$TMP/nowhere" contacts a x=1
check_rc "put on a missing data dir exits 1" 1
check "put on a missing data dir does not create it" test ! -e "$TMP/nowhere"
mkdir "$TMP/empty"
run scan --data "$TMP/empty" contacts
check_rc "scan on an empty directory exits 1" 1
check_grep "empty dir: tells to run crmsync init" "crmsync init" "$ERR"

cp -r "$TMP/fresh" "$TMP/keysonly"
rm -f "$TMP/keysonly/data.mdb" "$TMP/keysonly/lock.mdb"
run get --data "$TMP/keysonly" contacts a
check_rc "keys without a store: get exits 1" 1
check_grep "keys without a store: says the store is missing" "no store" "$ERR"

CRMSYNC_DATA=$D run put contacts env1 Via=env
check_rc "CRMSYNC_DATA is used without --data" 0
run get --data "$D" contacts env1
check_out "the record put via CRMSYNC_DATA is there" '{"Via":"env"}'$'\n'
CRMSYNC_DATA=$TMP/nowhere run get --data "$D" contacts env1
check_rc "--data wins over CRMSYNC_DATA" 0

# ---------------- put and get ----------------

run put --data "$D" contacts 0035g00000ABCDEFAA 'FirstName=Zoë' \
    'LastName=Müller' 'Title=VP, Sales' 'Amount:=1200' 'Score:=98.5' \
    'Ratio:=1e3' 'Tiny:=0.1' 'Neg:=-42' 'Min:=-9223372036854775808' \
    'Max:=9223372036854775807' 'Active:=true' 'Churned:=false' \
    'Fax:=null' 'Empty=' 'Nick:="Zo\u00eb \ud83d\ude00"' 'Ex:=1.5E+300' \
    'Third:=0.3333333333333333' 'Spaced:= 7 ' 'Eq=a=b' 'Colon:x=1'
check_rc "put with typed values exits 0" 0
check_empty "put prints nothing" "$OUT"
run get --data "$D" contacts 0035g00000ABCDEFAA
check_rc "get exits 0" 0
check_out "get prints the fields in name order, typed" \
'{"Active":true,"Amount":1200,"Churned":false,"Colon:x":"1","Empty":"","Eq":"a=b","Ex":1.5e+300,"Fax":null,"FirstName":"Zoë","LastName":"Müller","Max":9223372036854775807,"Min":-9223372036854775808,"Neg":-42,"Nick":"Zoë 😀","Ratio":1000.0,"Score":98.5,"Spaced":7,"Third":0.3333333333333333,"Tiny":0.1,"Title":"VP, Sales"}'$'\n'
check_jq "get output is JSON with number, bool, null types" \
    '(.Amount|type)=="number" and .Active==true and .Churned==false
     and .Fax==null and (.Fax|type)=="null" and .Empty==""'
check_jq "unicode survives (Zoë, Müller, emoji from surrogates)" \
    '.FirstName=="Zoë" and .LastName=="Müller" and .Nick=="Zoë 😀"'
check_jq "float 0.1 and 1/3 read back exactly" \
    '.Tiny==0.1 and .Third==0.3333333333333333'

run get contacts 0035g00000ABCDEFAA --data "$D"
check_rc "options may follow the positionals" 0

value=$'say "hi"\nnext\\line\ttab\x01\x1f\x7f\r\b\f/ é'
run put --data "$D" esc r1 "Q=$value" 'N:="a\u0000b"' \
    'T:="l1\nl2\t\"q\" \\ \/ \b\f\r"' 'K:={"$binary":"AAEC/w=="}'
check_rc "put with control characters exits 0" 0
run get --data "$D" esc r1
check_out "JSON escapes quotes, backslash, control characters" \
'{"K":{"$binary":"AAEC/w=="},"N":"a\u0000b","Q":"say \"hi\"\nnext\\line\ttab\u0001\u001f'$'\x7f''\r\b\f/ é","T":"l1\nl2\t\"q\" \\ / \b\f\r"}'$'\n'
jq -j .Q "$OUT" >"$TMP/q.actual"
printf '%s' "$value" >"$TMP/q.expected"
check_files "the escaped string decodes to the original bytes" \
    "$TMP/q.expected" "$TMP/q.actual"
check_jq "NUL inside a string survives" '.N=="a\u0000b"'

run put --data "$D" contacts 李娜 '姓=李' '名=娜' 'Città=Zürich'
check_rc "put with a non-ASCII id and field names" 0
run get --data "$D" contacts 李娜
check_out "non-ASCII field names sort bytewise" \
    '{"Città":"Zürich","名":"娜","姓":"李"}'$'\n'

run put --data "$D" -- contacts -dash x=1
check_rc "-- ends the options (id starting with '-')" 0
run get --data "$D" -- contacts -dash
check_out "get of the id starting with '-'" '{"x":"1"}'$'\n'

run put --data "$D" -v contacts stamped a=1
check_rc "put -v exits 0" 0
stamp_re='^[0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
stamp_re+='\.[0-9]{3}Z [0-9]+$'
check_grep "put -v prints the stamp" "$stamp_re" "$OUT"

run get --data "$D" contacts absent
check_rc "get of an absent record exits 1" 1
check_grep "get of an absent record says not found" "not found" "$ERR"
check_empty "get of an absent record prints nothing" "$OUT"

# ---------------- rejected arguments (64, nothing written) ----------------

bad_json=('A:=tru' 'A:=01' 'A:=[1]' 'A:={"a":1}' 'A:="open' 'A:=1 2'
    'A:="\ud800"' 'A:="\udc00x"' 'A:=99999999999999999999' 'A:=' 'A:=1e999'
    'A:=.5' 'A:=+1' "A:='x'" 'A:="a\qb"' 'A:=NaN' $'A:="tab\there"' 'A:=1.'
    'A:={"$binary":"!!"}' 'A:=-')
for arg in "${bad_json[@]}"; do
    run put --data "$D" bad r1 "$arg"
    if [ "$RC" -eq 64 ] && grep -q "field 'A'" "$ERR"; then
        pass "FIELD:=JSON rejected with exit 64: $(printf '%s' "$arg" | cat -v)"
    else
        fail "FIELD:=JSON rejected with exit 64: $(printf '%s' "$arg" | cat -v)"
    fi
done
usage_error "argument without '='" put --data "$D" bad r1 Email
check_grep "missing '=' names the argument" "argument 'Email'" "$ERR"
usage_error "empty field name (=x)" put --data "$D" bad r1 '=x'
check_grep "empty field name is reported" "empty field name" "$ERR"
usage_error "empty field name (:=1)" put --data "$D" bad r1 ':=1'
usage_error "field given twice" put --data "$D" bad r1 'a=1' 'b=2' 'a:=2'
check_grep "field given twice is called ambiguous" "ambiguous" "$ERR"
usage_error "invalid UTF-8 value" put --data "$D" bad r1 $'A=\xff'
check_grep "invalid UTF-8 value names the field" "field 'A'.*UTF-8" "$ERR"
usage_error "invalid UTF-8 field name" put --data "$D" bad r1 $'\xc3A=1'
usage_error "invalid UTF-8 id" put --data "$D" bad $'r\xed\xa0\x80' 'A=1'
usage_error "invalid UTF-8 collection" put --data "$D" $'b\xc0\xafd' r1 'A=1'
usage_error "empty collection" put --data "$D" '' r1 'A=1'
usage_error "empty id" put --data "$D" bad '' 'A=1'
usage_error "missing value file" put --data "$D" bad r1 "A@=$TMP/no-such"
run get --data "$D" bad r1
check_rc "rejected puts wrote nothing" 1

# ---------------- limits ----------------

id256=$(repeat i 256)
id257=$(repeat i 257)
check_run "id of 256 bytes accepted" 0 put --data "$D" lim "$id256" a=1
check_run "id of 256 bytes readable" 0 get --data "$D" lim "$id256"
usage_error "id of 257 bytes rejected" put --data "$D" lim "$id257" a=1
check_grep "the id limit is named" "257 bytes, the limit is 256" "$ERR"
usage_error "get with an id of 257 bytes rejected" get --data "$D" lim "$id257"
check_run "collection of 64 bytes accepted" 0 \
    put --data "$D" "$(repeat c 64)" r1 a=1
usage_error "collection of 65 bytes rejected" \
    put --data "$D" "$(repeat c 65)" r1 a=1
check_run "multibyte id of 256 bytes accepted" 0 \
    put --data "$D" lim "$(repeat i 254)é" a=1
check_run "field name of 128 bytes accepted" 0 \
    put --data "$D" lim r1 "$(repeat f 128)=x"
usage_error "field name of 129 bytes rejected" \
    put --data "$D" lim r1 "$(repeat f 129)=x"
check_grep "the field name limit is named" "129 bytes, the limit is 128" "$ERR"
usage_error "typed field name of 129 bytes rejected" \
    put --data "$D" lim r1 "$(repeat f 129):=1"

repeat v 1048576 >"$TMP/mib"
repeat v 1048577 >"$TMP/mib1"
check_run "value of 1 MiB (FIELD@=FILE) accepted" 0 \
    put --data "$D" lim big "V@=$TMP/mib"
run get --data "$D" lim big
check_jq "value of 1 MiB reads back whole" '.V | length == 1048576'
usage_error "value of 1 MiB + 1 rejected" put --data "$D" lim big1 \
    "V@=$TMP/mib1"
check_grep "value limit names the field" "field 'V'.*1048576" "$ERR"
run get --data "$D" lim big1
check_rc "the rejected 1 MiB + 1 value wrote nothing" 1
run_stdin "$TMP/mib" put --data "$D" lim stdin 'V@=-'
check_rc "FIELD@=- reads standard input" 0
check_run "value of 100 KiB in an argument accepted" 0 \
    put --data "$D" lim arg "V=$(repeat w 102400)"

# the record's byte budget: names + string values <= 4 MiB in all
check_run "three 1 MiB values in one record accepted" 0 put --data "$D" lim \
    budget "A@=$TMP/mib" "B@=$TMP/mib" "C@=$TMP/mib"
run put --data "$D" lim budget "D@=$TMP/mib"
check_rc "a fourth 1 MiB value passes the 4 MiB record budget: exit 1" 1
check_grep "the budget is reported as a limit" "limit" "$ERR"
run get --data "$D" lim budget
check_jq "the record over budget kept its three values, no fourth" \
    'keys == ["A","B","C"] and (.A | length == 1048576)'

fields=()
for i in $(seq 1 1024); do fields+=("f$i=$i"); done
check_run "1024 fields in one put accepted" 0 put --data "$D" lim wide \
    "${fields[@]}"
run get --data "$D" lim wide
check_jq "1024 fields read back" 'length == 1024 and .f1024 == "1024"'
run put --data "$D" lim wide extra=1
check_rc "a 1025th field in the record fails with 1" 1
check_grep "the record limit is reported" "limit" "$ERR"
usage_error "1025 fields in one put rejected" put --data "$D" lim wider \
    "${fields[@]}" f1025=x

# ---------------- del ----------------

check_run "put before del" 0 put --data "$D" contacts d1 a=1 b:=2
run del --data "$D" contacts d1
check_rc "del exits 0" 0
check_empty "del prints nothing" "$OUT"
run get --data "$D" contacts d1
check_rc "get after del exits 1" 1
check_grep "get after del says deleted" "deleted" "$ERR"
run del --data "$D" contacts d1
check_rc "del of a deleted record exits 1" 1
check_grep "del of a deleted record says not found" "not found" "$ERR"
run del --data "$D" contacts never
check_rc "del of an absent record exits 1" 1
check_run "put revives a deleted record" 0 put --data "$D" contacts d1 c:=3
run get --data "$D" contacts d1
check_out "the revived record has only the new field" '{"c":3}'$'\n'
run del --data "$D" -v contacts d1
check_grep "del -v prints the stamp" "$stamp_re" "$OUT"

# ---------------- output errors ----------------

"$CRMSYNC" get --data "$D" contacts stamped >/dev/full 2>"$ERR"
RC=$?
check_rc "get to a full device exits 1" 1
check_grep "a write error is reported" "write error" "$ERR"

cli_finish
