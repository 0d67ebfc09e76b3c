/* fuzz_fcgi_params.c — fuzz target for fcgi_parse_params and fcgi_param_find (cgi/fcgi_loop.c): any
 * bytes as the FastCGI PARAMS stream; accepted pairs account for no more bytes than the input holds,
 * and a value found in place lies inside the input. */
#include <stdlib.h>
#include <string.h>
#include "fcgi_loop.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 4096);
    kvlist l = {0};
    int rc = fcgi_parse_params(&a, data, size, 128, &l);
    if (rc != PARSE_OK && rc != PARSE_EINVAL && rc != PARSE_ETOOMANY)
        abort();
    if (l.n > 128)
        abort();
    size_t total = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (!l.items[i].key || !l.items[i].value || l.items[i].value[l.items[i].value_len] != '\0')
            abort();
        total += 2 + strlen(l.items[i].key) + l.items[i].value_len;
    }
    if (total > size)
        abort();
    static const char *names[] = {"DOCUMENT_URI", "REQUEST_METHOD", "A"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t vl = 0;
        const char *v = fcgi_param_find(data, size, names[k], &vl);
        if (v && ((const uint8_t *)v < data || (const uint8_t *)v + vl > data + size))
            abort();
    }
    arena_destroy(&a);
    return 0;
}
