/* queue.c — the producer side of the job queue: enqueue (one, or a batch), the stream send, the
 * quota hook, cancel and retry. The row is committed before its id reaches the stream. */
#include "queue.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "plans.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Job ids per stream entry: a batch enqueue costs one XADD per QUEUE_IDS_PER_ENTRY jobs. */
#define QUEUE_IDS_PER_ENTRY 16

static char queue_err[256];
static queue_quota_fn quota_hook = queue_quota_default;

const char *queue_error(void)
{
    return queue_err;
}

static int queue_fail(int code, const char *msg)
{
    snprintf(queue_err, sizeof queue_err, "%s", msg);
    return code;
}

void queue_set_quota_hook(queue_quota_fn fn)
{
    quota_hook = fn ? fn : queue_quota_default;
}

int queue_type_valid(const char *type)
{
    size_t n = type ? strlen(type) : 0;
    if (n < 1 || n > 40 || type[0] < 'a' || type[0] > 'z')
        return 0;
    return strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* A JSON object no bigger than queue.max_params_bytes; NULL counts as {}. */
static int params_valid(const char *params)
{
    if (!params)
        return 1;
    size_t n = strlen(params);
    if ((long)n > config_int("queue.max_params_bytes"))
        return 0;
    json_error_t e;
    json_t *j = json_loadb(params, n, JSON_REJECT_DUPLICATES, &e);
    int ok = j && json_is_object(j);
    json_decref(j);
    return ok;
}

/* The tenant's jobs of the given types (comma-separated) since 00:00 UTC, or -1. */
static long long jobs_today(const ctx *c, const char *types)
{
    const char *p[] = {types};
    PGresult *r = tq_query(c, "queue_quota_count",
                           "SELECT count(*) FROM jobs WHERE tenant_id = $1 AND type = ANY(string_to_array($2, ',')) "
                           "AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
                           1, p);
    if (!r)
        return -1;
    long long used = atoll(PQgetvalue(r, 0, 0));
    if (!c->a)
        PQclear(r);
    return used;
}

/* Two limits, the stricter refusing: the platform's queue.quota.<type>.per_day, then the tenant
 * plan's daily limit for the types it covers (plans_job_limit). */
int queue_quota_default(const ctx *c, const char *type, char *why, size_t whylen)
{
    char key[96];
    snprintf(key, sizeof key, "queue.quota.%s.per_day", type);
    long limit = config_int(key);
    if (limit > 0) {
        long long used = jobs_today(c, type);
        if (used < 0)
            return QUEUE_ERR;
        if (used >= limit) {
            snprintf(why, whylen, "%lld of %ld '%s' jobs per day used", used, limit, type);
            return QUEUE_EQUOTA;
        }
    }
    plan_limit which;
    const char *types;
    if (!plans_job_limit(type, &which, &types))
        return 0;
    plan_refusal r;
    long long per_day;
    if (plans_limit(c->a, c->tenant_id, which, &per_day) == 0 && per_day == PLAN_UNLIMITED)
        return 0;
    long long used = jobs_today(c, types);
    if (used < 0)
        return QUEUE_ERR;
    if (plans_check(c->a, c->tenant_id, which, used, 1, &r) == 1)
        return 0;
    snprintf(why, whylen, "%s", r.why);
    return QUEUE_EQUOTA;
}

/* ---- the stream ---- */

/* XADD one entry carrying up to QUEUE_IDS_PER_ENTRY ids as "ids" = "1,2,3". */
static int xadd_ids(const long long *ids, int n)
{
    char list[QUEUE_IDS_PER_ENTRY * 21], maxlen[24];
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%lld", i ? "," : "", ids[i]);
    snprintf(maxlen, sizeof maxlen, "%ld", config_int("queue.stream_maxlen"));
    const char *argv[] = {"XADD", config_get("queue.stream"), "MAXLEN", "~", maxlen, "*", "ids", list};
    redisReply *r = kv_cmdv(NULL, 8, argv, NULL);
    if (!r)
        return -1;
    int ok = r->type != REDIS_REPLY_ERROR;
    if (!ok)
        log_warn("queue: XADD refused: %s", r->str);
    freeReplyObject(r);
    return ok ? 0 : -1;
}

/* Sent ids whose XADD failed are marked unsent, so the sweeper's next pass sends them (rather
 * than after queue.resend_ms). */
static void mark_unsent(const long long *ids, int n)
{
    char *arr = malloc((size_t)n * 21 + 3);
    if (!arr)
        return;
    size_t len = 0;
    arr[len++] = '{';
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(arr + len, "%s%lld", i ? "," : "", ids[i]);
    arr[len++] = '}';
    arr[len] = '\0';
    const char *p[] = {arr};
    db_exec(NULL, "queue_unsent", "UPDATE jobs SET enqueued_at = NULL WHERE id = ANY($1::bigint[]) AND status = 'queued'",
            1, p);
    free(arr);
}

int queue_send(const long long *ids, int n)
{
    int sent = 0;
    while (sent < n) {
        int k = n - sent < QUEUE_IDS_PER_ENTRY ? n - sent : QUEUE_IDS_PER_ENTRY;
        if (xadd_ids(ids + sent, k) < 0) {
            mark_unsent(ids + sent, n - sent);
            log_warn("queue: redis unavailable; %d job(s) stay queued for the sweeper", n - sent);
            return -1;
        }
        sent += k;
    }
    return sent;
}

/* ---- enqueue ---- */

#define ENQUEUE_INSERT(tenant_value)                                                                                  \
    "WITH ins AS (INSERT INTO jobs (tenant_id, user_id, type, params, max_attempts, dedupe_key, run_after, "          \
    "enqueued_at) VALUES (" tenant_value ", nullif($2::bigint, 0), $3, $4::jsonb, $5::int, $6, "                       \
    "now() + make_interval(secs => $7::float8 / 1000), CASE WHEN $8::bool THEN now() END) "                          \
    "ON CONFLICT ((coalesce(tenant_id, 0)), dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id) "       \
    "SELECT id, true FROM ins UNION ALL "

long long queue_enqueue(const ctx *c, const char *type, const char *params_json, const queue_opts *opts)
{
    queue_opts none = {0};
    const queue_opts *o = opts ? opts : &none;
    if (!queue_type_valid(type))
        return queue_fail(QUEUE_EINVAL, "job type must match [a-z][a-z0-9_]{0,39}");
    if (!params_valid(params_json))
        return queue_fail(QUEUE_EINVAL, "job params must be a JSON object within queue.max_params_bytes");
    if (o->max_attempts < 0 || o->max_attempts > 100 || o->delay_ms < 0 || o->delay_ms > 366L * 86400 * 1000 ||
        (o->dedupe_key && (!*o->dedupe_key || strlen(o->dedupe_key) > 200)))
        return queue_fail(QUEUE_EINVAL, "max_attempts must be 0..100, delay_ms 0..1 year, dedupe_key 1..200 bytes");
    if (c->tenant_id > 0) {
        char why[200] = "quota exceeded";
        int q = quota_hook(c, type, why, sizeof why);
        if (q == QUEUE_EQUOTA)
            return queue_fail(QUEUE_EQUOTA, why);
        if (q < 0)
            return QUEUE_ERR;
    }
    char tid[24], uid[24], ma[16], delay[24];
    snprintf(tid, sizeof tid, "%lld", c->tenant_id > 0 ? c->tenant_id : 0);
    snprintf(uid, sizeof uid, "%lld", c->user_id > 0 ? c->user_id : 0);
    snprintf(ma, sizeof ma, "%ld", o->max_attempts ? (long)o->max_attempts : config_int("queue.max_attempts"));
    snprintf(delay, sizeof delay, "%ld", o->delay_ms);
    int send = !o->defer_send && o->delay_ms == 0;
    const char *p[] = {tid, uid, type, params_json ? params_json : "{}", ma, o->dedupe_key, delay, send ? "t" : "f"};
    long long id = 0;
    int fresh = 0;
    /* a dedupe conflict with a row committed after this statement's snapshot reads nothing back:
     * the second try sees it. The lookup is written to use the dedupe index (coalesce(tenant_id,
     * 0), dedupe_key), and is skipped altogether without a key. */
    for (int attempt = 0; attempt < 2 && !id; attempt++) {
        PGresult *r;
        if (c->tenant_id > 0)
            r = tq_query(c, "queue_enqueue",
                         ENQUEUE_INSERT("$1") "SELECT id, false FROM jobs WHERE $6::text IS NOT NULL AND "
                                              "tenant_id = $1 AND coalesce(tenant_id, 0) = $1 AND dedupe_key = $6 "
                                              "AND NOT EXISTS (SELECT 1 FROM ins)",
                         7, p + 1);
        else
            r = db_query(NULL, "queue_enqueue_system",
                         ENQUEUE_INSERT("nullif($1::bigint, 0)") "SELECT id, false FROM jobs WHERE $6::text IS NOT "
                                                                 "NULL AND coalesce(tenant_id, 0) = $1::bigint "
                                                                 "AND dedupe_key = $6 AND NOT EXISTS (SELECT 1 FROM ins)",
                         8, p);
        if (!r)
            return QUEUE_ERR;
        if (PQntuples(r) > 0) {
            id = atoll(PQgetvalue(r, 0, 0));
            fresh = !strcmp(PQgetvalue(r, 0, 1), "t");
        }
        if (!c->a || c->tenant_id <= 0)
            PQclear(r);
    }
    if (!id)
        return queue_fail(QUEUE_ERR, "the job's dedupe key matched a job that could not be read");
    if (fresh && send)
        queue_send(&id, 1);
    return id;
}

long long queue_enqueue_for(const ctx *c, const char *type, const char *table, const char *key, const char *row_id)
{
    char params[96], name[64], sql[160], job[24];
    if (snprintf(params, sizeof params, "{\"%s\":%s}", key, row_id) >= (int)sizeof params ||
        snprintf(name, sizeof name, "queue_link_%s", table) >= (int)sizeof name ||
        snprintf(sql, sizeof sql, "UPDATE %s SET job_id = $3::bigint WHERE tenant_id = $1 AND id = $2::bigint", table) >=
            (int)sizeof sql)
        return queue_fail(QUEUE_EINVAL, "table, key or row id too long");
    queue_opts o = {0};
    o.defer_send = 1;
    long long id = queue_enqueue(c, type, params, &o);
    if (id <= 0)
        return id;
    snprintf(job, sizeof job, "%lld", id);
    const char *p[] = {row_id, job};
    return tq_exec(c, name, sql, 2, p) == 1 ? id : QUEUE_ERR;
}

int queue_enqueue_batch(const queue_item *items, int n, long long *ids)
{
    if (n <= 0)
        return 0;
    json_t *arr = json_array();
    int rc = QUEUE_ERR;
    char *text = NULL;
    long long *fresh = NULL;
    for (int i = 0; i < n; i++) {
        const queue_item *it = &items[i];
        ids[i] = 0;
        if (!queue_type_valid(it->type) || !params_valid(it->params_json) || it->max_attempts < 0 ||
            it->max_attempts > 100 || (it->dedupe_key && (!*it->dedupe_key || strlen(it->dedupe_key) > 200))) {
            rc = queue_fail(QUEUE_EINVAL, "invalid job in batch (type, params, max_attempts or dedupe_key)");
            goto out;
        }
        json_t *params = json_loads(it->params_json ? it->params_json : "{}", 0, NULL);
        json_t *o = json_pack("{s:I, s:I, s:s, s:o, s:i}", "t", (json_int_t)it->tenant_id, "u",
                              (json_int_t)it->user_id, "type", it->type, "params", params, "ma",
                              it->max_attempts ? it->max_attempts : (int)config_int("queue.max_attempts"));
        if (!o)
            goto out;
        if (it->dedupe_key)
            json_object_set_new(o, "dk", json_string(it->dedupe_key));
        json_array_append_new(arr, o);
    }
    text = json_dumps(arr, JSON_COMPACT);
    if (!text)
        goto out;
    const char *p[] = {text};
    /* ids are drawn first so each input row knows its own: RETURNING order is not guaranteed */
    PGresult *r = db_query(NULL, "queue_enqueue_batch",
                           "WITH x AS (SELECT x.*, nextval('jobs_id_seq') AS id FROM ROWS FROM (jsonb_to_recordset($1::jsonb) "
                           "AS (t bigint, u bigint, type text, params jsonb, ma int, dk text)) WITH ORDINALITY "
                           "AS x(t, u, type, params, ma, dk, n)), "
                           "ins AS (INSERT INTO jobs (id, tenant_id, user_id, type, params, max_attempts, dedupe_key, "
                           "enqueued_at) SELECT id, nullif(t, 0), nullif(u, 0), type, params, ma, dk, now() FROM x "
                           "ORDER BY n ON CONFLICT ((coalesce(tenant_id, 0)), dedupe_key) WHERE dedupe_key IS NOT NULL "
                           "DO NOTHING RETURNING id) "
                           "SELECT x.n, CASE WHEN ins.id IS NOT NULL THEN x.id ELSE (SELECT j.id FROM jobs j WHERE "
                           "coalesce(j.tenant_id, 0) = x.t AND j.dedupe_key = x.dk) END, ins.id IS NOT NULL "
                           "FROM x LEFT JOIN ins ON ins.id = x.id ORDER BY x.n",
                           1, p);
    if (!r)
        goto out;
    fresh = malloc((size_t)n * sizeof *fresh);
    int nfresh = 0;
    for (int i = 0; i < PQntuples(r) && i < n; i++) {
        int k = atoi(PQgetvalue(r, i, 0)) - 1;
        if (k < 0 || k >= n)
            continue;
        ids[k] = PQgetisnull(r, i, 1) ? 0 : atoll(PQgetvalue(r, i, 1));
        if (!strcmp(PQgetvalue(r, i, 2), "t") && fresh)
            fresh[nfresh++] = ids[k];
    }
    PQclear(r);
    if (nfresh)
        queue_send(fresh, nfresh);
    rc = nfresh;
out:
    free(fresh);
    free(text);
    json_decref(arr);
    return rc;
}

/* ---- cancel and retry: one tenant statement and its audit record in one transaction ---- */

typedef struct queue_change {
    const ctx *c;
    char id[24];
    int result;
} queue_change;

/* Runs a tenant statement, or for the system scope (tenant 0) its "tenant_id IS NULL" twin
 * with the same parameters ($1 is then 0). */
static PGresult *scoped(const ctx *c, const char *name, const char *tenant_sql, const char *system_sql, int n,
                        const char *const *p, int *must_clear)
{
    *must_clear = 1;
    if (c->tenant_id > 0) {
        *must_clear = c->a == NULL;
        return tq_query(c, name, tenant_sql, n, p);
    }
    char sname[80];
    snprintf(sname, sizeof sname, "%s_system", name);
    const char *sp[8] = {"0"};
    for (int i = 0; i < n && i < 7; i++)
        sp[i + 1] = p[i];
    return db_query(NULL, sname, system_sql, n + 1, sp);
}

/* The job's current status (into st), 1 when it exists in c's scope, 0 when not, -1 on error. */
static int job_status(const ctx *c, const char *id, char *st, size_t stlen, int *cancel_requested)
{
    const char *p[] = {id};
    int clear;
    PGresult *r = scoped(c, "queue_status", "SELECT status, cancel_requested FROM jobs WHERE tenant_id = $1 AND id = $2::bigint",
                         "SELECT status, cancel_requested FROM jobs WHERE tenant_id IS NULL AND $1::bigint = 0 AND id = $2::bigint",
                         1, p, &clear);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(st, stlen, "%s", PQgetvalue(r, 0, 0));
        *cancel_requested = !strcmp(PQgetvalue(r, 0, 1), "t");
    }
    if (clear)
        PQclear(r);
    return found;
}

