/*  corpus_write.h - the file writer of the seed corpus generators
 *  (gen_codec_corpus, gen_msg_corpus).
 *  SPDX-License-Identifier: MIT
 */
#ifndef CS_CORPUS_WRITE_H
#define CS_CORPUS_WRITE_H

#include <stdio.h>
#include <stdlib.h>

/* Write @p len bytes at @p data to DIR/@p name; exit 1 on any error. */
static inline void
corpus_write(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    if (!file || (len && fwrite(data, 1, len, file) != len) || fclose(file)) {
        perror(path);
        exit(1);
    }
}

#endif /* CS_CORPUS_WRITE_H */
