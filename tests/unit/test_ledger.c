/* test_ledger.c — the ledger against a real PostgreSQL: idempotency, refusals that write nothing,
 * linked batches, two-phase transfers, verification, and concurrent writers. Needs BCF_TEST_DSN. */
#include "config.h"
#include "db.h"
#include "ledger.h"
#include "unit.h"
#include <libpq-fe.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static PGconn *owner; /* the schema owner: creates tenants, reads counts, damages balances */
static const char *dsn;
static ctx c;
static long long bank, alice, bob, carol;

static long long sql_ll(const char *sql)
{
    PGresult *r = PQexec(owner, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql, PQerrorMessage(owner));
    long long v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static int sql_ok(const char *sql)
{
    PGresult *r = PQexec(owner, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
}

/* credits_posted - debits_posted - debits_pending: what the account may still spend */
static long long available(long long id)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT credits_posted - debits_posted - debits_pending FROM ledger_accounts WHERE id = %lld", id);
    return sql_ll(sql);
}

static long long tenant_rows(void)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM ledger_transfers WHERE tenant_id = %lld) * 1000 + "
             "(SELECT count(*) FROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id "
             "WHERE t.tenant_id = %lld)",
             c.tenant_id, c.tenant_id);
    return sql_ll(sql);
}

static ledger_code one(ledger_transfer_req q, long long *id)
{
    ledger_result r = {LEDGER_DB_ERROR, 0};
    int rc = ledger_transfer(&c, &q, 1, &r);
    ck_assert_int_ge(rc, 0);
    ck_assert_int_eq(rc == 0, r.code == LEDGER_OK || r.code == LEDGER_EXISTS);
    if (id)
        *id = r.transfer_id;
    return r.code;
}

static ledger_transfer_req move(const char *key, long long from, long long to, long long amount)
{
    return (ledger_transfer_req){.key = key, .kind = LEDGER_SINGLE, .debit_account_id = from,
                                 .credit_account_id = to, .amount = amount};
}

static void count_problem(const char *msg, void *arg)
{
    (void)msg;
    (*(int *)arg)++;
}

static void setup(void)
{
    dsn = getenv("BCF_TEST_DSN");
    ck_assert_msg(dsn && *dsn, "BCF_TEST_DSN must name the test database (tests/integration/ledger.test.mjs sets it)");
    char err[128];
    ck_assert_int_eq(config_parse_text("db.retry_max = 5\n", err, sizeof err), 0);
    db_configure(dsn);
    owner = PQconnectdb(dsn);
    ck_assert_int_eq(PQstatus(owner), CONNECTION_OK);
    c = (ctx){.tenant_id = sql_ll("INSERT INTO tenants (kind, name) VALUES ('company', 'ledger test') RETURNING id"),
              .ip = "", .request_id = ""};
    bank = ledger_account_open(&c, "BRL", "bank", 1);
    alice = ledger_account_open(&c, "BRL", "alice", 0);
    bob = ledger_account_open(&c, "BRL", "bob", 0);
    carol = ledger_account_open(&c, "BRL", "carol", 0);
    ck_assert_int_gt(bank, 0);
    ck_assert_int_gt(carol, 0);
    ck_assert_int_eq(ledger_account_open(&c, "BRL", "alice", 0), alice); /* opening again finds it */
    ck_assert_int_lt(ledger_account_open(&c, "BRL", "alice", 1), 0);     /* but not with other flags */
    ck_assert_int_lt(ledger_account_open(&c, "EUR", "alice", 0), 0);
    ck_assert_int_eq(one(move("deposit", bank, alice, 1000), NULL), LEDGER_OK);
}

static void teardown(void)
{
    PQfinish(owner);
    db_close();
    config_free();
}

