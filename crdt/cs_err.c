/*  cs_err - error texts.
 *  SPDX-License-Identifier: MIT
 */
#include "crdt/cs_err.h"

const char *
cs_strerror(int code)
{
    switch ((cs_err_t) code) {
    case CS_OK:
        return "success";
    case CS_EINVAL:
        return "invalid argument";
    case CS_ENOENT:
        return "not found";
    case CS_EPROTO:
        return "malformed or oversized data";
    case CS_EAUTH:
        return "authentication failed";
    case CS_EFULL:
        return "store full (map size limit or disk full)";
    case CS_ECORRUPT:
        return "store corrupt or of an unknown schema version";
    case CS_EIO:
        return "I/O error";
    case CS_EAGAIN:
        return "try again later";
    case CS_ECLOSED:
        return "closed or interrupted";
    case CS_EEXIST:
        return "already exists";
    case CS_EDRIFT:
        return "remote clock too far ahead";
    case CS_ELIMIT:
        return "size or count limit exceeded";
    }
    return "unknown error";
}
