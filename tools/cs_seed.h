/*  cs_seed - the bulk seed engine behind crmsync seed: stream a legacy
 *  export (CSV or JSON Lines) into a collection of the store.
 *  SPDX-License-Identifier: MIT
 *
 *  NOT for use outside tools/. One parser thread (the caller's) reads rows,
 *  maps them to record deltas and fills batches; one writer thread merges
 *  each batch into the store with cs_store_import, together with a
 *  checkpoint (input identity, byte offset), in one transaction. At most
 *  S_BATCHES batches exist, so memory stays bounded whatever the input
 *  size. Only where rows must be ranked as they are read (no sorted load:
 *  a collection with records, --no-sort, a dry run; rows that may map no
 *  field: JSON Lines with --map or --exclude), and for --resume and
 *  --delete-missing, is there also a set of the ids seen (about 16 bytes
 *  per distinct id); a first seed counts an id's rows where the sorted
 *  load brings them together.
 *
 *  Rows travel as canonical bytes (no record is built, except for a dry
 *  run). Into a collection without visible records new records are
 *  appended (cs_store_append_new); in a re-seed, a row stored exactly so
 *  already is only compared (cs_store_matches); the rest is decoded and
 *  merged. Batches whose ids do not come in order are not
 *  written as they come but sorted and spilled to a temporary file in
 *  opts->spill_dir (tools/cs_spill); once the input is read, the runs are
 *  merged and written in id order, so LMDB appends instead of rewriting
 *  random pages (see cs_seed.c). Duplicate ids are decoded and merged.
 *
 *  Stamps: every field is stamped (hlc, CS_SEED_ORIGIN) with hlc =
 *  cs_hlc_make(time, k): time is the row's timestamp column or the as-of
 *  time, and k is how many earlier rows of the input had the same id, so
 *  a later duplicate beats an earlier one unless its time is older. The
 *  stamps depend only on the input and the options: seeding the same data
 *  into any store gives the same state and digest, and a re-seed changes
 *  nothing.
 *
 *  Resume: a checkpoint names the input (device, inode, size, mtime), a
 *  fingerprint of the options, and the byte offset after the last row the
 *  last committed batch covered. --resume re-reads the rows before that
 *  offset only to rebuild the id set (nothing is written for them) and
 *  goes on writing after it. A checkpoint of the sorted load also holds
 *  the last id it committed: the re-read rows whose id sorts after it are
 *  loaded again.
 */
#ifndef CS_SEED_H
#define CS_SEED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/cs_err.h"
#include "storage/cs_store.h"
#include "tools/cs_csv.h"

/** The origin of every stamp a seed writes. The legacy system is treated
 *  as one writer whose id, 0, is below every node id (node ids are > 0):
 *  seeding the same data into any store, on any node, gives the same state
 *  and the same digest, so export -> seed into a fresh store reproduces the
 *  digest, and two sites seeding overlapping exports with the same times
 *  converge (equal stamps fall to the value tie-break). A live edit, by
 *  any node, stamped after the export's time, beats the seeded value. */
#define CS_SEED_ORIGIN UINT64_C(0)

/** Default rows per batch (one transaction each). */
#define CS_SEED_BATCH_ROWS_DEFAULT 20000u

typedef enum {
    CS_SEED_FORMAT_AUTO = 0, /* .jsonl/.ndjson: JSON Lines; else CSV */
    CS_SEED_FORMAT_CSV,
    CS_SEED_FORMAT_JSONL,
} cs_seed_format_t;

/** Where the as-of time came from. */
typedef enum {
    CS_SEED_AS_OF_OPTION = 0, /* --as-of */
    CS_SEED_AS_OF_MTIME,      /* the input's modification time */
    CS_SEED_AS_OF_CHECKPOINT, /* the interrupted run's as-of (resume) */
    CS_SEED_AS_OF_NONE,       /* none: a pipe, stamped by a column */
} cs_seed_as_of_source_t;

/** A progress report, at most ~10 a second, from the parser thread. */
typedef struct {
    uint64_t rows;        /* rows read so far (this run, replay excluded) */
    uint64_t bytes;       /* input bytes consumed */
    uint64_t bytes_total; /* input size; 0 if unknown (a pipe) */
    uint64_t rejected;    /* rows rejected so far (this run) */
    double seconds;       /* since the start */
    bool replaying;       /* --resume: re-reading the loaded part */
    uint64_t to_load;     /* sorted load: records to write (else 0) */
    uint64_t loaded;      /* sorted load: records handed to the writer */
    bool done;            /* last report: clear the bar */
} cs_seed_progress_t;

typedef void(cs_seed_progress_fn)(void *arg, const cs_seed_progress_t *p);

