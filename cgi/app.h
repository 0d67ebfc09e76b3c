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
/* Worker-wide state shown by /health/detailed and /metrics. */
extern int app_worker_slot;
#endif
