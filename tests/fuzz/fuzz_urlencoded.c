/* fuzz_urlencoded.c — fuzz target for url_decode and parse_urlencoded (lib/parse.c): any bytes as a
 * query string or form body; decoded output must be NUL-free valid UTF-8 within the field limit. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "parse.h"

static void check_decoded(const char *s, size_t n)
{
    if (!s || strlen(s) != n || !utf8_valid(s, n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    arena a;
    arena_init(&a, 1024);
    kvlist l = {0};
    int rc = parse_urlencoded(&a, s, size, 64, &l);
    if (rc != PARSE_OK && rc != PARSE_EINVAL && rc != PARSE_ETOOMANY)
        abort();
    if (l.n > 64)
        abort();
    for (size_t i = 0; i < l.n; i++) {
        check_decoded(l.items[i].key, strlen(l.items[i].key));
        check_decoded(l.items[i].value, l.items[i].value_len);
    }
    if (rc == PARSE_OK && l.n && kv_get(&l, l.items[0].key) != l.items[0].value)
        abort();
    for (int plus = 0; plus < 2; plus++) {
        char *out = NULL;
        size_t len = 0;
        rc = url_decode(&a, s, size, plus, &out, &len);
        if (rc == PARSE_OK) {
            check_decoded(out, len);
            if (len > size)
                abort();
        } else if (rc != PARSE_EINVAL) {
            abort();
        }
    }
    /* the same bytes through the one-field limit */
    kvlist one = {0};
    rc = parse_urlencoded(&a, s, size, 1, &one);
    if (one.n > 1)
        abort();
    arena_destroy(&a);
    return 0;
}
