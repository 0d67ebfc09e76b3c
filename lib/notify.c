/* notify.c — the one notify call: the recipients (a user, or every holder of a permission in the
 * company tenant) with their language, preferences and quiet hours; then per recipient one
 * notification row and its outbox deliveries, all in one transaction (the caller's when it has one). */
#include "notify.h"
#include "telegram_out.h"
#include "notify_template.h"
#include "db.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const notify_categories[] = {"financeiro", "seguranca", "trading", "assinaturas", "p2p",
                                         "affiliate", "sac", "sistema", NULL};

int notify_category_ok(const char *key)
{
    for (int i = 0; key && notify_categories[i]; i++)
        if (!strcmp(key, notify_categories[i]))
            return 1;
    return 0;
}

static const char *const priority_names[] = {"low", "normal", "high", "urgent"};

const char *notify_priority_name(notify_priority p)
{
    return p >= NOTIFY_LOW && p <= NOTIFY_URGENT ? priority_names[p] : "normal";
}

int notify_priority_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, priority_names[i]))
            return i;
    return -1;
}

/* the severity column predates priorities; the Segurança pages still read it */
static const char *severity_of(notify_priority p)
{
    return p == NOTIFY_URGENT ? "critical" : p == NOTIFY_HIGH ? "warning" : "info";
}

/* per recipient: id, tenant, lang, in_app, telegram, email, and the end of the quiet period now in
 * progress (NULL when none; sql/0027_notify_quiet_end.sql) */
#define RECIPIENT_COLUMNS                                                                                        \
    "SELECT u.id, u.tenant_id, u.lang, "                                                                         \
    "coalesce((SELECT p.enabled FROM notification_preferences p WHERE p.user_id = u.id AND p.category = c.key "  \
    "AND p.channel = 'in_app'), true)::int, "                                                                    \
    "(coalesce((SELECT p.enabled FROM notification_preferences p WHERE p.user_id = u.id AND p.category = c.key " \
    "AND p.channel = 'telegram'), c.telegram_default) "                                                          \
    "AND EXISTS (SELECT 1 FROM telegram_links t WHERE t.user_id = u.id))::int, "                                 \
    "(coalesce((SELECT p.enabled FROM notification_preferences p WHERE p.user_id = u.id AND p.category = c.key " \
    "AND p.channel = 'email'), c.email_default) AND u.email_verified_at IS NOT NULL)::int, "                     \
    "notify_quiet_end(now(), q.start_min, q.end_min, q.time_zone) "                                              \
    "FROM users u JOIN notification_categories c ON c.key = $1 "                                                 \
    "LEFT JOIN notification_quiet_hours q ON q.user_id = u.id "

typedef struct send_job {
    const ctx *c;
    const notify_msg *m;
    char *data_json;
    int written;
} send_job;

/* the in-app text in lang, rendered at most once per language */
typedef struct rendered {
    const char *lang, *title, *body;
} rendered;

static int render_in_app(send_job *j, const char *lang, rendered *cache, int *ncache, const char **title,
                         const char **body)
{
    for (int i = 0; i < *ncache; i++)
        if (!strcmp(cache[i].lang, lang)) {
            *title = cache[i].title;
            *body = cache[i].body;
            return 0;
        }
    const char *t = notify_render(j->c->a, j->m->template_name, lang, "in_app", "title", j->m->data);
    if (!t)
        return -1;
    const char *b = notify_render(j->c->a, j->m->template_name, lang, "in_app", "body", j->m->data);
    if (*ncache < 4) {
        cache[*ncache].lang = arena_strdup(j->c->a, lang);
        cache[*ncache].title = t;
        cache[*ncache].body = b ? b : "";
        (*ncache)++;
    }
    *title = t;
    *body = b ? b : "";
    return 0;
}