#define CANCEL_SET                                                                                                    \
    "UPDATE jobs j SET status = CASE WHEN j.status = 'queued' THEN 'cancelled' ELSE j.status END, "                   \
    "cancel_requested = j.status = 'running', finished_at = CASE WHEN j.status = 'queued' THEN now() END, "           \
    "updated_at = now() FROM (SELECT id, status FROM jobs WHERE "
#define CANCEL_TAIL                                                                                                   \
    " AND id = $2::bigint AND (status = 'queued' OR (status = 'running' AND NOT cancel_requested)) FOR UPDATE) old "  \
    "WHERE j.id = old.id RETURNING old.status, j.status, j.type"

static int cancel_tx(void *arg)
{
    queue_change *ch = arg;
    const char *p[] = {ch->id};
    int clear;
    PGresult *r = scoped(ch->c, "queue_cancel", CANCEL_SET "tenant_id = $1" CANCEL_TAIL,
                         CANCEL_SET "tenant_id IS NULL AND $1::bigint = 0" CANCEL_TAIL, 1, p, &clear);
    if (!r)
        return -1;
    int rc = 0;
    if (PQntuples(r) == 1) {
        json_t *before = json_pack("{s:s, s:s}", "status", PQgetvalue(r, 0, 0), "type", PQgetvalue(r, 0, 2));
        json_t *after = json_pack("{s:s, s:b}", "status", PQgetvalue(r, 0, 1), "cancel_requested",
                                  !strcmp(PQgetvalue(r, 0, 1), "running"));
        ch->result = !strcmp(PQgetvalue(r, 0, 1), "cancelled") ? 1 : 2;
        rc = audit_record(ch->c, "jobs.cancel", "job", ch->id, before, after);
        json_decref(before);
        json_decref(after);
    }
    if (clear)
        PQclear(r);
    return rc;
}

