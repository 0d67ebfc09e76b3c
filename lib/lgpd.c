/* lgpd.c — data-subject rights: legal document versions, consent records, and the one hook table
 * through which every module that stores personal data exports it ("my data") and anonymises it. */
#include "lgpd.h"
#include "buf.h"
#include "cache.h"
#include "audit.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "password.h"
#include "rbac.h"
#include "session.h"
#include "tenant.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Times in the export are UTC ISO 8601, whatever the server's time zone; NULL stays null. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Each exporter is one statement that builds its section as JSON text in PostgreSQL (one round
 * trip, no column-by-column conversion here); $1 is the tenant, $2 the user. */
static json_t *export_sql(const ctx *c, long long user_id, const char *name, const char *sql)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(c, name, sql, 1, p);
    if (!r || PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
        log_error("lgpd export %s failed: %s", name, r ? "no row" : db_error());
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, &err);
    if (!j)
        log_error("lgpd export %s: bad JSON from the database: %s", name, err.text);
    return j;
}

static int exec_uid(const ctx *c, long long user_id, const char *name, const char *sql)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    const char *p[] = {uid};
    if (tq_exec(c, name, sql, 1, p) < 0) {
        log_error("lgpd anonymise %s failed: %s", name, db_error());
        return -1;
    }
    return 0;
}

/* ---- account: the user row (never the password hash or the 2FA seed), tenant and roles ---- */

static json_t *account_export(const ctx *c, long long user_id)
{
    return export_sql(
        c, user_id, "lgpd_x_account",
        "SELECT json_build_object('id', u.id, 'email', u.email, 'name', u.display_name, 'lang', u.lang, "
        "'created_at', " ISO("u.created_at") ", 'email_verified', u.email_verified_at IS NOT NULL, "
        "'email_verified_at', " ISO("u.email_verified_at") ", 'password_changed_at', " ISO("u.password_changed_at") ", "
        "'two_factor_enabled', u.totp_enabled_at IS NOT NULL, 'two_factor_enabled_at', " ISO("u.totp_enabled_at") ", "
        "'recovery_codes_left', (SELECT count(*) FROM recovery_codes rc WHERE rc.tenant_id = $1 "
        "AND rc.user_id = u.id AND rc.used_at IS NULL), "
        "'status', u.status, 'tenant', json_build_object('id', t.id, 'kind', t.kind, 'name', t.name, 'plan', t.plan), "
        "'roles', coalesce((SELECT json_agg(ur.role_key ORDER BY ur.role_key) FROM user_roles ur "
        "WHERE ur.tenant_id = $1 AND ur.user_id = u.id), '[]'::json))::text "
        "FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = $1 AND u.id = $2::bigint");
}

/* What belongs to the account besides its row: one-time codes and links, roles, and the
 * tenant's name when the user was its only member. The row itself is rewritten last by
 * lgpd_delete_account, which also holds the fresh unusable password hash. */
static int account_anonymise(const ctx *c, long long user_id)
{
    if (exec_uid(c, user_id, "lgpd_a_recovery",
                 "DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2::bigint") < 0 ||
        exec_uid(c, user_id, "lgpd_a_acctok",
                 "DELETE FROM account_tokens WHERE tenant_id = $1 AND user_id = $2::bigint") < 0 ||
        exec_uid(c, user_id, "lgpd_a_roles", "DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2::bigint") < 0)
        return -1;
    /* a trader's or influencer's tenant is usually named after its one person */
    return exec_uid(c, user_id, "lgpd_a_tenant",
                    "UPDATE tenants SET name = 'deleted-' || id WHERE id = $1 AND kind IN ('trader', 'influencer') "
                    "AND NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id <> $2::bigint "
                    "AND status <> 'deleted')");
}

/* ---- sessions: times, address and browser; never the id hashes ---- */

static json_t *sessions_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_sessions",
                      "SELECT coalesce(json_agg(json_build_object('created_at', " ISO("created_at") ", "
                      "'seen_at', " ISO("seen_at") ", 'expires_at', " ISO("expires_at") ", "
                      "'revoked_at', " ISO("revoked_at") ", 'ip', ip, 'user_agent', user_agent, "
                      "'two_factor_checked', mfa_at IS NOT NULL) ORDER BY created_at DESC), '[]'::json)::text "
                      "FROM sessions WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* The rows go, and so do their Redis copies: once the rows are gone nothing else could name
 * the keys (session_destroy_user finds sessions through these rows). Should the transaction
 * roll back, a session looked up again is rebuilt from its row, so deleting early is safe. */
