/* ledger_clients.c — ledger clients for the bank test (tests/integration/ledger_bank.test.mjs) and the
 * transfer benchmark (tests/bench/billing): each process has its own connection; results go to stdout.
 *
 *   ledger_clients setup ACCOUNTS PER_ACCOUNT       a tenant, a bank and ACCOUNTS funded wallets:
 *                                                  prints "tenant T" and "accounts ID,ID,..."
 *   ledger_clients client TENANT IDS NAME FROM OPS  ops FROM..OPS-1 of client NAME: a transfer (key
 *                                                  NAME-op, body fixed by the op number, so a restarted
 *                                                  client retries an interrupted op with the same body)
 *                                                  or a read; prints "ack KEY ID", "refused KEY CODE",
 *                                                  "read SUM MIN", "done N"
 *   ledger_clients bench TENANT IDS CLIENTS OPS [BATCH]  CLIENTS processes x OPS calls among IDS, each call
 *                                                  one transfer (ledger_transfer) or BATCH independent
 *                                                  ones (ledger_transfer_each): prints "ops N seconds S
 *                                                  per_s R p50_ms A p99_ms B" (N and R count transfers;
 *                                                  the latencies are per call)
 *   ledger_clients floor CLIENTS OPS                the same shape with one bare INSERT per op (a temp table)
 * The database is BCF_TEST_DSN. */
#include "bench_clients.h"
#include "config.h"
#include "db.h"
#include "ledger.h"
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ACCOUNTS 4096

static long long ids[MAX_ACCOUNTS];
static int n_ids;

static void die(const char *msg)
{
    bench_die("ledger_clients", msg);
}

static uint64_t mix(uint64_t x) /* splitmix64: one op's choices from its number alone */
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void parse_ids(const char *csv)
{
    for (const char *p = csv; *p && n_ids < MAX_ACCOUNTS;) {
        char *end;
        ids[n_ids++] = strtoll(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p)
            die("bad account list");
    }
    if (n_ids < 2)
        die("at least two accounts");
}

static void open_db(void)
{
    const char *dsn = getenv("BCF_TEST_DSN");
    if (!dsn || !*dsn)
        die("BCF_TEST_DSN is not set");
    char err[128];
    if (config_parse_text("db.retry_max = 20\n", err, sizeof err) < 0)
        die(err);
    db_configure(dsn);
}

