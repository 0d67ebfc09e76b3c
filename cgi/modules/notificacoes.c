/* notificacoes.c — the user's notifications: the list (newest first, by category), mark one or all
 * read, and the preferences (category × channel, quiet hours). Each user sees only their own. */
#include "app.h"
#include "audit.h"
#include "db.h"
#include "modules.h"
#include "notify.h"
#include "notify_template.h"
#include "render.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const channels[] = {"in_app", "telegram", "email", NULL};

static void user_id_text(const request *req, char *uid, size_t n)
{
    snprintf(uid, n, "%lld", req->session->user_id);
}

static int bad_request(request *req, response *res, const char *code, const char *key)
{
    res_error(req, res, 422, code, render_lang_string(req->lang, key));
    return 0;
}

static int not_found(request *req, response *res)
{
    res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
    return 0;
}

/* an empty or absent filter means every category; an unknown one is refused (422 written) */
static int category_filter_ok(request *req, response *res, const char *cat)
{
    if (!cat || !*cat || notify_category_ok(cat))
        return 1;
    bad_request(req, res, "bad_category", "notificacoes.bad_category");
    return 0;
}

static json_t *category_list(void)
{
    json_t *cats = json_array();
    for (int i = 0; notify_categories[i]; i++)
        json_array_append_new(cats, json_string(notify_categories[i]));
    return cats;
}

static int list(request *req, response *res)
{
    const char *cat = req_query(req, "category");
    if (!category_filter_ok(req, res, cat))
        return 0;
    char uid[24];
    user_id_text(req, uid, sizeof uid);
    const char *p[] = {uid, cat ? cat : ""};
    PGresult *r = tq_query(&req->cx, "notif_list",
                           "SELECT id, category, priority, title, body, "
                           "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), (read_at IS NOT NULL)::int "
                           "FROM notifications WHERE tenant_id = $1 AND user_id = $2::bigint AND in_app "
                           "AND ($3 = '' OR category = $3) ORDER BY id DESC LIMIT 100",
                           2, p);
    if (!r)
        return -1;
    json_t *items = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b}", "id",
                                               (json_int_t)atoll(PQgetvalue(r, i, 0)), "category", PQgetvalue(r, i, 1),
                                               "priority", PQgetvalue(r, i, 2), "title", PQgetvalue(r, i, 3), "body",
                                               PQgetvalue(r, i, 4), "created", PQgetvalue(r, i, 5), "read",
                                               atoi(PQgetvalue(r, i, 6))));
    long unread = notify_unread_count(&req->cx, req->session->user_id);
    res_page(res, "notificacoes/index.cs", "notificacoes.title",
             json_pack("{s:o, s:I, s:s, s:o}", "notifications", items, "unread", (json_int_t)(unread < 0 ? 0 : unread),
                       "category", cat ? cat : "", "categories", category_list()));
    return 0;
}

static void done(request *req, response *res, const char *key, long n)
{
    if (req->api)
        res_json(res, 200, json_pack("{s:I}", key, (json_int_t)n));
    else
        res_redirect(res, req_local_path(req_field(req, "next"), "/notificacoes"));
}

