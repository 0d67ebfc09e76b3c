/* test_notify_db.c — notify_send against a real PostgreSQL (as the application's role): deliveries
 * per preferences, quiet hours, dedupe, rollback with the caller, audiences, refusals. Needs
 * BCF_TEST_DSN and runs under tests/integration/notifications.test.mjs. */
#include "config.h"
#include "db.h"
#include "notify.h"
#include "unit.h"
#include <libpq-fe.h>

static arena A;
static ctx C;
static long long tenant, user_en, user_pt, company, staff;

static long long scalar(const char *sql)
{
    PGresult *r = db_query(NULL, NULL, sql, 0, NULL);
    ck_assert_msg(r != NULL, "%s: %s", sql, db_error());
    long long v = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return v;
}

static char *text(const char *sql)
{
    PGresult *r = db_query(&A, NULL, sql, 0, NULL);
    ck_assert_msg(r != NULL, "%s: %s", sql, db_error());
    return arena_strdup(&A, PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
}

static void exec_sql(const char *sql)
{
    ck_assert_msg(db_exec(NULL, NULL, sql, 0, NULL) >= 0, "%s: %s", sql, db_error());
}

/* a count from SQL with one id in it (a macro, so the format string is checked) */
#define count_of(fmt, id) scalar(arena_printf(&A, fmt, id))

static long long make_user(long long tid, const char *lang, int verified)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO users (tenant_id, email, display_name, password_hash, lang, email_verified_at) "
             "VALUES (%lld, 'n' || nextval('users_id_seq') || '-' || pg_backend_pid() || '@example.com', 'N', 'x', '%s', %s) "
             "RETURNING id",
             tid, lang, verified ? "now()" : "NULL");
    return scalar(sql);
}

static void setup(void)
{
    const char *dsn = getenv("BCF_TEST_DSN");
    ck_assert_msg(dsn && *dsn, "BCF_TEST_DSN must name the test database");
    char cfg[1200], src[1024], err[128];
    ck_assert_ptr_nonnull(realpath(unit_srcdir(), src));
    snprintf(cfg, sizeof cfg, "notify.templates_dir = %s/templates/notify\n", src);
    ck_assert_int_eq(config_parse_text(cfg, err, sizeof err), 0);
    db_configure(dsn);
    arena_init(&A, 8192);
    C = (ctx){&A, 0, 0, "", ""};
    tenant = scalar("INSERT INTO tenants (kind, name, plan) VALUES ('trader', 'notify test', 'free') RETURNING id");
    user_en = make_user(tenant, "en", 1);
    user_pt = make_user(tenant, "pt-BR", 0);
    company = scalar("SELECT id FROM tenants WHERE kind = 'company' ORDER BY id LIMIT 1");
    staff = make_user(company, "pt-BR", 1);
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO user_roles (tenant_id, user_id, role_key) VALUES (%lld, %lld, 'seguranca.member')",
             company, staff);
    exec_sql(sql);
}

static void teardown(void)
{
    db_close();
    arena_destroy(&A);
    config_free();
}

static notify_msg deposit(long long uid, notify_priority p, const char *key, json_t *data)
{
    return (notify_msg){tenant, uid, NULL, "financeiro", "banco.deposit_confirmed", data, p, key};
}

START_TEST(test_writes_notification_and_deliveries_per_defaults)
{
    json_t *d = json_pack("{s:s, s:s}", "amount", "R$ 10,00", "reference", "DEP-7");
    notify_msg m = deposit(user_en, NOTIFY_NORMAL, NULL, d);
    ck_assert_int_eq(notify_send(&C, &m), 1);
    /* rendered in the recipient's language, with the template and its data kept */
    ck_assert_str_eq(text(arena_printf(&A, "SELECT title || '|' || body || '|' || category || '|' || template || '|' || "
                                           "priority || '|' || severity || '|' || (data->>'reference') FROM notifications "
                                           "WHERE user_id = %lld", user_en)),
                     "Deposit confirmed|Your deposit of R$ 10,00 (ref. DEP-7) was credited to your wallet.|financeiro|"
                     "banco.deposit_confirmed|normal|info|DEP-7");
    /* financeiro: e-mail on by default; Telegram on but this user has no linked chat */
    ck_assert_str_eq(text(arena_printf(&A, "SELECT string_agg(channel || ':' || status || ':' || attempts || ':' || "
                                           "(next_attempt_at <= now())::text, ',') FROM notification_deliveries "
                                           "WHERE user_id = %lld", user_en)),
                     "email:pending:0:true");
    /* once linked, Telegram joins; the dedupe key names user, channel and notification */
    exec_sql(arena_printf(&A, "INSERT INTO telegram_links (user_id, tenant_id, chat_id) VALUES (%lld, %lld, %lld)",
                          user_en, tenant, 900000000 + user_en));
    ck_assert_int_eq(notify_send(&C, &m), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld", user_en), 3);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld AND dedupe_key = "
                              "user_id || ':' || channel || ':n' || notification_id",
                              user_en),
                     3);
    /* a user without a verified e-mail gets no e-mail delivery, and the Portuguese text */
    notify_msg pt = deposit(user_pt, NOTIFY_NORMAL, NULL, d);
    ck_assert_int_eq(notify_send(&C, &pt), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld", user_pt), 0);
    ck_assert_str_eq(text(arena_printf(&A, "SELECT title FROM notifications WHERE user_id = %lld", user_pt)),
                     "Depósito confirmado");
    /* trading has no e-mail by default */
    notify_msg tr = {tenant, user_en, NULL, "trading", "sistema.announcement", NULL, NOTIFY_NORMAL, NULL};
    ck_assert_int_eq(notify_send(&C, &tr), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries d JOIN notifications n ON n.id = "
                              "d.notification_id WHERE n.user_id = %lld AND n.category = 'trading' AND d.channel = 'email'",
                              user_en),
                     0);
    json_decref(d);
}
END_TEST

