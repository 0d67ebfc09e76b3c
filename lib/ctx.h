/* ctx.h — who is acting: the user, their tenant, the address and the request id. Every lib call
 * that writes tenant data, an audit record or a security event takes one. */
#ifndef BCF_CTX_H
#define BCF_CTX_H
#include "arena.h"

typedef struct ctx {
    arena *a;                 /* allocations for the call's results (the request arena) */
    long long user_id;        /* 0 = the system or an anonymous visitor */
    long long tenant_id;      /* 0 = none (anonymous) */
    const char *ip;           /* client address, "" for botctl and the worker */
    const char *request_id;   /* "" outside a request */
} ctx;
#endif
