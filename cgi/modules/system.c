/* system.c — operational endpoints: liveness, detailed health of every dependency, and the
 * Prometheus metrics of all pool workers. The last two answer only metrics.allow addresses. */
#include "app.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "metrics.h"
#include "modules.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int health(request *req, response *res)
{
    res_json(res, 200, json_pack("{s:s}", "status", "ok"));
    return 0;
}

static json_t *check(const char *status, double ms)
{
    json_t *j = json_pack("{s:s}", "status", status);
    if (ms >= 0)
        json_object_set_new(j, "latency_ms", json_real(ms));
    return j;
}

/* The live workers (seen within worker.stale_s): name, backend, jobs done, the job in hand. */
static json_t *health_workers(request *req)
{
    json_t *list = json_array();
    const char *p[] = {config_get("worker.stale_s")};
    /* cross-tenant: workers serve every tenant */
    PGresult *r = db_query(req->a, "health_worker_list",
                           "SELECT worker_id, backend, extract(epoch from now() - seen_at), jobs_done, "
                           "coalesce(current_job_id, 0) FROM worker_heartbeats "
                           "WHERE seen_at > now() - make_interval(secs => $1::int) ORDER BY worker_id LIMIT 50",
                           1, p);
    for (int i = 0; r && i < PQntuples(r); i++) {
        long long cur = atoll(PQgetvalue(r, i, 4));
        json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:I, s:o}", "id", PQgetvalue(r, i, 0), "backend",
                                              PQgetvalue(r, i, 1), "seen_age_s", atof(PQgetvalue(r, i, 2)),
                                              "jobs_done", (json_int_t)atoll(PQgetvalue(r, i, 3)), "current_job",
                                              cur ? json_integer((json_int_t)cur) : json_null()));
    }
    return list;
}

static int health_detailed(request *req, response *res)
{
    double t0 = now_s();
    double pg = db_ping_ms();
    double rd = kv_ping_ms();
    json_t *checks = json_object();
    json_object_set_new(checks, "postgresql", check(pg >= 0 ? "up" : "down", pg));
    json_object_set_new(checks, "redis", check(rd >= 0 ? "up" : "down", rd));

    /* queue lag and worker heartbeat come from PostgreSQL, the source of truth */
    const char *overall = pg < 0 ? "unhealthy" : rd < 0 ? "degraded" : "healthy";
    if (pg >= 0) {
        double q0 = now_s();
        /* cross-tenant: platform health counts jobs of all tenants */
        /* each count reads one partial index (sql/0010): queued, running (lease held), dead/failed */
        PGresult *r = db_query(req->a, "health_queue",
                               "SELECT q.n, q.oldest, (SELECT count(*) FROM jobs WHERE status = 'queued' AND run_after <= now()), "
                               "(SELECT count(*) FROM jobs WHERE status = 'running' AND lease_until IS NOT NULL), "
                               "(SELECT count(*) FROM jobs WHERE status = 'dead' AND finished_at > now() - interval '1 day'), "
                               "(SELECT count(*) FROM jobs WHERE status = 'failed' AND finished_at > now() - interval '1 day') "
                               "FROM (SELECT count(*) AS n, coalesce(extract(epoch from now() - min(created_at)), 0) AS oldest "
                               "FROM jobs WHERE status = 'queued') q",
                               0, NULL);
        if (r) {
            long long queued = atoll(PQgetvalue(r, 0, 0));
            json_t *q = check(queued > config_int("queue.lag_warn") ? "degraded" : "up", (now_s() - q0) * 1000);
            json_object_set_new(q, "queued", json_integer(queued));
            json_object_set_new(q, "oldest_s", json_real(atof(PQgetvalue(r, 0, 1))));
            json_object_set_new(q, "due", json_integer(atoll(PQgetvalue(r, 0, 2))));
            json_object_set_new(q, "running", json_integer(atoll(PQgetvalue(r, 0, 3))));
            json_object_set_new(q, "dead", json_integer(atoll(PQgetvalue(r, 0, 4))));
            json_object_set_new(q, "failed", json_integer(atoll(PQgetvalue(r, 0, 5))));
            json_object_set_new(checks, "queue", q);
            if (queued > config_int("queue.lag_warn") && !strcmp(overall, "healthy"))
                overall = "degraded";
        }
        double w0 = now_s();
        const char *p[] = {config_get("worker.stale_s")};
        /* cross-tenant: workers serve every tenant */
        r = db_query(req->a, "health_workers",
                     "SELECT count(*) FILTER (WHERE seen_at > now() - make_interval(secs => $1::int)), "
                     "coalesce(extract(epoch from now() - max(seen_at)), -1) FROM worker_heartbeats",
                     1, p);
        if (r) {
            long long alive = atoll(PQgetvalue(r, 0, 0));
            json_t *w = check(alive > 0 ? "up" : "down", (now_s() - w0) * 1000);
            json_object_set_new(w, "alive", json_integer(alive));
            json_object_set_new(w, "last_heartbeat_age_s", json_real(atof(PQgetvalue(r, 0, 1))));
            json_object_set_new(w, "workers", health_workers(req));
            json_object_set_new(checks, "worker", w);
            if (!alive && !strcmp(overall, "healthy"))
                overall = "degraded";
        }
    }
    json_t *body = json_pack("{s:s, s:o, s:f}", "status", overall, "checks", checks, "duration_ms",
                             (now_s() - t0) * 1000);
    res_json(res, strcmp(overall, "unhealthy") == 0 ? 503 : 200, body);
    return 0;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void metrics_label(buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_putc(b, '\\');
        if (*v == '\n') {
            buf_puts(b, "\\n");
            continue;
        }
        buf_putc(b, *v);
    }
}

