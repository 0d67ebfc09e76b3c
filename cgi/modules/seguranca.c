/* seguranca.c — Segurança: the platform's security event log (filters, keyset paging, counts per
 * kind over 24 h) with its open anomaly alerts first, and acknowledging an alert (audited). */
#include "app.h"
#include "audit.h"
#include "db.h"
#include "modules.h"
#include "render.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SEG_PAGE = 50 };

static int only(const char *s, const char *set, size_t maxlen)
{
    size_t n = strlen(s);
    return n > 0 && n <= maxlen && strspn(s, set) == n;
}

/* A calendar date YYYY-MM-DD that exists (2026-02-30 does not). */
static int valid_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    struct tm tm = {0};
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1)
        return 0;
    struct tm copy = tm;
    if (timegm(&copy) == (time_t)-1)
        return 0;
    /* timegm normalises an impossible day into the next month */
    return copy.tm_mon == tm.tm_mon && copy.tm_mday == tm.tm_mday;
}

/* The filters of the event list: absent or empty means no filter (NULL), malformed means 422. */
struct filters {
    const char *kind, *user, *ip, *from, *to, *before;
};

static int read_filters(request *req, struct filters *f)
{
    const char **slot[] = {&f->kind, &f->user, &f->ip, &f->from, &f->to, &f->before};
    const char *names[] = {"kind", "user", "ip", "from", "to", "before"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = req_query(req, names[i]);
        *slot[i] = v && *v ? v : NULL;
    }
    if (f->kind && !only(f->kind, "abcdefghijklmnopqrstuvwxyz_", 40))
        return -1;
    if (f->user && !only(f->user, "0123456789", 18))
        return -1;
    if (f->before && !only(f->before, "0123456789", 18))
        return -1;
    if (f->ip && !only(f->ip, "0123456789abcdefABCDEF:.", 45))
        return -1;
    if ((f->from && !valid_date(f->from)) || (f->to && !valid_date(f->to)))
        return -1;
    if (f->from && f->to && strcmp(f->from, f->to) > 0)
        return -1;
    return 0;
}

/* A nullable bigint column as a JSON integer or null. */
static json_t *id_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null() : json_integer(atoll(PQgetvalue(r, row, col)));
}

static int can_manage(const request *req)
{
    for (const char *const *p = req->session->perms; p && *p; p++)
        if (!strcmp(*p, "security.manage"))
            return 1;
    return 0;
}

static int dashboard(request *req, response *res)
{
    struct filters f;
    if (read_filters(req, &f) < 0) {
        res_error(req, res, 422, "bad_filter", render_lang_string(req->lang, "seguranca.bad_filter"));
        return 0;
    }
    /* cross-tenant: Segurança is the company's security function and watches the whole
     * platform (events of every tenant, and anonymous ones without a tenant) */
    PGresult *al = db_query(req->a, "seg_alerts_open",
                            "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), rule, subject, observed, "
                            "threshold FROM security_alerts WHERE acknowledged_at IS NULL ORDER BY id DESC LIMIT 100",
                            0, NULL);
    /* cross-tenant: as above */
    PGresult *cn = db_query(req->a, "seg_counts_24h",
                            "SELECT kind, count(*) FROM security_events WHERE at > now() - interval '24 hours' "
                            "GROUP BY kind ORDER BY count(*) DESC, kind",
                            0, NULL);
    const char *p[] = {f.kind, f.user, f.ip, f.from, f.to, f.before};
    /* cross-tenant: as above; one page more than shown tells whether a next page exists */
    PGresult *ev = db_query(req->a, "seg_events",
                            "SELECT e.id, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), e.kind, e.severity, "
                            "e.user_id, coalesce(u.email, ''), e.actor_id, e.ip, "
                            "e.request_id, e.details::text FROM security_events e LEFT JOIN users u ON u.id = e.user_id "
                            "WHERE ($1::text IS NULL OR e.kind = $1) "
                            "AND ($2::bigint IS NULL OR e.user_id = $2 OR e.actor_id = $2) "
                            "AND ($3::text IS NULL OR e.ip = $3) "
                            "AND ($4::date IS NULL OR e.at >= $4::date::timestamp AT TIME ZONE 'UTC') "
                            "AND ($5::date IS NULL OR e.at < ($5::date + 1)::timestamp AT TIME ZONE 'UTC') "
                            "AND ($6::bigint IS NULL OR e.id < $6) "
                            "ORDER BY e.id DESC LIMIT 51",
                            6, p);
    if (!al || !cn || !ev)
        return -1;
    json_t *alerts = json_array(), *counts = json_array(), *events = json_array();
    for (int i = 0; i < PQntuples(al); i++)
        json_array_append_new(alerts, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I}", "id",
                                                (json_int_t)atoll(PQgetvalue(al, i, 0)), "at", PQgetvalue(al, i, 1),
                                                "rule", PQgetvalue(al, i, 2), "subject", PQgetvalue(al, i, 3),
                                                "observed", (json_int_t)atoll(PQgetvalue(al, i, 4)), "threshold",
                                                (json_int_t)atoll(PQgetvalue(al, i, 5))));
    for (int i = 0; i < PQntuples(cn); i++)
        json_array_append_new(counts, json_pack("{s:s, s:I}", "kind", PQgetvalue(cn, i, 0), "count",
                                                (json_int_t)atoll(PQgetvalue(cn, i, 1))));
    int n = PQntuples(ev), shown = n > SEG_PAGE ? SEG_PAGE : n;
    for (int i = 0; i < shown; i++) {
        json_t *d = json_loads(PQgetvalue(ev, i, 9), 0, NULL);
        json_array_append_new(events,
                              json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:s, s:o}", "id",
                                        (json_int_t)atoll(PQgetvalue(ev, i, 0)), "at", PQgetvalue(ev, i, 1), "kind",
                                        PQgetvalue(ev, i, 2), "severity", PQgetvalue(ev, i, 3), "user_id",
                                        id_or_null(ev, i, 4), "user_email", PQgetvalue(ev, i, 5), "actor_id",
                                        id_or_null(ev, i, 6), "ip", PQgetvalue(ev, i, 7), "request_id",
                                        PQgetvalue(ev, i, 8), "details", d ? d : json_object()));
        /* the page shows the details as one line of text; the JSON twin keeps the object */
        json_object_set_new(json_array_get(events, (size_t)i), "details_text", json_string(PQgetvalue(ev, i, 9)));
    }
    json_t *filter = json_object();
    const char *names[] = {"kind", "user", "ip", "from", "to"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        json_object_set_new(filter, names[i], json_string(p[i] ? p[i] : ""));
    json_t *data = json_pack("{s:o, s:o, s:o, s:o, s:b}", "alerts", alerts, "counts", counts, "events", events,
                             "filter", filter, "can_manage", can_manage(req));
    if (n > SEG_PAGE)
        json_object_set_new(data, "next_before", json_integer(atoll(PQgetvalue(ev, SEG_PAGE - 1, 0))));
    res_page(res, "seguranca/index.cs", "seguranca.title", data);
    return 0;
}