int queue_cancel(const ctx *c, long long id)
{
    queue_change ch = {c, "", 0};
    snprintf(ch.id, sizeof ch.id, "%lld", id);
    if (id <= 0)
        return QUEUE_ENOTFOUND;
    if (db_tx(cancel_tx, &ch) != 0)
        return QUEUE_ERR;
    if (ch.result)
        return ch.result;
    char st[16] = "";
    int requested = 0;
    int found = job_status(c, ch.id, st, sizeof st, &requested);
    if (found < 0)
        return QUEUE_ERR;
    if (!found)
        return QUEUE_ENOTFOUND;
    /* asking again while the handler has not stopped yet changes nothing */
    if (!strcmp(st, "running") && requested)
        return 2;
    return QUEUE_ESTATE;
}

#define RETRY_SET                                                                                                     \
    "UPDATE jobs j SET status = 'queued', attempts = 0, run_after = now(), error = NULL, result = NULL, "              \
    "progress = 0, cancel_requested = false, worker_id = NULL, lease_until = NULL, started_at = NULL, "               \
    "finished_at = NULL, enqueued_at = now(), updated_at = now() FROM (SELECT id, status, error, attempts, type "     \
    "FROM jobs WHERE "
#define RETRY_TAIL                                                                                                    \
    " AND id = $2::bigint AND status IN ('dead', 'failed', 'cancelled') FOR UPDATE) old WHERE j.id = old.id "         \
    "RETURNING old.status, coalesce(old.error, ''), old.attempts, old.type"

