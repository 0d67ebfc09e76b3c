/* audit.c — the one audit call: appends through the SQL function audit_append (sql/0005), which
 * numbers and hash-chains rows under the schema owner's rights; and the chain verifier. */
#include "audit.h"
#include "buf.h"
#include "db.h"
#include "log.h"
#include "tenant.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int audit_record(const ctx *c, const char *action, const char *object_type, const char *object_id,
                 const json_t *before, const json_t *after)
{
    char tid[24] = "", uid[24] = "";
    if (c->tenant_id > 0)
        snprintf(tid, sizeof tid, "%lld", c->tenant_id);
    if (c->user_id > 0)
        snprintf(uid, sizeof uid, "%lld", c->user_id);
    char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *af = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    const char *p[] = {tid[0] ? tid : NULL, uid[0] ? uid : NULL, action, object_type ? object_type : "",
                       object_id ? object_id : "", b, af, c->ip ? c->ip : "", c->request_id ? c->request_id : ""};
    PGresult *r = db_query(c->a, "audit_append",
                           "SELECT audit_append($1::bigint, $2::bigint, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)", 9,
                           p);
    free(b);
    free(af);
    if (!r) {
        log_error("audit record %s failed: %s", action, db_error());
        return -1;
    }
    if (!c->a)
        PQclear(r);
    return 0;
}

/* ---- verification ----
 * The verifier trusts nothing in the database but the raw column values: it rebuilds each row's
 * hashed text here (the layout of sql/0005's audit_canonical) and hashes it with libsodium. */

#define VERIFY_BATCH 5000
#define HASH_HEX 64

typedef struct verify_state {
    void (*report)(const char *msg, void *arg);
    void *arg;
    long problems;
    long long last_id;          /* id of the last row read (0 before the first) */
    char last_hash[HASH_HEX + 1]; /* its stored hash: the next row's expected prev_hash */
    buf text;                   /* the canonical text being hashed, reused row after row */
} verify_state;

static void verify_problem(verify_state *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void verify_problem(verify_state *v, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->problems++;
    if (v->report)
        v->report(msg, v->arg);
}

/* A free-text field as audit_field() writes it: backslash and newline escaped. */
static void canon_text(buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(b, "\\\\");
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *s);
    }
}

/* Columns: 0 id, 1 at (µs), 2 tenant_id, 3 actor_user_id, 4 action, 5 object_type, 6 object_id,
 * 7 before::text, 8 after::text, 9 ip, 10 request_id, 11 prev_hash, 12 hash. */