struct ack_job {
    request *req;
    const char *id;
    int outcome; /* HTTP status: 200, 404 or 409 */
};

static int ack_tx(void *arg)
{
    struct ack_job *k = arg;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", k->req->cx.user_id);
    const char *p[] = {k->id, uid};
    /* cross-tenant: alerts are the platform's, not any tenant's */
    PGresult *r = db_query(k->req->a, "seg_alert_ack",
                           "UPDATE security_alerts SET acknowledged_by = $2::bigint, acknowledged_at = now() "
                           "WHERE id = $1::bigint AND acknowledged_at IS NULL RETURNING rule, subject, observed",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        /* cross-tenant: as above */
        PGresult *e = db_query(k->req->a, "seg_alert_exists", "SELECT 1 FROM security_alerts WHERE id = $1::bigint", 1, p);
        if (!e)
            return -1;
        k->outcome = PQntuples(e) ? 409 : 404;
        return 0;
    }
    json_t *before = json_pack("{s:s, s:s, s:I, s:b}", "rule", PQgetvalue(r, 0, 0), "subject", PQgetvalue(r, 0, 1),
                               "observed", (json_int_t)atoll(PQgetvalue(r, 0, 2)), "acknowledged", 0);
    json_t *after = json_pack("{s:b}", "acknowledged", 1);
    int rc = audit_record(&k->req->cx, "security.alert_ack", "security_alert", k->id, before, after);
    json_decref(before);
    json_decref(after);
    if (rc < 0)
        return -1;
    k->outcome = 200;
    return 0;
}

static int ack(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "seguranca.alert_not_found"));
        return 0;
    }
    struct ack_job k = {req, id, 0};
    if (db_tx(ack_tx, &k) < 0)
        return -1;
    if (k.outcome == 404) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "seguranca.alert_not_found"));
        return 0;
    }
    if (k.outcome == 409) {
        res_error(req, res, 409, "already_acknowledged", render_lang_string(req->lang, "seguranca.already_acked"));
        return 0;
    }
    if (req->api)
        res_json(res, 200, json_pack("{s:I, s:b}", "id", (json_int_t)atoll(id), "acknowledged", 1));
    else
        res_redirect(res, "/seguranca");
    return 0;
}

static const route routes[] = {
    {"GET", "/seguranca", dashboard, R_AUTH | R_PAGE, "security.read", NULL},
    {"POST", "/seguranca/alerts/{id}/ack", ack, R_AUTH | R_CSRF | R_PAGE, "security.manage", NULL},
};

const module seguranca_module = {"seguranca", "nav.seguranca", "/seguranca", ROUTES(routes)};