typedef struct {
    const char *collection;        /* required */
    const char *id_column;         /* required: column holding the id */
    const char *input;             /* file path, or "-" for stdin */
    cs_seed_format_t format;       /* see above */
    cs_csv_opts_t csv;             /* delimiter, encoding (CSV only) */
    const char *map_path;          /* .sdl mapping file, or NULL */
    const char *const *exclude;    /* columns to drop */
    size_t exclude_count;          /* entries in exclude */
    const char *const *nulls;      /* spellings of nil */
    size_t null_count;             /* entries in nulls */
    bool sf_ids;                   /* normalise Salesforce ids to 18 */
    const char *timestamp_column;  /* or NULL */
    const char *timestamp_format;  /* strptime pattern, or NULL */
    bool as_of_set;                /* as_of_ms was given (--as-of) */
    int64_t as_of_ms;              /* --as-of, ms since the epoch */
    const char *deleted_column;    /* or NULL */
    bool delete_missing;           /* tombstone records not in the input */
    const char *rejects_path;      /* JSON Lines file, or NULL */
    uint64_t max_errors;           /* stop after this many rejects; 0: never */
    bool dry_run;                  /* validate and count, write nothing */
    bool resume;                   /* continue an interrupted seed */
    size_t batch_rows;             /* rows per transaction; 0: default */
    cs_seed_progress_fn *progress; /* or NULL */
    void *progress_arg;            /* for progress */
    volatile sig_atomic_t *stop;   /* set (by a signal) to stop; or NULL */
    const char *spill_dir;         /* where an input not in id order is
                                      sorted (a temporary file, about the
                                      size of the records); NULL: never
                                      sort, write in batches as read */
} cs_seed_opts_t;

/** Rejects kept for the summary. */
#define CS_SEED_SAMPLES 5u

/** What a run did. Counts are of this run unless said otherwise. */
typedef struct {
    uint64_t rows_read;         /* data rows read (bad ones included) */
    uint64_t records_new;       /* records that did not exist */
    uint64_t records_updated;   /* records whose state changed */
    uint64_t records_unchanged; /* records the rows did not change */
    uint64_t records_deleted;   /* records tombstoned (deleted column or
                                   --delete-missing) that were visible */
    uint64_t rejected;          /* bad rows skipped */
    uint64_t duplicates;        /* rows whose id an earlier row had */
    uint64_t missing_deleted;   /* of records_deleted: --delete-missing */
    uint64_t skewed;            /* stamps ahead of the clock (merged) */
    uint64_t bytes;             /* input bytes consumed */
    double seconds;             /* wall time of the run */
    int64_t as_of_ms;           /* the as-of time used */
    cs_seed_as_of_source_t as_of_source; /* where it came from */
    cs_seed_format_t format;             /* the format read (never AUTO) */
    const char *encoding;        /* CSV: encoding name (static); else NULL */
    int delimiter;               /* CSV: the delimiter; else 0 */
    bool interrupted;            /* stopped by *opts->stop */
    bool stopped_max_errors;     /* stopped by --max-errors */
    bool complete;               /* read the whole input */
    bool resumed;                /* continued from a checkpoint */
    bool sorted;                 /* the input was not in id order: it was
                                    sorted through a temporary file first */
    bool checkpoint_found;       /* a checkpoint was there (without resume:
                                    it was discarded) */
    uint64_t resumed_offset;     /* byte offset resumed at */
    uint64_t resumed_line;       /* line resumed at */
    uint64_t earlier_rows;       /* rows read by the interrupted run(s) */
    uint64_t earlier_rejected;   /* rows those rejected */
    uint64_t earlier_duplicates; /* duplicates those counted */
    size_t sample_count;         /* entries in samples */
    struct {
        uint64_t line;          /* line of the rejected row */
        char reason[160];       /* why, shortened */
    } samples[CS_SEED_SAMPLES]; /* the first rejects of this run */
} cs_seed_stats_t;

/** Run a seed into @p store (opened read-only for a dry run) with
 *  @p opts; @p stats receives what happened, also on failure. On error a
 *  message is on stderr (prefixed "crmsync: seed: ").
 *  @return CS_OK (rows may have been rejected: see stats->rejected; the run
 *  may have stopped early: see interrupted, stopped_max_errors);
 *  CS_EINVAL for options that cannot work with this input (unknown column,
 *  bad mapping, --resume with another input); CS_EPROTO for an input
 *  without a usable header; CS_EIO, CS_EFULL, CS_ELIMIT from the store or
 *  the files. */
CS_NODISCARD int cs_seed_run(cs_store_t *store, const cs_seed_opts_t *opts,
                             cs_seed_stats_t *stats);

/** Printable name of a format: "csv", "jsonl", "auto". */
const char *cs_seed_format_name(cs_seed_format_t format);

/** Parse a --format word: "csv", "jsonl" or "ndjson".
 *  @return CS_OK or CS_EINVAL. */
CS_NODISCARD int cs_seed_format_parse(const char *word,
                                      cs_seed_format_t *format);

/** Resolve @p format for input @p path ("-" is standard input): AUTO
 *  becomes JSONL for a .jsonl or .ndjson file (any case), else CSV. */
cs_seed_format_t cs_seed_format_of(cs_seed_format_t format, const char *path);

#endif /* CS_SEED_H */
