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
/* Worker-wide state shown by /health/detailed and /metrics. */
extern int app_worker_slot;
#endif
