/* replay.c — main() for fuzz targets built without libFuzzer: runs LLVMFuzzerTestOneInput over
 * every file in the directories/files given as arguments (a seed corpus), and fails on zero inputs. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

static size_t ran, failed;

/* Reads a whole file into an exact-size heap block (so ASan catches reads past the input). */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0, n;
    unsigned char *data = malloc(cap);
    while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            unsigned char *bigger = realloc(data, cap *= 2);
            if (!bigger)
                free(data);
            data = bigger;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!data || err) {
        free(data);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    /* exact size: a copy as long as the input, nothing after it */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) {
        free(data);
        return -1;
    }
    memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    ran++;
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s does not exist\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s\n", path);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char sub[4096];
            int w = snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
            if (w < 0 || (size_t)w >= sizeof sub || run_path(sub) < 0)
                rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i]) < 0)
            failed++;
    printf("%s: %zu inputs ran\n", argv[0], ran);
    if (ran == 0) {
        fprintf(stderr, "%s: no input ran\n", argv[0]);
        return 1;
    }
    return failed ? 1 : 0;
}
