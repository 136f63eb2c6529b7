/*  cs_sdl - column mapping files in the Salesforce Data Loader ".sdl"
 *  format, for crmsync seed --map.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. A Java-properties text, one mapping a line:
 *
 *      # comment (also '!')
 *      BILLINGCITY=BillingCity        column BILLINGCITY -> field BillingCity
 *      Name=FirstName,LastName        one column feeding two fields
 *      SYSTEMMODSTAMP=                empty right side: the column is dropped
 *      "4-205817"=Account             quoted left side: a constant value
 *      OWNER\:USERNAME=Owner\:Username
 *
 *  The key ends at the first unescaped '=' or ':' (or blank); blanks
 *  around key and value are trimmed. Escapes as in Java properties: \t \n
 *  \r \f, \uXXXX (written as UTF-8), and a backslash before any other
 *  character keeps that character (\: \= \# \\ and "\ " for a space). A
 *  backslash at the end of a line continues the value on the next line.
 *  Unlike Java properties, a '#' after a blank ends the line (a comment);
 *  write \# for a literal one. If a column is named twice, the last line
 *  wins (as in Data Loader). Columns are matched with the input's header
 *  case-insensitively (ASCII) by the caller.
 */
#ifndef CS_SDL_H
#define CS_SDL_H

#include <stdbool.h>
#include <stddef.h>

#include "crdt/cs_err.h"

/** Largest mapping file, in bytes. */
#define CS_SDL_TEXT_MAX (1024u * 1024u)

/** One column (or constant) and the fields it feeds. */
typedef struct {
    const char *column;        /* header name, or the constant's value */
    bool constant;             /* the left side was quoted: a constant */
    size_t field_count;        /* 0: the column is dropped */
    const char *const *fields; /* field names, NUL-terminated */
    size_t line;               /* line of the file it comes from */
} cs_sdl_entry_t;

typedef struct cs_sdl cs_sdl_t; /* opaque */

/** Parse @p len bytes at @p text. On error a message for the user
 *  ("line N: ...", no trailing period) goes to @p err.
 *  @return CS_OK with *@p self_p set; CS_EINVAL for a line that cannot be
 *  read (no '=', bad escape, invalid UTF-8, an empty column name);
 *  CS_ELIMIT for text over CS_SDL_TEXT_MAX. */
CS_NODISCARD int cs_sdl_parse(const char *text, size_t len, cs_sdl_t **self_p,
                              char *err, size_t err_cap);

/** Free *@p self_p and set it to NULL. Safe on NULL. */
void cs_sdl_destroy(cs_sdl_t **self_p);

/** Number of entries, in file order (a column named twice appears once, at
 *  its last line). */
size_t cs_sdl_count(const cs_sdl_t *self);

/** Entry @p index (< count), borrowed until cs_sdl_destroy. */
const cs_sdl_entry_t *cs_sdl_entry(const cs_sdl_t *self, size_t index);

/** The entry of column @p name, matched case-insensitively (ASCII), not a
 *  constant; NULL if none. */
const cs_sdl_entry_t *cs_sdl_find(const cs_sdl_t *self, const char *name);

#endif /* CS_SDL_H */