START_TEST(test_idempotent_retry_and_conflict)
{
    long long first, again;
    ck_assert_int_eq(one(move("pay-1", alice, bob, 100), &first), LEDGER_OK);
    ck_assert_int_eq(one(move("pay-1", alice, bob, 100), &again), LEDGER_EXISTS);
    ck_assert_int_eq(again, first);
    ck_assert_int_eq(available(alice), 900); /* moved once */
    long long rows = tenant_rows();
    ck_assert_int_eq(one(move("pay-1", alice, bob, 99), NULL), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    ck_assert_int_eq(one(move("pay-1", alice, carol, 100), NULL), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    ck_assert_int_eq(tenant_rows(), rows);
    ck_assert_int_eq(available(bob), 100);
}
END_TEST

START_TEST(test_refusals_write_nothing)
{
    long long rows = tenant_rows();
    ck_assert_int_eq(one(move("too-much", alice, bob, 1001), NULL), LEDGER_EXCEEDS_CREDITS);
    ck_assert_int_eq(one(move("self", alice, alice, 1), NULL), LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
    ck_assert_int_eq(one(move("zero", alice, bob, 0), NULL), LEDGER_INVALID);
    ck_assert_int_eq(one(move("", alice, bob, 1), NULL), LEDGER_INVALID);
    ck_assert_int_eq(one(move("nobody", alice, 1LL << 40, 1), NULL), LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    long long btc = ledger_account_open(&c, "BTC", "alice", 0);
    ck_assert_int_eq(one(move("mixed", alice, btc, 1), NULL), LEDGER_CURRENCY_MISMATCH);
    ck_assert_int_eq(tenant_rows(), rows);
    ck_assert_int_eq(available(alice), 1000);
    /* a refused key is not taken: the same key succeeds once the money is there */
    ck_assert_int_eq(one(move("too-much", alice, bob, 1000), NULL), LEDGER_OK);
    ck_assert_int_eq(available(alice), 0);
}
END_TEST

START_TEST(test_linked_all_or_nothing)
{
    ledger_transfer_req batch[2] = {move("l-1", alice, bob, 50), move("l-2", bob, carol, 51)};
    ledger_result res[2];
    long long rows = tenant_rows();
    ck_assert_int_eq(ledger_transfer(&c, batch, 2, res), 1);
    ck_assert_int_eq(res[0].code, LEDGER_LINKED_EVENT_FAILED);
    ck_assert_int_eq(res[1].code, LEDGER_EXCEEDS_CREDITS); /* bob would only have 50 */
    ck_assert_int_eq(tenant_rows(), rows);
    ck_assert_int_eq(available(alice), 1000);
    batch[1].amount = 50;
    ck_assert_int_eq(ledger_transfer(&c, batch, 2, res), 0);
    ck_assert_int_eq(res[0].code, LEDGER_OK);
    ck_assert_int_eq(res[1].code, LEDGER_OK);
    ck_assert_int_eq(available(bob), 0);
    ck_assert_int_eq(available(carol), 50);
    long long ids[2] = {res[0].transfer_id, res[1].transfer_id};
    /* the batch retried: the first results */
    ck_assert_int_eq(ledger_transfer(&c, batch, 2, res), 0);
    ck_assert_int_eq(res[0].code, LEDGER_EXISTS);
    ck_assert_int_eq(res[1].transfer_id, ids[1]);
    /* one of its keys in another batch is a different request */
    ledger_transfer_req other[2] = {batch[0], move("l-3", alice, bob, 1)};
    ck_assert_int_eq(ledger_transfer(&c, other, 2, res), 1);
    ck_assert_int_eq(res[0].code, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    ck_assert_int_eq(res[1].code, LEDGER_LINKED_EVENT_FAILED);
    ck_assert_int_eq(one(batch[0], NULL), LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    ck_assert_int_eq(available(alice), 950);
}
END_TEST

/* ledger_transfer_each: one transaction, each request on its own, in order; a retry answers
 * each from its first result; a key twice in a batch is refused; batches share accounts. */
START_TEST(test_independent_batch)
{
    ledger_transfer_req batch[5] = {move("e-1", alice, bob, 600), move("e-2", alice, carol, 600),
                                    move("e-3", bob, carol, 100), move("e-1", alice, bob, 600),
                                    move("e-4", carol, alice, 700)};
    ledger_result res[5];
    long long rows = tenant_rows();
    ck_assert_int_eq(ledger_transfer_each(&c, batch, 5, res), 1);
    ck_assert_int_eq(res[0].code, LEDGER_OK);
    ck_assert_int_eq(res[1].code, LEDGER_EXCEEDS_CREDITS); /* alice has 400 left after e-1 */
    ck_assert_int_eq(res[2].code, LEDGER_OK);              /* bob spends what e-1 gave him */
    ck_assert_int_eq(res[3].code, LEDGER_INVALID);         /* e-1 again in the same batch */
    ck_assert_int_eq(res[4].code, LEDGER_EXCEEDS_CREDITS); /* carol has 100 */
    ck_assert_int_gt(res[0].transfer_id, 0);
    ck_assert_int_gt(res[2].transfer_id, res[0].transfer_id); /* ids follow the batch's order */
    ck_assert_int_eq(tenant_rows(), rows + 2 * 1000 + 4);
    ck_assert_int_eq(available(alice), 400);
    ck_assert_int_eq(available(bob), 500);
    ck_assert_int_eq(available(carol), 100);
    long long first = res[0].transfer_id;
    /* the same batch again: the applied ones exist, the refused ones are tried afresh */
    batch[1].amount = 400;
    ck_assert_int_eq(ledger_transfer_each(&c, batch, 5, res), 1);
    ck_assert_int_eq(res[0].code, LEDGER_EXISTS);
    ck_assert_int_eq(res[0].transfer_id, first);
    ck_assert_int_eq(res[1].code, LEDGER_OK);
    ck_assert_int_eq(res[2].code, LEDGER_EXISTS);
    ck_assert_int_eq(res[3].code, LEDGER_INVALID);
    ck_assert_int_eq(res[4].code, LEDGER_EXCEEDS_CREDITS); /* carol has 500: still short of 700 */
    ck_assert_int_eq(available(alice), 0);
    ck_assert_int_eq(available(carol), 500);
    /* a transfer stored on its own is a different request inside a linked batch, and the other way round */
    ledger_transfer_req linked[2] = {batch[0], move("e-5", carol, bob, 1)};
    ck_assert_int_eq(ledger_transfer(&c, linked, 2, res), 1);
    ck_assert_int_eq(res[0].code, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    ledger_transfer_req pair[2] = {move("e-6", carol, bob, 1), move("e-7", carol, bob, 1)};
    ck_assert_int_eq(ledger_transfer(&c, pair, 2, res), 0);
    ck_assert_int_eq(ledger_transfer_each(&c, pair, 2, res), 1);
    ck_assert_int_eq(res[0].code, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    /* every request valid and new: 0, and one audit record for them all */
    ledger_transfer_req ok[3] = {move("e-8", carol, bob, 1), move("e-9", bob, carol, 2), move("e-10", carol, bob, 3)};
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE tenant_id = %lld AND action = 'ledger.transfer'",
             c.tenant_id);
    long long audits = sql_ll(sql);
    ck_assert_int_eq(ledger_transfer_each(&c, ok, 3, res), 0);
    ck_assert_int_eq(sql_ll(sql), audits + 1);
    /* a linked batch repeating a key is refused whole */
    ledger_transfer_req twice[2] = {move("e-11", carol, bob, 1), move("e-11", carol, bob, 1)};
    ck_assert_int_eq(ledger_transfer(&c, twice, 2, res), 1);
    ck_assert_int_eq(res[0].code, LEDGER_LINKED_EVENT_FAILED);
    ck_assert_int_eq(res[1].code, LEDGER_INVALID);
    int problems = 0;
    ck_assert_int_eq(ledger_verify(count_problem, &problems), 0);
}
END_TEST

/* Inside a caller's db_tx the ledger joins that transaction: it commits or rolls back with it. */
struct outer {
    ledger_transfer_req q;
    ledger_result r;
    int verdict; /* what the outer transaction returns after the transfer */
};

static int outer_tx(void *arg)
{
    struct outer *o = arg;
    if (ledger_transfer(&c, &o->q, 1, &o->r) < 0)
        return -1;
    return o->verdict;
}

START_TEST(test_joins_callers_transaction)
{
    long long rows = tenant_rows();
    struct outer o = {.q = move("joined-1", alice, bob, 10), .verdict = -5};
    ck_assert_int_eq(db_tx(outer_tx, &o), -5);
    ck_assert_int_eq(o.r.code, LEDGER_OK);  /* applied inside, */
    ck_assert_int_eq(tenant_rows(), rows);  /* then rolled back with the caller */
    ck_assert_int_eq(available(alice), 1000);
    o.verdict = 0;
    ck_assert_int_eq(db_tx(outer_tx, &o), 0);
    ck_assert_int_eq(o.r.code, LEDGER_OK);  /* the key was free again */
    ck_assert_int_eq(available(alice), 990);
    /* a refusal inside leaves the caller's transaction usable */
    o.q = move("joined-2", alice, bob, 5000);
    ck_assert_int_eq(db_tx(outer_tx, &o), 0);
    ck_assert_int_eq(o.r.code, LEDGER_EXCEEDS_CREDITS);
    ck_assert_int_eq(available(alice), 990);
    int problems = 0;
    ck_assert_int_eq(ledger_verify(count_problem, &problems), 0);
}
END_TEST

START_TEST(test_two_phase)
{
    long long p1, p2, p3;
    ledger_transfer_req hold = {.key = "hold-1", .kind = LEDGER_PENDING, .debit_account_id = alice,
                                .credit_account_id = bob, .amount = 300};
    ck_assert_int_eq(one(hold, &p1), LEDGER_OK);
    ck_assert_int_eq(available(alice), 700);                   /* reserved */
    ck_assert_int_eq(available(bob), 0);                       /* not yet received */
    ck_assert_int_eq(one(move("over-hold", alice, carol, 701), NULL), LEDGER_EXCEEDS_CREDITS);
    ledger_transfer_req post = {.key = "post-1", .kind = LEDGER_POST, .pending_id = p1, .amount = 301};
    ck_assert_int_eq(one(post, NULL), LEDGER_EXCEEDS_PENDING_AMOUNT);
    post.amount = 200;                                         /* in part: the other 100 is released */
    ck_assert_int_eq(one(post, NULL), LEDGER_OK);
    ck_assert_int_eq(available(alice), 800);
    ck_assert_int_eq(available(bob), 200);
    ck_assert_int_eq(one(post, NULL), LEDGER_EXISTS);
    ledger_transfer_req again = {.key = "post-1b", .kind = LEDGER_POST, .pending_id = p1};
    ck_assert_int_eq(one(again, NULL), LEDGER_PENDING_ALREADY_POSTED);
    ledger_transfer_req cancel = {.key = "void-1", .kind = LEDGER_VOID, .pending_id = p1};
    ck_assert_int_eq(one(cancel, NULL), LEDGER_PENDING_ALREADY_POSTED);

    hold.key = "hold-2";
    ck_assert_int_eq(one(hold, &p2), LEDGER_OK);
    cancel = (ledger_transfer_req){.key = "void-2", .kind = LEDGER_VOID, .pending_id = p2};
    ck_assert_int_eq(one(cancel, NULL), LEDGER_OK);
    ck_assert_int_eq(available(alice), 800);
    again = (ledger_transfer_req){.key = "post-2", .kind = LEDGER_POST, .pending_id = p2};
    ck_assert_int_eq(one(again, NULL), LEDGER_PENDING_ALREADY_VOIDED);

    hold.key = "hold-3";
    hold.amount = 800;
    hold.timeout_s = 60;
    ck_assert_int_eq(one(hold, &p3), LEDGER_OK);
    ck_assert_int_eq(available(alice), 0);
    /* a clock an hour ahead: the pending transfer is past its timeout and voided */
    ck_assert_int_ge(ledger_expire(time(NULL) + 3600), 1);
    ck_assert_int_eq(available(alice), 800);
    again = (ledger_transfer_req){.key = "post-3", .kind = LEDGER_POST, .pending_id = p3};
    ck_assert_int_eq(one(again, NULL), LEDGER_PENDING_ALREADY_VOIDED);
    ck_assert_int_eq(ledger_expire(time(NULL) + 3600), 0);      /* nothing twice */

    long long single;
    ck_assert_int_eq(one(move("plain", alice, bob, 1), &single), LEDGER_OK);
    again = (ledger_transfer_req){.key = "post-4", .kind = LEDGER_POST, .pending_id = single};
    ck_assert_int_eq(one(again, NULL), LEDGER_PENDING_NOT_PENDING);
    again = (ledger_transfer_req){.key = "post-5", .kind = LEDGER_POST, .pending_id = 1LL << 40};
    ck_assert_int_eq(one(again, NULL), LEDGER_PENDING_NOT_FOUND);
}
END_TEST

START_TEST(test_verify_and_append_only)
{
    ck_assert_int_eq(one(move("v-1", alice, bob, 10), NULL), LEDGER_OK);
    int problems = 0;
    ck_assert_int_eq(ledger_verify(count_problem, &problems), 0);
    ck_assert_int_eq(problems, 0);
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET credits_posted = credits_posted + 5 WHERE id = %lld", bob);
    ck_assert(sql_ok(sql));
    long found = ledger_verify(count_problem, &problems);
    /* bob's totals disagree with his entries, and BRL's debits no longer equal its credits */
    ck_assert_int_eq(found, 2);
    ck_assert_int_eq(problems, 2);
    snprintf(sql, sizeof sql, "UPDATE ledger_accounts SET credits_posted = credits_posted - 5 WHERE id = %lld", bob);
    ck_assert(sql_ok(sql));
    ck_assert_int_eq(ledger_verify(count_problem, &problems), 0);
    /* transfers and entries cannot be rewritten, even by the owner */
    ck_assert(!sql_ok("UPDATE ledger_transfers SET amount = amount + 1"));
    ck_assert(!sql_ok("DELETE FROM ledger_entries"));
    ck_assert(!sql_ok("TRUNCATE ledger_transfers CASCADE"));
}
END_TEST

#define WRITERS 4
#define OPS 120

/* One writer with its own connection: random transfers and linked pairs among the four
 * accounts; every acknowledged one is retried now and then and must answer EXISTS with the same
 * id. Writes its count of acknowledged transfers to fd; exits non-zero on a broken promise. */
static void writer(int w, int fd)
{
    db_configure(dsn);
    long long acct[4] = {alice, bob, carol, bank};
    srand((unsigned)(w * 7919 + 17));
    long acked = 0;
    for (int op = 0; op < OPS; op++) {
        char k1[32], k2[32];
        snprintf(k1, sizeof k1, "conc-%d-%d-a", w, op);
        snprintf(k2, sizeof k2, "conc-%d-%d-b", w, op);
        int a = rand() % 3, b = (a + 1 + rand() % 2) % 3, d = rand() % 3, e = (d + 1 + rand() % 2) % 3;
        ledger_transfer_req q[2] = {move(k1, acct[a], acct[b], 1 + rand() % 400), move(k2, acct[d], acct[e], 1 + rand() % 400)};
        size_t n = rand() % 3 == 0 ? 2 : 1;
        ledger_result r[2], again[2];
        int rc = ledger_transfer(&c, q, n, r);
        if (rc < 0)
            _exit(3);
        if (rc == 0) {
            acked += (long)n;
            if (op % 5 == 0 && (ledger_transfer(&c, q, n, again) != 0 || again[0].code != LEDGER_EXISTS ||
                                again[0].transfer_id != r[0].transfer_id))
                _exit(4);
        }
    }
    if (write(fd, &acked, sizeof acked) != (ssize_t)sizeof acked)
        _exit(5);
    db_close();
    _exit(0);
}

START_TEST(test_concurrent_writers)
{
    ck_assert_int_eq(one(move("seed-bob", bank, bob, 1000), NULL), LEDGER_OK);
    ck_assert_int_eq(one(move("seed-carol", bank, carol, 1000), NULL), LEDGER_OK);
    long long total = available(alice) + available(bob) + available(carol);
    ck_assert_int_eq(total, 3000);
    db_close(); /* each writer opens its own connection; none may share this one's socket */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] == 0)
            writer(w, fds[1]);
    }
    close(fds[1]);
    long acked = 0;
    for (int w = 0; w < WRITERS; w++) {
        int status;
        ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed (status %d)", w, status);
        long n;
        ck_assert_int_eq(read(fds[0], &n, sizeof n), (ssize_t)sizeof n);
        acked += n;
    }
    close(fds[0]);
    ck_assert_int_gt(acked, 0);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ledger_transfers WHERE tenant_id = %lld AND idempotency_key LIKE 'conc-%%'",
             c.tenant_id);
    ck_assert_int_eq(sql_ll(sql), acked); /* each acknowledged transfer once, nothing refused written */
    ck_assert_int_eq(available(alice) + available(bob) + available(carol), total);
    ck_assert_int_ge(available(alice), 0);
    ck_assert_int_ge(available(bob), 0);
    ck_assert_int_ge(available(carol), 0);
    int problems = 0;
    ck_assert_int_eq(ledger_verify(count_problem, &problems), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ledger");
    TCase *tc = tcase_create("ledger");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_idempotent_retry_and_conflict);
    tcase_add_test(tc, test_refusals_write_nothing);
    tcase_add_test(tc, test_linked_all_or_nothing);
    tcase_add_test(tc, test_independent_batch);
    tcase_add_test(tc, test_joins_callers_transaction);
    tcase_add_test(tc, test_two_phase);
    tcase_add_test(tc, test_verify_and_append_only);
    tcase_add_test(tc, test_concurrent_writers);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
