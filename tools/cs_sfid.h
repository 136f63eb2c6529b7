/*  cs_sfid - Salesforce record ids: the 15-character (case-sensitive) form
 *  and the 18-character (case-insensitive) form.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. The 18-character form appends a 3-character
 *  checksum of the letter case of the first 15: split them into three
 *  chunks of 5; in each chunk bit j (j = 0..4, left to right) is 1 if
 *  character j is 'A'..'Z'; the 5-bit value picks a character of
 *  "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345". Example: 001x0000002xLD0 ->
 *  001x0000002xLD0AAM (Data Loader's own sample data).
 */
#ifndef CS_SFID_H
#define CS_SFID_H

#include <stdbool.h>
#include <stddef.h>

#include "crdt/cs_err.h"

#define CS_SFID_SHORT 15u /* characters of the case-sensitive form */
#define CS_SFID_LONG  18u /* characters of the case-insensitive form */

/** The 3-character case checksum of the 15 characters at @p id15. */
void cs_sfid_suffix(const char *id15, char suffix[3]);

/** True if @p len bytes at @p s have the shape of a Salesforce id: 15 or 18
 *  ASCII letters and digits. */
bool cs_sfid_is_shaped(const char *s, size_t len);

/** Normalise the id at @p s (@p len bytes) to its 18-character form in
 *  @p out (NUL-terminated): a 15-character id gets its suffix; an
 *  18-character id is checked and copied.
 *  @return CS_OK; CS_EINVAL if @p s does not have the shape of an id;
 *  CS_EPROTO if an 18-character id's suffix does not match its first 15
 *  characters (e.g. an id whose case a spreadsheet changed). */
CS_NODISCARD int cs_sfid_normalize(const char *s, size_t len,
                                   char out[CS_SFID_LONG + 1]);

#endif /* CS_SFID_H */