static int sessions_anonymise(const ctx *c, long long user_id)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", user_id);
    const char *p[] = {uid};
    PGresult *r = tq_query(c, "lgpd_a_sessions",
                           "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2::bigint RETURNING id_hash", 1, p);
    if (!r) {
        log_error("lgpd anonymise sessions failed: %s", db_error());
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        redisReply *d = kv_cmd(c->a, "DEL s:%s", PQgetvalue(r, i, 0));
        (void)d;
    }
    return 0;
}

/* ---- personal API tokens: name, prefix, scopes and dates; never the hashes ---- */

static json_t *tokens_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_tokens",
                      "SELECT coalesce(json_agg(json_build_object('name', name, 'prefix', prefix, "
                      "'scopes', to_json(scopes), 'created_at', " ISO("created_at") ", "
                      "'last_used_at', " ISO("last_used_at") ", 'expires_at', " ISO("expires_at") ", "
                      "'revoked_at', " ISO("revoked_at") ") ORDER BY id), '[]'::json)::text "
                      "FROM api_tokens WHERE tenant_id = $1 AND user_id = $2::bigint");
}

static int tokens_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_tokens", "DELETE FROM api_tokens WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* ---- exchange credentials (sql/0007): exchange, label and mask; never the vault envelopes ---- */

static json_t *credentials_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_credentials",
                      "SELECT coalesce(json_agg(json_build_object('id', id, 'exchange', exchange, 'label', label, "
                      "'key_mask', key_mask, 'permissions', to_json(permissions), "
                      "'created_at', " ISO("created_at") ", 'last_used_at', " ISO("last_used_at") ") ORDER BY id), "
                      "'[]'::json)::text FROM credentials WHERE tenant_id = $1 AND user_id = $2::bigint");
}

static int credentials_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_credentials",
                    "DELETE FROM credentials WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* ---- consents ---- */

static json_t *consents_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_consents",
                      "SELECT coalesce(json_agg(json_build_object('document', document, 'version', version, "
                      "'granted', granted, 'at', " ISO("at") ", 'ip', ip, 'user_agent', user_agent) "
                      "ORDER BY at, id), '[]'::json)::text "
                      "FROM consents WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* Kept: a consent record is the proof, which the controller must be able to show, that the
 * processing before the deletion had a legal basis. */
static int consents_anonymise(const ctx *c, long long user_id)
{
    (void)c;
    (void)user_id;
    return 0;
}

/* ---- notifications ---- */

static json_t *notifications_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_notifications",
                      "SELECT coalesce(json_agg(json_build_object('kind', kind, 'severity', severity, 'title', title, "
                      "'body', body, 'created_at', " ISO("created_at") ", 'read_at', " ISO("read_at") ") "
                      "ORDER BY created_at DESC, id DESC), '[]'::json)::text "
                      "FROM notifications WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* Deleting a notification deletes its deliveries with it (the foreign key cascades). */
static int notifications_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_notifications",
                    "DELETE FROM notifications WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* ---- notification settings: preferences, quiet hours, and what became of each delivery ---- */

static json_t *notify_settings_export(const ctx *c, long long user_id)
{
    return export_sql(
        c, user_id, "lgpd_x_notify_settings",
        "SELECT json_build_object("
        "'preferences', coalesce((SELECT json_agg(json_build_object('category', category, 'channel', channel, "
        "'enabled', enabled, 'updated_at', " ISO("updated_at") ") ORDER BY category, channel) "
        "FROM notification_preferences WHERE tenant_id = $1 AND user_id = $2::bigint), '[]'::json), "
        "'quiet_hours', (SELECT json_build_object('start', to_char(make_time(start_min / 60, start_min % 60, 0), 'HH24:MI'), "
        "'end', to_char(make_time(end_min / 60, end_min % 60, 0), 'HH24:MI'), 'time_zone', time_zone, "
        "'updated_at', " ISO("updated_at") ") FROM notification_quiet_hours WHERE tenant_id = $1 "
        "AND user_id = $2::bigint), "
        "'deliveries', coalesce((SELECT json_agg(json_build_object('notification_title', n.title, "
        "'channel', d.channel, 'status', d.status, 'attempts', d.attempts, 'created_at', " ISO("d.created_at") ", "
        "'sent_at', " ISO("d.sent_at") ") ORDER BY d.id) FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification_id WHERE d.tenant_id = $1 AND d.user_id = $2::bigint), "
        "'[]'::json))::text");
}