static int mark_read(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    if (!id)
        return not_found(req, res);
    char uid[24];
    user_id_text(req, uid, sizeof uid);
    const char *p[] = {uid, id};
    /* another user's id matches nothing: the same 404 as an id that does not exist */
    PGresult *r = tq_query(&req->cx, "notif_read_one",
                           "UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE tenant_id = $1 "
                           "AND user_id = $2::bigint AND id = $3::bigint AND in_app RETURNING id",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return not_found(req, res);
    done(req, res, "read", 1);
    return 0;
}

static int mark_all_read(request *req, response *res)
{
    /* the category is required ("" or "all" = every one), so an empty body changes nothing */
    const char *cat = req_field(req, "category");
    if (!cat)
        return bad_request(req, res, "bad_category", "notificacoes.bad_category");
    if (!strcmp(cat, "all"))
        cat = "";
    if (!category_filter_ok(req, res, cat))
        return 0;
    char uid[24];
    user_id_text(req, uid, sizeof uid);
    const char *p[] = {uid, cat ? cat : ""};
    long n = tq_exec(&req->cx, "notif_read_all",
                     "UPDATE notifications SET read_at = now() WHERE tenant_id = $1 AND user_id = $2::bigint "
                     "AND read_at IS NULL AND in_app AND ($3 = '' OR category = $3)",
                     2, p);
    if (n < 0)
        return -1;
    done(req, res, "read", n);
    return 0;
}

/* ---- preferences ---- */

static int show_preferences(request *req, response *res)
{
    char uid[24];
    user_id_text(req, uid, sizeof uid);
    const char *p[] = {uid};
    PGresult *r = tq_query(&req->cx, "notif_prefs",
                           "SELECT c.key, ch.channel, coalesce(p.enabled, CASE ch.channel WHEN 'in_app' THEN true "
                           "WHEN 'email' THEN c.email_default ELSE c.telegram_default END)::int "
                           "FROM notification_categories c CROSS JOIN (VALUES (1, 'in_app'), (2, 'telegram'), "
                           "(3, 'email')) ch(n, channel) LEFT JOIN notification_preferences p ON p.tenant_id = $1 "
                           "AND p.user_id = $2::bigint AND p.category = c.key AND p.channel = ch.channel "
                           "ORDER BY c.position, ch.n",
                           1, p);
    PGresult *q = r ? tq_query(&req->cx, "notif_quiet",
                               "SELECT lpad((start_min / 60)::text, 2, '0') || ':' || lpad((start_min % 60)::text, 2, '0'), "
                               "lpad((end_min / 60)::text, 2, '0') || ':' || lpad((end_min % 60)::text, 2, '0'), time_zone, "
                               "EXISTS (SELECT 1 FROM telegram_links t WHERE t.tenant_id = $1 AND t.user_id = $2::bigint)::int "
                               "FROM (SELECT 1) one LEFT JOIN notification_quiet_hours q ON q.tenant_id = $1 "
                               "AND q.user_id = $2::bigint",
                               1, p)
                    : NULL;
    if (!q)
        return -1;
    json_t *prefs = json_array(), *row = NULL;
    for (int i = 0; i < PQntuples(r); i++) {
        if (!row || strcmp(json_string_value(json_object_get(row, "category")), PQgetvalue(r, i, 0))) {
            row = json_pack("{s:s}", "category", PQgetvalue(r, i, 0));
            json_array_append_new(prefs, row);
        }
        json_object_set_new(row, PQgetvalue(r, i, 1), json_boolean(atoi(PQgetvalue(r, i, 2))));
    }
    int quiet = !PQgetisnull(q, 0, 0);
    json_t *qh = json_pack("{s:b, s:s, s:s, s:s}", "enabled", quiet, "start", quiet ? PQgetvalue(q, 0, 0) : "22:00",
                           "end", quiet ? PQgetvalue(q, 0, 1) : "07:00", "time_zone",
                           quiet ? PQgetvalue(q, 0, 2) : "America/Sao_Paulo");
    res_page(res, "notificacoes/preferencias.cs", "notificacoes.prefs_title",
             json_pack("{s:o, s:o, s:b}", "preferences", prefs, "quiet_hours", qh, "telegram_linked",
                       atoi(PQgetvalue(q, 0, 3))));
    return 0;
}

/* "1"/"0" (and the browser's "on", JSON's true/false as req_field gives them); -1 otherwise */
static int parse_flag(const char *v)
{
    if (!v)
        return -1;
    if (!strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "true"))
        return 1;
    if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "false"))
        return 0;
    return -1;
}

/* "pref.<category>.<channel>" -> indexes, or -1 */
static int parse_pref_key(const char *key, int *cat, int *chan)
{
    if (strncmp(key, "pref.", 5))
        return -1;
    const char *c = key + 5, *dot = strchr(c, '.');
    if (!dot)
        return -1;
    *cat = *chan = -1;
    for (int i = 0; notify_categories[i]; i++)
        if (strlen(notify_categories[i]) == (size_t)(dot - c) && !strncmp(c, notify_categories[i], (size_t)(dot - c)))
            *cat = i;
    for (int i = 0; channels[i]; i++)
        if (!strcmp(dot + 1, channels[i]))
            *chan = i;
    return *cat < 0 || *chan < 0 ? -1 : 0;
}

