/* notify_clients.c — the clients of the notify benchmark (tests/bench/notify): notify_send calls into the
 * outbox, and bare Bot API calls as the delivery's floor; each process has its own connection.
 *
 *   notify_clients setup USERS CHAT_BASE        a tenant and USERS users (half en, half pt-BR), each with a
 *                                               verified e-mail and a Telegram chat CHAT_BASE+1..: prints
 *                                               "tenant T" and "users ID,ID,..."
 *   notify_clients bench TENANT IDS CLIENTS OPS CLIENTS processes x OPS notify_send calls, round-robin over
 *                                               IDS: a Financeiro deposit notice (template
 *                                               banco.deposit_confirmed), so each call renders the in-app
 *                                               text and writes a notification, a Telegram and an e-mail
 *                                               delivery; prints "ops N seconds S per_s R p50_ms A p99_ms B"
 *   notify_clients floor CLIENTS OPS            the same shape with one bare INSERT per op (a temp table)
 *   notify_clients botapi CLIENTS OPS CHAT_BASE the same shape with one sendMessage per op through
 *                                               lib/telegram_api.c, no pacing, no database: the Bot API
 *                                               server's and our HTTP client's own floor
 * The database is BCF_TEST_DSN; templates, token and API base come from the BCF_* environment
 * (BCF_NOTIFY_TEMPLATES_DIR, BCF_TELEGRAM_BOT_TOKEN, BCF_TELEGRAM_API_BASE). */
#include "bench_clients.h"
#include "config.h"
#include "db.h"
#include "notify.h"
#include "telegram_api.h"
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_USERS 100000

static long long *ids;
static int n_ids;
static long long tenant_id, chat_base;

static void die(const char *msg)
{
    bench_die("notify_clients", msg);
}

static void parse_ids(const char *csv)
{
    ids = calloc(MAX_USERS, sizeof *ids);
    if (!ids)
        die("out of memory");
    for (const char *p = csv; *p && n_ids < MAX_USERS;) {
        char *end;
        ids[n_ids++] = strtoll(p, &end, 10);
        if (end == p)
            die("bad user list");
        p = *end == ',' ? end + 1 : end;
    }
    if (n_ids < 1)
        die("at least one user");
}

/* One statement makes the tenant, its users and their links, so a half-made setup cannot remain. */
static int setup(int users, long long base)
{
    if (users < 1 || users > MAX_USERS)
        die("setup USERS(1..100000) CHAT_BASE");
    PGconn *pg = PQconnectdb(getenv("BCF_TEST_DSN"));
    if (PQstatus(pg) != CONNECTION_OK)
        die(PQerrorMessage(pg));
    char n[16], b[24];
    snprintf(n, sizeof n, "%d", users);
    snprintf(b, sizeof b, "%lld", base);
    const char *p[] = {n, b};
    PGresult *r = PQexecParams(
        pg,
        "WITH t AS (INSERT INTO tenants (kind, name, plan) VALUES ('trader', 'notify bench', 'free') RETURNING id), "
        "u AS (INSERT INTO users (tenant_id, email, display_name, password_hash, lang, email_verified_at) "
        "      SELECT t.id, 'nb' || g || '-' || t.id || '@example.com', 'Bench ' || g, 'x', "
        "             CASE WHEN g % 2 = 0 THEN 'en' ELSE 'pt-BR' END, now() "
        "      FROM t, generate_series(1, $1::int) g RETURNING id, tenant_id) "
        "INSERT INTO telegram_links (user_id, tenant_id, chat_id) "
        "SELECT id, tenant_id, $2::bigint + row_number() OVER (ORDER BY id) FROM u "
        "RETURNING user_id, tenant_id",
        2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != users)
        die(PQerrorMessage(pg));
    printf("tenant %s\nusers ", PQgetvalue(r, 0, 1));
    for (int i = 0; i < PQntuples(r); i++)
        printf("%s%s", i ? "," : "", PQgetvalue(r, i, 0));
    printf("\n");
    PQclear(r);
    PQfinish(pg);
    return 0;
}

/* A client's state is only its number: each process has its own db.c connection. */
static void *send_init(int client, void *arg)
{
    (void)arg;
    long *c = malloc(sizeof *c);
    if (c)
        *c = client;
    return c;
}

static int send_op(void *state, long op)
{
    long client = *(long *)state;
    arena a;
    arena_init(&a, 4096);
    ctx c = {.a = &a, .tenant_id = tenant_id, .ip = "", .request_id = ""};
    char amount[32], amount_en[32], ref[48];
    snprintf(amount, sizeof amount, "R$ %ld,%02ld", 10 + op % 990, op % 100);
    snprintf(amount_en, sizeof amount_en, "R$%ld.%02ld", 10 + op % 990, op % 100);
    snprintf(ref, sizeof ref, "bench-%ld-%ld", client, op);
    /* as Banco sends it: the amount formatted for each language */
    json_t *data = json_pack("{s:s, s:s, s:s}", "amount", amount, "amount@en", amount_en, "reference", ref);
    notify_msg m = {tenant_id, ids[(size_t)(client * 7919 + op) % (size_t)n_ids], NULL, "financeiro",
                    "banco.deposit_confirmed", data, NOTIFY_NORMAL, NULL};
    int rc = notify_send(&c, &m);
    json_decref(data);
    arena_destroy(&a);
    if (rc != 1)
        fprintf(stderr, "notify_clients: notify_send returned %d: %s\n", rc, db_error());
    return rc == 1 ? 0 : -1;
}

static int botapi_op(void *state, long op)
{
    long client = *(long *)state;
    char text[64];
    snprintf(text, sizeof text, "bench %ld/%ld", client, op);
    json_t *params = json_pack("{s:I, s:s}", "chat_id", (json_int_t)(chat_base + 1 + op % 100), "text", text);
    json_t *result = NULL;
    tg_error e;
    int rc = telegram_call("sendMessage", params, 1, &result, &e);
    json_decref(params);
    json_decref(result);
    if (rc != TG_OK)
        fprintf(stderr, "notify_clients: sendMessage: %s\n", e.description);
    return rc == TG_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: setup | bench | floor | botapi (see the top of tests/bench/notify_clients.c)");
    const char *dsn = getenv("BCF_TEST_DSN");
    if (strcmp(argv[1], "botapi") && (!dsn || !*dsn))
        die("BCF_TEST_DSN is not set");
    char err[128];
    if (config_parse_text("db.retry_max = 20\n", err, sizeof err) < 0)
        die(err);
    if (dsn)
        db_configure(dsn);
    int rc = 2;
    if (!strcmp(argv[1], "setup") && argc == 4) {
        rc = setup(atoi(argv[2]), atoll(argv[3]));
    } else if (!strcmp(argv[1], "bench") && argc == 6) {
        tenant_id = atoll(argv[2]);
        parse_ids(argv[3]);
        db_close(); /* each forked client opens its own connection */
        bench_ops o = {send_init, send_op, NULL};
        rc = bench_clients_run(atoi(argv[4]), atol(argv[5]), 1, &o);
    } else if (!strcmp(argv[1], "floor") && argc == 4) {
        db_close();
        rc = bench_clients_floor(atoi(argv[2]), atol(argv[3]));
    } else if (!strcmp(argv[1], "botapi") && argc == 5) {
        chat_base = atoll(argv[4]);
        bench_ops o = {send_init, botapi_op, NULL};
        rc = bench_clients_run(atoi(argv[2]), atol(argv[3]), 1, &o);
    } else {
        die("bad arguments (see the top of tests/bench/notify_clients.c)");
    }
    db_close();
    config_free();
    free(ids);
    return rc;
}
