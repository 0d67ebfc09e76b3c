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

typedef struct keyref {
    const char *key;
    size_t i;
} keyref;

typedef struct run {
    const ctx *c;
    const ledger_transfer_req *reqs;
    size_t n;
    ledger_result *res;
    int expiring;     /* ledger_expire's voids: stored as 'expire', the timeout is their reason */
    int linked;       /* all or none (ledger_transfer); otherwise each on its own (ledger_transfer_each) */
    int refused;      /* set when a request was refused: in a linked batch nothing is written */
    int key_race;     /* another transaction inserted one of the keys first: run again */
    planned *plan;
    account *acc;
    size_t nacc;
    keyref *by_key;   /* the requests sorted by key */
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

/* In a linked batch one refusal refuses all; in an independent one it refuses only request i. */
static void refuse(run *R, size_t i, ledger_code code)
{
    R->res[i].code = code;
    R->refused = 1;
}

/* Is request i still to be applied (not refused, not found to exist already)? */
static int live(const run *R, size_t i)
{
    return R->res[i].code == LEDGER_OK;
}

static int req_valid(const ledger_transfer_req *q)
{
    if (!q->key || !q->key[0] || strlen(q->key) > 128 || (unsigned)q->kind > LEDGER_VOID)
        return 0;
    if (q->kind == LEDGER_SINGLE || q->kind == LEDGER_PENDING)
        return q->amount > 0 && q->timeout_s >= 0 && (q->kind == LEDGER_PENDING || q->timeout_s == 0);
    return q->pending_id > 0 && q->amount >= 0 && q->timeout_s == 0;
}

/* ---- PostgreSQL array literals: one statement carries the whole batch ---- */

static void arr_open(buf *b)
{
    buf_clear(b);
    buf_putc(b, '{');
}

static void arr_sep(buf *b)
{
    if (b->len > 1)
        buf_putc(b, ',');
}

static void arr_ll(buf *b, long long v)
{
    arr_sep(b);
    buf_printf(b, "%lld", v);
}

static void arr_null(buf *b)
{
    arr_sep(b);
    buf_puts(b, "NULL");
}

/* A text element, double-quoted with backslash and quote escaped: keys may hold any byte. */
static void arr_text(buf *b, const char *s)
{
    arr_sep(b);
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

static void arr_close(buf *b)
{
    buf_putc(b, '}');
}

/* ---- the batch's keys, sorted once: duplicates inside it, and the rows found for them ---- */

static const char *key_of(const ledger_transfer_req *q)
{
    return q->key ? q->key : "";
}

/* by key, then by position: the first request holding a key comes first */
static int cmp_keyref(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static void sort_keys(run *R)
{
    for (size_t i = 0; i < R->n; i++)
        R->by_key[i] = (keyref){key_of(&R->reqs[i]), i};
    qsort(R->by_key, R->n, sizeof *R->by_key, cmp_keyref);
}

/* The first request holding key, or -1. */
static long find_key(const run *R, const char *key)
{
    size_t lo = 0, hi = R->n;
    while (lo < hi) { /* the first position whose key is not below key */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(R->by_key[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < R->n && !strcmp(R->by_key[lo].key, key) ? (long)R->by_key[lo].i : -1;
}

/* A key twice in one batch: the later requests are invalid (the first keeps it). */
static void refuse_repeated_keys(run *R)
{
    for (size_t k = 1; k < R->n; k++)
        if (R->by_key[k].key[0] && !strcmp(R->by_key[k - 1].key, R->by_key[k].key))
            refuse(R, R->by_key[k].i, LEDGER_INVALID);
}

/* Does the stored row (columns 1.. of lookup_existing) carry the same body as the request? */
static int same_body(const run *R, const ledger_transfer_req *q, PGresult *r, int row)
{
    const char *want_kind = R->expiring ? "expire" : kind_names[q->kind];
    if (strcmp(PQgetvalue(r, row, 2), want_kind) != 0 || strcmp(PQgetvalue(r, row, 8), q->code ? q->code : "") != 0)
        return 0;
    long long amount = atoll(PQgetvalue(r, row, 5));
    if (q->kind == LEDGER_SINGLE || q->kind == LEDGER_PENDING)
        return atoll(PQgetvalue(r, row, 3)) == q->debit_account_id &&
               atoll(PQgetvalue(r, row, 4)) == q->credit_account_id && amount == q->amount &&
               atoi(PQgetvalue(r, row, 7)) == q->timeout_s;
    return atoll(PQgetvalue(r, row, 6)) == q->pending_id &&
           (q->kind != LEDGER_POST || q->amount == 0 || amount == q->amount);
}

/* Finds the requests whose keys are taken, with one query. A linked batch exists only whole: every
 * key stored in the same batch, in the same places (then every result is EXISTS); a partial or
 * different match refuses it. In an independent batch each found key answers for itself, and it
 * matches only a transfer stored on its own. Returns how many keys were found, -1 on failure. */
static long lookup_existing(run *R)
{
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", R->c->tenant_id);
    buf keys = {0};
    arr_open(&keys);
    for (size_t i = 0; i < R->n; i++)
        if (live(R, i))
            arr_text(&keys, R->reqs[i].key);
    arr_close(&keys);
    if (keys.oom) {
        buf_free(&keys);
        return -1;
    }
    const char *p[] = {tid, keys.data};
    PGresult *r = db_query(NULL, "ledger_lookup_keys",
                           "SELECT idempotency_key, id, kind, debit_account_id, credit_account_id, amount, "
                           "coalesce(pending_id, 0), timeout_s, code, coalesce(batch_id, 0) FROM ledger_transfers "
                           "WHERE tenant_id = $1 AND idempotency_key = ANY($2::text[])",
                           2, p);
    buf_free(&keys);
    if (!r)
        return -1;
    long found = PQntuples(r);
    int batch_ok = 1;
    long long first_batch = -1;
    for (int row = 0; row < (int)found; row++) {
        long i = find_key(R, PQgetvalue(r, row, 0));
        if (i < 0 || !live(R, (size_t)i))
            continue;
        long long batch = atoll(PQgetvalue(r, row, 9));
        R->res[i].transfer_id = atoll(PQgetvalue(r, row, 1));
        if (R->linked && R->n > 1) {
            /* the same batch: its first transfer's id is the batch id, shared by all */
            if (first_batch < 0)
                first_batch = batch;
            if (batch == 0 || batch != first_batch || (i == 0 && batch != R->res[0].transfer_id))
                batch_ok = 0;
        } else if (batch != 0) {
            batch_ok = 0;
        }
        if (same_body(R, &R->reqs[i], r, row) && (R->linked ? 1 : batch == 0))
            R->res[i].code = LEDGER_EXISTS;
        else
            refuse(R, (size_t)i, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
    }
    PQclear(r);
    if (R->linked && found > 0 && ((size_t)found < R->n || !batch_ok)) {
        for (size_t i = 0; i < R->n; i++)
            if (R->res[i].code == LEDGER_EXISTS)
                refuse(R, i, LEDGER_EXISTS_WITH_DIFFERENT_FIELDS);
        R->refused = 1;
    }
    return found;
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
        if (live(R, j) && R->reqs[j].kind >= LEDGER_POST && R->reqs[j].pending_id == R->reqs[i].pending_id) {
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

/* Locks every account of the live requests, in ascending id order so that two batches sharing
 * accounts always queue instead of deadlocking, and loads their totals. */
static int lock_accounts(run *R)
{
    long long *ids = calloc(2 * R->n, sizeof *ids);
    if (!ids)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < R->n; i++)
        if (live(R, i)) {
            ids[k++] = R->plan[i].debit;
            ids[k++] = R->plan[i].credit;
        }
    qsort(ids, k, sizeof *ids, cmp_ll);
    buf list = {0};
    arr_open(&list);
    for (size_t i = 0; i < k; i++)
        if (i == 0 || ids[i] != ids[i - 1])
            arr_ll(&list, ids[i]);
    arr_close(&list);
    free(ids);
    const char *p[] = {list.data};
    PGresult *r = list.oom ? NULL
                           : db_query(NULL, "ledger_lock",
                                      "SELECT id, currency, allow_negative, debits_pending, debits_posted, "
                                      "credits_pending, credits_posted FROM ledger_accounts "
                                      "WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
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

/* The locked accounts come back in id order: a binary search finds one. */
static account *find_account(run *R, long long id)
{
    size_t lo = 0, hi = R->nacc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (R->acc[mid].id == id)
            return &R->acc[mid];
        if (R->acc[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Applies request i to the locked totals in memory, refusing it when it breaks a rule (then the
 * totals are left as they were). */
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

/* The write statement's parameters ($1 is W_TENANT): the transfers' columns, the entries' and the
 * accounts' new totals, each an array. */
enum { W_TENANT, W_KEY, W_KIND, W_DEBIT, W_CREDIT, W_CURRENCY, W_AMOUNT, W_PENDING, W_TIMEOUT, W_CODE, W_BATCH,
       W_E_KEY, W_E_ACCOUNT, W_E_TOTALS, W_A_ID = W_E_TOTALS + 2 * NTOTALS, W_A_TOTALS, W_NPARAMS = W_A_TOTALS + NTOTALS };

/* Writes every live request's transfer and two entries and the accounts' new totals in one
 * statement: a single round trip however long the batch. 0, RUN_KEY_RACE when one of the keys
 * appeared meanwhile (the statement's work is then rolled back with the transaction), -1 on failure. */
static int write_batch(run *R, long long batch_id)
{
    buf a[W_NPARAMS];
    memset(a, 0, sizeof a);
    for (int k = W_KEY; k < W_NPARAMS; k++)
        if (k != W_BATCH)
            arr_open(&a[k]);
    size_t nlive = 0;
    for (size_t i = 0; i < R->n; i++) {
        if (!live(R, i))
            continue;
        const ledger_transfer_req *q = &R->reqs[i];
        const planned *pl = &R->plan[i];
        nlive++;
        arr_text(&a[W_KEY], q->key);
        arr_text(&a[W_KIND], pl->kind);
        arr_ll(&a[W_DEBIT], pl->debit);
        arr_ll(&a[W_CREDIT], pl->credit);
        arr_text(&a[W_CURRENCY], pl->currency);
        arr_ll(&a[W_AMOUNT], pl->amount);
        if (q->pending_id)
            arr_ll(&a[W_PENDING], q->pending_id);
        else
            arr_null(&a[W_PENDING]);
        arr_ll(&a[W_TIMEOUT], q->timeout_s);
        arr_text(&a[W_CODE], q->code ? q->code : "");
        long long acc[2] = {pl->debit, pl->credit};
        for (int s = 0; s < 2; s++) {
            arr_text(&a[W_E_KEY], q->key);
            arr_ll(&a[W_E_ACCOUNT], acc[s]);
            for (int t = 0; t < NTOTALS; t++) {
                arr_ll(&a[W_E_TOTALS + t], pl->delta[s][t]);
                arr_ll(&a[W_E_TOTALS + NTOTALS + t], pl->after[s][t]);
            }
        }
    }
    for (size_t i = 0; i < R->nacc; i++)
        if (R->acc[i].touched) {
            arr_ll(&a[W_A_ID], R->acc[i].id);
            for (int t = 0; t < NTOTALS; t++)
                arr_ll(&a[W_A_TOTALS + t], R->acc[i].t[t]);
        }
    char tid[24], bid[24];
    snprintf(tid, sizeof tid, "%lld", R->c->tenant_id);
    snprintf(bid, sizeof bid, "%lld", batch_id);
    const char *p[W_NPARAMS];
    int oom = 0;
    for (int k = 0; k < W_NPARAMS; k++) {
        if (k != W_TENANT && k != W_BATCH)
            arr_close(&a[k]);
        oom |= a[k].oom;
        p[k] = a[k].data;
    }
    p[W_TENANT] = tid;
    p[W_BATCH] = batch_id ? bid : NULL;
    /* The first transfer of a linked batch takes the id reserved as the batch's. Entries follow
     * their transfers' order, so an account's last entry holds its final totals; the foreign keys
     * from entries to transfers are checked at the end of the statement, after both inserts. */
    PGresult *r = oom ? NULL : db_query(NULL, "ledger_write",
        "WITH v AS (SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], "
        "  $7::bigint[], $8::bigint[], $9::int[], $10::text[]) WITH ORDINALITY "
        "  AS v(key, kind, debit, credit, currency, amount, pending_id, timeout_s, code, ord)), "
        "t AS (INSERT INTO ledger_transfers (id, tenant_id, idempotency_key, kind, debit_account_id, "
        "  credit_account_id, currency, amount, pending_id, timeout_s, timeout_at, batch_id, code) "
        "  SELECT CASE WHEN v.ord = 1 AND $11::bigint IS NOT NULL THEN $11::bigint "
        "  ELSE nextval('ledger_transfers_id_seq') END, $1::bigint, v.key, v.kind, v.debit, v.credit, v.currency, "
        "  v.amount, v.pending_id, v.timeout_s, "
        "  CASE WHEN v.timeout_s > 0 THEN now() + v.timeout_s * interval '1 second' END, $11::bigint, v.code "
        "  FROM v ORDER BY v.ord "
        "  ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id, idempotency_key), "
        "e AS (INSERT INTO ledger_entries (transfer_id, account_id, delta_debits_pending, delta_debits_posted, "
        "  delta_credits_pending, delta_credits_posted, debits_pending, debits_posted, credits_pending, "
        "  credits_posted) SELECT t.id, x.account, x.d0, x.d1, x.d2, x.d3, x.a0, x.a1, x.a2, x.a3 "
        "  FROM unnest($12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], "
        "  $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[]) WITH ORDINALITY "
        "  AS x(key, account, d0, d1, d2, d3, a0, a1, a2, a3, ord) "
        "  JOIN t ON t.idempotency_key = x.key ORDER BY x.ord RETURNING 1), "
        "u AS (UPDATE ledger_accounts a SET debits_pending = x.dp, debits_posted = x.dpo, credits_pending = x.cp, "
        "  credits_posted = x.cpo FROM unnest($22::bigint[], $23::bigint[], $24::bigint[], $25::bigint[], "
        "  $26::bigint[]) AS x(id, dp, dpo, cp, cpo) WHERE a.id = x.id RETURNING 1) "
        "SELECT v.ord, t.id, (SELECT count(*) FROM e), (SELECT count(*) FROM u) "
        "FROM t JOIN v ON v.key = t.idempotency_key ORDER BY v.ord",
        W_NPARAMS, p);
    for (int k = 0; k < W_NPARAMS; k++)
        buf_free(&a[k]);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    if ((size_t)rows != nlive) {
        PQclear(r);
        R->key_race = 1;
        return RUN_KEY_RACE;
    }
    /* row k is the k-th live request (ordinality counts live requests only) */
    size_t i = 0;
    for (int row = 0; row < rows; row++, i++) {
        while (!live(R, i))
            i++;
        R->res[i].transfer_id = atoll(PQgetvalue(r, row, 1));
    }
    int entries_ok = rows == 0 || atoll(PQgetvalue(r, 0, 2)) == 2 * rows;
    PQclear(r);
    return entries_ok ? 0 : -1;
}

static int audit_batch(run *R)
{
    json_t *ids = json_array();
    const char *currency = NULL;
    int mixed = 0;
    size_t first = R->n;
    for (size_t i = 0; i < R->n; i++)
        if (live(R, i)) {
            json_array_append_new(ids, json_integer(R->res[i].transfer_id));
            if (first == R->n)
                first = i;
            if (currency && strcmp(currency, R->plan[i].currency) != 0)
                mixed = 1;
            currency = R->plan[i].currency;
        }
    json_t *after = json_pack("{s:o}", "transfers", ids);
    if (after && currency && !mixed)
        json_object_set_new(after, "currency", json_string(currency));
    char id[24];
    snprintf(id, sizeof id, "%lld", first < R->n ? R->res[first].transfer_id : 0LL);
    int rc = after ? audit_record(R->c, R->expiring ? "ledger.expire" : "ledger.transfer", "ledger_transfer", id,
                                  NULL, after)
                   : -1;
    json_decref(after);
    return rc;
}

/* Is the run over because a linked batch was refused? */
#define LINKED_REFUSED(R) ((R)->linked && (R)->refused)

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
    if (LINKED_REFUSED(R))
        return RUN_REFUSED;
    refuse_repeated_keys(R);
    if (LINKED_REFUSED(R))
        return RUN_REFUSED;
    long found = lookup_existing(R);
    if (found < 0)
        return -1;
    if (LINKED_REFUSED(R))
        return RUN_REFUSED;
    size_t nlive = 0;
    for (size_t i = 0; i < R->n; i++) {
        if (!live(R, i))
            continue;
        const ledger_transfer_req *q = &R->reqs[i];
        planned *pl = &R->plan[i];
        pl->kind = R->expiring ? "expire" : kind_names[q->kind];
        if (q->kind == LEDGER_SINGLE || q->kind == LEDGER_PENDING) {
            pl->debit = q->debit_account_id;
            pl->credit = q->credit_account_id;
            pl->amount = q->amount;
            if (pl->debit == pl->credit)
                refuse(R, i, LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
        } else if (resolve_pending(R, i) < 0) {
            return -1;
        }
        nlive += live(R, i);
    }
    if (LINKED_REFUSED(R))
        return RUN_REFUSED;
    if (nlive == 0)
        return 0; /* everything exists already or was refused: nothing to write */
    if (R->n > 1) {
        /* Batches of one tenant take turns before locking their accounts. A batch locks many
         * accounts one after another; two batches sharing some would otherwise hold part of their
         * locks while queueing for the rest, and every batch touching either joins the queue (a
         * convoy: p99 in seconds, measured by tests/bench/billing's ledger-spread-batch). */
        char tid[24];
        snprintf(tid, sizeof tid, "%lld", R->c->tenant_id % 2147483647LL);
        const char *p[] = {tid};
        PGresult *r = db_query(NULL, "ledger_batch_turn", "SELECT pg_advisory_xact_lock(8455, $1::int)", 1, p);
        if (!r)
            return -1;
        PQclear(r);
    }
    if (lock_accounts(R) < 0)
        return -1;
    nlive = 0;
    for (size_t i = 0; i < R->n && !LINKED_REFUSED(R); i++) {
        if (!live(R, i))
            continue;
        if (R->reqs[i].kind >= LEDGER_POST && check_pending_state(R, i) < 0)
            return -1;
        if (live(R, i))
            apply(R, i);
        nlive += live(R, i);
    }
    if (LINKED_REFUSED(R))
        return RUN_REFUSED;
    if (nlive == 0)
        return 0;
    long long batch_id = 0;
    if (R->linked && R->n > 1) {
        PGresult *r = db_query(NULL, "ledger_batch_id", "SELECT nextval('ledger_transfers_id_seq')", 0, NULL);
        if (!r)
            return -1;
        batch_id = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    int rc = write_batch(R, batch_id);
    if (rc)
        return rc;
    return audit_batch(R) < 0 ? -1 : 0;
}

static int run_batch(const ctx *c, const ledger_transfer_req *reqs, size_t n, ledger_result *results, int expiring,
                     int linked)
{
    if (n == 0)
        return 0;
    run R = {.c = c, .reqs = reqs, .n = n, .res = results, .expiring = expiring, .linked = linked};
    int rc = -1;
    if (n <= LEDGER_MAX_BATCH) {
        R.plan = calloc(n, sizeof *R.plan);
        R.acc = calloc(2 * n, sizeof *R.acc);
        R.by_key = calloc(n, sizeof *R.by_key);
    }
    if (R.plan && R.acc && R.by_key && c->tenant_id > 0) {
        sort_keys(&R);
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
    free(R.by_key);
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
    return R.refused ? 1 : 0;
}

int ledger_transfer(const ctx *c, const ledger_transfer_req *reqs, size_t n, ledger_result *results)
{
    return run_batch(c, reqs, n, results, 0, 1);
}

int ledger_transfer_each(const ctx *c, const ledger_transfer_req *reqs, size_t n, ledger_result *results)
{
    return run_batch(c, reqs, n, results, 0, 0);
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
        int rc = run_batch(&c, &q, 1, &res, 1, 1);
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
