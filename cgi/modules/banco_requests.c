/* banco_requests.c — deposits and withdrawals: the user declares a deposit or asks for a withdrawal
 * (which reserves the money as a pending ledger transfer), and Financeiro staff confirm, approve or reject. */
#include "audit.h"
#include "banco.h"
#include "config.h"
#include "db.h"
#include "modules.h"
#include "money.h"
#include "notify.h"
#include "render.h"
#include "tenant.h"
#include "utf8.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANCO_STAFF_LIST 100

/* One banco_requests row. */
typedef struct banco_req {
    long long id, tenant_id, user_id, amount, transfer_id; /* transfer_id 0 = none yet */
    char kind[16], currency[8], status[16], reference[32], destination[256];
} banco_req;

#define BANCO_REQ_COLS                                                                                                 \
    "id, tenant_id, coalesce(user_id, 0), amount, coalesce(transfer_id, 0), kind, currency, status, reference, "      \
    "destination"

static void banco_req_read(PGresult *r, banco_req *q)
{
    q->id = atoll(PQgetvalue(r, 0, 0));
    q->tenant_id = atoll(PQgetvalue(r, 0, 1));
    q->user_id = atoll(PQgetvalue(r, 0, 2));
    q->amount = atoll(PQgetvalue(r, 0, 3));
    q->transfer_id = atoll(PQgetvalue(r, 0, 4));
    snprintf(q->kind, sizeof q->kind, "%s", PQgetvalue(r, 0, 5));
    snprintf(q->currency, sizeof q->currency, "%s", PQgetvalue(r, 0, 6));
    snprintf(q->status, sizeof q->status, "%s", PQgetvalue(r, 0, 7));
    snprintf(q->reference, sizeof q->reference, "%s", PQgetvalue(r, 0, 8));
    snprintf(q->destination, sizeof q->destination, "%s", PQgetvalue(r, 0, 9));
}

/* Fills q from a one-row result: 1, 0 when there is no row, -1 when the query failed. */
static int banco_req_from(PGresult *r, banco_req *q)
{
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    banco_req_read(r, q);
    return 1;
}

/* A request of the caller's tenant. */
static int banco_req_own(request *req, const char *id, const char *kind, banco_req *q)
{
    const char *p[] = {id, kind};
    return banco_req_from(tq_query(&req->cx, "banco_req_own",
                                   "SELECT " BANCO_REQ_COLS " FROM banco_requests "
                                   "WHERE tenant_id = $1 AND id = $2::bigint AND kind = $3",
                                   2, p),
                          q);
}

/* A request of any tenant: the staff's view (financeiro.manage only). */
static int banco_req_any(request *req, const char *id, banco_req *q)
{
    const char *p[] = {id};
    /* cross-tenant: Finance decides every tenant's requests (financeiro.manage only) */
    return banco_req_from(
        db_query(req->a, "banco_req_any", "SELECT " BANCO_REQ_COLS " FROM banco_requests WHERE id = $1::bigint", 1, p),
        q);
}

/* The request a client key created before, if any. */
static int banco_req_by_key(request *req, const char *kind, const char *key, banco_req *q)
{
    const char *p[] = {kind, key};
    return banco_req_from(tq_query(&req->cx, "banco_req_by_key",
                                   "SELECT " BANCO_REQ_COLS " FROM banco_requests "
                                   "WHERE tenant_id = $1 AND kind = $2 AND client_key = $3",
                                   2, p),
                          q);
}

static json_t *banco_req_json(request *req, const banco_req *q)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)q->id, "kind", q->kind,
                          "currency", q->currency, "amount_minor", (json_int_t)q->amount, "amount",
                          money_format_a(req->a, q->amount, q->currency, req->lang), "reference", q->reference,
                          "destination", q->destination, "status", q->status, "status_label",
                          render_lang_string(req->lang, arena_printf(req->a, "banco.status.%s", q->status)));
    json_object_set_new(o, "transfer_id", q->transfer_id ? json_integer((json_int_t)q->transfer_id) : json_null());
    return o;
}

