/*  gen_codec_corpus - write the seed corpus of fuzz_codec_decode.
 *  SPDX-License-Identifier: MIT
 *
 *  Usage: gen_codec_corpus DIR
 *  Writes valid records (both forms, and stored with numbered names) and
 *  deltas made with cs_codec, a few truncations of them, and the msgpack
 *  length bombs every decoder must refuse cheaply. Re-run it after a format
 * change; the files are kept in tests/fuzz/fuzz_codec_decode.in/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/cs_codec.h"
#include "corpus_write.h"

static const char *s_dir; /* output directory */

static void
s_write(const char *name, const void *data, size_t len)
{
    corpus_write(s_dir, name, data, len);
}

static void
s_set(cs_record_t *rec, const char *name, cs_value_t value, uint64_t ms,
      uint64_t origin, uint64_t seq)
{
    cs_stamp_t stamp = { cs_hlc_make(UINT64_C(1700000000000) + ms, 0), origin };
    if (cs_record_set(rec, name, &value, stamp, seq, NULL) != CS_OK) {
        abort();
    }
}

/* Write @p rec in both forms, and its truncations at a few lengths. */
static void
s_write_record(const char *name, const cs_record_t *rec, bool truncations)
{
    const struct {
        cs_codec_form_t form; /* which encoding */
        const char *tag;      /* in the file name */
    } forms[] = { { CS_CODEC_CANONICAL, "canonical" },
                  { CS_CODEC_STORED, "stored" } };
    for (size_t i = 0; i < 2; i++) {
        cs_buf_t buf;
        cs_buf_init(&buf);
        cs_codec_encode_record(rec, forms[i].form, &buf);
        char file[256];
        snprintf(file, sizeof file, "record-%s-%s", name, forms[i].tag);
        s_write(file, buf.data, buf.len);
        if (truncations) {
            size_t cuts[] = { 1, 3, buf.len / 2, buf.len - 1 };
            for (size_t k = 0; k < 4; k++) {
                snprintf(file, sizeof file, "truncated-%s-%s-%zu", name,
                         forms[i].tag, cuts[k]);
                s_write(file, buf.data, cuts[k]);
            }
        }
        cs_buf_fini(&buf);
    }
}

