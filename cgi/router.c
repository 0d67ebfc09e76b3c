/* router.c — matches a decoded path against the flattened route list segment by segment.
 * Literal segments must match exactly; {name} captures one non-empty segment. */
#include "router.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    route r;          /* copy: twins get their own pattern */
    int twin;
};

static struct entry *entries;
static size_t n_entries;
static const module *const *mods;

static int add(const route *r, const char *pattern, int twin)
{
    struct entry *e = realloc(entries, (n_entries + 1) * sizeof(*e));
    if (!e)
        return -1;
    entries = e;
    entries[n_entries].r = *r;
    entries[n_entries].r.pattern = pattern;
    entries[n_entries].twin = twin;
    n_entries++;
    return 0;
}

int router_init(const module *const *modules)
{
    for (size_t i = 0; i < n_entries; i++)
        if (entries[i].twin)
            free((char *)entries[i].r.pattern);
    free(entries);
    entries = NULL;
    n_entries = 0;
    mods = modules;
    for (const module *const *m = modules; *m; m++) {
        for (size_t i = 0; i < (*m)->n_routes; i++) {
            const route *r = &(*m)->routes[i];
            if (r->pattern[0] != '/') {
                log_error("route %s %s: pattern must start with /", r->method, r->pattern);
                return -1;
            }
            /* a permission or a step-up means nothing without a signed-in user: such a table
             * would silently skip its own check, so it is refused at start */
            if ((r->permission || (r->flags & (R_STEPUP | R_SESSION_ONLY | R_MFA_SETUP))) && !(r->flags & R_AUTH)) {
                log_error("route %s %s: a permission, R_STEPUP, R_SESSION_ONLY or R_MFA_SETUP needs R_AUTH", r->method,
                          r->pattern);
                return -1;
            }
            /* without its own limit such a route would have none at all */
            if ((r->flags & R_OWN_LIMIT) && !r->rate_action) {
                log_error("route %s %s: R_OWN_LIMIT needs a rate_action", r->method, r->pattern);
                return -1;
            }
            if ((r->flags & R_CSRF) && strcmp(r->method, "POST") && strcmp(r->method, "PUT") &&
                strcmp(r->method, "PATCH") && strcmp(r->method, "DELETE")) {
                log_error("route %s %s: R_CSRF on a method that must not change state", r->method, r->pattern);
                return -1;
            }
            if (add(r, r->pattern, 0) < 0)
                return -1;
            if (r->flags & R_PAGE) {
                char *twin = malloc(strlen(r->pattern) + 8);
                if (!twin)
                    return -1;
                sprintf(twin, "/api/v1%s", r->pattern);
                if (add(r, twin, 1) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

size_t router_count(void)
{
    return n_entries;
}

const route *router_at(int idx)
{
    return idx >= 0 && (size_t)idx < n_entries ? &entries[idx].r : NULL;
}

const char *router_name(int idx)
{
    return idx >= 0 && (size_t)idx < n_entries ? entries[idx].r.pattern : NULL;
}

int router_is_twin(int idx)
{
    return idx >= 0 && (size_t)idx < n_entries && entries[idx].twin;
}

const module *const *router_modules(void)
{
    return mods;
}

/* Matches one pattern; captures go to req when req != NULL. */
static int match(request *req, const char *pattern, const char *path)
{
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                return 0;
            const char *seg_end = strchr(s, '/');
            size_t seg = seg_end ? (size_t)(seg_end - s) : strlen(s);
            if (seg == 0)
                return 0;
            if (req) {
                char *name = arena_strndup(req->a, p + 1, (size_t)(close - p - 1));
                char *value = arena_strndup(req->a, s, seg);
                if (!name || !value || kv_add(req->a, &req->path_params, name, value, seg))
                    return 0;
            }
            p = close + 1;
            s += seg;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

int router_match(request *req, const char *method, const char *path, int *idx, char *allow, size_t allowlen)
{
    int path_matched = 0;
    size_t alen = 0;
    if (allow && !allowlen)
        allow = NULL; /* nowhere to write the Allow list */
    if (allow)
        allow[0] = '\0';
    int is_head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < n_entries; i++) {
        const route *r = &entries[i].r;
        if (!match(NULL, r->pattern, path))
            continue;
        int same = strcmp(r->method, method) == 0 || (is_head && strcmp(r->method, "GET") == 0);
        if (same) {
            req->path_params.n = 0;
            if (!match(req, r->pattern, path))
                return ROUTER_NOT_FOUND;
            *idx = (int)i;
            return ROUTER_FOUND;
        }
        path_matched = 1;
        if (allow && !strstr(allow, r->method)) {
            int w = snprintf(allow + alen, allowlen - alen, "%s%s", alen ? ", " : "", r->method);
            if (w > 0 && (size_t)w < allowlen - alen)
                alen += (size_t)w;
            if (strcmp(r->method, "GET") == 0 && !strstr(allow, "HEAD")) {
                w = snprintf(allow + alen, allowlen - alen, ", HEAD");
                if (w > 0 && (size_t)w < allowlen - alen)
                    alen += (size_t)w;
            }
        }
    }
    return path_matched ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}

unsigned router_path_flags(const char *method, const char *path)
{
    unsigned flags = 0;
    int is_head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < n_entries; i++) {
        const route *r = &entries[i].r;
        int same = strcmp(r->method, method) == 0 || (is_head && strcmp(r->method, "GET") == 0);
        if (same && match(NULL, r->pattern, path))
            flags |= r->flags;
    }
    return flags;
}
