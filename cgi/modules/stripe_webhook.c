/* stripe_webhook.c — POST /webhooks/stripe: Stripe's event deliveries. No session and no CSRF
 * token: the Stripe-Signature header over the raw body is the authentication (lib/stripe_sig.h). */
#include "app.h"
#include "config.h"
#include "log.h"
#include "modules.h"
#include "stripe_events.h"
#include "stripe_sig.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int stripe_webhook(request *req, response *res)
{
    req->api = 1; /* a machine reads the answer: errors as JSON, like /api/ */
    char *secret = config_secret("stripe.webhook_secret");
    long long t = 0;
    int sig = stripe_sig_verify(req_header(req, "HTTP_STRIPE_SIGNATURE"), req->body, req->body_len, secret,
                                (long long)time(NULL), config_int("stripe.webhook_tolerance_s"), &t);
    free(secret);
    if (sig != STRIPE_SIG_OK) {
        log_warn("stripe webhook refused: %s (address %s)", stripe_sig_reason(sig),
                 req->remote_addr ? req->remote_addr : "-");
        res_error(req, res, 400, "bad_signature", stripe_sig_reason(sig));
        return 0;
    }
    /* the core parsed the JSON body already (malformed JSON was answered 400 before this point) */
    if (!json_is_object(req->json)) {
        res_error(req, res, 400, "bad_event", "the body is not a JSON event object");
        return 0;
    }
    int outcome = stripe_event_process(&req->cx, req->body, req->body_len, req->json);
    if (outcome == STRIPE_EV_INVALID) {
        res_error(req, res, 400, "bad_event", "not a Stripe event (id, type, created or its object)");
        return 0;
    }
    if (outcome == STRIPE_EV_FAILED) {
        /* a 5xx makes Stripe deliver the event again later; nothing of it was stored */
        res_error(req, res, 503, "unavailable", "the event could not be stored; retry");
        return 0;
    }
    res_json(res, 200, json_pack("{s:b, s:s}", "received", 1, "outcome", stripe_event_outcome_name(outcome)));
    return 0;
}

static const route routes[] = {
    /* Stripe delivers bursts (a backlog after an outage) from a handful of addresses: its own
     * limit, not the per-address default that browsers share */
    {"POST", "/webhooks/stripe", stripe_webhook, R_PUBLIC | R_NO_CSRF_SIGNED | R_OWN_LIMIT, NULL, "stripe.webhook"},
};

const module stripe_webhook_module = {"stripe_webhook", NULL, NULL, ROUTES(routes)};
