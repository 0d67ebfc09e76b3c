/* parse.c — request parsers. Inputs are untrusted bytes with explicit lengths; outputs live in
 * the request arena. Every loop is bounded by the input length and the field limit. */
#include "parse.h"
#include <stdlib.h>
#include <string.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int url_decode(arena *a, const char *s, size_t n, int plus_is_space, char **out, size_t *outlen)
{
    char *d = arena_alloc(a, n + 1);
    if (!d)
        return PARSE_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3)
                return PARSE_EINVAL;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return PARSE_EINVAL;
            c = (unsigned char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            return PARSE_EINVAL;
        d[j++] = (char)c;
    }
    d[j] = '\0';
    if (!utf8_valid(d, j))
        return PARSE_EINVAL;
    *out = d;
    if (outlen)
        *outlen = j;
    return PARSE_OK;
}

char *url_encode(arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = arena_alloc(a, n * 3 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~' || *p == '/') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

int kv_add(arena *a, kvlist *l, const char *key, const char *value, size_t value_len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        kvpair *items = arena_alloc(a, cap * sizeof(*items));
        if (!items)
            return PARSE_ENOMEM;
        if (l->n)
            memcpy(items, l->items, l->n * sizeof(*items));
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n].key = key;
    l->items[l->n].value = value;
    l->items[l->n].value_len = value_len;
    l->n++;
    return PARSE_OK;
}

const char *kv_get(const kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

int parse_urlencoded(arena *a, const char *s, size_t n, size_t max_fields, kvlist *out)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != '&')
            i++;
        size_t len = i - start;
        i++; /* skip '&' */
        if (len == 0)
            continue;
        if (out->n >= max_fields)
            return PARSE_ETOOMANY;
        const char *piece = s + start;
        const char *eq = memchr(piece, '=', len);
        size_t klen = eq ? (size_t)(eq - piece) : len;
        char *key, *value;
        size_t vlen = 0;
        int rc = url_decode(a, piece, klen, 1, &key, NULL);
        if (rc)
            return rc;
        if (eq)
            rc = url_decode(a, eq + 1, len - klen - 1, 1, &value, &vlen);
        else
            rc = url_decode(a, "", 0, 1, &value, &vlen);
        if (rc)
            return rc;
        if ((rc = kv_add(a, out, key, value, vlen)))
            return rc;
    }
    return PARSE_OK;
}

static int is_cookie_octet(unsigned char c)
{
    /* RFC 6265 cookie-octet, minus the quote which we strip */
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

int parse_cookies(arena *a, const char *s, size_t n, size_t max_fields, kvlist *out)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == ';' || s[i] == '\t'))
            i++;
        if (i >= n)
            break;
        size_t ks = i;
        while (i < n && s[i] != '=' && s[i] != ';')
            i++;
        size_t ke = i;
        while (ke > ks && (s[ke - 1] == ' ' || s[ke - 1] == '\t'))
            ke--;
        if (i >= n || s[i] != '=') {
            /* a piece without '=' is ignored, as browsers do */
            continue;
        }
        i++;
        size_t vs = i;
        while (i < n && s[i] != ';')
            i++;
        size_t ve = i;
        while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
            ve--;
        if (ve - vs >= 2 && s[vs] == '"' && s[ve - 1] == '"') {
            vs++;
            ve--;
        }
        if (ke == ks)
            continue;
        int ok = 1;
        for (size_t k = vs; k < ve; k++)
            if (!is_cookie_octet((unsigned char)s[k]))
                ok = 0;
        for (size_t k = ks; k < ke; k++)
            if (!is_cookie_octet((unsigned char)s[k]) || s[k] == '=')
                ok = 0;
        if (!ok)
            continue; /* a malformed cookie must not hide the valid ones */
        if (out->n >= max_fields)
            return PARSE_ETOOMANY;
        char *key = arena_strndup(a, s + ks, ke - ks);
        char *value = arena_strndup(a, s + vs, ve - vs);
        if (!key || !value)
            return PARSE_ENOMEM;
        int rc = kv_add(a, out, key, value, ve - vs);
        if (rc)
            return rc;
    }
    return PARSE_OK;
}

static int json_depth_ok(const char *s, size_t n, size_t max_depth)
{
    /* a pre-scan so jansson never recurses deeper than we allow */
    size_t depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return 0;
        } else if (c == '}' || c == ']') {
            if (depth)
                depth--;
        }
    }
    return 1;
}

int parse_json(const char *s, size_t n, size_t max_depth, json_t **out)
{
    *out = NULL;
    if (!utf8_valid(s, n))
        return PARSE_EINVAL;
    if (!json_depth_ok(s, n, max_depth))
        return PARSE_ETOOBIG;
    json_error_t err;
    json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        return PARSE_EINVAL;
    if (!json_is_object(j) && !json_is_array(j)) {
        json_decref(j);
        return PARSE_EINVAL;
    }
    *out = j;
    return PARSE_OK;
}

int parse_id(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 18 && strspn(s, "0123456789") == n && atoll(s) > 0;
}

int parse_date_ymd(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

const char *url_query(arena *a, const char *const *names, const char *const *values, size_t n)
{
    char *qs = "";
    for (size_t i = 0; i < n; i++) {
        if (!values[i])
            continue;
        const char *enc = url_encode(a, values[i]);
        qs = arena_printf(a, "%s%s%s=%s", qs, *qs ? "&" : "", names[i], enc ? enc : "");
        if (!qs)
            return "";
    }
    return qs;
}
