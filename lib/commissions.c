/* commissions.c — commission accruals and payout runs on top of the ledger: the ledger holds the
 * money and its idempotency, the commissions tables say why it is owed and which run paid it. */
#include "commissions.h"
#include "audit.h"
#include "db.h"
#include "ledger.h"
#include "log.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAYABLE_PREFIX "commission_payable."
/* pg_advisory_lock's first key: the class of "one beneficiary's commissions" ('comm') */
#define COMMISSION_LOCK_CLASS "1668246893"

static int currency_valid(const char *cur)
{
    return cur && (!strcmp(cur, "BRL") || !strcmp(cur, "USDT") || !strcmp(cur, "BTC"));
}

static int text_valid(const char *s, size_t max, const char *allowed)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    if (allowed)
        return strspn(s, allowed) == n;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int commission_run_key_valid(const char *s)
{
    return text_valid(s, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
}

static int source_type_valid(const char *s)
{
    return text_valid(s, 64, "abcdefghijklmnopqrstuvwxyz0123456789_.") && s[0] >= 'a' && s[0] <= 'z';
}

/* The first column of the first row as a number; -1 when there is none, -2 on a database failure. */
static long long query_ll(const char *name, const char *sql, int n, const char *const *p)
{
    PGresult *r = db_query(NULL, name, sql, n, p);
    if (!r)
        return -2;
    long long v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return v;
}

long long commission_platform_tenant(void)
{
    long long id = query_ll("commission_platform", "SELECT id FROM tenants WHERE kind = 'company' ORDER BY id LIMIT 1",
                            0, NULL);
    return id > 0 ? id : -1;
}

/* Accruals and payouts of one beneficiary take turns (a session-level advisory lock), so a payout
 * reads the balance and marks exactly the commissions that make it up. */
static int beneficiary_lock(long long tenant, int lock)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", tenant);
    const char *p[] = {t};
    PGresult *r = lock ? db_query(NULL, "commission_lock", "SELECT pg_advisory_lock(" COMMISSION_LOCK_CLASS ", $1::int)", 1, p)
                       : db_query(NULL, "commission_unlock", "SELECT pg_advisory_unlock(" COMMISSION_LOCK_CLASS ", $1::int)", 1, p);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* ---------------------------------------------------------------- accrual */

typedef struct accrual {
    const ctx *c;
    long long beneficiary, amount, transfer_id, id;
    const char *currency, *source_type, *source_id, *key;
    int inserted;
} accrual;

/* A stored commission under the key: EXISTS when its fields match, CONFLICT otherwise, OK when none. */
static commission_rc accrual_existing(accrual *A)
{
    const char *p[] = {A->key};
    PGresult *r = db_query(NULL, "commission_by_key",
                           "SELECT id, beneficiary_tenant_id, currency, amount, source_type, source_id FROM commissions "
                           "WHERE idempotency_key = $1",
                           1, p);
    if (!r)
        return COMMISSION_DB_ERROR;
    commission_rc rc = COMMISSION_OK;
    if (PQntuples(r) == 1) {
        A->id = atoll(PQgetvalue(r, 0, 0));
        rc = atoll(PQgetvalue(r, 0, 1)) == A->beneficiary && !strcmp(PQgetvalue(r, 0, 2), A->currency) &&
                     atoll(PQgetvalue(r, 0, 3)) == A->amount && !strcmp(PQgetvalue(r, 0, 4), A->source_type) &&
                     !strcmp(PQgetvalue(r, 0, 5), A->source_id)
                 ? COMMISSION_EXISTS
                 : COMMISSION_CONFLICT;
    }
    PQclear(r);
    return rc;
}

/* The commission row and its audit record, in the accrual's transaction. */
static int accrual_insert(accrual *A)
{
    char b[24], amount[24], tr[24];
    snprintf(b, sizeof b, "%lld", A->beneficiary);
    snprintf(amount, sizeof amount, "%lld", A->amount);
    snprintf(tr, sizeof tr, "%lld", A->transfer_id);
    const char *p[] = {b, A->source_type, A->source_id, A->currency, amount, A->key, tr};
    PGresult *r = db_query(NULL, "commission_insert",
                           "INSERT INTO commissions (beneficiary_tenant_id, source_type, source_id, currency, amount, "
                           "idempotency_key, accrual_transfer_id, state) "
                           "VALUES ($1::bigint, $2, $3, $4, $5::bigint, $6, $7::bigint, 'accrued') "
                           "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                           7, p);
    if (!r)
        return -1;
    A->inserted = PQntuples(r) == 1;
    if (A->inserted)
        A->id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!A->inserted)
        return 0;
    json_t *after = json_pack("{s:I, s:s, s:I, s:s, s:s, s:I}", "beneficiary_tenant_id", (json_int_t)A->beneficiary,
                              "currency", A->currency, "amount_minor", (json_int_t)A->amount, "source_type",
                              A->source_type, "source_id", A->source_id, "transfer_id", (json_int_t)A->transfer_id);
    char id[24];
    snprintf(id, sizeof id, "%lld", A->id);
    int rc = after ? audit_record(A->c, "commission.accrue", "commission", id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

static commission_rc ledger_rc(ledger_code code)
{
    if (code == LEDGER_OK || code == LEDGER_EXISTS)
        return COMMISSION_OK;
    if (code == LEDGER_EXISTS_WITH_DIFFERENT_FIELDS)
        return COMMISSION_CONFLICT;
    return code == LEDGER_DB_ERROR ? COMMISSION_DB_ERROR : COMMISSION_INVALID;
}

typedef struct accrue_job {
    accrual *A;
    const ctx *pc;
    ledger_transfer_req q;
    commission_rc rc;
} accrue_job;

/* The ledger transfer, the row and its audit record commit together: ledger_transfer joins this
 * transaction (lib/db.c nests db_tx behind a savepoint). */
static int accrue_tx(void *arg)
{
    accrue_job *x = arg;
    ledger_result res = {LEDGER_DB_ERROR, 0};
    x->A->inserted = 0;
    if (ledger_transfer(x->pc, &x->q, 1, &res) < 0)
        return -1;
    x->rc = ledger_rc(res.code);
    if (x->rc != COMMISSION_OK)
        return 0; /* refused: nothing was written */
    x->A->transfer_id = res.transfer_id;
    return accrual_insert(x->A);
}

static commission_rc accrue_locked(accrual *A, const ctx *pc)
{
    char payable[64];
    snprintf(payable, sizeof payable, PAYABLE_PREFIX "%lld", A->beneficiary);
    long long expense = ledger_account_open(pc, A->currency, "commission_expense", 1);
    long long owed = expense > 0 ? ledger_account_open(pc, A->currency, payable, 0) : -1;
    if (owed <= 0)
        return COMMISSION_DB_ERROR;
    char key[128];
    snprintf(key, sizeof key, "commission:%s", A->key);
    accrue_job x = {.A = A,
                    .pc = pc,
                    .q = {.key = key, .kind = LEDGER_SINGLE, .debit_account_id = expense, .credit_account_id = owed,
                          .amount = A->amount, .code = "commission"}};
    if (db_tx(accrue_tx, &x) != 0)
        return COMMISSION_DB_ERROR;
    if (x.rc != COMMISSION_OK)
        return x.rc;
    /* not inserted: another process stored the key first */
    return A->inserted ? COMMISSION_OK : accrual_existing(A);
}

commission_rc commission_accrue(const ctx *c, long long beneficiary_tenant_id, const char *currency,
                                long long amount_minor, const char *source_type, const char *source_id,
                                const char *idempotency_key, long long *commission_id)
{
    if (beneficiary_tenant_id <= 0 || !currency_valid(currency) || amount_minor <= 0 || !source_type_valid(source_type) ||
        !text_valid(source_id, 128, NULL) || !text_valid(idempotency_key, 100, NULL))
        return COMMISSION_INVALID;
    accrual A = {.beneficiary = beneficiary_tenant_id, .amount = amount_minor, .currency = currency,
                 .source_type = source_type, .source_id = source_id, .key = idempotency_key};
    commission_rc rc = accrual_existing(&A);
    if (rc == COMMISSION_OK) {
        char b[24];
        snprintf(b, sizeof b, "%lld", beneficiary_tenant_id);
        const char *p[] = {b};
        long long platform = commission_platform_tenant();
        long long known = query_ll("commission_tenant", "SELECT id FROM tenants WHERE id = $1::bigint", 1, p);
        if (platform < 0 || known == -2)
            return COMMISSION_DB_ERROR;
        if (known < 0)
            return COMMISSION_INVALID;
        ctx pc = *c;
        pc.tenant_id = platform;
        A.c = &pc;
        if (beneficiary_lock(beneficiary_tenant_id, 1) < 0)
            return COMMISSION_DB_ERROR;
        rc = accrue_locked(&A, &pc);
        beneficiary_lock(beneficiary_tenant_id, 0);
    }
    if (commission_id && (rc == COMMISSION_OK || rc == COMMISSION_EXISTS))
        *commission_id = A.id;
    return rc;
}

/* ---------------------------------------------------------------- payout runs */

typedef struct payout {
    const ctx *pc;
    const char *currency, *run_key;
    long long minimum, beneficiary, transfer_id, amount;
    commission_payout_totals *t;
} payout;

/* Stores the beneficiary's payout of this run and marks what it paid; idempotent. */
static int payout_record_tx(void *arg)
{
    payout *P = arg;
    char b[24], amount[24], tr[24];
    snprintf(b, sizeof b, "%lld", P->beneficiary);
    snprintf(amount, sizeof amount, "%lld", P->amount);
    snprintf(tr, sizeof tr, "%lld", P->transfer_id);
    const char *p[] = {P->run_key, b, P->currency, amount, tr};
    if (db_exec(NULL, "commission_payout_insert",
                "INSERT INTO commission_payouts (run_key, beneficiary_tenant_id, currency, amount, transfer_id) "
                "VALUES ($1, $2::bigint, $3, $4::bigint, $5::bigint) ON CONFLICT (run_key, beneficiary_tenant_id) DO NOTHING",
                5, p) < 0)
        return -1;
    /* the commissions accrued before the payout's transfer are the ones its balance held */
    return db_exec(NULL, "commission_mark_paid",
                   "UPDATE commissions SET state = 'paid', paid_at = now(), payout_id = (SELECT id FROM commission_payouts "
                   "WHERE run_key = $1 AND beneficiary_tenant_id = $2::bigint) WHERE beneficiary_tenant_id = $2::bigint "
                   "AND currency = $3 AND state = 'accrued' AND accrual_transfer_id < $5::bigint AND $4::bigint > 0",
                   5, p) < 0
               ? -1
               : 0;
}

/* The transfer this run made to the beneficiary before, if any: 1 (filled), 0, -1. */
static int payout_done_before(payout *P, const char *key)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", P->pc->tenant_id);
    const char *p[] = {tid, key};
    PGresult *r = db_query(NULL, "commission_payout_done",
                           "SELECT id, amount FROM ledger_transfers WHERE tenant_id = $1::bigint AND idempotency_key = $2", 2, p);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        P->transfer_id = atoll(PQgetvalue(r, 0, 0));
        P->amount = atoll(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return found;
}

typedef struct payout_job {
    payout *P;
    ledger_transfer_req q;
    ledger_result res;
} payout_job;

/* The beneficiary's transfer and the payout's record commit together (ledger_transfer joins this
 * transaction). */
static int payout_tx(void *arg)
{
    payout_job *x = arg;
    x->res = (ledger_result){LEDGER_DB_ERROR, 0};
    if (ledger_transfer(x->P->pc, &x->q, 1, &x->res) < 0)
        return -1;
    if (x->res.code != LEDGER_OK && x->res.code != LEDGER_EXISTS)
        return 0; /* refused: nothing was written */
    x->P->transfer_id = x->res.transfer_id;
    x->P->amount = x->q.amount;
    return payout_record_tx(x->P);
}

static void payout_one_locked(payout *P, long long payable)
{
    char key[128];
    snprintf(key, sizeof key, "%s:%lld", P->run_key, P->beneficiary);
    int before = payout_done_before(P, key);
    if (before < 0) {
        P->t->failed++;
        return;
    }
    if (before) {
        if (db_tx(payout_record_tx, P) != 0)
            P->t->failed++;
        else
            P->t->already_paid++;
        return;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", payable);
    const char *p[] = {id};
    long long balance = query_ll("commission_payable_balance",
                                 "SELECT credits_posted - debits_posted - debits_pending FROM ledger_accounts WHERE id = $1::bigint",
                                 1, p);
    if (balance == -2) {
        P->t->failed++;
        return;
    }
    if (balance <= 0)
        return;
    if (balance < P->minimum) {
        P->t->skipped++;
        return;
    }
    ctx bc = *P->pc;
    bc.tenant_id = P->beneficiary;
    long long wallet = ledger_account_open(&bc, P->currency, "wallet", 0);
    if (wallet <= 0) {
        log_warn("commission payout %s: no wallet for tenant %lld in %s", P->run_key, P->beneficiary, P->currency);
        P->t->failed++;
        return;
    }
    /* cross-tenant by design: the platform's payable account pays the beneficiary's wallet */
    payout_job x = {.P = P,
                    .q = {.key = key, .kind = LEDGER_SINGLE, .debit_account_id = payable, .credit_account_id = wallet,
                          .amount = balance, .code = "commission_payout"}};
    if (db_tx(payout_tx, &x) != 0 || (x.res.code != LEDGER_OK && x.res.code != LEDGER_EXISTS)) {
        if (x.res.code != LEDGER_DB_ERROR)
            log_warn("commission payout %s: tenant %lld refused: %s", P->run_key, P->beneficiary,
                     ledger_code_name(x.res.code));
        P->t->failed++;
        return;
    }
    P->t->paid++;
    P->t->total_minor += balance;
}

/* Creates the run or checks that an existing one has the same currency and minimum. */
static commission_rc payout_run_open(const ctx *c, const char *currency, long long minimum, const char *run_key)
{
    char min[24], user[24];
    snprintf(min, sizeof min, "%lld", minimum);
    snprintf(user, sizeof user, "%lld", c->user_id);
    const char *p[] = {run_key, currency, min, c->user_id > 0 ? user : NULL};
    if (db_exec(NULL, "commission_run_open",
                "INSERT INTO commission_payout_runs (run_key, currency, minimum, started_by) "
                "VALUES ($1, $2, $3::bigint, $4::bigint) ON CONFLICT (run_key) DO NOTHING",
                4, p) < 0)
        return COMMISSION_DB_ERROR;
    PGresult *r = db_query(NULL, "commission_run_get",
                           "SELECT currency, minimum FROM commission_payout_runs WHERE run_key = $1", 1, p);
    if (!r)
        return COMMISSION_DB_ERROR;
    commission_rc rc = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), currency) &&
                               atoll(PQgetvalue(r, 0, 1)) == minimum
                           ? COMMISSION_OK
                           : COMMISSION_CONFLICT;
    PQclear(r);
    return rc;
}

static int payout_close_tx(void *arg)
{
    payout *P = arg;
    const char *p[] = {P->run_key};
    PGresult *r = db_query(NULL, "commission_run_close",
                           "UPDATE commission_payout_runs SET finished_at = now(), "
                           "beneficiaries = (SELECT count(*) FROM commission_payouts WHERE run_key = $1), "
                           "total = (SELECT coalesce(sum(amount), 0) FROM commission_payouts WHERE run_key = $1) "
                           "WHERE run_key = $1 RETURNING total",
                           1, p);
    if (!r)
        return -1;
    P->t->run_total_minor = PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    const commission_payout_totals *t = P->t;
    json_t *after = json_pack("{s:s, s:I, s:i, s:i, s:i, s:i, s:I, s:I}", "currency", P->currency, "minimum_minor",
                              (json_int_t)P->minimum, "paid", (int)t->paid, "already_paid", (int)t->already_paid,
                              "skipped", (int)t->skipped, "failed", (int)t->failed, "total_minor",
                              (json_int_t)t->total_minor, "run_total_minor", (json_int_t)t->run_total_minor);
    int rc = after ? audit_record(P->pc, "financeiro.commission_payout", "commission_payout_run", P->run_key, NULL, after)
                   : -1;
    json_decref(after);
    return rc;
}

commission_rc commission_payout_run(const ctx *c, const char *currency, long long minimum_minor, const char *run_key,
                                    commission_payout_totals *totals)
{
    memset(totals, 0, sizeof *totals);
    if (!currency_valid(currency) || minimum_minor < 0 || !commission_run_key_valid(run_key))
        return COMMISSION_INVALID;
    long long platform = commission_platform_tenant();
    if (platform < 0)
        return COMMISSION_DB_ERROR;
    commission_rc rc = payout_run_open(c, currency, minimum_minor, run_key);
    if (rc != COMMISSION_OK)
        return rc;
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", platform);
    const char *p[] = {tid, currency};
    PGresult *r = db_query(NULL, "commission_payables",
                           "SELECT id, substr(code, length('" PAYABLE_PREFIX "') + 1)::bigint FROM ledger_accounts "
                           "WHERE tenant_id = $1::bigint AND currency = $2 AND code LIKE 'commission\\_payable.%' "
                           "ORDER BY id",
                           2, p);
    if (!r)
        return COMMISSION_DB_ERROR;
    ctx pc = *c;
    pc.tenant_id = platform;
    payout P = {.pc = &pc, .currency = currency, .run_key = run_key, .minimum = minimum_minor, .t = totals};
    for (int i = 0; i < PQntuples(r); i++) {
        P.beneficiary = atoll(PQgetvalue(r, i, 1));
        if (beneficiary_lock(P.beneficiary, 1) < 0) {
            totals->failed++;
            continue;
        }
        payout_one_locked(&P, atoll(PQgetvalue(r, i, 0)));
        beneficiary_lock(P.beneficiary, 0);
    }
    PQclear(r);
    return db_tx(payout_close_tx, &P) == 0 ? COMMISSION_OK : COMMISSION_DB_ERROR;
}