START_TEST(test_disabled_channels)
{
    exec_sql(arena_printf(&A, "INSERT INTO notification_preferences (user_id, tenant_id, category, channel, enabled) "
                              "VALUES (%lld, %lld, 'financeiro', 'email', false)",
                          user_en, tenant));
    notify_msg m = deposit(user_en, NOTIFY_URGENT, NULL, NULL);
    ck_assert_int_eq(notify_send(&C, &m), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld", user_en), 0);
    /* in-app off as well, with nothing else on: nothing is written at all */
    exec_sql(arena_printf(&A, "INSERT INTO notification_preferences (user_id, tenant_id, category, channel, enabled) "
                              "VALUES (%lld, %lld, 'financeiro', 'in_app', false)",
                          user_en, tenant));
    ck_assert_int_eq(notify_send(&C, &m), 0);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notifications WHERE user_id = %lld", user_en), 1);
    /* in-app off but e-mail on: the row exists for the outbox, hidden from the bell */
    exec_sql(arena_printf(&A, "UPDATE notification_preferences SET enabled = true WHERE user_id = %lld AND channel = 'email'",
                          user_en));
    ck_assert_int_eq(notify_send(&C, &m), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notifications WHERE user_id = %lld AND NOT in_app", user_en), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld", user_en), 1);
    ck_assert_int_eq(notify_unread_count(&C, user_en), 1);
}
END_TEST

START_TEST(test_quiet_hours_defer_all_but_urgent)
{
    /* quiet from an hour ago to two hours ahead, in UTC */
    exec_sql(arena_printf(&A, "INSERT INTO notification_quiet_hours (user_id, tenant_id, start_min, end_min, time_zone) "
                              "SELECT %lld, %lld, (m + 1380) %% 1440, (m + 120) %% 1440, 'UTC' FROM (SELECT "
                              "(extract(hour FROM now() AT TIME ZONE 'UTC') * 60 + extract(minute FROM now() AT TIME ZONE "
                              "'UTC'))::int AS m) x",
                          user_en, tenant));
    notify_msg m = deposit(user_en, NOTIFY_HIGH, "quiet-high", NULL);
    ck_assert_int_eq(notify_send(&C, &m), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld AND dedupe_key LIKE "
                              "'%%quiet-high' AND next_attempt_at > now() + interval '100 minutes' "
                              "AND next_attempt_at <= now() + interval '121 minutes'",
                              user_en),
                     1);
    /* exactly the end computed in SQL for the instant it was sent */
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries d JOIN notifications n ON n.id = "
                              "d.notification_id JOIN notification_quiet_hours q ON q.user_id = n.user_id "
                              "WHERE n.user_id = %lld AND n.dedupe_key = 'quiet-high' AND d.next_attempt_at = "
                              "notify_quiet_end(n.created_at, q.start_min, q.end_min, q.time_zone)",
                              user_en),
                     1);
    m = deposit(user_en, NOTIFY_URGENT, "quiet-urgent", NULL);
    ck_assert_int_eq(notify_send(&C, &m), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld AND dedupe_key LIKE "
                              "'%%quiet-urgent' AND next_attempt_at <= now()",
                              user_en),
                     1);
    /* the bell is never delayed: both are unread in-app already */
    ck_assert_int_eq(notify_unread_count(&C, user_en), 2);
}
END_TEST

/* the end of a quiet period in UTC, for an instant and a period in a time zone */
static const char *quiet_end(const char *at, int start_min, int end_min, const char *tz)
{
    return text(arena_printf(&A, "SELECT coalesce(to_char(notify_quiet_end('%s', %d, %d, '%s') AT TIME ZONE 'UTC', "
                                 "'YYYY-MM-DD HH24:MI'), 'none')",
                             at, start_min, end_min, tz));
}

