/* stripe_sig.h — verification of Stripe's `Stripe-Signature` webhook header over the raw body:
 * HMAC-SHA256 of "<t>.<body>" keyed by the endpoint secret, matched against every v1 signature. */
#ifndef BCF_STRIPE_SIG_H
#define BCF_STRIPE_SIG_H
#include <stddef.h>

enum stripe_sig_result {
    STRIPE_SIG_OK = 0,
    STRIPE_SIG_NO_SECRET = -1,   /* no endpoint secret configured: nothing can be verified */
    STRIPE_SIG_NO_HEADER = -2,   /* the header is missing or empty */
    STRIPE_SIG_MALFORMED = -3,   /* no usable t= (missing, repeated, not a number) or an item without '=' */
    STRIPE_SIG_NO_V1 = -4,       /* no v1= signature (v0 and unknown schemes do not count) */
    STRIPE_SIG_NO_MATCH = -5,    /* no v1 matches: wrong secret or a body that was altered */
    STRIPE_SIG_TOO_OLD = -6,     /* signed correctly, but t is more than the tolerance before now */
    STRIPE_SIG_TOO_NEW = -7,     /* signed correctly, but t is more than the tolerance after now */
};

/* Checks header against body (body_len bytes, exactly as received) with secret, at unix time now.
 * A match against any v1 is enough (Stripe sends several while a secret is being rolled); the
 * comparison is constant time. tolerance_s <= 0 turns the timestamp check off. On success, and on
 * TOO_OLD/TOO_NEW, *timestamp (when not NULL) receives t. Returns an enum stripe_sig_result. */
int stripe_sig_verify(const char *header, const char *body, size_t body_len, const char *secret, long long now,
                      long tolerance_s, long long *timestamp);

/* A short stable reason for a result ("no_match", "too_old", ...), for logs and error bodies. */
const char *stripe_sig_reason(int result);
#endif