static void verify_row(verify_state *v, PGresult *r, int i)
{
    long long id = atoll(PQgetvalue(r, i, 0));
    const char *prev = PQgetvalue(r, i, 11), *stored = PQgetvalue(r, i, 12);
    buf *t = &v->text;

    buf_clear(t);
    buf_puts(t, prev);
    buf_putc(t, '\n');
    buf_puts(t, PQgetvalue(r, i, 0));
    for (int col = 1; col <= 10; col++) {
        buf_putc(t, '\n');
        const char *val = PQgetisnull(r, i, col) ? "" : PQgetvalue(r, i, col);
        /* numbers and jsonb text go in as they are; free text through the escaping */
        if ((col >= 4 && col <= 6) || col >= 9)
            canon_text(t, val);
        else
            buf_puts(t, val);
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[HASH_HEX + 1];
    crypto_hash_sha256(h, (const unsigned char *)(t->data ? t->data : ""), t->len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);

    /* one problem per row: a missing stretch of ids explains the broken link that goes with it */
    if (id != v->last_id + 1) {
        if (id <= v->last_id)
            verify_problem(v, "row %lld: id out of order after row %lld", id, v->last_id);
        else if (id == v->last_id + 2)
            verify_problem(v, "row %lld: row %lld is missing (gap in ids)", id, v->last_id + 1);
        else
            verify_problem(v, "row %lld: rows %lld..%lld are missing (gap in ids)", id, v->last_id + 1, id - 1);
    } else if (strcmp(prev, v->last_hash) != 0) {
        if (v->last_id == 0)
            verify_problem(v, "row %lld: prev_hash is not the chain's starting value (broken link)", id);
        else
            verify_problem(v, "row %lld: prev_hash does not match row %lld's hash (row removed, inserted or "
                              "rewritten before it)", id, v->last_id);
    }
    if (v->text.oom)
        verify_problem(v, "row %lld: out of memory rebuilding its content", id);
    else if (strcmp(hex, stored) != 0)
        verify_problem(v, "row %lld: content altered (stored hash does not match its content)", id);

    v->last_id = id;
    snprintf(v->last_hash, sizeof v->last_hash, "%s", stored);
}

/* The whole walk in one read-only REPEATABLE READ transaction: rows and chain head come from one
 * snapshot, so appends running meanwhile can neither look like a gap nor like a stale head. */
static int verify_tx(void *arg)
{
    verify_state *v = arg;
    v->problems = 0;
    v->last_id = 0;
    memset(v->last_hash, '0', HASH_HEX);
    v->last_hash[HASH_HEX] = '\0';

    PGresult *r = db_query(NULL, NULL, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    for (;;) {
        char after[24], lim[16];
        snprintf(after, sizeof after, "%lld", v->last_id);
        snprintf(lim, sizeof lim, "%d", VERIFY_BATCH);
        const char *p[] = {after, lim};
        r = db_query(NULL, NULL,
                     "SELECT id, (extract(epoch FROM at) * 1000000)::bigint, tenant_id, actor_user_id, action, "
                     "object_type, object_id, before::text, after::text, ip, request_id, prev_hash, hash "
                     "FROM audit_log WHERE id > $1::bigint ORDER BY id LIMIT $2::int",
                     2, p);
        if (!r)
            return -1;
        int n = PQntuples(r);
        for (int i = 0; i < n; i++)
            verify_row(v, r, i);
        PQclear(r);
        if (n < VERIFY_BATCH)
            break;
    }
    r = db_query(NULL, NULL, "SELECT last_id, last_hash FROM audit_chain_head WHERE one", 0, NULL);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        verify_problem(v, "chain head: missing");
    } else {
        long long head_id = atoll(PQgetvalue(r, 0, 0));
        const char *head_hash = PQgetvalue(r, 0, 1);
        if (head_id > v->last_id)
            verify_problem(v, "chain head: says last row is %lld but the log ends at %lld (rows %lld..%lld removed "
                              "from the end)", head_id, v->last_id, v->last_id + 1, head_id);
        else if (head_id < v->last_id)
            verify_problem(v, "chain head: says last row is %lld but the log goes on to %lld (head rewound)", head_id,
                           v->last_id);
        else if (strcmp(head_hash, v->last_hash) != 0)
            verify_problem(v, "chain head: hash does not match row %lld's hash", head_id);
    }
    PQclear(r);
    return 0;
}

long audit_verify(void (*report)(const char *msg, void *arg), void *arg)
{
    verify_state v = {.report = report, .arg = arg};
    buf_init(&v.text);
    /* a read-only snapshot never fails serialization, so db_tx runs verify_tx once */
    int rc = db_tx(verify_tx, &v);
    buf_free(&v.text);
    if (rc != 0) {
        log_error("audit verify: %s", db_error());
        return -1;
    }
    return v.problems;
}

struct audited {
    const ctx *c;
    const char *name, *sql, *action, *object_type, *object_id;
    int nparams;
    const char *const *params;
    const json_t *after;
    PGresult *r;
};

static int audited_tx(void *arg)
{
    struct audited *a = arg;
    a->r = tq_query(a->c, a->name, a->sql, a->nparams, a->params);
    if (!a->r)
        return -1;
    int touched = PQntuples(a->r) > 0 || atol(PQcmdTuples(a->r)) > 0;
    if (!touched)
        return 0;
    const char *id = a->object_id ? a->object_id : PQntuples(a->r) > 0 ? PQgetvalue(a->r, 0, 0) : "";
    return audit_record(a->c, a->action, a->object_type, id, NULL, a->after);
}

PGresult *audit_tq(const ctx *c, const char *name, const char *sql, int nparams, const char *const *params,
                   const char *action, const char *object_type, const char *object_id, const json_t *after)
{
    struct audited a = {c, name, sql, action, object_type, object_id, nparams, params, after, NULL};
    if (db_tx(audited_tx, &a) < 0)
        return NULL;
    return a.r;
}