/* The answer after a change: the request as JSON, or back to the page it came from. */
static int banco_req_answer(request *req, response *res, int status, const banco_req *q, const char *page)
{
    if (req->api)
        res_json(res, status, json_pack("{s:o}", "request", banco_req_json(req, q)));
    else
        res_redirect(res, page);
    return 0;
}

static const char *banco_reference(request *req, const char *prefix)
{
    unsigned char rnd[5];
    char hex[11];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    for (char *h = hex; *h; h++)
        if (*h >= 'a' && *h <= 'f')
            *h = (char)(*h - 'a' + 'A');
    return arena_printf(req->a, "%s-%s", prefix, hex);
}

/* Stores a new pending request of the caller (audited banco.<kind>_request) in q; a retry with the
 * same client key finds the row the first one stored. 1 stored now, 0 found, -1 on failure. */
static int banco_req_store(request *req, const char *kind, const char *cur, long long amount, const char *dest,
                           long long transfer_id, const char *key, banco_req *q)
{
    char uid[24], am[24], tr[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    snprintf(am, sizeof am, "%lld", amount);
    snprintf(tr, sizeof tr, "%lld", transfer_id);
    const char *ref = banco_reference(req, strcmp(kind, "deposit") ? "SAQ" : "DEP");
    const char *p[] = {uid, kind, cur, am, ref, dest, transfer_id ? tr : NULL, key};
    json_t *after = json_pack("{s:s, s:I, s:s}", "currency", cur, "amount", (json_int_t)amount, "reference", ref);
    if (after && transfer_id)
        json_object_set_new(after, "transfer_id", json_integer((json_int_t)transfer_id));
    PGresult *r = audit_tq(&req->cx, "banco_req_insert",
                           "INSERT INTO banco_requests (tenant_id, user_id, kind, currency, amount, reference, "
                           "destination, status, transfer_id, client_key) SELECT u.tenant_id, u.id, $3, $4, "
                           "$5::bigint, $6, $7, 'pending', $8::bigint, $9 FROM users u "
                           "WHERE u.id = $2::bigint AND u.tenant_id = $1 ON CONFLICT DO NOTHING RETURNING " BANCO_REQ_COLS,
                           8, p, arena_printf(req->a, "banco.%s_request", kind), "banco_request", NULL, after);
    json_decref(after);
    if (!r)
        return -1;
    /* an empty answer: a retry with the same key got there first */
    if (PQntuples(r) == 1)
        return banco_req_from(r, q) > 0 ? 1 : -1;
    return banco_req_by_key(req, kind, key, q) > 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- state changes */

/* Tells the request's user of what (deposit_confirmed, deposit_rejected, withdrawal_approved,
 * withdrawal_rejected: templates/notify/banco.<what>.txt) in their language, with the amount
 * formatted for it; inside the caller's transaction, once per request and outcome. 0 or -1. */
static int banco_notify(const ctx *c, const banco_req *q, const char *what)
{
    if (q->user_id <= 0)
        return 0;
    json_t *d = json_pack("{s:s, s:s, s:s}", "amount", money_format_a(c->a, q->amount, q->currency, "pt-BR"),
                          "amount@en", money_format_a(c->a, q->amount, q->currency, "en"), "reference", q->reference);
    notify_msg m = {.tenant_id = q->tenant_id,
                    .user_id = q->user_id,
                    .category = "financeiro",
                    .template_name = arena_printf(c->a, "banco.%s", what),
                    .data = d,
                    .priority = strstr(what, "rejected") ? NOTIFY_HIGH : NOTIFY_NORMAL,
                    .dedupe_key = arena_printf(c->a, "banco:%lld:%s", q->id, what)};
    int rc = d && notify_send(c, &m) >= 0 ? 0 : -1;
    json_decref(d);
    return rc;
}

/* A request leaving "pending": its row, its audit record and (for decisions taken for the user)
 * the user's notification, in one transaction. */
typedef struct banco_transition {
    const ctx *c;           /* tenant = the request's tenant; user = who decided (0 = the ledger's timeout) */
    banco_req *q;
    const char *to;         /* the new status */
    const char *action;     /* audit action */
    int notify_user;        /* tell the request's user */
    int changed;            /* out: 1 when this call moved it */
} banco_transition;

static int banco_change_tx(void *arg)
{
    banco_transition *ch = arg;
    char id[24], by[24];
    snprintf(id, sizeof id, "%lld", ch->q->id);
    snprintf(by, sizeof by, "%lld", ch->c->user_id);
    const char *p[] = {id, ch->to, by};
    ch->changed = 0;
    PGresult *r = tq_query(ch->c, "banco_change",
                           "UPDATE banco_requests SET status = $3, decided_by = nullif($4::bigint, 0), "
                           "decided_at = now() WHERE tenant_id = $1 AND id = $2::bigint AND status = 'pending' "
                           "RETURNING id",
                           3, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    json_t *before = json_pack("{s:s}", "status", "pending");
    json_t *after = json_pack("{s:s, s:s, s:I, s:s}", "status", ch->to, "currency", ch->q->currency, "amount",
                              (json_int_t)ch->q->amount, "reference", ch->q->reference);
    int rc = before && after ? audit_record(ch->c, ch->action, "banco_request", id, before, after) : -1;
    json_decref(before);
    json_decref(after);
    if (rc == 0 && ch->notify_user)
        rc = banco_notify(ch->c, ch->q, arena_printf(ch->c->a, "%s_%s", ch->q->kind, ch->to));
    if (rc == 0) {
        ch->changed = 1;
        snprintf(ch->q->status, sizeof ch->q->status, "%s", ch->to);
    }
    return rc;
}

static int banco_change(const ctx *c, banco_req *q, const char *to, const char *action, int notify_user)
{
    banco_transition ch = {c, q, to, action, notify_user, 0};
    if (db_tx(banco_change_tx, &ch) != 0)
        return -1;
    return ch.changed;
}

/* The actor for a staff decision: the staff user, acting on the request's tenant. */
static ctx banco_staff_ctx(request *req, const banco_req *q)
{
    ctx c = req->cx;
    c.tenant_id = q->tenant_id;
    return c;
}

/* ---------------------------------------------------------------- deposits */

static int banco_deposit_create(request *req, response *res)
{
    const char *key = banco_client_key(req, res);
    if (!key)
        return 0;
    const char *cur = banco_currency(req_field(req, "currency"));
    if (!cur) {
        res_error(req, res, 422, "bad_currency", render_lang_string(req->lang, "banco.err.bad_currency"));
        return 0;
    }
    long long amount;
    if (banco_amount(req, res, cur, &amount) < 0)
        return 0;
    banco_req q;
    int found = banco_req_by_key(req, "deposit", key, &q);
    if (found < 0)
        return -1;
    int stored = found ? 0 : banco_req_store(req, "deposit", cur, amount, "", 0, key, &q);
    if (stored < 0)
        return -1;
    return banco_req_answer(req, res, stored ? 201 : 200, &q, "/banco");
}

/* A deposit's confirmation: the row (pending -> confirmed, audited), the ledger's credit under the
 * key deposit:<id>, the transfer's id on the row and the user's notice, all in one transaction. */
typedef struct deposit_credit {
    const ctx *c;
    banco_req *q;
    banco_req before;   /* q as read: a retried transaction starts from it again */
    ledger_result out;  /* the ledger's answer when it refused */
} deposit_credit;

enum { CREDIT_RACED = -2, CREDIT_REFUSED = -3 };

static int banco_deposit_credit_tx(void *arg)
{
    deposit_credit *d = arg;
    banco_req *q = d->q;
    *q = d->before;
    if (!strcmp(q->status, "pending")) {
        banco_transition ch = {d->c, q, "confirmed", "banco.deposit_confirm", 0, 0};
        int rc = banco_change_tx(&ch);
        if (rc < 0)
            return -1;
        if (!ch.changed)
            return CREDIT_RACED;
    }
    long long wallet = banco_wallet(d->c, q->currency), external = banco_external(d->c, q->currency);
    if (wallet < 0 || external < 0)
        return -1;
    ledger_transfer_req t = {.key = arena_printf(d->c->a, "deposit:%lld", q->id),
                             .kind = LEDGER_SINGLE,
                             .debit_account_id = external,
                             .credit_account_id = wallet,
                             .amount = q->amount,
                             .code = "deposit"};
    /* joins this transaction: a refused credit leaves the request pending */
    int rc = ledger_transfer(d->c, &t, 1, &d->out);
    if (rc != 0)
        return rc < 0 ? -1 : CREDIT_REFUSED;
    char id[24], tr[24];
    snprintf(id, sizeof id, "%lld", q->id);
    snprintf(tr, sizeof tr, "%lld", d->out.transfer_id);
    const char *p[] = {id, tr};
    PGresult *r = tq_query(d->c, "banco_deposit_credited",
                           "UPDATE banco_requests SET transfer_id = $3::bigint WHERE tenant_id = $1 "
                           "AND id = $2::bigint AND transfer_id IS NULL RETURNING id",
                           2, p);
    if (!r)
        return -1;
    q->transfer_id = d->out.transfer_id;
    return banco_notify(d->c, q, "deposit_confirmed");
}

/* Confirms a deposit and credits the wallet in one transaction, so a request is never left
 * confirmed without its credit; a second confirm (a double click) finds it decided. A row
 * confirmed by an older version without its credit is completed here, under the same key. */
static int banco_deposit_confirm(request *req, response *res, banco_req *q)
{
    ctx c = banco_staff_ctx(req, q);
    if (!strcmp(q->status, "confirmed") && q->transfer_id)
        return banco_req_answer(req, res, 200, q, "/banco/pedidos");
    if (strcmp(q->status, "pending") && strcmp(q->status, "confirmed")) {
        res_error(req, res, 409, "already_decided", render_lang_string(req->lang, "banco.err.already_decided"));
        return 0;
    }
    deposit_credit d = {&c, q, *q, {LEDGER_DB_ERROR, 0}};
    int rc = db_tx(banco_deposit_credit_tx, &d);
    if (rc == 0)
        return banco_req_answer(req, res, 200, q, "/banco/pedidos");
    *q = d.before; /* rolled back: the row is as it was */
    if (rc == CREDIT_REFUSED) {
        banco_ledger_refused(req, res, d.out.code);
        return 0;
    }
    if (rc != CREDIT_RACED)
        return -1;
    /* another decision got there first: answer with where it ended */
    char id[24];
    snprintf(id, sizeof id, "%lld", q->id);
    if (banco_req_any(req, id, q) <= 0)
        return -1;
    if (!strcmp(q->status, "confirmed") && q->transfer_id)
        return banco_req_answer(req, res, 200, q, "/banco/pedidos");
    res_error(req, res, 409, "already_decided", render_lang_string(req->lang, "banco.err.already_decided"));
    return 0;
}

/* ---------------------------------------------------------------- withdrawals */

/* After the ledger said a withdrawal's reservation was resolved already, the row follows the ledger:
 * posted = approved, voided by a cancel or a rejection = that, expired = expired. */
static void banco_withdrawal_sync(const ctx *c, banco_req *q)
{
    char tr[24];
    snprintf(tr, sizeof tr, "%lld", q->transfer_id);
    const char *p[] = {tr};
    PGresult *r = tq_query(c, "banco_withdrawal_resolution",
                           "SELECT kind, idempotency_key FROM ledger_transfers WHERE tenant_id = $1 AND pending_id = $2::bigint",
                           1, p);
    if (!r || PQntuples(r) != 1)
        return;
    const char *kind = PQgetvalue(r, 0, 0), *key = PQgetvalue(r, 0, 1);
    const char *to = !strcmp(kind, "post")                        ? "approved"
                     : !strcmp(kind, "expire")                    ? "expired"
                     : !strncmp(key, "withdrawal.cancel:", 18)    ? "canceled"
                     : !strncmp(key, "withdrawal.reject:", 18)    ? "rejected"
                                                                  : NULL;
    /* whichever call moves the row tells the user of a staff decision */
    if (to)
        banco_change(c, q, to, arena_printf(c->a, "banco.withdrawal_%s", to),
                     !strcmp(to, "approved") || !strcmp(to, "rejected"));
}

/* Resolves a pending withdrawal in the ledger (post or void under withdrawal.<verb>:<id>), then moves
 * its row. The ledger decides races: a cancel and an approval at once resolve it once, and the loser
 * is told which way it went (409) while its row catches up. */
static int banco_withdrawal_resolve(request *req, response *res, const ctx *c, banco_req *q, const char *verb,
                                    const char *to, int staff)
{
    const char *page = staff ? "/banco/pedidos" : "/banco";
    if (strcmp(q->status, "pending")) {
        res_error(req, res, 409, "already_decided", render_lang_string(req->lang, "banco.err.already_decided"));
        return 0;
    }
    ledger_transfer_req t = {.key = arena_printf(req->a, "withdrawal.%s:%lld", verb, q->id),
                             .kind = strcmp(to, "approved") ? LEDGER_VOID : LEDGER_POST,
                             .pending_id = q->transfer_id,
                             .code = "withdrawal"};
    ledger_result out;
    int rc = ledger_transfer(c, &t, 1, &out);
    if (rc < 0) {
        banco_ledger_refused(req, res, LEDGER_DB_ERROR);
        return 0;
    }
    if (rc > 0) {
        if (out.code == LEDGER_PENDING_ALREADY_POSTED || out.code == LEDGER_PENDING_ALREADY_VOIDED)
            banco_withdrawal_sync(c, q);
        banco_ledger_refused(req, res, out.code);
        return 0;
    }
    int changed = banco_change(c, q, to, arena_printf(req->a, "banco.withdrawal_%s", to), staff);
    if (changed < 0)
        return -1;
    /* 0: a racing call that learnt the outcome from the ledger moved the row to it already */
    snprintf(q->status, sizeof q->status, "%s", to);
    return banco_req_answer(req, res, 200, q, page);
}

/* A new withdrawal: the money reserved (a pending ledger transfer under withdrawal:<client key>)
 * and the request's row, in one transaction: there is never a reservation without its request. */
typedef struct banco_withdrawal_new {
    request *req;
    const char *cur, *dest, *key;
    long long amount;
    banco_req *q;
    int stored;        /* out: 1 when this call stored the row (0: a retry found it) */
    ledger_result out; /* the ledger's answer when it refused */
} banco_withdrawal_new;

enum { WITHDRAWAL_REFUSED = -2 };

static int banco_withdrawal_tx(void *arg)
{
    banco_withdrawal_new *w = arg;
    const ctx *c = &w->req->cx;
    long long wallet = banco_wallet(c, w->cur), external = banco_external(c, w->cur);
    if (wallet < 0 || external < 0)
        return -1;
    ledger_transfer_req t = {.key = arena_printf(w->req->a, "withdrawal:%s", w->key),
                             .kind = LEDGER_PENDING,
                             .debit_account_id = wallet,
                             .credit_account_id = external,
                             .amount = w->amount,
                             .timeout_s = (int)config_int("banco.withdraw_timeout_s"),
                             .code = "withdrawal"};
    int rc = ledger_transfer(c, &t, 1, &w->out);
    if (rc != 0)
        return rc < 0 ? -1 : WITHDRAWAL_REFUSED;
    int stored = banco_req_store(w->req, "withdrawal", w->cur, w->amount, w->dest, w->out.transfer_id, w->key, w->q);
    if (stored < 0)
        return -1;
    w->stored = stored;
    return 0;
}

static int banco_withdrawal_create(request *req, response *res)
{
    const char *key = banco_client_key(req, res);
    if (!key)
        return 0;
    const char *cur = banco_currency(req_field(req, "currency"));
    const char *dest = req_field(req, "destination");
    if (!cur) {
        res_error(req, res, 422, "bad_currency", render_lang_string(req->lang, "banco.err.bad_currency"));
        return 0;
    }
    long long amount;
    if (banco_amount(req, res, cur, &amount) < 0)
        return 0;
    if (!dest || !utf8_label_ok(dest, 120)) {
        res_error(req, res, 422, "bad_destination", render_lang_string(req->lang, "banco.err.bad_destination"));
        return 0;
    }
    banco_req q;
    int found = banco_req_by_key(req, "withdrawal", key, &q);
    if (found)
        return found < 0 ? -1 : banco_req_answer(req, res, 200, &q, "/banco");
    banco_withdrawal_new w = {req, cur, dest, key, amount, &q, 0, {LEDGER_DB_ERROR, 0}};
    int rc = db_tx(banco_withdrawal_tx, &w);
    if (rc == WITHDRAWAL_REFUSED) {
        banco_ledger_refused(req, res, w.out.code);
        return 0;
    }
    if (rc < 0)
        return -1;
    return banco_req_answer(req, res, w.stored ? 201 : 200, &q, "/banco");
}

static int banco_withdrawal_cancel(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    banco_req q;
    int found = id ? banco_req_own(req, id, "withdrawal", &q) : 0;
    if (found < 0)
        return -1;
    if (!found) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    return banco_withdrawal_resolve(req, res, &req->cx, &q, "cancel", "canceled", 0);
}

/* ---------------------------------------------------------------- staff */

static int banco_staff_load(request *req, response *res, banco_req *q)
{
    const char *id = req_id_param(req, "id");
    int found = id ? banco_req_any(req, id, q) : 0;
    if (found == 0)
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
    return found;
}

/* banco_staff_load for a request that must be of kind ("deposit", "withdrawal"): another kind is a
 * 422 not_a_<kind>. 1, 0 when answered, -1 on failure. */
static int banco_staff_load_kind(request *req, response *res, banco_req *q, const char *kind)
{
    int found = banco_staff_load(req, res, q);
    if (found <= 0)
        return found;
    if (strcmp(q->kind, kind)) {
        res_error(req, res, 422, arena_printf(req->a, "not_a_%s", kind),
                  render_lang_string(req->lang, arena_printf(req->a, "banco.err.not_a_%s", kind)));
        return 0;
    }
    return 1;
}

static int banco_staff_confirm(request *req, response *res)
{
    banco_req q;
    int found = banco_staff_load_kind(req, res, &q, "deposit");
    return found <= 0 ? found : banco_deposit_confirm(req, res, &q);
}

static int banco_staff_approve(request *req, response *res)
{
    banco_req q;
    int found = banco_staff_load_kind(req, res, &q, "withdrawal");
    if (found <= 0)
        return found;
    ctx c = banco_staff_ctx(req, &q);
    return banco_withdrawal_resolve(req, res, &c, &q, "approve", "approved", 1);
}

static int banco_staff_reject(request *req, response *res)
{
    banco_req q;
    int found = banco_staff_load(req, res, &q);
    if (found <= 0)
        return found;
    ctx c = banco_staff_ctx(req, &q);
    if (!strcmp(q.kind, "withdrawal"))
        return banco_withdrawal_resolve(req, res, &c, &q, "reject", "rejected", 1);
    int changed = banco_change(&c, &q, "rejected", "banco.deposit_reject", 1);
    if (changed < 0)
        return -1;
    if (!changed) {
        res_error(req, res, 409, "already_decided", render_lang_string(req->lang, "banco.err.already_decided"));
        return 0;
    }
    return banco_req_answer(req, res, 200, &q, "/banco/pedidos");
}

/* Every tenant's requests, the pending ones first. */
static int banco_staff_list(request *req, response *res)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", BANCO_STAFF_LIST);
    const char *p[] = {lim};
    /* cross-tenant: the staff's queue (financeiro.manage only) */
    PGresult *r = db_query(req->a, "banco_staff_list",
                           "SELECT r.id, r.tenant_id, t.name, coalesce(u.email, ''), r.kind, r.currency, r.amount, "
                           "r.reference, r.destination, "
                           "CASE WHEN r.status = 'pending' AND x.kind = 'expire' THEN 'expired' ELSE r.status END, "
                           "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "r.status = 'confirmed' AND r.transfer_id IS NULL "
                           "FROM banco_requests r JOIN tenants t ON t.id = r.tenant_id "
                           "LEFT JOIN users u ON u.id = r.user_id "
                           "LEFT JOIN ledger_transfers x ON r.kind = 'withdrawal' AND x.pending_id = r.transfer_id "
                           "ORDER BY r.status = 'pending' DESC, r.id DESC LIMIT $1::bigint",
                           1, p);
    if (!r)
        return -1;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *cur = PQgetvalue(r, i, 5), *status = PQgetvalue(r, i, 9);
        long long amount = atoll(PQgetvalue(r, i, 6));
        json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                              (json_int_t)atoll(PQgetvalue(r, i, 0)), "tenant_id",
                              (json_int_t)atoll(PQgetvalue(r, i, 1)), "tenant", PQgetvalue(r, i, 2), "email",
                              PQgetvalue(r, i, 3), "kind", PQgetvalue(r, i, 4), "currency", cur, "amount_minor",
                              (json_int_t)amount, "amount", money_format_a(req->a, amount, cur, req->lang), "reference",
                              PQgetvalue(r, i, 7), "destination", PQgetvalue(r, i, 8), "status", status, "status_label",
                              render_lang_string(req->lang, arena_printf(req->a, "banco.status.%s", status)), "created",
                              PQgetvalue(r, i, 10));
        json_object_set_new(o, "pending", json_boolean(!strcmp(status, "pending")));
        /* a confirmation whose credit did not complete: confirming again finishes it */
        json_object_set_new(o, "credit_missing", json_boolean(PQgetvalue(r, i, 11)[0] == 't'));
        json_array_append_new(list, o);
    }
    res_page(res, "banco/pedidos.cs", "banco.staff_title", json_pack("{s:o}", "requests", list));
    return 0;
}

#define BANCO_WRITE (R_AUTH | R_CSRF | R_PAGE)
static const route routes[] = {
    {"POST", "/banco/depositos", banco_deposit_create, BANCO_WRITE, "banco.use", "financeiro.create_transaction"},
    {"POST", "/banco/saques", banco_withdrawal_create, BANCO_WRITE | R_STEPUP, "banco.use", "financeiro.withdraw_funds"},
    {"POST", "/banco/saques/{id}/cancelar", banco_withdrawal_cancel, BANCO_WRITE, "banco.use", NULL},
    {"GET", "/banco/pedidos", banco_staff_list, R_AUTH | R_PAGE, "financeiro.manage", NULL},
    {"POST", "/banco/pedidos/{id}/confirmar", banco_staff_confirm, BANCO_WRITE | R_STEPUP, "financeiro.manage", NULL},
    {"POST", "/banco/pedidos/{id}/aprovar", banco_staff_approve, BANCO_WRITE | R_STEPUP, "financeiro.manage", NULL},
    {"POST", "/banco/pedidos/{id}/rejeitar", banco_staff_reject, BANCO_WRITE | R_STEPUP, "financeiro.manage", NULL},
};

const module banco_requests_module = {"banco_requests", NULL, NULL, ROUTES(routes)};
