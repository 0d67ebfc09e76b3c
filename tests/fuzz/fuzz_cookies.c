/* fuzz_cookies.c — fuzz target for parse_cookies (lib/parse.c): any bytes as a Cookie header;
 * every cookie kept must have a non-empty name and only RFC 6265 cookie-octets. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "parse.h"

static int octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 1024);
    kvlist l = {0};
    int rc = parse_cookies(&a, (const char *)data, size, 32, &l);
    if (rc != PARSE_OK && rc != PARSE_ETOOMANY)
        abort(); /* malformed cookies are skipped, never an error */
    if (l.n > 32)
        abort();
    for (size_t i = 0; i < l.n; i++) {
        const char *k = l.items[i].key, *v = l.items[i].value;
        size_t kl = strlen(k);
        if (kl == 0 || kl > size || l.items[i].value_len != strlen(v) || l.items[i].value_len > size)
            abort();
        for (size_t j = 0; j < kl; j++)
            if (!octet((unsigned char)k[j]) || k[j] == '=')
                abort();
        for (size_t j = 0; j < l.items[i].value_len; j++)
            if (!octet((unsigned char)v[j]))
                abort();
    }
    arena_destroy(&a);
    return 0;
}
