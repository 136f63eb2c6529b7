/*  replay_main - run a libFuzzer target over files, without libFuzzer.
 *  SPDX-License-Identifier: MIT
 *
 *  Usage: <target>_replay DIR_OR_FILE...
 *  Feeds every regular file (directories are read one level deep, in name
 *  order) to LLVMFuzzerTestOneInput, so the seed corpus and the crashers in
 *  <target>.repro/ run as an ordinary test under any compiler. Files whose
 *  name starts with '.' and README files are skipped. A crash is the
 *  failure; the exit status is otherwise 0, or 2 for an unreadable path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read all of @p path into a new buffer (never NULL on success). */
static int
s_read_file(const char *path, uint8_t **data_out, size_t *size_out)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        return -1;
    }
    size_t cap = 4096, size = 0;
    uint8_t *data = malloc(cap);
    if (!data) {
        abort();
    }
    size_t got;
    while ((got = fread(data + size, 1, cap - size, file)) > 0) {
        size += got;
        if (size == cap) {
            cap *= 2;
            uint8_t *grown = realloc(data, cap);
            if (!grown) {
                abort();
            }
            data = grown;
        }
    }
    int failed = ferror(file);
    fclose(file);
    if (failed) {
        free(data);
        return -1;
    }
    /* an exact-size copy, so a sanitizer sees reads past the end */
    uint8_t *exact = malloc(size ? size : 1);
    if (!exact) {
        abort();
    }
    memcpy(exact, data, size);
    free(data);
    *data_out = exact;
    *size_out = size;
    return 0;
}

static int
s_run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (s_read_file(path, &data, &size) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("%s (%zu bytes)\n", path, size);
    fflush(stdout);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int
s_by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int
s_skip(const struct dirent *entry)
{
    return entry->d_name[0] != '.' && strncmp(entry->d_name, "README", 6) != 0;
}

int
main(int argc, char **argv)
{
    int status = 0;
    size_t files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            status = 2;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            status = s_run_file(argv[i]) == 0 ? status : 2;
            files++;
            continue;
        }
        struct dirent **entries = NULL;
        int count = scandir(argv[i], &entries, s_skip, s_by_name);
        if (count < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            status = 2;
            continue;
        }
        for (int k = 0; k < count; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], entries[k]->d_name);
            struct stat fst;
            if (stat(path, &fst) == 0 && S_ISREG(fst.st_mode)) {
                status = s_run_file(path) == 0 ? status : 2;
                files++;
            }
            free(entries[k]);
        }
        free(entries);
    }
    printf("%zu inputs replayed\n", files);
    return status;
}
