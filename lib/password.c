/* password.c — argon2id password hashes (libsodium PHC strings, parameters from config) and the
 * password policy: length in code points, UTF-8, and refusal of the bundled common-password list. */
#include "password.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "log.h"
#include "utf8.h"

#define PASSWORD_MAX_BYTES 1024

/* The common-password list: one malloc'd blob of lower-cased lines and a sorted array of
 * pointers into it, so a lookup is one bsearch. Loaded once per process, lazily. */
static char *common_blob;
static char **common_words;
static size_t common_n;
static int common_state; /* 0 not tried, 1 loaded, -1 failed (logged once) */

static unsigned long long opslimit_now(void)
{
    long v = config_int("password.opslimit");
    return v < (long)crypto_pwhash_OPSLIMIT_MIN ? crypto_pwhash_OPSLIMIT_MIN : (unsigned long long)v;
}

static size_t memlimit_now(void)
{
    long kib = config_int("password.memlimit_kib");
    size_t bytes = kib > 0 ? (size_t)kib * 1024 : 0;
    return bytes < crypto_pwhash_MEMLIMIT_MIN ? crypto_pwhash_MEMLIMIT_MIN : bytes;
}

int password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
    if (!password || sodium_init() < 0)
        return -1;
    if (crypto_pwhash_str_alg(out, password, strlen(password), opslimit_now(), memlimit_now(),
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* A stored hash must be a NUL-terminated string that fits libsodium's fixed-size buffer. */
static int hash_shape_ok(const char *hash)
{
    return hash && hash[0] == '$' && strnlen(hash, PASSWORD_HASH_MAX) < PASSWORD_HASH_MAX;
}

int password_verify(const char *hash, const char *password)
{
    if (!password || !hash_shape_ok(hash) || sodium_init() < 0)
        return 0;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int password_needs_rehash(const char *hash)
{
    if (!hash_shape_ok(hash))
        return 0; /* nothing verifies against it, so there is nothing to upgrade */
    /* 1 when the parameters (or the algorithm) differ from the configured ones; -1 malformed */
    return crypto_pwhash_str_needs_rehash(hash, opslimit_now(), memlimit_now()) == 1;
}

static void ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static int cmp_words(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void common_free(void)
{
    free(common_words);
    free(common_blob);
    common_words = NULL;
    common_blob = NULL;
    common_n = 0;
}

int password_load_common(const char *path)
{
    int rc = -1;
    char *blob = NULL;
    char **words = NULL;
    size_t n = 0;
    if (!path) {
        common_free();
        common_state = 0;
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        goto out;
    if (fseek(f, 0, SEEK_END) != 0)
        goto out;
    long size = ftell(f);
    if (size < 0 || size > 64L * 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    blob = malloc((size_t)size + 1);
    if (!blob || fread(blob, 1, (size_t)size, f) != (size_t)size)
        goto out;
    blob[size] = '\0';
    size_t lines = 1;
    for (long i = 0; i < size; i++)
        lines += blob[i] == '\n';
    words = malloc(lines * sizeof *words);
    if (!words)
        goto out;
    for (char *line = blob; line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len && line[0] != '#') {
            ascii_lower(line);
            words[n++] = line;
        }
        line = nl ? nl + 1 : NULL;
    }
    qsort(words, n, sizeof *words, cmp_words);
    common_free();
    common_blob = blob;
    common_words = words;
    common_n = n;
    common_state = 1;
    blob = NULL;
    words = NULL;
    rc = 0;
out:
    if (f)
        fclose(f);
    free(words);
    free(blob);
    return rc;
}

static int is_common(const char *lowered)
{
    if (common_state == 0) {
        char path[4096];
        if (password_load_common(config_path("password.common_list", path, sizeof path)) != 0) {
            common_state = -1;
            log_error("password: cannot load the common-password list %s; other rules still apply", path);
        }
    }
    if (common_state != 1)
        return 0;
    return bsearch(&lowered, common_words, common_n, sizeof *common_words, cmp_words) != NULL;
}

static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80; /* count every byte that is not a continuation */
    return n;
}

/* Case-insensitive (ASCII) equality of password with the n bytes at s. */
static int equals_fold(const char *password, const char *s, size_t n)
{
    return n > 0 && strlen(password) == n && strncasecmp(password, s, n) == 0;
}

const char *password_policy_error(const char *password, const char *email)
{
    if (!password)
        return "password.invalid";
    size_t len = strlen(password);
    if (len > PASSWORD_MAX_BYTES)
        return "password.too_long";
    if (!utf8_valid(password, len))
        return "password.invalid";
    long min = config_int("password.min_length");
    if ((long)code_points(password) < min || len == 0)
        return "password.too_short";
    char lowered[PASSWORD_MAX_BYTES + 1];
    memcpy(lowered, password, len + 1);
    ascii_lower(lowered);
    int common = is_common(lowered);
    sodium_memzero(lowered, sizeof lowered);
    if (common)
        return "password.common";
    if (email && *email) {
        const char *at = strrchr(email, '@'); /* a quoted local part may itself hold '@' */
        if (equals_fold(password, email, strlen(email)) ||
            (at && equals_fold(password, email, (size_t)(at - email))))
            return "password.common";
    }
    return NULL;
}
