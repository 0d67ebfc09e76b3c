/* jobs.c — the tenant's jobs: list with status, progress and errors, one job's params and result,
 * start a job of an allowed type, cancel and retry (audited through lib/queue). */
#include "app.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "modules.h"
#include "queue.h"
#include "render.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_PAGE 50

static const char *const jobs_statuses[] = {"queued", "running", "done", "failed", "dead", "cancelled"};
#define JOBS_NSTATUSES (sizeof jobs_statuses / sizeof jobs_statuses[0])

static int jobs_is_status(const char *s)
{
    for (size_t i = 0; i < JOBS_NSTATUSES; i++)
        if (!strcmp(s, jobs_statuses[i]))
            return 1;
    return 0;
}

/* Types users may start: queue.web_types, plus the test types in test and development. */
static json_t *jobs_web_types(void)
{
    json_t *list = json_array();
    const char *cfg = config_get("queue.web_types");
    char types[512];
    snprintf(types, sizeof types, "%s", cfg ? cfg : "");
    for (char *save = NULL, *t = strtok_r(types, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (queue_type_valid(t))
            json_array_append_new(list, json_string(t));
    const char *env = config_get("app.env");
    if (env && (!strcmp(env, "test") || !strcmp(env, "development"))) {
        const char *dev[] = {"sleep", "fail", "crash"};
        for (size_t i = 0; i < 3; i++)
            json_array_append_new(list, json_string(dev[i]));
    }
    return list;
}

static int jobs_type_allowed(const char *type)
{
    json_t *list = jobs_web_types();
    size_t i;
    json_t *v;
    int ok = 0;
    json_array_foreach(list, i, v) ok |= !strcmp(json_string_value(v), type);
    json_decref(list);
    return ok;
}

static void jobs_not_found(request *req, response *res)
{
    /* another tenant's job answers exactly like one that does not exist */
    res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
}

#define JOBS_TIME(col) "coalesce(to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '')"
#define JOBS_COLUMNS                                                                                                  \
    "id, type, status, round(progress * 100)::int, attempts, max_attempts, coalesce(error, ''), "                     \
    "cancel_requested, " JOBS_TIME("created_at") ", " JOBS_TIME("started_at") ", " JOBS_TIME("finished_at") ", "      \
    "CASE WHEN status = 'queued' AND run_after > now() THEN " JOBS_TIME("run_after") " ELSE '' END"

/* One row of JOBS_COLUMNS as the object the list and the show page share. */
static json_t *jobs_row(PGresult *r, int i)
{
    return json_pack("{s:I, s:s, s:s, s:i, s:i, s:i, s:s, s:b, s:s, s:s, s:s, s:s}", "id",
                     (json_int_t)atoll(PQgetvalue(r, i, 0)), "type", PQgetvalue(r, i, 1), "status",
                     PQgetvalue(r, i, 2), "progress", atoi(PQgetvalue(r, i, 3)), "attempts",
                     atoi(PQgetvalue(r, i, 4)), "max_attempts", atoi(PQgetvalue(r, i, 5)), "error",
                     PQgetvalue(r, i, 6), "cancel_requested", !strcmp(PQgetvalue(r, i, 7), "t"), "created",
                     PQgetvalue(r, i, 8), "started", PQgetvalue(r, i, 9), "finished", PQgetvalue(r, i, 10),
                     "retry_at", PQgetvalue(r, i, 11));
}

static int jobs_list(request *req, response *res)
{
    const char *status = req_query(req, "status"), *before = req_query(req, "before");
    if (status && !*status)
        status = NULL;
    if (before && !*before)
        before = NULL;
    if ((status && !jobs_is_status(status)) ||
        (before && (strlen(before) > 18 || strspn(before, "0123456789") != strlen(before) || atoll(before) <= 0))) {
        res_error(req, res, 422, "bad_filter", render_lang_string(req->lang, "jobs.bad_filter"));
        return 0;
    }
    char lim[16];
    snprintf(lim, sizeof lim, "%d", JOBS_PAGE + 1);
    const char *p[] = {status, before, lim};
    PGresult *r = tq_query(&req->cx, "jobs_list",
                           "SELECT " JOBS_COLUMNS " FROM jobs WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) "
                           "AND ($3::bigint IS NULL OR id < $3::bigint) ORDER BY id DESC LIMIT $4::int",
                           3, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    json_t *list = json_array();
    for (int i = 0; i < n && i < JOBS_PAGE; i++)
        json_array_append_new(list, jobs_row(r, i));
    json_t *d = json_pack("{s:o, s:o, s:o}", "jobs", list, "statuses", json_array(), "web_types", jobs_web_types());
    for (size_t i = 0; i < JOBS_NSTATUSES; i++)
        json_array_append_new(json_object_get(d, "statuses"), json_string(jobs_statuses[i]));
    json_object_set_new(d, "status", status ? json_string(status) : json_null());
    json_object_set_new(d, "next_before",
                        n > JOBS_PAGE ? json_integer((json_int_t)atoll(PQgetvalue(r, JOBS_PAGE - 1, 0))) : json_null());
    /* something still moving: the page refreshes itself (static/js/app.js), without script it is a link */
    int live = 0;
    for (int i = 0; i < n && i < JOBS_PAGE; i++)
        live |= !strcmp(PQgetvalue(r, i, 2), "queued") || !strcmp(PQgetvalue(r, i, 2), "running");
    json_object_set_new(d, "live", json_boolean(live));
    res_page(res, "jobs/index.cs", "jobs.title", d);
    return 0;
}

/* A JSON column as a value (NULL stays null) and as indented text for the page. */
static void jobs_json_field(json_t *d, const char *name, PGresult *r, int col)
{
    json_t *v = PQgetisnull(r, 0, col) ? json_null() : json_loads(PQgetvalue(r, 0, col), JSON_DECODE_ANY, NULL);
    if (!v)
        v = json_null();
    char pretty_key[32];
    snprintf(pretty_key, sizeof pretty_key, "%s_pretty", name);
    char *s = json_is_null(v) ? NULL : json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    json_object_set_new(d, pretty_key, json_string(s ? s : ""));
    free(s);
    json_object_set_new(d, name, v);
}

static int jobs_show_id(request *req, response *res, const char *id)
{
    const char *p[] = {id};
    PGresult *r = tq_query(&req->cx, "jobs_show",
                           "SELECT " JOBS_COLUMNS ", params::text, result::text, coalesce(worker_id, ''), "
                           "coalesce(dedupe_key, ''), coalesce(user_id, 0), " JOBS_TIME("updated_at") " "
                           "FROM jobs WHERE tenant_id = $1 AND id = $2::bigint",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        jobs_not_found(req, res);
        return 0;
    }
    json_t *job = jobs_row(r, 0);
    jobs_json_field(job, "params", r, 12);
    jobs_json_field(job, "result", r, 13);
    json_object_set_new(job, "worker", json_string(PQgetvalue(r, 0, 14)));
    json_object_set_new(job, "dedupe_key", json_string(PQgetvalue(r, 0, 15)));
    json_object_set_new(job, "user_id", json_integer((json_int_t)atoll(PQgetvalue(r, 0, 16))));
    json_object_set_new(job, "updated", json_string(PQgetvalue(r, 0, 17)));
    const char *st = PQgetvalue(r, 0, 2);
    int can_cancel = !strcmp(st, "queued") || (!strcmp(st, "running") && strcmp(PQgetvalue(r, 0, 7), "t"));
    int can_retry = !strcmp(st, "dead") || !strcmp(st, "failed") || !strcmp(st, "cancelled");
    json_object_set_new(job, "can_cancel", json_boolean(can_cancel));
    json_object_set_new(job, "can_retry", json_boolean(can_retry));
    int live = !strcmp(st, "queued") || !strcmp(st, "running");
    res_page(res, "jobs/show.cs", "jobs.show_title", json_pack("{s:o, s:b}", "job", job, "live", live));
    return 0;
}

static int jobs_show(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        jobs_not_found(req, res);
        return 0;
    }
    return jobs_show_id(req, res, id);
}

typedef struct jobs_new {
    const ctx *c;
    const char *type, *params;
    queue_opts o;
    long long id;
} jobs_new;

static int jobs_create_tx(void *arg)
{
    jobs_new *n = arg;
    n->id = queue_enqueue(n->c, n->type, n->params, &n->o);
    if (n->id <= 0)
        return n->id < 0 ? (int)n->id : QUEUE_ERR;
    char id[24];
    snprintf(id, sizeof id, "%lld", n->id);
    json_t *after = json_pack("{s:s, s:i}", "type", n->type, "max_attempts", n->o.max_attempts);
    int rc = after ? audit_record(n->c, "jobs.enqueue", "job", id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

static int jobs_create(request *req, response *res)
{
    const char *type = req_field(req, "type");
    /* params: an object in a JSON body (or its text), the text of the form's field; none = {} */
    const char *params = "{}";
    if (req->json && json_is_object(req->json)) {
        json_t *pj = json_object_get(req->json, "params");
        if (json_is_object(pj)) {
            char *s = json_dumps(pj, JSON_COMPACT);
            params = s ? arena_strdup(req->a, s) : "";
            free(s);
        } else if (json_is_string(pj)) {
            params = json_string_value(pj);
        } else if (pj && !json_is_null(pj)) {
            params = ""; /* refused below as not an object */
        }
    } else {
        const char *f = req_form(req, "params");
        if (f && *f)
            params = f;
    }
    const char *ma = req_field(req, "max_attempts");
    long max_attempts = 0;
    if (ma && *ma) {
        char *end;
        max_attempts = strtol(ma, &end, 10);
        if (*end || max_attempts < 1 || max_attempts > 20)
            max_attempts = -1;
    }
    if (!type || !queue_type_valid(type) || !jobs_type_allowed(type)) {
        res_error(req, res, 422, "unknown_job_type", render_lang_string(req->lang, "jobs.err_type"));
        return 0;
    }
    if (max_attempts < 0) {
        res_error(req, res, 422, "invalid_job", render_lang_string(req->lang, "jobs.err_attempts"));
        return 0;
    }
    jobs_new n = {&req->cx, type, params, {(int)max_attempts, NULL, 0, 1}, 0};
    int rc = db_tx(jobs_create_tx, &n);
    if (rc == QUEUE_EQUOTA) {
        char *msg = arena_printf(req->a, "%s (%s)", render_lang_string(req->lang, "jobs.quota_exceeded"), queue_error());
        res_error(req, res, 429, "quota_exceeded", msg);
        return 0;
    }
    if (rc == QUEUE_EINVAL) {
        res_error(req, res, 422, "invalid_job", render_lang_string(req->lang, "jobs.err_params"));
        return 0;
    }
    if (rc != 0)
        return -1;
    /* committed: now the workers may see it */
    queue_send(&n.id, 1);
    char id[24];
    snprintf(id, sizeof id, "%lld", n.id);
    if (req->api) {
        res->status = 201;
        return jobs_show_id(req, res, id);
    }
    res_redirect(res, arena_printf(req->a, "/jobs/%s", id));
    return 0;
}

/* cancel and retry: lib/queue does the tenant-scoped change and its audit record */
static int jobs_change(request *req, response *res, int retry)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        jobs_not_found(req, res);
        return 0;
    }
    int rc = retry ? queue_retry(&req->cx, atoll(id)) : queue_cancel(&req->cx, atoll(id));
    if (rc == QUEUE_ENOTFOUND) {
        jobs_not_found(req, res);
        return 0;
    }
    if (rc == QUEUE_ESTATE) {
        res_error(req, res, 409, "job_state",
                  render_lang_string(req->lang, retry ? "jobs.err_retry_state" : "jobs.err_cancel_state"));
        return 0;
    }
    if (rc < 0)
        return -1;
    if (req->api)
        return jobs_show_id(req, res, id);
    res_redirect(res, arena_printf(req->a, "/jobs/%s", id));
    return 0;
}

static int jobs_cancel(request *req, response *res)
{
    return jobs_change(req, res, 0);
}

static int jobs_retry(request *req, response *res)
{
    return jobs_change(req, res, 1);
}

#define JOBS_WRITE (R_AUTH | R_CSRF | R_PAGE)

static const route routes[] = {
    {"GET", "/jobs", jobs_list, R_AUTH | R_PAGE, "jobs.view", NULL},
    {"POST", "/jobs", jobs_create, JOBS_WRITE, "jobs.manage", "jobs.enqueue"},
    {"GET", "/jobs/{id}", jobs_show, R_AUTH | R_PAGE, "jobs.view", NULL},
    {"POST", "/jobs/{id}/cancel", jobs_cancel, JOBS_WRITE, "jobs.manage", NULL},
    {"POST", "/jobs/{id}/retry", jobs_retry, JOBS_WRITE, "jobs.manage", NULL},
};

const module jobs_module = {"jobs", "nav.jobs", "/jobs", ROUTES(routes)};
