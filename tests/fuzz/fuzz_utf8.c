/*  fuzz_utf8 - untrusted bytes through cs_utf8_is_valid, the check every
 *  value of a seed passes.
 *  SPDX-License-Identifier: MIT
 *
 *  The verdict must be the Unicode table's (tests/utf8_table.h), for the
 *  input as it is and behind 64 to 104 bytes of ASCII, so that short
 *  inputs also reach the block check (64 bytes or more) at every
 *  alignment, and a cut at any length gives the table's verdict for that
 *  prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_value.h"
#include "tests/utf8_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_PAD_MAX   40u
#define S_INPUT_MAX 4096u

static void
s_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char buf[S_PAD_MAX + 64 + S_INPUT_MAX];
    if (size > S_INPUT_MAX) {
        return 0;
    }
    bool want = utf8_table_valid(data, size);
    s_check(cs_utf8_is_valid((const char *) data, size) == want);
    size_t pad = size > 0 ? data[0] % (S_PAD_MAX + 1) : 0;
    memset(buf, 'p', pad + 64);
    memcpy(buf + pad + 64, data, size);
    s_check(cs_utf8_is_valid((const char *) buf, pad + 64 + size) == want);
    size_t cut = size > 1 ? data[1] % size : 0;
    s_check(cs_utf8_is_valid((const char *) buf, pad + 64 + cut) ==
            utf8_table_valid(data, cut));
    return 0;
}
