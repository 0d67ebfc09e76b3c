/* auditoria.c — Auditoria: the platform-wide audit trail, newest first, with filters and keyset
 * paging, and its CSV export (RFC 4180, spreadsheet formulas neutralised, itself audited). */
#include "app.h"
#include "audit.h"
#include "config.h"
#include "csv.h"
#include "db.h"
#include "modules.h"
#include "paging.h"
#include "parse.h"
#include "rbac.h"
#include "render.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDITORIA_PAGE 50
#define AUDITORIA_BATCH 5000
#define AUDITORIA_MAX_TEXT 100

/* The filters of both the page and the export, as given (NULL = not set) plus their SQL values. */
typedef struct auditoria_filters {
    const char *action, *actor, *tenant, *object_type, *from, *to;
    const char *action_like; /* action with LIKE wildcards escaped, plus the trailing % */
    keyset page;
} auditoria_filters;

/* Reads and validates the filters; 0, or -1 after answering 422 (nothing else happens then). */
static int auditoria_filters_read(request *req, response *res, auditoria_filters *f)
{
    memset(f, 0, sizeof *f);
    f->action = query_value(req, "action");
    f->actor = query_value(req, "actor");
    f->tenant = query_value(req, "tenant");
    f->object_type = query_value(req, "object_type");
    f->from = query_value(req, "from");
    f->to = query_value(req, "to");
    int ok = 1;
    /* actions are "<module>.<verb>" in [a-z0-9_.] (audit_append refuses anything else) */
    if (f->action && (strlen(f->action) > AUDITORIA_MAX_TEXT ||
                      strspn(f->action, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(f->action)))
        ok = 0;
    if (f->object_type) {
        if (strlen(f->object_type) > AUDITORIA_MAX_TEXT)
            ok = 0;
        for (const unsigned char *p = (const unsigned char *)f->object_type; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                ok = 0;
    }
    if ((f->actor && !parse_id(f->actor)) || (f->tenant && !parse_id(f->tenant)) || keyset_read(req, &f->page) < 0)
        ok = 0;
    if ((f->from && !parse_date_ymd(f->from)) || (f->to && !parse_date_ymd(f->to)))
        ok = 0;
    /* same-length ISO dates compare as text */
    if (ok && f->from && f->to && strcmp(f->from, f->to) > 0)
        ok = 0;
    if (!ok) {
        res_error(req, res, 422, "bad_filter", render_lang_string(req->lang, "auditoria.bad_filter"));
        return -1;
    }
    if (f->action) {
        /* a prefix match: '_' is a LIKE wildcard, so it (and the escape character) is escaped */
        size_t n = strlen(f->action);
        char *l = arena_alloc(req->a, 2 * n + 2);
        if (!l)
            return -1;
        char *o = l;
        for (const char *p = f->action; *p; p++) {
            if (*p == '_' || *p == '%' || *p == '\\')
                *o++ = '\\';
            *o++ = *p;
        }
        *o++ = '%';
        *o = '\0';
        f->action_like = l;
    }
    return 0;
}

/* Rows at the cursor k, newest first unless k reads upwards (keyset_row puts them in order);
 * time_format is the to_char pattern of the time column. The caller PQclears. */
static PGresult *auditoria_select(request *req, const auditoria_filters *f, const keyset *k, long limit,
                                  const char *time_format)
{
    sql_where w = {0};
    char sql[2560], lim[24];
    where_add(&w, f->action_like, "a.action LIKE $? ESCAPE '\\'");
    where_add(&w, f->actor, "a.actor_user_id = $?::bigint");
    where_add(&w, f->tenant, "a.tenant_id = $?::bigint");
    where_add(&w, f->object_type, "a.object_type = $?");
    where_add(&w, f->from, "a.at >= ($?::date)::timestamp AT TIME ZONE 'UTC'");
    where_add(&w, f->to, "a.at < ($?::date + 1)::timestamp AT TIME ZONE 'UTC'");
    const char *order = keyset_where(k, &w, "a.id");
    snprintf(lim, sizeof lim, "%ld", limit);
    int nlim = where_param(&w, lim), nfmt = where_param(&w, time_format);
    if (w.overflow)
        return NULL;
    int n = snprintf(sql, sizeof sql,
                     "SELECT a.id, to_char(a.at AT TIME ZONE 'UTC', $%d), coalesce(a.tenant_id::text, ''), "
                     "coalesce(a.actor_user_id::text, ''), coalesce(u.email, ''), a.action, a.object_type, "
                     "a.object_id, coalesce(a.before::text, ''), coalesce(a.after::text, ''), a.ip, a.request_id, "
                     "a.hash FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id "
                     "WHERE true%s ORDER BY a.id %s LIMIT $%d::bigint",
                     nfmt, w.sql, order, nlim);
    if (n < 0 || (size_t)n >= sizeof sql)
        return NULL;
    /* cross-tenant: Auditoria is the platform's compliance reader; only audit.read/export holders get here */
    return db_query(NULL, NULL, sql, w.n, w.params);
}

/* jsonb text ({"a": 1, "b": [1, 2]}) without the blanks jsonb puts between tokens: the same JSON,
 * compact, byte for byte inside strings and numbers (a reparse would round 1.50 or big numbers).
 * dst has room for strlen(src) + 1. */
static void auditoria_compact(char *dst, const char *src)
{
    int in_str = 0;
    for (; *src; src++) {
        char c = *src;
        if (in_str) {
            *dst++ = c;
            if (c == '\\' && src[1])
                *dst++ = *++src;
            else if (c == '"')
                in_str = 0;
        } else if (c != ' ') {
            *dst++ = c;
            in_str = c == '"';
        }
    }
    *dst = '\0';
}

static const char *auditoria_compact_a(arena *a, const char *src)
{
    char *dst = arena_alloc(a, strlen(src) + 1);
    if (!dst)
        return src;
    auditoria_compact(dst, src);
    return dst;
}

/* The filters as a query string (for the next-page and export links), "" when none. */
static const char *const auditoria_filter_names[] = {"action", "actor", "tenant", "object_type", "from", "to"};
enum { AUDITORIA_FILTERS = sizeof auditoria_filter_names / sizeof auditoria_filter_names[0] };

static const char *auditoria_query_string(request *req, const auditoria_filters *f)
{
    const char *vals[AUDITORIA_FILTERS] = {f->action, f->actor, f->tenant, f->object_type, f->from, f->to};
    return url_query(req->a, auditoria_filter_names, vals, AUDITORIA_FILTERS);
}

static json_t *auditoria_filters_json(const auditoria_filters *f)
{
    const char *vals[AUDITORIA_FILTERS] = {f->action, f->actor, f->tenant, f->object_type, f->from, f->to};
    return filters_json(auditoria_filter_names, vals, AUDITORIA_FILTERS);
}

static int auditoria_index(request *req, response *res)
{
    auditoria_filters f;
    if (auditoria_filters_read(req, res, &f) < 0)
        return res->status ? 0 : -1;
    PGresult *r = auditoria_select(req, &f, &f.page, AUDITORIA_PAGE + 1, "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"");
    if (!r)
        return -1;
    int n = PQntuples(r), shown = keyset_shown(n, AUDITORIA_PAGE);
    json_t *rows = json_array();
    for (int row = 0, i = keyset_row(&f.page, 0, shown); row < shown; row++, i = keyset_row(&f.page, row, shown))
        json_array_append_new(
            rows, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                            (json_int_t)atoll(PQgetvalue(r, i, 0)), "at", PQgetvalue(r, i, 1), "tenant_id",
                            PQgetvalue(r, i, 2), "actor_id", PQgetvalue(r, i, 3), "actor_email", PQgetvalue(r, i, 4),
                            "action", PQgetvalue(r, i, 5), "object_type", PQgetvalue(r, i, 6), "object_id",
                            PQgetvalue(r, i, 7), "before", auditoria_compact_a(req->a, PQgetvalue(r, i, 8)), "after",
                            auditoria_compact_a(req->a, PQgetvalue(r, i, 9)), "ip", PQgetvalue(r, i, 10),
                            "request_id", PQgetvalue(r, i, 11)));
    const char *qs = auditoria_query_string(req, &f);
    json_t *d = json_pack("{s:o, s:o, s:s, s:b}", "rows", rows, "filters", auditoria_filters_json(&f), "query", qs,
                          "can_export", rbac_has(req->a, req->session->user_id, "audit.export") == 1);
    keyset_links(req, &f.page, r, n, AUDITORIA_PAGE, 0, "/auditoria", qs, d);
    PQclear(r);
    res_page(res, "auditoria/index.cs", "auditoria.title", d);
    return 0;
}

static int auditoria_export(request *req, response *res)
{
    auditoria_filters f;
    if (auditoria_filters_read(req, res, &f) < 0)
        return res->status ? 0 : -1;
    long cap = config_int("audit.export_max_rows");
    if (cap < 1)
        cap = 1;
    buf *b = &res->body;
    buf_clear(b);
    buf_puts(b, "id,at,tenant_id,actor_user_id,actor_email,action,object_type,object_id,before,after,ip,request_id,"
                "hash\r\n");
    long rows = 0;
    int truncated = 0;
    /* the export reads downwards from the page's before cursor (or the newest) */
    keyset k = {.before = f.page.before};
    char last[24] = "";
    /* heap, not the arena: an export may hold many thousand rows */
    buf scratch;
    buf_init(&scratch);
    int rc = 0;
    /* batches keep one PGresult small however large the export */
    for (;;) {
        long want = cap - rows < AUDITORIA_BATCH ? cap - rows + 1 : AUDITORIA_BATCH;
        PGresult *r = auditoria_select(req, &f, &k, want, "YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"");
        if (!r) {
            rc = -1;
            break;
        }
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            if (rows == cap) {
                truncated = 1;
                break;
            }
            for (int c = 0; c < 13; c++) {
                const char *v = PQgetvalue(r, i, c);
                if ((c == 8 || c == 9) && buf_reserve(&scratch, strlen(v) + 1) == 0) {
                    auditoria_compact(scratch.data, v);
                    v = scratch.data;
                }
                csv_field(b, v, c == 12);
            }
            rows++;
        }
        if (n > 0)
            snprintf(last, sizeof last, "%s", PQgetvalue(r, n - 1, 0));
        PQclear(r);
        if (truncated || n < want)
            break;
        k.before = last;
    }
    buf_free(&scratch);
    if (rc < 0 || b->oom)
        goto fail;
    /* an export without its audit row must not happen */
    json_t *after = json_pack("{s:o, s:I, s:b}", "filters", auditoria_filters_json(&f), "rows", (json_int_t)rows,
                              "truncated", truncated);
    rc = audit_record(&req->cx, "audit.export", "audit_log", "", NULL, after);
    json_decref(after);
    if (rc < 0)
        goto fail;
    char day[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    res->status = 200;
    res->content_type = "text/csv; charset=utf-8";
    res_header(res, "Content-Disposition", arena_printf(req->a, "attachment; filename=\"audit-%s.csv\"", day));
    if (truncated)
        res_header(res, "X-Truncated", "1");
    return 0;
fail:
    buf_clear(b);
    return -1;
}

static const route routes[] = {
    {"GET", "/auditoria", auditoria_index, R_AUTH | R_PAGE, "audit.read", NULL},
    {"GET", "/auditoria/export.csv", auditoria_export, R_AUTH, "audit.export", NULL},
};

const module auditoria_module = {"auditoria", "nav.auditoria", "/auditoria", ROUTES(routes)};
