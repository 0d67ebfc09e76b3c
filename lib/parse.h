/* parse.h — parsers for what arrives in a request: percent-encoding, query strings and
 * urlencoded forms, Cookie headers, UTF-8 validation and JSON bodies, each with hard limits. */
#ifndef BCF_PARSE_H
#define BCF_PARSE_H
#include <stddef.h>
#include <jansson.h>
#include "arena.h"
#include "utf8.h"

enum {
    PARSE_OK = 0,
    PARSE_EINVAL = -1,   /* malformed: bad %-escape, invalid UTF-8, bad JSON */
    PARSE_ETOOMANY = -2, /* more fields than the limit */
    PARSE_ETOOBIG = -3,  /* a single item is too large or too deep */
    PARSE_ENOMEM = -4,
};

typedef struct kvpair {
    const char *key;
    const char *value;
    size_t value_len;
} kvpair;

typedef struct kvlist {
    kvpair *items;
    size_t n, cap;
} kvlist;

/* Decodes %XX and (when plus_is_space) '+' into a NUL-terminated arena string.
 * Rejects bad escapes, NUL bytes and invalid UTF-8. */
int url_decode(arena *a, const char *s, size_t n, int plus_is_space, char **out, size_t *outlen);
/* Percent-encodes s for a query value (unreserved characters and '/' stay as they are). */
char *url_encode(arena *a, const char *s);
/* application/x-www-form-urlencoded and query strings: a=1&b=2. Empty pieces are skipped. */
int parse_urlencoded(arena *a, const char *s, size_t n, size_t max_fields, kvlist *out);
/* Cookie header: name=value; name2=value2 (RFC 6265; values may be quoted, not decoded). */
int parse_cookies(arena *a, const char *s, size_t n, size_t max_fields, kvlist *out);
/* JSON body: must be an object or array, valid UTF-8, no deeper than max_depth. */
int parse_json(const char *s, size_t n, size_t max_depth, json_t **out);
/* First value for key, or NULL. */
/* "name=value&name2=value2" of the pairs whose value is not NULL, values percent-encoded (the
 * filters of a list page for its next-page and export links); "" when none or out of memory. */
const char *url_query(arena *a, const char *const *names, const char *const *values, size_t n);
/* A row id as a query gives it: 1 to 18 decimal digits, not zero. 1 or 0. */
int parse_id(const char *s);
/* A calendar day YYYY-MM-DD that exists (from 1970; no 2026-02-30). 1 or 0. */
int parse_date_ymd(const char *s);
const char *kv_get(const kvlist *l, const char *key);
int kv_add(arena *a, kvlist *l, const char *key, const char *value, size_t value_len);
#endif
