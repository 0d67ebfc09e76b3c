/* ledger.c — transfers between ledger accounts: idempotency by key, accounts locked in ascending
 * id order, balances checked and entries written in the same transaction as the transfers. */
#include "ledger.h"
#include "audit.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the four running totals, in the column order used everywhere below */
enum { DP, DPO, CP, CPO, NTOTALS };

typedef struct account {
    long long id;
    char currency[8];
    int allow_negative;
    long long t[NTOTALS];
    int touched;
} account;

/* one request once resolved: the accounts and amount it moves, and its entries' numbers */
typedef struct planned {
    const char *kind;         /* the stored kind */
    long long debit, credit;  /* account ids */
    char currency[8];
    long long amount;         /* stored amount: posted (single, post) or reserved/released */
    long long delta[2][NTOTALS];
    long long after[2][NTOTALS];
} planned;

typedef struct run {
    const ctx *c;
    const ledger_transfer_req *reqs;
    size_t n;
    ledger_result *res;
    int expiring;     /* ledger_expire's voids: stored as 'expire', the timeout is their reason */
    int refused;      /* set when a request was refused: nothing is written */
    int key_race;     /* another transaction inserted one of the keys first: run again */
    planned *plan;
    account *acc;
    size_t nacc;
} run;

#define RUN_REFUSED (-2)
#define RUN_KEY_RACE (-3)

static const char *const kind_names[] = {"single", "pending", "post", "void"};

const char *ledger_code_name(ledger_code code)
{
    static const char *const names[] = {
        "ok", "exists", "linked_event_failed", "exists_with_different_fields", "invalid",
        "accounts_must_be_different", "debit_account_not_found", "credit_account_not_found", "currency_mismatch",
        "exceeds_credits", "pending_not_found", "pending_not_pending", "pending_already_posted",
        "pending_already_voided", "pending_expired", "exceeds_pending_amount", "db_error"};
    return (unsigned)code < sizeof names / sizeof names[0] ? names[code] : "unknown";
}

static int valid_currency(const char *cur)
{
    return cur && (!strcmp(cur, "BRL") || !strcmp(cur, "USDT") || !strcmp(cur, "BTC"));
}

long long ledger_account_open(const ctx *c, const char *currency, const char *code, int allow_negative)
{
    if (c->tenant_id <= 0 || !valid_currency(currency) || !code)
        return -1;
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", c->tenant_id);
    const char *p[] = {tid, currency, code, allow_negative ? "t" : "f"};
    /* the no-op update makes RETURNING give the existing row too */
    PGresult *r = db_query(NULL, "ledger_account_open",
                           "INSERT INTO ledger_accounts (tenant_id, currency, code, allow_negative) "
                           "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, currency, code) "
                           "DO UPDATE SET debits_pending = ledger_accounts.debits_pending "
                           "RETURNING id, allow_negative",
                           4, p);
    if (!r)
        return -1;
    long long id = -1;
    if (PQntuples(r) == 1 && (PQgetvalue(r, 0, 1)[0] == 't') == (allow_negative != 0))
        id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return id;
}

static void refuse(run *R, size_t i, ledger_code code)
{
    R->res[i].code = code;
    R->refused = 1;
}

static int req_valid(const ledger_transfer_req *q)
{
    if (!q->key || !q->key[0] || strlen(q->key) > 128 || (unsigned)q->kind > LEDGER_VOID)
        return 0;
    if (q->kind == LEDGER_SINGLE || q->kind == LEDGER_PENDING)
        return q->amount > 0 && q->timeout_s >= 0 && (q->kind == LEDGER_PENDING || q->timeout_s == 0);
    return q->pending_id > 0 && q->amount >= 0 && q->timeout_s == 0;
}

