/* auth.h — the sign-in's brute-force counters, shared with the step-up check: a wrong 2FA code
 * there counts towards the same account lock as a wrong password at sign-in. */
#ifndef BCF_AUTH_H
#define BCF_AUTH_H
#include "request.h"

/* Seconds the account (by its stored e-mail) or this address must still wait; 0 = may try. */
long auth_guard_wait(request *req, const char *email);
/* Counts one failure for the account and the address (the caller records its own event). */
void auth_guard_fail(request *req, const char *email, long long user_id);
#endif
