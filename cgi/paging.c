/* paging.c — keyset paging for the staff lists: cursors read from the query, their WHERE and ORDER
 * BY, rows shown newest first, and the links to the older and newer pages. */
#include "paging.h"
#include "parse.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int where_param(sql_where *w, const char *value)
{
    if (w->n >= PAGING_MAX_PARAMS) {
        w->overflow = 1;
        return -1;
    }
    w->params[w->n++] = value;
    return w->n;
}

void where_add(sql_where *w, const char *value, const char *fragment)
{
    if (!value)
        return;
    int num = where_param(w, value);
    if (num < 0)
        return;
    char out[256];
    size_t o = (size_t)snprintf(out, sizeof out, " AND ");
    for (const char *p = fragment; *p && o < sizeof out - 1; p++) {
        if (p[0] == '$' && p[1] == '?') {
            o += (size_t)snprintf(out + o, sizeof out - o, "$%d", num);
            p++;
        } else
            out[o++] = *p;
    }
    if (o >= sizeof out - 1 || w->len + o >= sizeof w->sql) {
        w->overflow = 1;
        return;
    }
    memcpy(w->sql + w->len, out, o);
    w->len += o;
    w->sql[w->len] = '\0';
}

const char *query_value(request *req, const char *name)
{
    const char *v = req_query(req, name);
    return v && *v ? v : NULL;
}

int keyset_read(request *req, keyset *k)
{
    k->before = query_value(req, "before");
    k->after = query_value(req, "after");
    if ((k->before && !parse_id(k->before)) || (k->after && !parse_id(k->after)) || (k->before && k->after))
        return -1;
    return 0;
}

const char *keyset_where(const keyset *k, sql_where *w, const char *id_col)
{
    char frag[96];
    if (k->after) {
        /* the newer page is read upwards from the cursor, then shown newest first */
        snprintf(frag, sizeof frag, "%s > $?::bigint", id_col);
        where_add(w, k->after, frag);
        return "ASC";
    }
    snprintf(frag, sizeof frag, "%s < $?::bigint", id_col);
    where_add(w, k->before, frag);
    return "DESC";
}

int keyset_shown(int fetched, int page)
{
    return fetched > page ? page : fetched;
}

int keyset_row(const keyset *k, int i, int shown)
{
    return k->after ? shown - 1 - i : i;
}

static void keyset_link(request *req, json_t *d, const char *field, const char *url_field, const char *dir,
                        const char *path, const char *query, long long id)
{
    json_object_set_new(d, field, json_integer((json_int_t)id));
    json_object_set_new(d, url_field, json_string(arena_printf(req->a, "%s?%s%s%s=%lld", path, query,
                                                               *query ? "&" : "", dir, id)));
}

void keyset_links(request *req, const keyset *k, PGresult *r, int fetched, int page, int idcol, const char *path,
                  const char *query, json_t *d)
{
    int shown = keyset_shown(fetched, page), more = fetched > page;
    if (shown == 0) {
        /* an empty newer page: the way back is everything older than the cursor, inclusive */
        if (k->after)
            keyset_link(req, d, "next_before", "next_url", "before", path, query, atoll(k->after) + 1);
        return;
    }
    long long newest = atoll(PQgetvalue(r, keyset_row(k, 0, shown), idcol));
    long long oldest = atoll(PQgetvalue(r, keyset_row(k, shown - 1, shown), idcol));
    /* older rows exist past a full page read downwards, and always behind an after cursor */
    if (k->after || more)
        keyset_link(req, d, "next_before", "next_url", "before", path, query, oldest);
    /* newer rows exist in front of a before cursor, and past a full page read upwards */
    if (k->before || (k->after && more))
        keyset_link(req, d, "prev_after", "prev_url", "after", path, query, newest);
}

json_t *filters_json(const char *const *names, const char *const *values, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, names[i], json_string(values[i] ? values[i] : ""));
    return o;
}