/* Does the stored row (columns of lookup_existing) carry the same body as the request? */
static int same_body(const run *R, const ledger_transfer_req *q, PGresult *r)
{
    const char *want_kind = R->expiring ? "expire" : kind_names[q->kind];
    if (strcmp(PQgetvalue(r, 0, 1), want_kind) != 0 || strcmp(PQgetvalue(r, 0, 7), q->code ? q->code : "") != 0)
        return 0;
    long long amount = atoll(PQgetvalue(r, 0, 4));
    if (q->kind == LEDGER_SINGLE || q->kind == LEDGER_PENDING)
        return atoll(PQgetvalue(r, 0, 2)) == q->debit_account_id && atoll(PQgetvalue(r, 0, 3)) == q->credit_account_id &&
               amount == q->amount && atoi(PQgetvalue(r, 0, 6)) == q->timeout_s;
    return atoll(PQgetvalue(r, 0, 5)) == q->pending_id && (q->kind != LEDGER_POST || q->amount == 0 || amount == q->amount);
}

/* Finds the requests whose keys are taken. Returns 1 when the whole batch exists as it was first
 * applied (results filled with EXISTS), 0 when none exists, -1 on a database failure; a partial
 * or different match refuses the batch. */
static int lookup_existing(run *R)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", R->c->tenant_id);
    size_t found = 0;
    long long first_batch = -1;
    int batch_ok = 1;
    for (size_t i = 0; i < R->n; i++) {
        const char *p[] = {tid, R->reqs[i].key};
        PGresult *r = db_query(NULL, "ledger_lookup_key",
                               "SELECT id, kind, debit_account_id, credit_account_id, amount, coalesce(pending_id, 0), "
                               "timeout_s, code, coalesce(batch_id, 0) FROM ledger_transfers "
                               "WHERE tenant_id = $1 AND idempotency_key = $2",
                               2, p);
        if (!r)
            return -1;
        if (PQntuples(r) == 1) {
            found++;
            R->res[i].transfer_id = atoll(PQgetvalue(r, 0, 0));
            long long batch = atoll(PQgetvalue(r, 0, 8));
            /* a batch is the same batch when every key is in it, in the same places */
            if (R->n == 1 ? batch != 0 : (i == 0 ? batch != R->res[0].transfer_id : batch != first_batch))
                batch_ok = 0;
            if (i == 0)
                first_batch = batch;
            if (same_body(R, &R->reqs[i], r))
                R->res[i].code = LEDGER_EXISTS;
            else
                refuse(R, i, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
        }
        PQclear(r);
    }
    if (found == 0)
        return 0;
    if (found < R->n || !batch_ok) {
        for (size_t i = 0; i < R->n; i++)
            if (R->res[i].code == LEDGER_EXISTS)
                R->res[i].code = LEDGER_EXISTS_WITH_DIFFERENT_FIELDS;
        R->refused = 1;
    }
    return 1;
}