static int notify_settings_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_notify_settings",
                    "WITH p AS (DELETE FROM notification_preferences WHERE tenant_id = $1 AND user_id = $2::bigint) "
                    "DELETE FROM notification_quiet_hours WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* ---- Telegram: the linked chat, what the bot sent it and received from it; never code hashes ----
 * The chat is known only through the link, so everything about it is found while the link is
 * still there. A chat linked before and unlinked since can no longer be told apart from anyone's. */

#define TG_CHAT "(SELECT chat_id FROM telegram_links WHERE tenant_id = $1 AND user_id = $2::bigint)"

static json_t *telegram_export(const ctx *c, long long user_id)
{
    return export_sql(
        c, user_id, "lgpd_x_telegram",
        "SELECT json_build_object("
        "'link', (SELECT json_build_object('chat_id', chat_id, 'linked_at', " ISO("linked_at") ") "
        "FROM telegram_links WHERE tenant_id = $1 AND user_id = $2::bigint), "
        "'link_codes', coalesce((SELECT json_agg(json_build_object('created_at', " ISO("created_at") ", "
        "'expires_at', " ISO("expires_at") ", 'used_at', " ISO("used_at") ") ORDER BY created_at) "
        "FROM telegram_link_codes WHERE tenant_id = $1 AND user_id = $2::bigint), '[]'::json), "
        "'messages', coalesce((SELECT json_agg(json_build_object('method', method, 'text', params->>'text', "
        "'status', status, 'created_at', " ISO("created_at") ", 'sent_at', " ISO("sent_at") ") ORDER BY id) "
        "FROM telegram_outbox WHERE chat_id = " TG_CHAT "), '[]'::json), "
        "'updates', coalesce((SELECT json_agg(json_build_object('update_id', update_id, 'kind', kind, "
        "'outcome', outcome, 'received_at', " ISO("received_at") ") ORDER BY update_id) "
        "FROM telegram_updates WHERE chat_id = " TG_CHAT "), '[]'::json), "
        "'backtests', coalesce((SELECT json_agg(json_build_object('backtest_id', backtest_id, "
        "'created_at', " ISO("created_at") ") ORDER BY backtest_id) FROM telegram_backtests "
        "WHERE tenant_id = $1 AND chat_id = " TG_CHAT "), '[]'::json))::text");
}

/* The bot's messages to the chat carry texts with balances and names: they go (a pending one is
 * not sent any more). An update's row must stay, since its update_id is what makes Telegram's
 * redelivery change nothing, so only its chat is forgotten (sql/0028 grants exactly these two).
 * The link itself goes last: the statements before it find the chat through it. */
static int telegram_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_telegram",
                    "WITH chat AS (SELECT chat_id FROM telegram_links WHERE tenant_id = $1 AND user_id = $2::bigint), "
                    "o AS (DELETE FROM telegram_outbox WHERE chat_id IN (SELECT chat_id FROM chat)), "
                    "u AS (UPDATE telegram_updates SET chat_id = NULL WHERE chat_id IN (SELECT chat_id FROM chat)), "
                    "b AS (DELETE FROM telegram_backtests WHERE tenant_id = $1 AND (chat_id IN (SELECT chat_id FROM chat) "
                    "OR backtest_id IN (SELECT id FROM backtests WHERE tenant_id = $1 AND user_id = $2::bigint))), "
                    "k AS (DELETE FROM telegram_link_codes WHERE tenant_id = $1 AND user_id = $2::bigint) "
                    "DELETE FROM telegram_links WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* ---- security events about the user (or caused by them) ----
 * Events recorded before sign-in (a failed password) carry no tenant, only the account; the
 * EXISTS guard ties such rows to this tenant through the user's own row. */

