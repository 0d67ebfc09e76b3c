/* stripe_api.h — the calls we make to Stripe (Customer, Checkout Session, Billing Portal session,
 * Subscription): form-encoded POSTs through the shared HTTP client, each with an Idempotency-Key. */
#ifndef BCF_STRIPE_API_H
#define BCF_STRIPE_API_H
#include <jansson.h>
#include <stddef.h>
#include "buf.h"
#include "http.h"

typedef enum stripe_result {
    STRIPE_OK = 0,
    STRIPE_ERR_UNAVAILABLE = -1, /* no answer, 429 or 5xx after the retries, or the breaker open: try later */
    STRIPE_ERR_REFUSED = -2,     /* Stripe answered an error (4xx): type, code and message say which */
    STRIPE_ERR_CONFIG = -3,      /* not configured: no stripe.secret_key */
    STRIPE_ERR_BAD_ANSWER = -4,  /* a 2xx without the fields we need */
    STRIPE_ERR_INVALID = -5,     /* refused before sending: a missing argument or an idempotency key too long */
} stripe_result;

typedef struct stripe_error {
    stripe_result result;
    long status;           /* HTTP status of the last answer, 0 when none came back */
    http_err transport;    /* why no answer came back */
    int attempts;          /* requests sent */
    char type[48];         /* Stripe's error.type ("invalid_request_error", "api_error", ...) */
    char code[64];         /* Stripe's error.code ("resource_missing", ...), may be empty */
    char param[64];        /* Stripe's error.param, may be empty */
    char message[256];     /* Stripe's error.message, or our own reason */
} stripe_error;

/* ---- form bodies (pure) ---- */
/* Appends key=value to a form body, percent-encoded as application/x-www-form-urlencoded, but with
 * the brackets of Stripe's nested keys left literal ("line_items[0][price]"), as Stripe's own
 * libraries send them. NULL value = nothing appended. 0, or -1 when out of memory. */
int stripe_form_add(buf *form, const char *key, const char *value);

/* ---- calls ---- */
/* Every call POSTs to stripe.api_base + path with Authorization: Bearer <stripe.secret_key>,
 * Stripe-Version: stripe.api_version and Idempotency-Key: idem_key, so the HTTP client may retry it
 * and Stripe acts once. Blocks for at most the client's retries. Returns a stripe_result, with e filled
 * on error (e may be NULL). */

/* POSTs a form body to path ("/v1/customers") and parses the JSON answer into *out (the caller
 * json_decref's it) when STRIPE_OK. */
int stripe_post(const char *path, const char *form, size_t form_len, const char *idem_key, json_t **out,
                stripe_error *e);

/* A Customer with metadata[tenant_id] and, when given, the e-mail. Writes its "cus_..." id. */
int stripe_create_customer(const char *idem_key, long long tenant_id, const char *email, char *customer_id,
                           size_t idlen, stripe_error *e);

typedef struct stripe_checkout {
    long long tenant_id;     /* client_reference_id, metadata[tenant_id] and subscription_data[metadata][tenant_id] */
    const char *customer;    /* "cus_..." */
    const char *price;       /* "price_..." */
    long trial_days;         /* subscription_data[trial_period_days]; 0 = none */
    const char *success_url;
    const char *cancel_url;
} stripe_checkout;
/* A Checkout Session in subscription mode for one unit of price. Writes its id and hosted url. */
int stripe_create_checkout_session(const char *idem_key, const stripe_checkout *p, char *session_id, size_t idlen,
                                   char *url, size_t urllen, stripe_error *e);

/* A Billing Portal session for customer, coming back to return_url. Writes its url. */
int stripe_create_portal_session(const char *idem_key, const char *customer, const char *return_url, char *url,
                                 size_t urllen, stripe_error *e);

/* GETs path ("/v1/subscriptions/sub_...") without a body or idempotency key (a read is safe to
 * retry) and parses the JSON answer into *out when STRIPE_OK. */
int stripe_get(const char *path, json_t **out, stripe_error *e);

/* What we read of a subscription object (its first item is the plan's price). */
typedef struct stripe_subscription {
    char id[128];                 /* "sub_..." */
    char item_id[128];            /* items.data[0].id, "si_...": a price change names it */
    char price[128];              /* items.data[0].price.id */
    char status[32];
    int cancel_at_period_end;
    long long current_period_end; /* unix seconds, 0 when absent */
} stripe_subscription;

/* GET /v1/subscriptions/{id}. */
int stripe_get_subscription(const char *subscription_id, stripe_subscription *out, stripe_error *e);

typedef struct stripe_subscription_change {
    const char *item_id;            /* with price: the item whose price changes */
    const char *price;              /* NULL = keep the price */
    const char *proration_behavior; /* with price: "create_prorations" (upgrade) or "none" (downgrade) */
    int cancel_at_period_end;       /* 1 or 0 to set it, -1 to leave it */
} stripe_subscription_change;

/* POST /v1/subscriptions/{id}: items[0][id] + items[0][price] + proration_behavior, and/or
 * cancel_at_period_end. Writes the answer's state into out (may be NULL). */
int stripe_update_subscription(const char *idem_key, const char *subscription_id, const stripe_subscription_change *c,
                               stripe_subscription *out, stripe_error *e);

/* The first price id of stripe.price.<plan> into out; 0, or -1 when the plan has none. */
int stripe_price_for_plan(const char *plan, char *out, size_t outlen);
/* "unavailable", "refused", "config", "bad_answer", "invalid" or "ok". */
const char *stripe_result_name(stripe_result r);
#endif