START_TEST(test_quiet_end_across_daylight_saving)
{
    int night_start = 22 * 60, night_end = 7 * 60;
    /* New York falls back at 02:00 EDT on 1 Nov 2026: sent at 23:00 EDT, the period ends at 07:00
     * EST = 12:00 UTC, nine hours of wall time later, not eight */
    ck_assert_str_eq(quiet_end("2026-11-01 03:00+00", night_start, night_end, "America/New_York"), "2026-11-01 12:00");
    /* and springs forward at 02:00 EST on 8 Mar 2026: 07:00 EDT = 11:00 UTC, seven hours later */
    ck_assert_str_eq(quiet_end("2026-03-08 04:00+00", night_start, night_end, "America/New_York"), "2026-03-08 11:00");
    /* Berlin falls back at 03:00 CEST on 25 Oct 2026: sent at 23:30 CEST, ends 07:00 CET = 06:00 UTC */
    ck_assert_str_eq(quiet_end("2026-10-24 21:30+00", night_start, night_end, "Europe/Berlin"), "2026-10-25 06:00");
    /* after midnight the same period ends the same local day */
    ck_assert_str_eq(quiet_end("2026-11-01 07:30+00", night_start, night_end, "America/New_York"), "2026-11-01 12:00");
    /* the end itself and the daytime are outside it; a period within one day */
    ck_assert_str_eq(quiet_end("2026-11-01 12:00+00", night_start, night_end, "America/New_York"), "none");
    ck_assert_str_eq(quiet_end("2026-11-01 18:00+00", night_start, night_end, "America/New_York"), "none");
    ck_assert_str_eq(quiet_end("2026-07-01 16:10+00", 13 * 60, 14 * 60 + 30, "America/Sao_Paulo"), "2026-07-01 17:30");
    ck_assert_str_eq(quiet_end("2026-07-01 17:30+00", 13 * 60, 14 * 60 + 30, "America/Sao_Paulo"), "none");
}
END_TEST

START_TEST(test_dedupe_key)
{
    notify_msg m = deposit(user_en, NOTIFY_NORMAL, "deposit:42", NULL);
    ck_assert_int_eq(notify_send(&C, &m), 1);
    ck_assert_int_eq(notify_send(&C, &m), 0);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notifications WHERE user_id = %lld", user_en), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld", user_en), 1);
    ck_assert_str_eq(text(arena_printf(&A, "SELECT dedupe_key FROM notification_deliveries WHERE user_id = %lld", user_en)),
                     arena_printf(&A, "%lld:email:deposit:42", user_en));
}
END_TEST

static int send_then_fail(void *arg)
{
    notify_msg *m = arg;
    ck_assert_int_eq(notify_send(&C, m), 1);
    return -1;
}

static int send_then_commit(void *arg)
{
    notify_msg *m = arg;
    return notify_send(&C, m) == 1 ? 0 : -1;
}

START_TEST(test_rolls_back_with_the_caller)
{
    notify_msg m = deposit(user_en, NOTIFY_NORMAL, "rollback", NULL);
    ck_assert_int_lt(db_tx(send_then_fail, &m), 0);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notifications WHERE user_id = %lld", user_en), 0);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld", user_en), 0);
    /* the same message in a transaction that commits is there, deliveries included */
    ck_assert_int_eq(db_tx(send_then_commit, &m), 0);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notifications WHERE user_id = %lld", user_en), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notification_deliveries WHERE user_id = %lld", user_en), 1);
}
END_TEST

START_TEST(test_audience_and_refusals)
{
    notify_msg m = {0, 0, "security.read", "seguranca", "sistema.announcement", NULL, NOTIFY_HIGH, NULL};
    json_t *d = json_pack("{s:s, s:s}", "title", "Alerta", "body", "Regra disparada");
    m.data = d;
    ck_assert_int_ge(notify_send(&C, &m), 1);
    ck_assert_int_eq(count_of("SELECT count(*) FROM notifications WHERE user_id = %lld AND title = 'Alerta' "
                              "AND category = 'seguranca' AND severity = 'warning'",
                              staff),
                     1);
    /* a trader never receives a company audience's notice */
    ck_assert_int_eq(count_of("SELECT count(*) FROM notifications WHERE tenant_id = %lld", tenant), 0);
    /* a user of another tenant than the one named: nothing */
    notify_msg cross = deposit(staff, NOTIFY_NORMAL, NULL, NULL);
    ck_assert_int_eq(notify_send(&C, &cross), 0);
    /* unknown category, unknown template, bad template name: refused, nothing written */
    long long before = scalar("SELECT count(*) FROM notifications");
    notify_msg bad = deposit(user_en, NOTIFY_NORMAL, NULL, NULL);
    bad.category = "segurança";
    ck_assert_int_eq(notify_send(&C, &bad), -1);
    bad.category = "financeiro";
    bad.template_name = "no.such_template";
    ck_assert_int_eq(notify_send(&C, &bad), -1);
    bad.template_name = "../lang/en";
    ck_assert_int_eq(notify_send(&C, &bad), -1);
    ck_assert_int_eq(scalar("SELECT count(*) FROM notifications"), before);
    json_decref(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notify_db");
    TCase *tc = tcase_create("notify_send");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_writes_notification_and_deliveries_per_defaults);
    tcase_add_test(tc, test_disabled_channels);
    tcase_add_test(tc, test_quiet_hours_defer_all_but_urgent);
    tcase_add_test(tc, test_quiet_end_across_daylight_saving);
    tcase_add_test(tc, test_dedupe_key);
    tcase_add_test(tc, test_rolls_back_with_the_caller);
    tcase_add_test(tc, test_audience_and_refusals);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