static int setup(int accounts, long long per_account)
{
    if (accounts < 2 || accounts > MAX_ACCOUNTS || per_account <= 0)
        die("setup ACCOUNTS(2..4096) PER_ACCOUNT(>0)");
    PGconn *pg = PQconnectdb(getenv("BCF_TEST_DSN"));
    PGresult *r = PQexec(pg, "INSERT INTO tenants (kind, name) VALUES ('company', 'ledger clients') RETURNING id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die(PQerrorMessage(pg));
    ctx c = {.tenant_id = atoll(PQgetvalue(r, 0, 0)), .ip = "", .request_id = ""};
    PQclear(r);
    PQfinish(pg);
    long long bank = ledger_account_open(&c, "BRL", "bank", 1);
    printf("tenant %lld\naccounts ", c.tenant_id);
    for (int i = 0; i < accounts; i++) {
        char code[32], key[48];
        snprintf(code, sizeof code, "w%d", i);
        snprintf(key, sizeof key, "fund-%d", i);
        long long id = ledger_account_open(&c, "BRL", code, 0);
        ledger_transfer_req q = {.key = key, .kind = LEDGER_SINGLE, .debit_account_id = bank,
                                 .credit_account_id = id, .amount = per_account, .code = "deposit"};
        ledger_result res;
        if (bank < 0 || id < 0 || ledger_transfer(&c, &q, 1, &res) != 0)
            die("setup failed");
        printf("%s%lld", i ? "," : "", id);
    }
    printf("\n");
    return 0;
}

/* One transfer: a random pair and amount, fixed by (name, op) */
static ledger_transfer_req op_transfer(const char *name, long op, char *key, size_t keylen)
{
    uint64_t h = mix(hash_str(name) ^ mix((uint64_t)op));
    int from = (int)(h % (uint64_t)n_ids);
    int to = (int)((h >> 16) % (uint64_t)(n_ids - 1));
    if (to >= from)
        to++;
    snprintf(key, keylen, "%s-%ld", name, op);
    return (ledger_transfer_req){.key = key, .kind = LEDGER_SINGLE, .debit_account_id = ids[from],
                                 .credit_account_id = ids[to], .amount = 1 + (long long)((h >> 40) % 50),
                                 .code = "bank_test"};
}

static int client(long long tenant, const char *name, long from, long ops)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line printed is a line the test sees, even if killed next */
    ctx c = {.tenant_id = tenant, .ip = "", .request_id = ""};
    PGconn *pg = PQconnectdb(getenv("BCF_TEST_DSN"));
    if (PQstatus(pg) != CONNECTION_OK)
        die(PQerrorMessage(pg));
    char list[MAX_ACCOUNTS * 21 + 3] = "{";
    for (int i = 0; i < n_ids; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%lld", i ? "," : "", ids[i]);
    strcat(list, "}");
    const char *params[] = {list};
    for (long op = from; op < ops; op++) {
        if (mix((uint64_t)op ^ hash_str(name)) % 4 == 0) {
            /* one statement: one snapshot of every wallet */
            PGresult *r = PQexecParams(pg,
                                       "SELECT sum(credits_posted - debits_posted), "
                                       "min(credits_posted - debits_posted - debits_pending) "
                                       "FROM ledger_accounts WHERE id = ANY($1::bigint[])",
                                       1, NULL, params, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_TUPLES_OK)
                die(PQerrorMessage(pg));
            printf("read %s %s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
            PQclear(r);
            continue;
        }
        char key[96];
        ledger_transfer_req q = op_transfer(name, op, key, sizeof key);
        ledger_result res = {LEDGER_DB_ERROR, 0};
        int rc;
        /* a database failure decided nothing: retry with the same key, as the docs tell clients to */
        for (int attempt = 0; (rc = ledger_transfer(&c, &q, 1, &res)) < 0; attempt++) {
            fprintf(stderr, "ledger_clients: %s: %s (retrying)\n", key, db_error());
            if (attempt >= 20)
                die(db_error());
            usleep(10000u << (attempt < 6 ? attempt : 6));
        }
        if (rc == 0)
            printf("ack %s %lld\n", key, res.transfer_id);
        else
            printf("refused %s %s\n", key, ledger_code_name(res.code));
    }
    printf("done %ld\n", ops);
    PQfinish(pg);
    return 0;
}

/* One benchmark client: its tenant, a name that makes its keys unique, and the batch size. */
typedef struct bench_client {
    ctx c;
    char name[48];
    int batch;
} bench_client;

static struct {
    long long tenant;
    int batch;
} bench_arg;

static void *bench_init(int client, void *arg)
{
    (void)arg;
    bench_client *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->c = (ctx){.tenant_id = bench_arg.tenant, .ip = "", .request_id = ""};
    b->batch = bench_arg.batch;
    snprintf(b->name, sizeof b->name, "b%d-%lld-%d", client, (long long)time(NULL), (int)getpid());
    return b;
}

/* One call: a transfer (ledger_transfer) or `batch` independent ones (ledger_transfer_each). */
static int bench_op(void *state, long op)
{
    bench_client *b = state;
    int batch = b->batch;
    ledger_transfer_req q[batch];
    ledger_result res[batch];
    char keys[batch][96];
    for (int k = 0; k < batch; k++)
        q[k] = op_transfer(b->name, op * batch + k, keys[k], sizeof keys[k]);
    int rc = batch == 1 ? ledger_transfer(&b->c, q, 1, res) : ledger_transfer_each(&b->c, q, (size_t)batch, res);
    if (rc < 0)
        fprintf(stderr, "ledger_clients: %s\n", db_error());
    return rc < 0 ? -1 : 0;
}

static int timed(long long tenant, int clients, long ops, int batch)
{
    if (batch < 1 || batch > LEDGER_MAX_BATCH)
        die("BATCH(1..8190)");
    db_close(); /* each forked client opens its own connection */
    bench_arg.tenant = tenant;
    bench_arg.batch = batch;
    bench_ops o = {bench_init, bench_op, NULL};
    return bench_clients_run(clients, ops, batch, &o);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: setup | client | bench | floor (see the top of tests/bench/ledger_clients.c)");
    open_db();
    int rc = 2;
    if (!strcmp(argv[1], "setup") && argc == 4)
        rc = setup(atoi(argv[2]), atoll(argv[3]));
    else if (!strcmp(argv[1], "client") && argc == 7) {
        parse_ids(argv[3]);
        rc = client(atoll(argv[2]), argv[4], atol(argv[5]), atol(argv[6]));
    } else if (!strcmp(argv[1], "bench") && (argc == 6 || argc == 7)) {
        parse_ids(argv[3]);
        rc = timed(atoll(argv[2]), atoi(argv[4]), atol(argv[5]), argc == 7 ? atoi(argv[6]) : 1);
    } else if (!strcmp(argv[1], "floor") && argc == 4) {
        db_close();
        rc = bench_clients_floor(atoi(argv[2]), atol(argv[3]));
    }
    else
        die("bad arguments (see the top of tests/bench/ledger_clients.c)");
    db_close();
    config_free();
    return rc;
}
