/* banco.h — what the Banco pages share: reading amounts, currencies and idempotency keys from a
 * request, the tenant's wallet and outside-world accounts, and ledger refusals as HTTP answers. */
#ifndef BCF_BANCO_H
#define BCF_BANCO_H
#include "ledger.h"
#include "request.h"

/* Largest amount one request may move, in minor units: far below what would overflow a total. */
#define BANCO_MAX_AMOUNT 1000000000000000LL

/* "BRL", "USDT" or "BTC" as the field gave it, else NULL. */
const char *banco_currency(const char *v);

/* The amount of a request: amount_minor (decimal digits) or amount (as typed: "12,50"), for
 * currency. 0 with *minor in 1..BANCO_MAX_AMOUNT, or -1 after answering 422 bad_amount. */
int banco_amount(request *req, response *res, const char *currency, long long *minor);

/* The client's idempotency key: the Idempotency-Key header or the key field (the form's hidden
 * field); 1..64 characters of [A-Za-z0-9._:-]. Without one, the request id (no retry safety). NULL
 * after answering 422 bad_key when the client sent a malformed one. */
const char *banco_client_key(request *req, response *res);

/* A new random key for a form to send back (32 hex characters, in the arena). */
const char *banco_new_key(request *req);

/* The tenant's (c->tenant_id) wallet, or its allow_negative "external" account that stands for
 * money outside the platform, in currency; opened on first use. -1 on a database failure. */
long long banco_wallet(const ctx *c, const char *currency);
long long banco_external(const ctx *c, const char *currency);

/* Answers a ledger refusal: the code's name as the error code, a 409, 404, 422 or 503 status. */
void banco_ledger_refused(request *req, response *res, ledger_code code);

/* The HTTP status for a ledger outcome (200 for exists, 201 for ok). */
int banco_ledger_status(ledger_code code);
#endif
