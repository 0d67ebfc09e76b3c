/* fcgi_loop.h — the worker's event loop: an epoll loop speaking FastCGI to nginx over many
 * kept-alive connections, handing each complete request to a dispatch function. */
#ifndef BCF_FCGI_LOOP_H
#define BCF_FCGI_LOOP_H
#include <stddef.h>
#include "buf.h"
#include "parse.h"
#include "arena.h"

/* A complete request as the protocol layer sees it. */
typedef struct fcgi_req {
    arena *a;
    kvlist params;
    const char *body;
    size_t body_len;
    int body_too_large;
    int params_too_large;
} fcgi_req;

/* dispatch writes the full CGI response (headers + body) into out. */
typedef void (*fcgi_dispatch_fn)(fcgi_req *req, buf *out);
/* tick runs about once a second (heartbeats, metrics, reconnects). */
typedef void (*fcgi_tick_fn)(void);

typedef struct fcgi_loop_opts {
    int listen_fd;
    size_t max_body;
    size_t max_params;
    int max_conns;
    int shutdown_timeout_s;
    fcgi_dispatch_fn dispatch;
    fcgi_tick_fn tick;
    int (*extra_fd)(void);        /* another fd to watch (near-cache invalidations), -1 for none */
    void (*extra_ready)(void);
    /* Work the last dispatch left for after its response (NULL = none): when it returns
     * non-zero the loop first writes the response out, then calls it again with run = 1, still
     * before the request's arena is reset. */
    int (*after)(int run);
    /* The body limit of one request, decided from its raw params once they are complete and
     * before its body arrives (NULL, or a return of 0, = max_body). Bodies over it are drained
     * and flagged body_too_large, as with max_body. */
    size_t (*body_limit)(const unsigned char *params, size_t len);
} fcgi_loop_opts;

/* Runs until fcgi_loop_stop() is called (from a signal handler) and in-flight work is done. */
int fcgi_loop_run(const fcgi_loop_opts *o);
/* Async-signal-safe: stop accepting, finish in-flight requests, close kept-alive connections. */
void fcgi_loop_stop(void);
/* Finds name in a raw FastCGI name-value stream without allocating: a pointer to its value (not
 * NUL-terminated) with *vlen, or NULL when absent or the stream is malformed before it. */
const char *fcgi_param_find(const unsigned char *p, size_t n, const char *name, size_t *vlen);
/* Parses a FastCGI name-value pair stream into list (exported for tests and fuzzing). */
int fcgi_parse_params(arena *a, const unsigned char *p, size_t n, size_t max_fields, kvlist *out);
#endif
