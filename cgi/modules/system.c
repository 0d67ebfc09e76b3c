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
        PGresult *r = db_query(req->a, "health_queue",
                               "SELECT count(*) FILTER (WHERE status = 'queued'), "
                               "coalesce(extract(epoch from now() - min(created_at) FILTER (WHERE status = 'queued')), 0) "
                               "FROM jobs",
                               0, NULL);
        if (r) {
            long long queued = atoll(PQgetvalue(r, 0, 0));
            json_t *q = check(queued > config_int("queue.lag_warn") ? "degraded" : "up", (now_s() - q0) * 1000);
            json_object_set_new(q, "queued", json_integer(queued));
            json_object_set_new(q, "oldest_s", json_real(atof(PQgetvalue(r, 0, 1))));
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