#define SECEV_MINE                                                                                                     \
    "(user_id = $2::bigint OR actor_id = $2::bigint) AND (tenant_id = $1 OR tenant_id IS NULL) "                      \
    "AND EXISTS (SELECT 1 FROM users WHERE id = $2::bigint AND tenant_id = $1)"

static json_t *secevents_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_secevents",
                      "SELECT coalesce(json_agg(json_build_object('at', " ISO("at") ", 'kind', kind, "
                      "'severity', severity, 'ip', ip, 'details', details) ORDER BY at DESC, id DESC), '[]'::json)::text "
                      "FROM security_events WHERE " SECEV_MINE);
}

/* The events stay (Segurança's counts and alerts refer to them); the address and the details,
 * which may name a browser or an e-mail hash, go. */
static int secevents_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_secevents",
                    "UPDATE security_events SET ip = '', details = '{}' WHERE " SECEV_MINE);
}

/* ---- audit rows the user caused ---- */

static json_t *audit_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_audit",
                      "SELECT coalesce(json_agg(json_build_object('at', " ISO("at") ", 'action', action, "
                      "'object_type', object_type, 'object_id', object_id, 'ip', ip) ORDER BY id), '[]'::json)::text "
                      "FROM audit_log WHERE actor_user_id = $2::bigint AND (tenant_id = $1 OR tenant_id IS NULL) "
                      "AND EXISTS (SELECT 1 FROM users WHERE id = $2::bigint AND tenant_id = $1)");
}

/* Kept untouched: the audit trail (and, once billing lands, the ledger) must be preserved as
 * the law requires (LGPD art. 16, I: retention for a legal obligation), and rewriting a row
 * would break the hash chain, which the database refuses anyway (sql/0005). */
static int audit_anonymise(const ctx *c, long long user_id)
{
    (void)c;
    (void)user_id;
    return 0;
}

/* ---- e-mail sent to the user: subjects and dates; never bodies (they carried one-time links) ---- */

#define MAIL_MINE                                                                                                      \
    "tenant_id = $1 AND lower(to_addr) = (SELECT lower(email) FROM users WHERE id = $2::bigint AND tenant_id = $1)"

static json_t *mail_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_mail",
                      "SELECT coalesce(json_agg(json_build_object('to', to_addr, 'subject', subject, 'status', status, "
                      "'created_at', " ISO("created_at") ", 'sent_at', " ISO("sent_at") ") ORDER BY id), "
                      "'[]'::json)::text FROM mail_outbox WHERE " MAIL_MINE);
}

/* Runs before the user row loses its address (hooks first, then the row). */
static int mail_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_mail", "DELETE FROM mail_outbox WHERE " MAIL_MINE);
}

/* ---- jobs the user started (backtests, test jobs): what ran, when, with which parameters ---- */

static json_t *jobs_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_jobs",
                      "SELECT coalesce(json_agg(json_build_object('id', id, 'type', type, 'status', status, "
                      "'params', params, 'attempts', attempts, 'error', error, 'created_at', " ISO("created_at") ", "
                      "'finished_at', " ISO("finished_at") ") ORDER BY id), '[]'::json)::text "
                      "FROM jobs WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* The jobs stay with the tenant (their results are the tenant's), no longer tied to the person;
 * what was still to run on their behalf is cancelled (a running one at its next progress report). */
static int jobs_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_jobs",
                    "UPDATE jobs SET user_id = NULL, cancel_requested = cancel_requested OR status = 'running', "
                    "finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END, "
                    "status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, updated_at = now() "
                    "WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* ---- Banco: the user's deposit and withdrawal requests (amounts in minor units) ---- */

static json_t *banco_export(const ctx *c, long long user_id)
{
    return export_sql(c, user_id, "lgpd_x_banco",
                      "SELECT coalesce(json_agg(json_build_object('id', id, 'kind', kind, 'currency', currency, "
                      "'amount', amount, 'reference', reference, 'destination', destination, 'status', status, "
                      "'created_at', " ISO("created_at") ", 'decided_at', " ISO("decided_at") ") ORDER BY id), "
                      "'[]'::json)::text FROM banco_requests WHERE tenant_id = $1 AND user_id = $2::bigint");
}