static int write_one(send_job *j, PGresult *r, int i, rendered *cache, int *ncache)
{
    const notify_msg *m = j->m;
    int in_app = atoi(PQgetvalue(r, i, 3)), telegram = atoi(PQgetvalue(r, i, 4)), email = atoi(PQgetvalue(r, i, 5));
    if (!in_app && !telegram && !email)
        return 0;
    const char *title, *body;
    if (render_in_app(j, PQgetvalue(r, i, 2), cache, ncache, &title, &body) < 0) {
        log_error("notify %s: template has no in_app title", m->template_name);
        return -1;
    }
    /* deliveries wait for the quiet period's end, an instant computed in the user's time zone */
    const char *quiet_end = m->priority == NOTIFY_URGENT || PQgetisnull(r, i, 6) ? "" : PQgetvalue(r, i, 6);
    char channels[32];
    snprintf(channels, sizeof channels, "{%s%s%s}", telegram ? "telegram" : "", telegram && email ? "," : "",
             email ? "email" : "");
    const char *p[] = {PQgetvalue(r, i, 1), PQgetvalue(r, i, 0), m->template_name, severity_of(m->priority), title, body,
                       m->category, m->template_name, j->data_json ? j->data_json : "{}",
                       notify_priority_name(m->priority), m->dedupe_key ? m->dedupe_key : "",
                       in_app ? "true" : "false", channels, quiet_end};
    /* one round trip: the notification, and its deliveries only when it was new */
    PGresult *w = db_query(j->c->a, "notify_write",
                           "WITH n AS (INSERT INTO notifications (tenant_id, user_id, kind, severity, title, body, "
                           "category, template, data, priority, dedupe_key, in_app) VALUES ($1::bigint, $2::bigint, $3, "
                           "$4, $5, $6, $7, $8, $9::jsonb, $10, nullif($11, ''), $12::boolean) "
                           "ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id, tenant_id, user_id), "
                           "d AS (INSERT INTO notification_deliveries (notification_id, tenant_id, user_id, channel, "
                           "dedupe_key, next_attempt_at) SELECT n.id, n.tenant_id, n.user_id, ch, "
                           "n.user_id || ':' || ch || ':' || coalesce(nullif($11, ''), 'n' || n.id), "
                           "coalesce(nullif($14, '')::timestamptz, now()) FROM n, unnest($13::text[]) ch "
                           "ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1) "
                           "SELECT (SELECT count(*) FROM n), (SELECT count(*) FROM d)",
                           14, p);
    if (!w)
        return -1;
    j->written += atoi(PQgetvalue(w, 0, 0));
    return 0;
}

static int send_tx(void *arg)
{
    send_job *j = arg;
    const notify_msg *m = j->m;
    j->written = 0;
    char tid[24], uid[24];
    snprintf(tid, sizeof tid, "%lld", m->tenant_id);
    snprintf(uid, sizeof uid, "%lld", m->user_id);
    PGresult *r;
    if (m->user_id > 0) {
        const char *p[] = {m->category, uid, tid};
        /* the user must belong to the tenant: a notification never crosses tenants */
        r = db_query(j->c->a, "notify_recipient_user",
                     RECIPIENT_COLUMNS "WHERE u.id = $2::bigint AND u.tenant_id = $3::bigint AND u.status = 'active'",
                     3, p);
    } else {
        const char *p[] = {m->category, m->audience ? m->audience : ""};
        r = db_query(j->c->a, "notify_recipient_audience",
                     RECIPIENT_COLUMNS "JOIN tenants tn ON tn.id = u.tenant_id AND tn.kind = 'company' "
                     "WHERE u.status = 'active' AND u.id IN (SELECT ur.user_id FROM user_roles ur "
                     "JOIN role_permissions rp ON rp.role_key = ur.role_key AND rp.permission_key = $2) "
                     "ORDER BY u.id",
                     2, p);
    }
    if (!r)
        return -1;
    rendered cache[4];
    int ncache = 0;
    for (int i = 0; i < PQntuples(r); i++)
        if (write_one(j, r, i, cache, &ncache) < 0)
            return -1;
    return m->user_id > 0 ? 0 : telegram_staff_alert(j->c, m);
}

notify_priority notify_priority_of_severity(const char *severity)
{
    return !severity                        ? NOTIFY_NORMAL
           : !strcmp(severity, "critical") ? NOTIFY_URGENT
           : !strcmp(severity, "warning")  ? NOTIFY_HIGH
                                            : NOTIFY_NORMAL;
}

int notify_send(const ctx *c, const notify_msg *m)
{
    if (!notify_category_ok(m->category) || !notify_template_name_ok(m->template_name) ||
        (m->dedupe_key && (!*m->dedupe_key || strlen(m->dedupe_key) > 200)) ||
        (m->user_id <= 0 && (!m->audience || !*m->audience))) {
        log_error("notify %s: bad message (category %s)", m->template_name ? m->template_name : "?",
                  m->category ? m->category : "?");
        return -1;
    }
    send_job j = {c, m, NULL, 0};
    j.data_json = m->data ? json_dumps(m->data, JSON_COMPACT) : NULL;
    if (m->data && !j.data_json)
        return -1;
    /* one user, outside a transaction: a read and a single write statement, which is atomic on its
     * own, so BEGIN and COMMIT would only add two round trips (an audience writes several rows) */
    int rc = m->user_id > 0 && !db_in_tx() ? send_tx(&j) : db_tx(send_tx, &j);
    free(j.data_json);
    if (rc < 0) {
        log_error("notify %s failed: %s", m->template_name, db_error());
        return -1;
    }
    return j.written;
}

long notify_unread_count(const ctx *c, long long user_id)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    const char *p[] = {uid};
    /* capped: the bell shows 99+ beyond that, and the partial index keeps it a short scan */
    PGresult *r = db_query(c->a, "notify_unread",
                           "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE user_id = $1::bigint "
                           "AND read_at IS NULL AND in_app LIMIT 100) x",
                           1, p);
    return r ? atol(PQgetvalue(r, 0, 0)) : -1;
}
