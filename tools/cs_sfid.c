/*  cs_sfid - Salesforce record ids, 15 and 18 characters.
 *  SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <string.h>

#include "tools/cs_sfid.h"

static const char s_suffix_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

static bool
s_is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

void
cs_sfid_suffix(const char *id15, char suffix[3])
{
    assert(id15);
    for (size_t chunk = 0; chunk < 3; chunk++) {
        unsigned bits = 0;
        for (size_t j = 0; j < 5; j++) {
            char c = id15[chunk * 5 + j];
            if (c >= 'A' && c <= 'Z') {
                bits |= 1u << j;
            }
        }
        suffix[chunk] = s_suffix_chars[bits];
    }
}

bool
cs_sfid_is_shaped(const char *s, size_t len)
{
    if (len != CS_SFID_SHORT && len != CS_SFID_LONG) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!s_is_alnum(s[i])) {
            return false;
        }
    }
    return true;
}

int
cs_sfid_normalize(const char *s, size_t len, char out[CS_SFID_LONG + 1])
{
    assert(s || len == 0);
    assert(out);
    if (!cs_sfid_is_shaped(s, len)) {
        return CS_EINVAL;
    }
    char suffix[3];
    cs_sfid_suffix(s, suffix);
    if (len == CS_SFID_LONG && memcmp(s + CS_SFID_SHORT, suffix, 3) != 0) {
        return CS_EPROTO;
    }
    memcpy(out, s, CS_SFID_SHORT);
    memcpy(out + CS_SFID_SHORT, suffix, 3);
    out[CS_SFID_LONG] = '\0';
    return CS_OK;
}
