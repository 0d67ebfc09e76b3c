/* assinaturas_actions.h — what the Assinaturas buttons share: answering a failed Stripe call, the
 * redirect (or its JSON twin) and Checkout, which a plan change without a subscription goes through. */
#ifndef BCF_ASSINATURAS_ACTIONS_H
#define BCF_ASSINATURAS_ACTIONS_H
#include "modules.h"
#include "stripe_api.h"

/* 502 stripe_error for Stripe's refusal, 503 stripe_unavailable or billing_unconfigured otherwise. */
void billing_stripe_failed(request *req, response *res, const stripe_error *e);
/* 303 to url, or 200 {"url"} for the API. */
int billing_redirect(request *req, response *res, const char *url);
/* POST /assinaturas/checkout: field plan (and nonce). */
int billing_checkout(request *req, response *res);
/* The form's nonce when it is a usable idempotency key part, else the request id. */
const char *billing_nonce(request *req);
#endif