/* Fills plan[i] for a post or void from its pending transfer (immutable, so read unlocked). */
static int resolve_pending(run *R, size_t i)
{
    const ledger_transfer_req *q = &R->reqs[i];
    char pid[24], tid[24];
    snprintf(pid, sizeof pid, "%lld", q->pending_id);
    snprintf(tid, sizeof tid, "%lld", R->c->tenant_id);
    const char *p[] = {pid, tid};
    PGresult *r = db_query(NULL, "ledger_pending",
                           "SELECT kind, debit_account_id, credit_account_id, currency, amount FROM ledger_transfers "
                           "WHERE id = $1 AND tenant_id = $2",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        refuse(R, i, LEDGER_PENDING_NOT_FOUND);
    else if (strcmp(PQgetvalue(r, 0, 0), "pending") != 0)
        refuse(R, i, LEDGER_PENDING_NOT_PENDING);
    else {
        planned *pl = &R->plan[i];
        pl->debit = atoll(PQgetvalue(r, 0, 1));
        pl->credit = atoll(PQgetvalue(r, 0, 2));
        snprintf(pl->currency, sizeof pl->currency, "%s", PQgetvalue(r, 0, 3));
        pl->amount = atoll(PQgetvalue(r, 0, 4));
    }
    PQclear(r);
    return 0;
}

/* Is the pending transfer already resolved or past its timeout? Read after the accounts are
 * locked: every resolution of it locks the same two accounts, so this sees the latest one. */
static int check_pending_state(run *R, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (R->reqs[j].kind >= LEDGER_POST && R->reqs[j].pending_id == R->reqs[i].pending_id) {
            refuse(R, i, R->reqs[j].kind == LEDGER_POST ? LEDGER_PENDING_ALREADY_POSTED : LEDGER_PENDING_ALREADY_VOIDED);
            return 0;
        }
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", R->reqs[i].pending_id);
    const char *p[] = {pid};
    PGresult *r = db_query(NULL, "ledger_pending_state",
                           "SELECT (SELECT kind FROM ledger_transfers WHERE pending_id = $1), "
                           "coalesce(timeout_at <= now(), false) FROM ledger_transfers WHERE id = $1",
                           1, p);
    if (!r)
        return -1;
    const char *resolved = PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "";
    if (!strcmp(resolved, "post"))
        refuse(R, i, LEDGER_PENDING_ALREADY_POSTED);
    else if (resolved[0])
        refuse(R, i, LEDGER_PENDING_ALREADY_VOIDED);
    else if (!R->expiring && PQntuples(r) == 1 && PQgetvalue(r, 0, 1)[0] == 't')
        refuse(R, i, LEDGER_PENDING_EXPIRED);
    PQclear(r);
    return 0;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Locks every account of the batch, in ascending id order so that two batches sharing accounts
 * always queue instead of deadlocking, and loads their totals. */
static int lock_accounts(run *R)
{
    long long *ids = calloc(2 * R->n, sizeof *ids);
    if (!ids)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < R->n; i++) {
        ids[k++] = R->plan[i].debit;
        ids[k++] = R->plan[i].credit;
    }
    qsort(ids, k, sizeof *ids, cmp_ll);
    buf list = {0};
    buf_puts(&list, "{");
    for (size_t i = 0; i < k; i++)
        if (i == 0 || ids[i] != ids[i - 1])
            buf_printf(&list, "%s%lld", i ? "," : "", ids[i]);
    buf_puts(&list, "}");
    free(ids);
    const char *p[] = {list.data};
    PGresult *r = db_query(NULL, "ledger_lock",
                           "SELECT id, currency, allow_negative, debits_pending, debits_posted, credits_pending, "
                           "credits_posted FROM ledger_accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
                           1, p);
    buf_free(&list);
    if (!r)
        return -1;
    R->nacc = (size_t)PQntuples(r);
    for (size_t i = 0; i < R->nacc; i++) {
        account *a = &R->acc[i];
        memset(a, 0, sizeof *a);
        a->id = atoll(PQgetvalue(r, (int)i, 0));
        snprintf(a->currency, sizeof a->currency, "%s", PQgetvalue(r, (int)i, 1));
        a->allow_negative = PQgetvalue(r, (int)i, 2)[0] == 't';
        for (int t = 0; t < NTOTALS; t++)
            a->t[t] = atoll(PQgetvalue(r, (int)i, 3 + t));
    }
    PQclear(r);
    return 0;
}

static account *find_account(run *R, long long id)
{
    for (size_t i = 0; i < R->nacc; i++)
        if (R->acc[i].id == id)
            return &R->acc[i];
    return NULL;
}

/* Applies request i to the locked totals in memory, refusing it when it breaks a rule. */
static void apply(run *R, size_t i)
{
    const ledger_transfer_req *q = &R->reqs[i];
    planned *pl = &R->plan[i];
    account *d = find_account(R, pl->debit), *c = find_account(R, pl->credit);
    if (!d) {
        refuse(R, i, LEDGER_DEBIT_ACCOUNT_NOT_FOUND);
        return;
    }
    if (!c) {
        refuse(R, i, LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
        return;
    }
    if (strcmp(d->currency, c->currency) != 0) {
        refuse(R, i, LEDGER_CURRENCY_MISMATCH);
        return;
    }
    snprintf(pl->currency, sizeof pl->currency, "%s", d->currency);
    long long *dd = pl->delta[0], *cd = pl->delta[1];
    memset(pl->delta, 0, sizeof pl->delta);
    if (q->kind == LEDGER_SINGLE) {
        dd[DPO] = cd[CPO] = pl->amount;
    } else if (q->kind == LEDGER_PENDING) {
        dd[DP] = cd[CP] = pl->amount;
    } else {
        long long reserved = pl->amount;
        long long posted = q->kind == LEDGER_POST ? (q->amount ? q->amount : reserved) : 0;
        if (posted > reserved) {
            refuse(R, i, LEDGER_EXCEEDS_PENDING_AMOUNT);
            return;
        }
        dd[DP] = cd[CP] = -reserved;
        dd[DPO] = cd[CPO] = posted;
        if (q->kind == LEDGER_POST)
            pl->amount = posted;
    }
    if (!d->allow_negative && d->t[DPO] + dd[DPO] + d->t[DP] + dd[DP] > d->t[CPO] + dd[CPO]) {
        refuse(R, i, LEDGER_EXCEEDS_CREDITS);
        return;
    }
    account *side[2] = {d, c};
    for (int s = 0; s < 2; s++) {
        for (int t = 0; t < NTOTALS; t++) {
            side[s]->t[t] += pl->delta[s][t];
            pl->after[s][t] = side[s]->t[t];
        }
        side[s]->touched = 1;
    }
}

static int write_entries(long long transfer_id, const planned *pl)
{
    long long ids[2] = {pl->debit, pl->credit};
    for (int s = 0; s < 2; s++) {
        char v[10][24];
        snprintf(v[0], sizeof v[0], "%lld", transfer_id);
        snprintf(v[1], sizeof v[1], "%lld", ids[s]);
        for (int t = 0; t < NTOTALS; t++) {
            snprintf(v[2 + t], sizeof v[2 + t], "%lld", pl->delta[s][t]);
            snprintf(v[6 + t], sizeof v[6 + t], "%lld", pl->after[s][t]);
        }
        const char *p[10];
        for (int k = 0; k < 10; k++)
            p[k] = v[k];
        if (db_exec(NULL, "ledger_entry",
                    "INSERT INTO ledger_entries (transfer_id, account_id, delta_debits_pending, delta_debits_posted, "
                    "delta_credits_pending, delta_credits_posted, debits_pending, debits_posted, credits_pending, "
                    "credits_posted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    10, p) != 1)
            return -1;
    }
    return 0;
}

/* Inserts transfer i; 0, RUN_KEY_RACE when its key appeared meanwhile, -1 on failure. */
static int write_transfer(run *R, size_t i, long long batch_id)
{
    const ledger_transfer_req *q = &R->reqs[i];
    const planned *pl = &R->plan[i];
    char tid[24], deb[24], cre[24], amt[24], pid[24], tmo[16], bid[24];
    snprintf(tid, sizeof tid, "%lld", R->c->tenant_id);
    snprintf(deb, sizeof deb, "%lld", pl->debit);
    snprintf(cre, sizeof cre, "%lld", pl->credit);
    snprintf(amt, sizeof amt, "%lld", pl->amount);
    snprintf(pid, sizeof pid, "%lld", q->pending_id);
    snprintf(tmo, sizeof tmo, "%d", q->timeout_s);
    snprintf(bid, sizeof bid, "%lld", batch_id);
    const char *p[] = {tid, q->key, pl->kind, deb, cre, pl->currency, amt, q->pending_id ? pid : NULL, tmo,
                       batch_id ? bid : NULL, q->code ? q->code : "", batch_id && i == 0 ? bid : NULL};
    /* the first of a linked batch takes the id reserved as the batch's */
    PGresult *r = db_query(NULL, "ledger_insert",
                           "INSERT INTO ledger_transfers (id, tenant_id, idempotency_key, kind, debit_account_id, "
                           "credit_account_id, currency, amount, pending_id, timeout_s, timeout_at, batch_id, code) "
                           "VALUES (coalesce($12::bigint, nextval('ledger_transfers_id_seq')), "
                           "$1, $2, $3, $4, $5, $6, $7, $8, $9, "
                           "CASE WHEN $9 > 0 THEN now() + $9 * interval '1 second' END, $10, $11) "
                           "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
                           12, p);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    if (rows == 1)
        R->res[i].transfer_id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (rows != 1) {
        R->key_race = 1;
        return RUN_KEY_RACE;
    }
    return write_entries(R->res[i].transfer_id, pl);
}

static int update_accounts(run *R)
{
    for (size_t i = 0; i < R->nacc; i++) {
        account *a = &R->acc[i];
        if (!a->touched)
            continue;
        char v[5][24];
        snprintf(v[0], sizeof v[0], "%lld", a->id);
        for (int t = 0; t < NTOTALS; t++)
            snprintf(v[1 + t], sizeof v[1 + t], "%lld", a->t[t]);
        const char *p[] = {v[0], v[1], v[2], v[3], v[4]};
        if (db_exec(NULL, "ledger_account_totals",
                    "UPDATE ledger_accounts SET debits_pending = $2, debits_posted = $3, credits_pending = $4, "
                    "credits_posted = $5 WHERE id = $1",
                    5, p) != 1)
            return -1;
    }
    return 0;
}

static int audit_batch(run *R)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < R->n; i++)
        json_array_append_new(ids, json_integer(R->res[i].transfer_id));
    json_t *after = json_pack("{s:o, s:s}", "transfers", ids, "currency", R->plan[0].currency);
    char id[24];
    snprintf(id, sizeof id, "%lld", R->res[0].transfer_id);
    int rc = after ? audit_record(R->c, R->expiring ? "ledger.expire" : "ledger.transfer", "ledger_transfer", id,
                                  NULL, after)
                   : -1;
    json_decref(after);
    return rc;
}

static int transfer_tx(void *arg)
{
    run *R = arg;
    R->refused = R->key_race = 0;
    R->nacc = 0;
    memset(R->plan, 0, R->n * sizeof *R->plan);
    for (size_t i = 0; i < R->n; i++)
        R->res[i] = (ledger_result){LEDGER_OK, 0};
    for (size_t i = 0; i < R->n; i++)
        if (!req_valid(&R->reqs[i]))
            refuse(R, i, LEDGER_INVALID);
    if (R->refused)
        return RUN_REFUSED;
    int existing = lookup_existing(R);
    if (existing < 0)
        return -1;
    if (existing)
        return R->refused ? RUN_REFUSED : 0;
    for (size_t i = 0; i < R->n; i++) {
        const ledger_transfer_req *q = &R->reqs[i];
        planned *pl = &R->plan[i];
        pl->kind = R->expiring ? "expire" : kind_names[q->kind];
        if (q->kind == LEDGER_SINGLE || q->kind == LEDGER_PENDING) {
            pl->debit = q->debit_account_id;
            pl->credit = q->credit_account_id;
            pl->amount = q->amount;
            if (pl->debit == pl->credit)
                refuse(R, i, LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
        } else if (resolve_pending(R, i) < 0)
            return -1;
    }
    if (R->refused)
        return RUN_REFUSED;
    if (lock_accounts(R) < 0)
        return -1;
    for (size_t i = 0; i < R->n && !R->refused; i++) {
        if (R->reqs[i].kind >= LEDGER_POST && check_pending_state(R, i) < 0)
            return -1;
        if (!R->refused)
            apply(R, i);
    }
    if (R->refused)
        return RUN_REFUSED;
    long long batch_id = 0;
    if (R->n > 1) {
        PGresult *r = db_query(NULL, "ledger_batch_id", "SELECT nextval('ledger_transfers_id_seq')", 0, NULL);
        if (!r)
            return -1;
        batch_id = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    for (size_t i = 0; i < R->n; i++) {
        int rc = write_transfer(R, i, batch_id);
        if (rc)
            return rc;
    }
    if (update_accounts(R) < 0 || audit_batch(R) < 0)
        return -1;
    return 0;
}

static int run_batch(const ctx *c, const ledger_transfer_req *reqs, size_t n, ledger_result *results, int expiring)
{
    if (n == 0)
        return 0;
    run R = {.c = c, .reqs = reqs, .n = n, .res = results, .expiring = expiring};
    R.plan = calloc(n, sizeof *R.plan);
    R.acc = calloc(2 * n, sizeof *R.acc);
    int rc = -1;
    if (R.plan && R.acc && c->tenant_id > 0) {
        /* a key taken by a concurrent batch between our lookup and our insert: the next run
         * finds it and answers EXISTS (or a conflict) */
        for (int attempt = 0; attempt < 3; attempt++) {
            rc = db_tx(transfer_tx, &R);
            if (rc != RUN_KEY_RACE)
                break;
        }
    }
    free(R.plan);
    free(R.acc);
    if (rc == RUN_REFUSED) {
        for (size_t i = 0; i < n; i++)
            if (results[i].code == LEDGER_OK || results[i].code == LEDGER_EXISTS) {
                results[i].code = LEDGER_LINKED_EVENT_FAILED;
                results[i].transfer_id = 0;
            }
        return 1;
    }
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            results[i] = (ledger_result){LEDGER_DB_ERROR, 0};
        return -1;
    }
    return 0;
}

int ledger_transfer(const ctx *c, const ledger_transfer_req *reqs, size_t n, ledger_result *results)
{
    return run_batch(c, reqs, n, results, 0);
}

long ledger_expire(time_t now)
{
    char at[24];
    snprintf(at, sizeof at, "%lld", (long long)now);
    const char *p[] = {at};
    PGresult *r = db_query(NULL, "ledger_expired",
                           "SELECT t.id, t.tenant_id FROM ledger_transfers t WHERE t.kind = 'pending' "
                           "AND t.timeout_at <= to_timestamp($1) AND NOT EXISTS "
                           "(SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id) ORDER BY t.timeout_at LIMIT 1000",
                           1, p);
    if (!r)
        return -1;
    long voided = 0;
    int failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        long long id = atoll(PQgetvalue(r, i, 0));
        ctx c = {.tenant_id = atoll(PQgetvalue(r, i, 1)), .ip = "", .request_id = ""};
        char key[40];
        snprintf(key, sizeof key, "expire:%lld", id);
        ledger_transfer_req q = {.key = key, .kind = LEDGER_VOID, .pending_id = id, .code = "timeout"};
        ledger_result res;
        int rc = run_batch(&c, &q, 1, &res, 1);
        if (rc < 0)
            failed = 1;
        else if (res.code == LEDGER_OK)
            voided++;
    }
    PQclear(r);
    if (failed)
        log_warn("ledger expire: some pending transfers could not be voided: %s", db_error());
    return failed && voided == 0 ? -1 : voided;
}

/* ---- verification ---- */

static long verify_rows(const char *sql, void (*report)(const char *msg, void *arg), void *arg)
{
    PGresult *r = db_query(NULL, NULL, sql, 0, NULL);
    if (!r)
        return -1;
    long problems = PQntuples(r);
    for (long i = 0; i < problems; i++)
        report(PQgetvalue(r, (int)i, 0), arg);
    PQclear(r);
    return problems;
}

long ledger_verify(void (*report)(const char *msg, void *arg), void *arg)
{
    /* each query returns one line per problem */
    static const char *const checks[] = {
        /* every account's totals are the sum of its entries and its last entry's totals */
        "WITH s AS (SELECT account_id, sum(delta_debits_pending) dp, sum(delta_debits_posted) dpo, "
        "sum(delta_credits_pending) cp, sum(delta_credits_posted) cpo, max(id) last FROM ledger_entries "
        "GROUP BY account_id) "
        "SELECT format('account %s (%s %s): totals dp=%s dpo=%s cp=%s cpo=%s but entries sum to dp=%s dpo=%s cp=%s "
        "cpo=%s, last entry dp=%s dpo=%s cp=%s cpo=%s', a.id, a.currency, a.code, a.debits_pending, a.debits_posted, "
        "a.credits_pending, a.credits_posted, coalesce(s.dp, 0), coalesce(s.dpo, 0), coalesce(s.cp, 0), "
        "coalesce(s.cpo, 0), coalesce(e.debits_pending, 0), coalesce(e.debits_posted, 0), "
        "coalesce(e.credits_pending, 0), coalesce(e.credits_posted, 0)) "
        "FROM ledger_accounts a LEFT JOIN s ON s.account_id = a.id LEFT JOIN ledger_entries e ON e.id = s.last "
        "WHERE (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted) IS DISTINCT FROM "
        "(coalesce(s.dp, 0), coalesce(s.dpo, 0), coalesce(s.cp, 0), coalesce(s.cpo, 0)) "
        "OR (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted) IS DISTINCT FROM "
        "(coalesce(e.debits_pending, 0), coalesce(e.debits_posted, 0), coalesce(e.credits_pending, 0), "
        "coalesce(e.credits_posted, 0)) ORDER BY a.id",
        /* a normal account is never overdrawn */
        "SELECT format('account %s (%s %s) is overdrawn: debits %s + pending %s > credits %s', id, currency, code, "
        "debits_posted, debits_pending, credits_posted) FROM ledger_accounts "
        "WHERE NOT allow_negative AND debits_posted + debits_pending > credits_posted ORDER BY id",
        /* each transfer has two entries, on its own accounts, debiting what it credits */
        "SELECT format('transfer %s (%s): %s entries, debits pending %s posted %s, credits pending %s posted %s', "
        "t.id, t.kind, count(e.id), coalesce(sum(e.delta_debits_pending), 0), coalesce(sum(e.delta_debits_posted), 0), "
        "coalesce(sum(e.delta_credits_pending), 0), coalesce(sum(e.delta_credits_posted), 0)) "
        "FROM ledger_transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.id "
        "AND e.account_id IN (t.debit_account_id, t.credit_account_id) GROUP BY t.id "
        "HAVING count(e.id) <> 2 OR coalesce(sum(e.delta_debits_pending), 0) <> coalesce(sum(e.delta_credits_pending), 0) "
        "OR coalesce(sum(e.delta_debits_posted), 0) <> coalesce(sum(e.delta_credits_posted), 0) ORDER BY t.id",
        /* debits equal credits in every currency */
        "SELECT format('currency %s: debits posted %s, credits posted %s; debits pending %s, credits pending %s', "
        "currency, sum(debits_posted), sum(credits_posted), sum(debits_pending), sum(credits_pending)) "
        "FROM ledger_accounts GROUP BY currency HAVING sum(debits_posted) <> sum(credits_posted) "
        "OR sum(debits_pending) <> sum(credits_pending) ORDER BY currency",
    };
    /* one snapshot for all checks, so transfers committed meanwhile cannot look like damage */
    if (db_exec(NULL, NULL, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) < 0)
        return -1;
    long problems = 0;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        long p = verify_rows(checks[i], report, arg);
        if (p < 0) {
            problems = -1;
            break;
        }
        problems += p;
    }
    db_exec(NULL, NULL, problems < 0 ? "ROLLBACK" : "COMMIT", 0, NULL);
    return problems;
}