#define NCAT 8
#define NCHAN 3

typedef struct pref_change {
    request *req;
    signed char value[NCAT][NCHAN]; /* -1 = unchanged */
    int quiet;                      /* -1 unchanged, 0 off, 1 on */
    int start, end;
    const char *tz;
    json_t *after;
} pref_change;

static int save_tx(void *arg)
{
    pref_change *pc = arg;
    request *req = pc->req;
    char uid[24];
    user_id_text(req, uid, sizeof uid);
    buf cats, chans, vals;
    buf_init(&cats);
    buf_init(&chans);
    buf_init(&vals);
    for (int i = 0; i < NCAT; i++)
        for (int k = 0; k < NCHAN; k++)
            if (pc->value[i][k] >= 0) {
                buf_printf(&cats, "%s%s", cats.len ? "," : "{", notify_categories[i]);
                buf_printf(&chans, "%s%s", chans.len ? "," : "{", channels[k]);
                buf_printf(&vals, "%s%s", vals.len ? "," : "{", pc->value[i][k] ? "true" : "false");
            }
    int rc = 0;
    if (cats.len) {
        buf_putc(&cats, '}');
        buf_putc(&chans, '}');
        buf_putc(&vals, '}');
        const char *p[] = {uid, cats.data, chans.data, vals.data};
        rc = tq_exec(&req->cx, "notif_prefs_save",
                     "INSERT INTO notification_preferences (user_id, tenant_id, category, channel, enabled) "
                     "SELECT u.id, u.tenant_id, x.cat, x.chan, x.en FROM users u, "
                     "unnest($3::text[], $4::text[], $5::boolean[]) x(cat, chan, en) "
                     "WHERE u.id = $2::bigint AND u.tenant_id = $1 "
                     "ON CONFLICT (user_id, category, channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()",
                     4, p) < 0
                 ? -1
                 : 0;
    }
    buf_free(&cats);
    buf_free(&chans);
    buf_free(&vals);
    if (rc == 0 && pc->quiet == 0) {
        const char *p[] = {uid};
        rc = tq_exec(&req->cx, "notif_quiet_off",
                     "DELETE FROM notification_quiet_hours WHERE tenant_id = $1 AND user_id = $2::bigint", 1, p) < 0
                 ? -1
                 : 0;
    } else if (rc == 0 && pc->quiet == 1) {
        char s[16], e[16];
        snprintf(s, sizeof s, "%d", pc->start);
        snprintf(e, sizeof e, "%d", pc->end);
        const char *p[] = {uid, s, e, pc->tz};
        rc = tq_exec(&req->cx, "notif_quiet_on",
                     "INSERT INTO notification_quiet_hours (user_id, tenant_id, start_min, end_min, time_zone) "
                     "SELECT u.id, u.tenant_id, $3::int, $4::int, $5 FROM users u "
                     "WHERE u.id = $2::bigint AND u.tenant_id = $1 ON CONFLICT (user_id) DO UPDATE SET "
                     "start_min = EXCLUDED.start_min, end_min = EXCLUDED.end_min, time_zone = EXCLUDED.time_zone, "
                     "updated_at = now()",
                     4, p) < 0
                 ? -1
                 : 0;
    }
    if (rc == 0)
        rc = audit_record(&req->cx, "notifications.preferences_update", "user", uid, NULL, pc->after);
    return rc;
}

static int time_zone_ok(request *req, const char *tz)
{
    if (!tz || !*tz || strlen(tz) > 64)
        return 0;
    const char *p[] = {tz};
    /* cross-tenant: the catalog of time zone names belongs to no tenant */
    PGresult *r = db_query(req->a, "notif_tz_ok", "SELECT 1 FROM pg_timezone_names WHERE name = $1", 1, p);
    return r && PQntuples(r) == 1 ? 1 : (r ? 0 : -1);
}

