/* unit.h — small helpers shared by the check unit tests: the runner main(), the source tree
 * location from $BCF_SRCDIR, and temporary directories/files that tests create and remove. */
#ifndef BCF_UNIT_H
#define BCF_UNIT_H
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The source tree: $BCF_SRCDIR (set by make check), else the current directory. */
static inline const char *unit_srcdir(void)
{
    const char *s = getenv("BCF_SRCDIR");
    return s && *s ? s : ".";
}

/* Creates a fresh directory under $TMPDIR (or /tmp) into out; returns out or NULL. */
static inline char *unit_mkdtemp(char *out, size_t outlen)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, outlen, "%s/bcf-unit-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(out);
}

/* Writes len bytes (len == (size_t)-1: strlen) to dir/name, creating dir/name's parent
 * directory one level deep if needed. Returns 0 or -1. */
static inline int unit_write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4096];
    int w = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= sizeof path)
        return -1;
    char *slash = strrchr(path, '/');
    if (slash && slash > path + strlen(dir)) {
        *slash = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -1;
        *slash = '/';
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (len == (size_t)-1)
        len = strlen(data);
    size_t wrote = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && wrote == len) ? 0 : -1;
}

/* Removes a directory tree made by a test (files and subdirectories, no symlink following). */
static inline void unit_rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[4096];
            int w = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (w < 0 || (size_t)w >= sizeof path)
                continue;
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                unit_rm_rf(path);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* A test case for regression tests of bugs found and fixed in lib/ or cgi/ (the comment above
 * each test tells the bug): named and tagged "regressions", so CK_RUN_CASE=regressions runs them. */
static inline TCase *unit_regressions_tcase(void)
{
    TCase *tc = tcase_create("regressions");
    tcase_set_tags(tc, "regressions");
    return tc;
}

/* Runs every test of the suite; the process exit status is non-zero when any test failed. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Adds a test case named after its single test function. */
#define UNIT_ADD(suite, fn)                                                                        \
    do {                                                                                           \
        TCase *tc_ = tcase_create(#fn);                                                            \
        /* a ceiling for sanitizer builds on a busy 2-core machine, not a speed assertion */       \
        tcase_set_timeout(tc_, 120);                                                               \
        tcase_add_test(tc_, fn);                                                                   \
        suite_add_tcase((suite), tc_);                                                             \
    } while (0)
#endif
