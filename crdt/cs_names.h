/*  cs_names - a store's field-name dictionary: each name it holds has a
 *  small number, which the stored form of a record writes instead of the
 *  name (see cs_codec.h).
 *  SPDX-License-Identifier: MIT
 *
 *  CRM records repeat the same few dozen field names ("MailingPostalCode",
 *  "LastModifiedDate") in every record; spelt out they were 40% of a
 *  seeded contact's stored bytes. Numbers are given in order of first use
 *  and never change or go away, so a table only grows and two tables that
 *  agree on their first n names agree on those numbers: a store keeps the
 *  table beside its records and loads what other processes added. The
 *  table holds at most CS_NAMES_MAX names; names past that are spelt out.
 *
 *  Not thread-safe; one owner at a time.
 */
#ifndef CS_NAMES_H
#define CS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"

/** Most names in one table: with CS_FIELD_NAME_MAX, at most ~2 MiB. */
#define CS_NAMES_MAX 16384u

/** What cs_names_number gives for a name without a number. */
#define CS_NAMES_NONE UINT32_MAX

typedef struct cs_names cs_names_t; /* opaque */

/** A new, empty table; out of memory aborts. */
cs_names_t *cs_names_new(void);

/** Free *@p self_p and set it to NULL. Safe on NULL. */
void cs_names_destroy(cs_names_t **self_p);

/** Names in the table; their numbers are 0 to this - 1. */
size_t cs_names_count(const cs_names_t *self);

/** The name numbered @p number and its length in *@p len, or NULL if the
 *  table has no such number. Valid until the table is truncated below it. */
const char *cs_names_at(const cs_names_t *self, uint64_t number, size_t *len);

/** Give the next number to @p name (@p len bytes), as a loader reading a
 *  saved table does. @return CS_OK; CS_EINVAL for an invalid field name
 *  (cs_record_field_name_is_valid) or one already there; CS_ELIMIT when
 *  the table is full. */
CS_NODISCARD int cs_names_add(cs_names_t *self, const char *name, size_t len);

/** The number of @p name (@p len bytes), or CS_NAMES_NONE. With @p add, a
 *  valid name without one gets the next, unless the table is full.
 *  @p position, the name's place in its record, is a hint: a name found
 *  at the same place as last time is found without hashing. */
uint32_t cs_names_number(cs_names_t *self, const char *name, size_t len,
                         size_t position, bool add);

/** Forget the names numbered @p count and above (names added by a write
 *  that was then undone). */
void cs_names_truncate(cs_names_t *self, size_t count);

#endif /* CS_NAMES_H */