/* The requests are money records and stay (the application cannot delete them, sql/0019). The
 * destination of a withdrawal that was paid out (approved) is part of that financial record, kept
 * for a legal obligation (LGPD art. 16, I), like the audit trail; a pending one's is still needed
 * to pay out money that belongs to the tenant, so it stays until Finance decides. A request that
 * never paid out and never will (rejected, canceled, expired; deposits have none) has no reason to
 * keep where the user wanted the money sent: it is blanked. */
static int banco_anonymise(const ctx *c, long long user_id)
{
    return exec_uid(c, user_id, "lgpd_a_banco",
                    "UPDATE banco_requests SET destination = '' WHERE tenant_id = $1 AND user_id = $2::bigint "
                    "AND status NOT IN ('approved', 'pending') AND destination <> ''");
}

/* Every module that stores personal data has one line here: a new one adds its hook. */
static const lgpd_hook hooks[] = {
    {"account", account_export, account_anonymise},
    {"sessions", sessions_export, sessions_anonymise},
    {"api_tokens", tokens_export, tokens_anonymise},
    {"credentials", credentials_export, credentials_anonymise},
    {"consents", consents_export, consents_anonymise},
    {"notification_settings", notify_settings_export, notify_settings_anonymise},
    {"telegram", telegram_export, telegram_anonymise},
    {"notifications", notifications_export, notifications_anonymise},
    {"security_events", secevents_export, secevents_anonymise},
    {"audit", audit_export, audit_anonymise},
    {"mail", mail_export, mail_anonymise},
    {"jobs", jobs_export, jobs_anonymise},
    {"banco", banco_export, banco_anonymise},
};

const lgpd_hook *lgpd_hooks(size_t *n)
{
    *n = sizeof hooks / sizeof hooks[0];
    return hooks;
}

/* ---- documents and consent ---- */

static int document_name_ok(const char *d)
{
    size_t n = d ? strlen(d) : 0;
    if (n < 1 || n > 32 || d[0] < 'a' || d[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((d[i] >= 'a' && d[i] <= 'z') || d[i] == '_'))
            return 0;
    return 1;
}

int lgpd_current_version(arena *a, const char *document)
{
    if (!document || (strcmp(document, "terms") && strcmp(document, "privacy")))
        return 0;
    const char *p[] = {document};
    /* a version with a future published_at is scheduled, not yet in force */
    PGresult *r = db_query(a, "lgpd_current",
                           "SELECT coalesce(max(version), 0) FROM legal_documents WHERE document = $1 "
                           "AND published_at <= now()",
                           1, p);
    if (!r || PQntuples(r) != 1) {
        if (r && !a)
            PQclear(r);
        return -1;
    }
    int v = atoi(PQgetvalue(r, 0, 0));
    if (!a)
        PQclear(r);
    return v;
}

/* Runs fn inside the caller's transaction when there is one (registration records consent
 * together with the new account), else in its own. */
static int in_tx(int (*fn)(void *), void *arg)
{
    PGconn *k = db_conn();
    if (!k)
        return -1;
    PGTransactionStatusType st = PQtransactionStatus(k);
    if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR)
        return fn(arg);
    return db_tx(fn, arg);
}

struct consent_args {
    const ctx *c;
    long long user_id;
    const char *document;
    int version, granted;
    const char *user_agent;
};