static int save_preferences(request *req, response *res)
{
    pref_change pc = {.req = req, .quiet = -1};
    memset(pc.value, -1, sizeof pc.value);
    /* the browser's form sends every cell: an unticked box is absent and means off; a JSON
     * client sends only what it changes */
    int whole = req->json == NULL && !strcmp(req_field(req, "form") ? req_field(req, "form") : "", "matrix");
    if (whole) {
        memset(pc.value, 0, sizeof pc.value);
        pc.quiet = 0;
    }
    size_t nkeys = 0;
    const char **keys = NULL;
    if (req->json && json_is_object(req->json)) {
        keys = arena_calloc(req->a, json_object_size(req->json) + 1, sizeof *keys);
        const char *k;
        json_t *v;
        json_object_foreach(req->json, k, v) keys[nkeys++] = k;
    } else {
        keys = arena_calloc(req->a, req->form.n + 1, sizeof *keys);
        for (size_t i = 0; i < req->form.n; i++)
            keys[nkeys++] = req->form.items[i].key;
    }
    if (!keys)
        return -1;
    for (size_t i = 0; i < nkeys; i++) {
        if (strncmp(keys[i], "pref.", 5))
            continue;
        int cat, chan, v = parse_flag(req_field(req, keys[i]));
        if (parse_pref_key(keys[i], &cat, &chan) < 0 || v < 0)
            return bad_request(req, res, "bad_preference", "notificacoes.bad_preference");
        pc.value[cat][chan] = (signed char)v;
    }
    int changes = whole;
    for (int i = 0; i < NCAT; i++)
        for (int k = 0; k < NCHAN; k++)
            changes |= pc.value[i][k] >= 0;
    const char *qe = req_field(req, "quiet_enabled");
    if (!changes && !qe)
        return bad_request(req, res, "bad_preference", "notificacoes.bad_preference");
    if (qe) {
        pc.quiet = parse_flag(qe);
        if (pc.quiet < 0)
            return bad_request(req, res, "bad_quiet_hours", "notificacoes.bad_quiet_hours");
    }
    if (pc.quiet == 1) {
        pc.start = notify_parse_hhmm(req_field(req, "quiet_start"));
        pc.end = notify_parse_hhmm(req_field(req, "quiet_end"));
        pc.tz = req_field(req, "time_zone");
        int tz = time_zone_ok(req, pc.tz);
        if (tz < 0)
            return -1;
        if (pc.start < 0 || pc.end < 0 || pc.start == pc.end || !tz)
            return bad_request(req, res, "bad_quiet_hours", "notificacoes.bad_quiet_hours");
    }
    pc.after = json_object();
    for (int i = 0; i < NCAT; i++)
        for (int k = 0; k < NCHAN; k++)
            if (pc.value[i][k] >= 0)
                json_object_set_new(pc.after, arena_printf(req->a, "%s.%s", notify_categories[i], channels[k]),
                                    json_boolean(pc.value[i][k]));
    if (pc.quiet >= 0)
        json_object_set_new(pc.after, "quiet_hours",
                            pc.quiet ? json_pack("{s:i, s:i, s:s}", "start", pc.start, "end", pc.end, "tz", pc.tz)
                                     : json_null());
    int rc = db_tx(save_tx, &pc);
    json_decref(pc.after);
    if (rc < 0)
        return -1;
    if (req->api)
        return show_preferences(req, res);
    res_redirect(res, "/notificacoes/preferencias");
    return 0;
}

#define PAGE (R_AUTH | R_PAGE)
#define WRITE (R_AUTH | R_CSRF | R_PAGE)

static const route routes[] = {
    {"GET", "/notificacoes", list, PAGE, NULL, NULL},
    {"POST", "/notificacoes/{id}/read", mark_read, WRITE, NULL, "notificacoes.write"},
    {"POST", "/notificacoes/read-all", mark_all_read, WRITE, NULL, "notificacoes.write"},
    {"GET", "/notificacoes/preferencias", show_preferences, PAGE, NULL, NULL},
    {"POST", "/notificacoes/preferencias", save_preferences, WRITE, NULL, "notificacoes.write"},
};

const module notificacoes_module = {"notificacoes", "nav.notificacoes", "/notificacoes", ROUTES(routes)};