/* The job queue: jobs by status (PostgreSQL), and the counters of the live workers' heartbeats
 * (the worker has no shared metrics region; a restarted worker starts its counters again). */
static void metrics_jobs(request *req, buf *out)
{
    /* cross-tenant: platform-wide queue state */
    PGresult *r = db_query(req->a, "metrics_jobs",
                           "SELECT 'dead', count(*) FROM jobs WHERE status = 'dead' UNION ALL "
                           "SELECT 'failed', count(*) FROM jobs WHERE status = 'failed' UNION ALL "
                           "SELECT 'queued', count(*) FROM jobs WHERE status = 'queued' UNION ALL "
                           "SELECT 'running', count(*) FROM jobs WHERE status = 'running' AND lease_until IS NOT NULL",
                           0, NULL);
    if (r) {
        buf_puts(out, "# HELP jobs Jobs in the queue by status (dead and failed: all kept).\n# TYPE jobs gauge\n");
        for (int i = 0; i < PQntuples(r); i++)
            buf_printf(out, "jobs{status=\"%s\"} %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    }
    const char *p[] = {config_get("worker.stale_s")};
    /* cross-tenant: counters of the workers that serve every tenant */
    r = db_query(req->a, "metrics_worker_jobs",
                 "SELECT t.key, o.key, sum(o.value::bigint) FROM worker_heartbeats h, "
                 "jsonb_each(coalesce(h.stats->'jobs', '{}')) t, jsonb_each_text(t.value) o "
                 "WHERE h.seen_at > now() - make_interval(secs => $1::int) GROUP BY 1, 2 ORDER BY 1, 2",
                 1, p);
    if (r) {
        buf_puts(out, "# HELP worker_jobs_total Jobs run by the live workers, by type and outcome.\n"
                      "# TYPE worker_jobs_total counter\n");
        for (int i = 0; i < PQntuples(r); i++) {
            buf_puts(out, "worker_jobs_total{type=\"");
            metrics_label(out, PQgetvalue(r, i, 0));
            buf_puts(out, "\",outcome=\"");
            metrics_label(out, PQgetvalue(r, i, 1));
            buf_printf(out, "\"} %s\n", PQgetvalue(r, i, 2));
        }
    }
    /* cross-tenant: the pickup-latency histograms of the live workers, bucket by bucket */
    r = db_query(req->a, "metrics_worker_pickup",
                 "SELECT x.i, x.le, sum(coalesce((h.stats->'pickup_ms'->'buckets'->>(x.i::int - 1))::bigint, 0)), "
                 "(SELECT coalesce(sum((stats->'pickup_ms'->>'sum')::float8), 0) FROM worker_heartbeats "
                 "WHERE seen_at > now() - make_interval(secs => $1::int)) "
                 "FROM worker_heartbeats h, jsonb_array_elements_text((SELECT stats->'pickup_ms'->'le' || '[\"+Inf\"]' "
                 "FROM worker_heartbeats WHERE seen_at > now() - make_interval(secs => $1::int) "
                 "AND stats ? 'pickup_ms' LIMIT 1)) WITH ORDINALITY AS x(le, i) "
                 "WHERE h.seen_at > now() - make_interval(secs => $1::int) GROUP BY x.i, x.le ORDER BY x.i",
                 1, p);
    if (r && PQntuples(r) > 0) {
        buf_puts(out, "# HELP worker_job_pickup_seconds Time from enqueue (or the retry time) to a worker's claim.\n"
                      "# TYPE worker_job_pickup_seconds histogram\n");
        long long cum = 0;
        for (int i = 0; i < PQntuples(r); i++) {
            cum += atoll(PQgetvalue(r, i, 2));
            const char *le = PQgetvalue(r, i, 1);
            if (!strcmp(le, "+Inf"))
                buf_printf(out, "worker_job_pickup_seconds_bucket{le=\"+Inf\"} %lld\n", cum);
            else
                buf_printf(out, "worker_job_pickup_seconds_bucket{le=\"%g\"} %lld\n", atof(le) / 1000.0, cum);
        }
        buf_printf(out, "worker_job_pickup_seconds_sum %g\nworker_job_pickup_seconds_count %lld\n",
                   atof(PQgetvalue(r, 0, 3)) / 1000.0, cum);
    }
}

static int metrics_page(request *req, response *res)
{
    metrics_slot_set(app_worker_slot, (int)getpid(), metrics_self_rss());
    buf_clear(&res->body);
    metrics_render(&res->body, router_name);
    /* e-mail is sent by the job worker, which has no shared metrics region: the outbox is the truth */
    /* cross-tenant: platform-wide outbox counts */
    PGresult *r = db_query(req->a, "metrics_mail",
                           "SELECT s.status, count(m.id) FROM (VALUES ('queued'), ('sent'), ('failed')) AS s(status) "
                           "LEFT JOIN mail_outbox m ON m.status = s.status GROUP BY s.status ORDER BY s.status",
                           0, NULL);
    if (r) {
        buf_puts(&res->body, "# HELP mail_outbox_messages E-mail messages in the outbox, by status.\n"
                             "# TYPE mail_outbox_messages gauge\n");
        for (int i = 0; i < PQntuples(r); i++)
            buf_printf(&res->body, "mail_outbox_messages{status=\"%s\"} %s\n", PQgetvalue(r, i, 0),
                       PQgetvalue(r, i, 1));
    }
    metrics_jobs(req, &res->body);
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

static const route routes[] = {
    {"GET", "/health", health, R_PUBLIC | R_NOLOG, NULL, NULL},
    {"GET", "/health/detailed", health_detailed, R_INTERNAL | R_NOLOG, NULL, NULL},
    {"GET", "/metrics", metrics_page, R_INTERNAL | R_NOLOG, NULL, NULL},
};

const module system_module = {"system", NULL, NULL, ROUTES(routes)};