static int consent_tx(void *arg)
{
    struct consent_args *x = arg;
    char uid[24], ver[16];
    snprintf(uid, sizeof uid, "%lld", x->user_id);
    snprintf(ver, sizeof ver, "%d", x->version);
    const char *p[] = {uid, x->document, ver, x->granted ? "t" : "f", x->c->ip ? x->c->ip : "", x->user_agent};
    /* the user must be of c's tenant, and a legal document's version must be published */
    PGresult *r = tq_query(x->c, "lgpd_consent",
                           "INSERT INTO consents (tenant_id, user_id, document, version, granted, ip, user_agent) "
                           "SELECT u.tenant_id, u.id, $3, $4::int, $5::boolean, $6, left($7, 300) FROM users u "
                           "WHERE u.id = $2::bigint AND u.tenant_id = $1 AND u.status <> 'deleted' "
                           "AND ($3 NOT IN ('terms', 'privacy') OR EXISTS (SELECT 1 FROM legal_documents d "
                           "WHERE d.document = $3 AND d.version = $4::int AND d.published_at <= now())) RETURNING id",
                           6, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return -2;
    json_t *after = json_pack("{s:s, s:i, s:b}", "document", x->document, "version", x->version, "granted", x->granted);
    int rc = after ? audit_record(x->c, "privacy.consent", "consent", PQgetvalue(r, 0, 0), NULL, after) : -1;
    json_decref(after);
    return rc;
}

int lgpd_record_consent_ua(const ctx *c, long long user_id, const char *document, int version, int granted,
                           const char *user_agent)
{
    if (!c || user_id <= 0 || c->tenant_id <= 0 || !document_name_ok(document) || version < 0)
        return -2;
    struct consent_args x = {c, user_id, document, version, granted ? 1 : 0, user_agent ? user_agent : ""};
    int rc = in_tx(consent_tx, &x);
    if (rc == 0)
        cache_del("lgpd", "accepted", arena_printf(c->a, "%lld", user_id));
    return rc;
}

int lgpd_record_consent(const ctx *c, long long user_id, const char *document, int version, int granted)
{
    return lgpd_record_consent_ua(c, user_id, document, version, granted, "");
}

/* "terms:2,privacy:1": a cached list of versions, built by sql (one row per document). */
static char *versions(const ctx *c, const char *cache_name, const char *cache_id, const char *tag,
                      const char *stmt, const char *sql, int nparams, const char *const *params)
{
    size_t len;
    char *v = cache_get(c->a, "lgpd", cache_name, cache_id, &len);
    if (v)
        return v;
    PGresult *r = nparams ? tq_query(c, stmt, sql, nparams, params) : db_query(c->a, stmt, sql, 0, NULL);
    if (!r)
        return NULL;
    buf b;
    buf_init(&b);
    for (int i = 0; i < PQntuples(r); i++)
        buf_printf(&b, "%s%s:%s", i ? "," : "", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    v = arena_strdup(c->a, b.data ? b.data : "");
    buf_free(&b);
    if (v) {
        const char *tags[] = {tag};
        cache_set("lgpd", cache_name, cache_id, v, strlen(v), tags, 1);
    }
    return v;
}

static int version_in(const char *list, const char *document)
{
    size_t n = strlen(document);
    for (const char *p = list; p && *p;) {
        if (!strncmp(p, document, n) && p[n] == ':')
            return atoi(p + n + 1);
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return 0;
}

int lgpd_acceptance_pending(const ctx *c, long long user_id)
{
    /* the versions in force are shared by everybody (tag lgpd:documents); what a user accepted is
     * theirs (tag user:<id>): both near-cached, so the check costs no round trip */
    /* cross-tenant: the published documents are the platform's, not tenant data */
    char *current = versions(c, "current", "all", "lgpd:documents", "lgpd_in_force",
                             "SELECT document, max(version) FROM legal_documents WHERE published_at <= now() "
                             "GROUP BY document ORDER BY document",
                             0, NULL);
    char id[24], tag[40];
    snprintf(id, sizeof id, "%lld", user_id);
    snprintf(tag, sizeof tag, "user:%s", id);
    const char *p[] = {id};
    char *accepted = versions(c, "accepted", id, tag, "lgpd_accepted",
                              "SELECT DISTINCT ON (document) document, version FROM consents "
                              "WHERE tenant_id = $1 AND user_id = $2::bigint AND document IN ('terms', 'privacy') "
                              "AND granted ORDER BY document, at DESC, id DESC",
                              1, p);
    if (!current || !accepted)
        return -1;
    static const char *const documents[] = {"terms", "privacy"};
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++)
        if (version_in(current, documents[i]) > version_in(accepted, documents[i]))
            return 1;
    return 0;
}

/* ---- export ---- */

json_t *lgpd_export(const ctx *c, long long user_id)
{
    if (!c || user_id <= 0 || c->tenant_id <= 0)
        return NULL;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *doc = json_pack("{s:s, s:s, s:I}", "format", "botcriptofy-export/1", "generated_at", when, "user_id",
                            (json_int_t)user_id);
    if (!doc)
        return NULL;
    for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
        json_t *part = hooks[i].export_fn(c, user_id);
        /* a partial copy would claim to be all we hold: fail instead */
        if (!part || json_object_set_new(doc, hooks[i].module, part) < 0) {
            json_decref(doc);
            return NULL;
        }
    }
    return doc;
}

/* ---- deletion ---- */

struct delete_args {
    const ctx *c;
    long long user_id;
    const char *unusable_hash;
};

static int delete_tx(void *arg)
{
    struct delete_args *x = arg;
    const ctx *c = x->c;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", x->user_id);
    const char *p[] = {uid};
    /* The account and every CEO of the tenant, locked in id order: two CEOs deleting themselves
     * at once queue here instead of each counting the other as the one who stays. */
    PGresult *r = tq_query(c, "lgpd_d_lock",
                           "SELECT id, status, email, (id IN (SELECT user_id FROM user_roles WHERE tenant_id = $1 "
                           "AND role_key = 'ceo'))::int FROM users WHERE tenant_id = $1 AND (id = $2::bigint OR id IN "
                           "(SELECT user_id FROM user_roles WHERE tenant_id = $1 AND role_key = 'ceo')) "
                           "ORDER BY id FOR UPDATE",
                           1, p);
    if (!r)
        return -1;
    const char *email = NULL;
    int self_ceo = 0, other_ceos = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int ceo = atoi(PQgetvalue(r, i, 3));
        if (atoll(PQgetvalue(r, i, 0)) == x->user_id) {
            if (!strcmp(PQgetvalue(r, i, 1), "deleted"))
                return -1;
            email = PQgetvalue(r, i, 2);
            self_ceo = ceo;
        } else if (ceo && !strcmp(PQgetvalue(r, i, 1), "active")) {
            other_ceos++;
        }
    }
    if (!email)
        return -1;
    /* the company must never be left without anyone able to grant roles */
    if (self_ceo && other_ceos == 0)
        return -2;
    for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
        if (hooks[i].anonymise_fn(c, x->user_id) < 0)
            return -1;
    const char *pu[] = {uid, x->unusable_hash};
    long n = tq_exec(c, "lgpd_d_user",
                     "UPDATE users SET email = 'deleted-' || id || '@deleted.invalid', display_name = '', "
                     "password_hash = $3, totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = 0, "
                     "status = 'deleted', deleted_at = now() WHERE tenant_id = $1 AND id = $2::bigint",
                     2, pu);
    if (n != 1)
        return -1;
    /* the domain alone says what kind of account it was without naming the person */
    const char *at = strrchr(email, '@');
    json_t *before = json_pack("{s:s}", "email_domain", at ? at + 1 : "");
    json_t *after = json_pack("{s:s}", "status", "deleted");
    int rc = before && after ? audit_record(c, "account.delete", "user", uid, before, after) : -1;
    json_decref(before);
    json_decref(after);
    return rc;
}

int lgpd_delete_account(const ctx *c, long long user_id)
{
    if (!c || user_id <= 0 || c->tenant_id <= 0)
        return -1;
    /* nobody knows this password, so nothing signs in as the anonymised row; hashed before the
     * transaction so the row locks are not held through the hashing */
    char pw[64], hash[PASSWORD_HASH_MAX];
    random_token(pw, sizeof pw, 32);
    int hrc = password_hash(pw, hash);
    sodium_memzero(pw, sizeof pw);
    if (hrc != 0)
        return -1;
    struct delete_args x = {c, user_id, hash};
    int rc = db_tx(delete_tx, &x);
    if (rc < 0)
        return rc == -2 ? -2 : -1;
    /* cached permissions and cached API token rows are tagged user:<id> */
    rbac_forget(user_id);
    /* anything the anonymiser could not reach (a session row written without a tenant) ends too */
    if (session_destroy_user(c->a, user_id, NULL) < 0)
        log_warn("lgpd: sessions of deleted user %lld could not be revoked", user_id);
    return 0;
}