static int retry_tx(void *arg)
{
    queue_change *ch = arg;
    const char *p[] = {ch->id};
    int clear;
    PGresult *r = scoped(ch->c, "queue_retry", RETRY_SET "tenant_id = $1" RETRY_TAIL,
                         RETRY_SET "tenant_id IS NULL AND $1::bigint = 0" RETRY_TAIL, 1, p, &clear);
    if (!r)
        return -1;
    int rc = 0;
    if (PQntuples(r) == 1) {
        json_t *before = json_pack("{s:s, s:s, s:i, s:s}", "status", PQgetvalue(r, 0, 0), "error",
                                   PQgetvalue(r, 0, 1), "attempts", atoi(PQgetvalue(r, 0, 2)), "type",
                                   PQgetvalue(r, 0, 3));
        json_t *after = json_pack("{s:s, s:i}", "status", "queued", "attempts", 0);
        ch->result = 1;
        rc = audit_record(ch->c, "jobs.retry", "job", ch->id, before, after);
        json_decref(before);
        json_decref(after);
    }
    if (clear)
        PQclear(r);
    return rc;
}

int queue_retry(const ctx *c, long long id)
{
    queue_change ch = {c, "", 0};
    snprintf(ch.id, sizeof ch.id, "%lld", id);
    if (id <= 0)
        return QUEUE_ENOTFOUND;
    if (db_tx(retry_tx, &ch) != 0)
        return QUEUE_ERR;
    if (!ch.result) {
        char st[16] = "";
        int requested = 0;
        int found = job_status(c, ch.id, st, sizeof st, &requested);
        return found < 0 ? QUEUE_ERR : found ? QUEUE_ESTATE : QUEUE_ENOTFOUND;
    }
    queue_send(&id, 1);
    return 0;
}
