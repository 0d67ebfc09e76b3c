/* stripe_events.h — applies one verified Stripe webhook event: stored under its event id in the
 * same transaction as its effect (subscription state, the tenant's plan, audit rows), exactly once. */
#ifndef BCF_STRIPE_EVENTS_H
#define BCF_STRIPE_EVENTS_H
#include <jansson.h>
#include <stddef.h>
#include "ctx.h"

enum stripe_event_outcome {
    STRIPE_EV_APPLIED = 0,   /* it changed state */
    STRIPE_EV_STALE,         /* older than the stored state (out-of-order delivery): recorded only */
    STRIPE_EV_UNMATCHED,     /* no tenant known for its customer (yet): recorded, state kept when possible */
    STRIPE_EV_IGNORED,       /* a type with no effect here: acknowledged and recorded */
    STRIPE_EV_DUPLICATE,     /* this event id was processed before: nothing done */
    STRIPE_EV_INVALID = -1,  /* not an event (no id, type or created): nothing stored */
    STRIPE_EV_FAILED = -2,   /* the database failed: nothing stored, Stripe should retry */
};

/* Processes event (the parsed raw body, whose signature the caller has verified) and stores raw
 * (raw_len bytes) as its payload. c supplies the arena, address and request id; its user and tenant
 * are ignored (Stripe is the actor). Returns an enum stripe_event_outcome. */
int stripe_event_process(const ctx *c, const char *raw, size_t raw_len, json_t *event);

/* "applied", "stale", "unmatched", "ignored", "duplicate", "invalid" or "failed". */
const char *stripe_event_outcome_name(int outcome);

/* The plan ("pro", "enterprise") whose stripe.price.<plan> list holds price_id, or NULL. */
const char *stripe_plan_for_price(const char *price_id);
#endif
