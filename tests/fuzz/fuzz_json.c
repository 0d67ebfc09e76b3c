/* fuzz_json.c — fuzz target for parse_json (lib/parse.c): any bytes as a JSON body; an accepted
 * body is an object or array of valid UTF-8 within the depth limit, and serialises back. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "parse.h"

#define MAX_DEPTH 16

static size_t depth(json_t *j)
{
    size_t d = 0, sub;
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) if ((sub = depth(v)) > d) d = sub;
        return d + 1;
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v) if ((sub = depth(v)) > d) d = sub;
        return d + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* each input gets its own arena, as a request would, though parse_json allocates with jansson */
    arena a;
    arena_init(&a, 1024);
    json_t *j = (json_t *)&a;
    int rc = parse_json((const char *)data, size, MAX_DEPTH, &j);
    if (rc == PARSE_OK) {
        if (!j || !(json_is_object(j) || json_is_array(j)) || depth(j) > MAX_DEPTH || !utf8_valid((const char *)data, size))
            abort();
        char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
            abort();
        json_t *again = NULL;
        /* what we print we must accept again */
        if (parse_json(s, strlen(s), MAX_DEPTH, &again) != PARSE_OK || !json_equal(j, again))
            abort();
        json_decref(again);
        free(s);
        json_decref(j);
    } else if ((rc != PARSE_EINVAL && rc != PARSE_ETOOBIG) || j != NULL) {
        abort();
    }
    arena_destroy(&a);
    return 0;
}