static void
s_write_delta(const char *name, const char *collection, const char *id,
              const cs_record_t *rec)
{
    cs_buf_t buf;
    cs_buf_init(&buf);
    if (cs_codec_encode_delta(collection, id, rec, &buf) != CS_OK) {
        abort();
    }
    char file[256];
    snprintf(file, sizeof file, "delta-%s", name);
    s_write(file, buf.data, buf.len);
    snprintf(file, sizeof file, "truncated-delta-%s", name);
    s_write(file, buf.data, buf.len - 1);
    cs_buf_fini(&buf);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    s_dir = argv[1];

    cs_record_t *empty = cs_record_new();
    s_write_record("empty", empty, false);

    cs_record_t *contact = cs_record_new();
    static const unsigned char avatar[] = { 0x89, 'P', 'N', 'G', 0x00, 0xff };
    cs_stamp_t tomb = { cs_hlc_make(UINT64_C(1700000000000), 0), 2 };
    (void) cs_record_delete(contact, tomb, 3);
    s_set(contact, "active", cs_value_bool(true), 1, 1, 4);
    s_set(contact, "avatar", cs_value_bin(avatar, sizeof avatar), 2, 1, 5);
    s_set(contact, "balance", cs_value_float(-1234.5), 3, 2, 6);
    s_set(contact, "city", cs_value_str("Z\xc3\xbcrich"), 4, 1, 7);
    s_set(contact, "fax", cs_value_nil(), 5, 2, 8);
    s_set(contact, "score", cs_value_int(-42), 6, 1, 9);
    s_set(contact, "visits", cs_value_int(70000), 7, 1, 300);
    s_write_record("contact", contact, true);
    s_write_delta("contact", "contacts", "0035g00000ABCDEFAA", contact);

    cs_record_t *deleted = cs_record_new();
    cs_stamp_t late = { UINT64_MAX, UINT64_MAX };
    (void) cs_record_delete(deleted, late, UINT64_MAX);
    s_write_record("deleted", deleted, false);
    s_write_delta("deleted", "deals", "D", deleted);

    cs_record_t *wide = cs_record_new();
    for (unsigned n = 0; n < 40; n++) {
        char name[16];
        snprintf(name, sizeof name, "field%02u", n);
        s_set(wide, name, cs_value_int((int64_t) n * 1000003 - 20000000), n, n,
              n);
    }
    s_write_record("wide", wide, false);

    /* a seeded record after one live edit: one stamp and seq for 15
     * fields, the default; the edited field carries its own */
    cs_record_t *seeded = cs_record_new();
    for (unsigned n = 0; n < 15; n++) {
        char name[16];
        snprintf(name, sizeof name, "col%02u", n);
        s_set(seeded, name, cs_value_str("seeded value"), 0, 7, 1);
    }
    s_set(seeded, "col03", cs_value_str("edited"), 60000, 9, 2);
    s_write_record("seeded", seeded, true);
    s_write_delta("seeded", "contacts", "0035g00000SEEDEDAA", seeded);

    /* a stored record with numbered names, numbered as in the fuzz
     * target's dictionary (Id, a, b, LastName), one edited since */
    cs_record_t *numbered = cs_record_new();
    s_set(numbered, "Id", cs_value_str("0035g00000SEEDEDAA"), 0, 7, 1);
    s_set(numbered, "LastName", cs_value_str("M\xc3\xbcller"), 0, 7, 1);
    s_set(numbered, "a", cs_value_int(1), 0, 7, 1);
    s_set(numbered, "b", cs_value_str("edited"), 60000, 9, 2);
    cs_names_t *names = cs_names_new();
    const char *dict[] = { "Id", "a", "b", "LastName" };
    for (size_t n = 0; n < 4; n++) {
        if (cs_names_add(names, dict[n], strlen(dict[n])) != CS_OK) {
            abort();
        }
    }
    cs_buf_t buf;
    cs_buf_init(&buf);
    cs_codec_encode_stored(numbered, names, &buf);
    s_write("record-numbered-stored", buf.data, buf.len);
    s_write("truncated-numbered-stored", buf.data, buf.len - 1);
    cs_buf_fini(&buf);
    cs_names_destroy(&names);
    cs_record_destroy(&numbered);
    s_write_delta("empty", "accounts", "A-1", empty);

    /* Length bombs and other hostile bytes. RAW() keeps the length of a
     * literal with NULs in it. */
#define RAW(name, lit)             \
    {                              \
        name, lit, sizeof(lit) - 1 \
    }
    static const struct {
        const char *name;  /* file */
        const char *bytes; /* content */
        size_t len;        /* its length */
    } raw[] = {
        RAW("bomb-array32", "\xdd\xff\xff\xff\xff"),
        RAW("bomb-map32", "\xdf\xff\xff\xff\xff"),
        RAW("bomb-str32", "\xdb\xff\xff\xff\xff"),
        RAW("bomb-bin32", "\xc6\xff\xff\xff\xff"),
        RAW("bomb-fields-array32",
            "\x94\x01\xc0\x92\x01\x01\xdd\xff\xff\xff\xff"),
        RAW("bomb-default-array32", "\x94\x01\xc0\xdd\xff\xff\xff\xff"),
        RAW("bomb-name-str32",
            "\x94\x01\xc0\x92\x01\x01\x91\x92\xdb\xff\xff\xff\xff"),
        RAW("bomb-value-bin32", "\x94\x01\xc0\x92\x01\x01\x91\x92\xa1v"
                                "\xc6\xff\xff\xff\xff"),
        RAW("bomb-delta-record", "\x93\xa1"
                                 "c"
                                 "\xa1"
                                 "i\xdd\xff\xff\xff\xff"),
        RAW("nested-arrays", "\x91\x91\x91\x91\x91\x91\x91\x91\xc0"),
        RAW("empty-input", ""),
    };
#undef RAW
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        s_write(raw[i].name, raw[i].bytes, raw[i].len);
    }

    cs_record_destroy(&empty);
    cs_record_destroy(&contact);
    cs_record_destroy(&deleted);
    cs_record_destroy(&wide);
    cs_record_destroy(&seeded);
    return 0;
}
