/* app.h — the request pipeline of a FastCGI worker: parse, route, apply the route's declared
 * middleware, run the handler, render HTML or JSON, log and count. */
#ifndef BCF_APP_H
#define BCF_APP_H
#include "fcgi_loop.h"
#include "request.h"

/* Loads templates and languages, connects lazily to PostgreSQL and Redis. */
int app_init(void);
void app_dispatch(fcgi_req *fr, buf *out);
/* Is addr (text IPv4/IPv6) inside metrics.allow? */
int app_addr_allowed(const char *addr);
/* Is addr inside list (comma-separated addresses or CIDR blocks)? */
int app_addr_in_list(const char *addr, const char *list);
/* Must this user enrol in 2FA (tenant kind listed in security.mfa_required_kinds)? */
int app_mfa_required(const session_info *si);
/* Runs fn(arg) after this request's response has been written, before its arena is reset (arg
 * may live in it). For work whose duration must not show in the response time, e.g. whether an
 * e-mail address has an account. Errors can no longer reach the client: fn logs them. 0 or -1. */
int app_defer(void (*fn)(void *arg), void *arg);
/* The loop's body limit (fcgi_loop_opts.body_limit): http.max_upload_bytes for routes marked
 * R_UPLOAD, else 0 (http.max_body_bytes). */
size_t app_body_limit(const unsigned char *params, size_t len);
/* The loop's after-response hook (fcgi_loop_opts.after). */
int app_after_response(int run);
/* Worker-wide state shown by /health/detailed and /metrics. */
extern int app_worker_slot;
#endif
