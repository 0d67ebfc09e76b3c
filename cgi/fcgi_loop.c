/* fcgi_loop.c — FastCGI responder on epoll. One request at a time per connection (nginx never
 * multiplexes), many connections per process; handlers run to completion on the loop. */
#include "fcgi_loop.h"
#include "log.h"
#include <errno.h>
#include <fastcgi.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    unsigned char *in;
    size_t in_len, in_cap;
    buf out;
    size_t out_off;
    int req_id;       /* 0 = idle */
    int keep;
    buf params, body;
    int params_done;
    int body_too_large, params_too_large;
    size_t max_body;  /* this request's body limit (opts->body_limit), set when its params end */
    int want_out;     /* EPOLLOUT registered */
    int closing;      /* close once out is flushed */
    struct conn *prev, *next;
};

static volatile sig_atomic_t stopping;
static struct conn *conns;
static int n_conns;
static int epfd = -1;
static arena req_arena;

void fcgi_loop_stop(void)
{
    stopping = 1;
}

static void conn_close(struct conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->in);
    buf_free(&c->out);
    buf_free(&c->params);
    buf_free(&c->body);
    free(c);
    n_conns--;
}

static void put_header(buf *b, int type, int req_id, size_t len)
{
    unsigned char h[FCGI_HEADER_LEN] = {FCGI_VERSION_1,
                                        (unsigned char)type,
                                        (unsigned char)(req_id >> 8),
                                        (unsigned char)req_id,
                                        (unsigned char)(len >> 8),
                                        (unsigned char)len,
                                        0,
                                        0};
    buf_append(b, h, sizeof h);
}

static void put_end_request(buf *b, int req_id, int proto_status)
{
    put_header(b, FCGI_END_REQUEST, req_id, 8);
    unsigned char body[8] = {0, 0, 0, 0, (unsigned char)proto_status, 0, 0, 0};
    buf_append(b, body, sizeof body);
}

static void put_stream(buf *b, int type, int req_id, const char *data, size_t len)
{
    while (len > 0) {
        size_t n = len > FCGI_MAX_LENGTH ? FCGI_MAX_LENGTH : len;
        /* keep records 8-byte aligned in size to help nginx's parser */
        n &= ~(size_t)7;
        if (n == 0)
            n = len;
        put_header(b, type, req_id, n);
        buf_append(b, data, n);
        data += n;
        len -= n;
    }
    put_header(b, type, req_id, 0);
}

static int flush_out(struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = 1;
            }
            return 0;
        }
        return -1;
    }
    c->out.len = 0;
    c->out_off = 0;
    if (c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = 0;
    }
    return c->closing ? -1 : 0;
}

static size_t read_len(const unsigned char *p, size_t n, size_t *used)
{
    if (n < 1)
        return (size_t)-1;
    if (!(p[0] & 0x80)) {
        *used = 1;
        return p[0];
    }
    if (n < 4)
        return (size_t)-1;
    *used = 4;
    return ((size_t)(p[0] & 0x7f) << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
}

const char *fcgi_param_find(const unsigned char *p, size_t n, const char *name, size_t *vlen)
{
    size_t want = strlen(name), i = 0;
    while (i < n) {
        size_t u1 = 0, u2 = 0;
        size_t nl = read_len(p + i, n - i, &u1);
        if (nl == (size_t)-1)
            return NULL;
        i += u1;
        size_t vl = read_len(p + i, n - i, &u2);
        if (vl == (size_t)-1)
            return NULL;
        i += u2;
        if (nl > n - i || vl > n - i - nl)
            return NULL;
        if (nl == want && memcmp(p + i, name, want) == 0) {
            *vlen = vl;
            return (const char *)p + i + nl;
        }
        i += nl + vl;
    }
    return NULL;
}

int fcgi_parse_params(arena *a, const unsigned char *p, size_t n, size_t max_fields, kvlist *out)
{
    size_t i = 0;
    while (i < n) {
        size_t u1 = 0, u2 = 0;
        size_t nl = read_len(p + i, n - i, &u1);
        if (nl == (size_t)-1)
            return PARSE_EINVAL;
        i += u1;
        size_t vl = read_len(p + i, n - i, &u2);
        if (vl == (size_t)-1)
            return PARSE_EINVAL;
        i += u2;
        if (nl > n - i || vl > n - i - nl)
            return PARSE_EINVAL;
        if (out->n >= max_fields)
            return PARSE_ETOOMANY;
        char *name = arena_strndup(a, (const char *)p + i, nl);
        char *value = arena_strndup(a, (const char *)p + i + nl, vl);
        if (!name || !value)
            return PARSE_ENOMEM;
        int rc = kv_add(a, out, name, value, vl);
        if (rc)
            return rc;
        i += nl + vl;
    }
    return PARSE_OK;
}

static const fcgi_loop_opts *opts;

static void run_request(struct conn *c)
{
    fcgi_req r = {0};
    r.a = &req_arena;
    r.body_too_large = c->body_too_large;
    r.params_too_large = c->params_too_large;
    if (!r.params_too_large &&
        fcgi_parse_params(&req_arena, (const unsigned char *)c->params.data, c->params.len, 4096, &r.params) != 0)
        r.params_too_large = 1; /* malformed params are treated as an unusable header block */
    r.body = c->body.data ? c->body.data : "";
    r.body_len = c->body.len;
    /* one response buffer per process, kept between requests: no regrowth per request */
    static buf resp;
    buf_clear(&resp);
    opts->dispatch(&r, &resp);
    if (resp.oom) {
        buf_clear(&resp);
        buf_puts(&resp, "Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nout of memory\n");
    }
    put_stream(&c->out, FCGI_STDOUT, c->req_id, resp.data ? resp.data : "", resp.len);
    put_end_request(&c->out, c->req_id, FCGI_REQUEST_COMPLETE);
    if (opts->after && opts->after(0)) {
        /* the answer leaves first, so its timing does not depend on the work that follows
         * (a failed write is seen again, and handled, by the caller's own flush) */
        flush_out(c);
        opts->after(1);
    }
    if (resp.cap > 262144)
        buf_free(&resp); /* a rare huge response does not pin its memory */
    arena_reset(&req_arena);
    /* release request buffers that grew large; keep small ones for the next request */
    if (c->body.cap > 65536)
        buf_free(&c->body);
    if (c->params.cap > 65536)
        buf_free(&c->params);
    buf_clear(&c->body);
    buf_clear(&c->params);
    c->req_id = 0;
    c->params_done = 0;
    c->max_body = 0;
    c->body_too_large = c->params_too_large = 0;
    if (!c->keep || stopping)
        c->closing = 1;
}

/* Handles one record; returns -1 to close the connection. */
static int on_record(struct conn *c, int type, int req_id, const unsigned char *content, size_t len)
{
    switch (type) {
    case FCGI_BEGIN_REQUEST: {
        if (len < 8)
            return -1;
        int role = (content[0] << 8) | content[1];
        if (c->req_id) {
            put_end_request(&c->out, req_id, FCGI_CANT_MPX_CONN);
            return 0;
        }
        if (role != FCGI_RESPONDER) {
            put_end_request(&c->out, req_id, FCGI_UNKNOWN_ROLE);
            return 0;
        }
        c->req_id = req_id;
        c->keep = content[2] & FCGI_KEEP_CONN;
        return 0;
    }
    case FCGI_ABORT_REQUEST:
        if (req_id == c->req_id) {
            put_end_request(&c->out, req_id, FCGI_REQUEST_COMPLETE);
            buf_clear(&c->params);
            buf_clear(&c->body);
            c->req_id = 0;
            c->params_done = 0;
            c->max_body = 0;
            c->body_too_large = c->params_too_large = 0;
            if (!c->keep)
                c->closing = 1;
        }
        return 0;
    case FCGI_PARAMS:
        if (req_id != c->req_id || !req_id)
            return 0;
        if (len == 0) {
            c->params_done = 1;
            c->max_body = opts->max_body;
            if (opts->body_limit && !c->params_too_large) {
                size_t lim = opts->body_limit((const unsigned char *)c->params.data, c->params.len);
                if (lim)
                    c->max_body = lim;
            }
        } else if (c->params.len + len > opts->max_params) {
            c->params_too_large = 1;
        } else if (!c->params_too_large) {
            buf_append(&c->params, content, len);
        }
        return 0;
    case FCGI_STDIN:
        if (req_id != c->req_id || !req_id)
            return 0;
        if (len == 0) {
            run_request(c);
        } else if (c->body.len + len > (c->max_body ? c->max_body : opts->max_body)) {
            c->body_too_large = 1; /* keep draining, answer 413 at the end */
        } else if (!c->body_too_large) {
            buf_append(&c->body, content, len);
        }
        return 0;
    case FCGI_GET_VALUES: {
        unsigned char pairs[128];
        size_t pl = 0;
        const char *names[] = {FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS};
        char v[16];
        snprintf(v, sizeof v, "%d", opts->max_conns);
        const char *vals[] = {v, v, "0"};
        for (int i = 0; i < 3; i++) {
            size_t nl = strlen(names[i]), vl = strlen(vals[i]);
            pairs[pl++] = (unsigned char)nl;
            pairs[pl++] = (unsigned char)vl;
            memcpy(pairs + pl, names[i], nl);
            pl += nl;
            memcpy(pairs + pl, vals[i], vl);
            pl += vl;
        }
        put_header(&c->out, FCGI_GET_VALUES_RESULT, 0, pl);
        buf_append(&c->out, pairs, pl);
        return 0;
    }
    default: {
        if (req_id == 0) {
            put_header(&c->out, FCGI_UNKNOWN_TYPE, 0, 8);
            unsigned char body[8] = {(unsigned char)type, 0, 0, 0, 0, 0, 0, 0};
            buf_append(&c->out, body, sizeof body);
        }
        return 0; /* FCGI_DATA and the like are ignored */
    }
    }
}

static int on_readable(struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 16384) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 32768;
            unsigned char *p = realloc(c->in, cap);
            if (!p)
                return -1;
            c->in = p;
            c->in_cap = cap;
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (r == 0)
            return -1;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->in_len += (size_t)r;
        size_t off = 0;
        while (c->in_len - off >= FCGI_HEADER_LEN) {
            const unsigned char *h = c->in + off;
            if (h[0] != FCGI_VERSION_1)
                return -1;
            size_t clen = ((size_t)h[4] << 8) | h[5], plen = h[6];
            if (c->in_len - off < FCGI_HEADER_LEN + clen + plen)
                break;
            if (on_record(c, h[1], (h[2] << 8) | h[3], h + FCGI_HEADER_LEN, clen) < 0)
                return -1;
            off += FCGI_HEADER_LEN + clen + plen;
        }
        if (off) {
            memmove(c->in, c->in + off, c->in_len - off);
            c->in_len -= off;
        }
        if (c->in_cap > 262144 && c->in_len < 32768) {
            /* shrink after a large upload */
            unsigned char *p = realloc(c->in, 65536);
            if (p) {
                c->in = p;
                c->in_cap = 65536;
            }
        }
        if ((size_t)r < 16384)
            break; /* short read: the socket is drained for now */
    }
    if (c->out.len)
        return flush_out(c);
    return c->closing ? -1 : 0;
}

/* Takes one pending connection per wake-up: nginx opens its kept-alive connections in a burst,
 * and a worker that drained the whole backlog at once would end up with all of them while the
 * other workers idle. One at a time, the workers woken by the burst share it. */
static void accept_one(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return; /* EAGAIN, or another worker took it */
    if (n_conns >= opts->max_conns) {
        close(fd);
        log_warn("connection limit %d reached; refusing", opts->max_conns);
        return;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    buf_init(&c->out);
    buf_init(&c->params);
    buf_init(&c->body);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        free(c);
        return;
    }
    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    n_conns++;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Graceful stop: serve what already arrived, then close idle connections. */
static void begin_stop(void)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, opts->listen_fd, NULL);
    for (struct conn *c = conns, *next; c; c = next) {
        next = c->next;
        if (on_readable(c) < 0) {
            conn_close(c);
            continue;
        }
        if (!c->req_id && c->out.len == 0 && c->in_len == 0)
            conn_close(c);
        else
            c->keep = 0;
    }
}

int fcgi_loop_run(const fcgi_loop_opts *o)
{
    opts = o;
    arena_init(&req_arena, 16384);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return -1;
    /* EPOLLEXCLUSIVE: one worker wakes per new connection instead of all of them */
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, o->listen_fd, &lev) < 0)
        return -1;
    static int extra_marker;
    int extra = -1;
    double last_tick = mono(), stop_started = 0;
    struct epoll_event events[256];
    for (;;) {
        if (stopping && !stop_started) {
            stop_started = mono();
            begin_stop();
        }
        if (stop_started && (!conns || mono() - stop_started > o->shutdown_timeout_s))
            break;
        int want_extra = o->extra_fd ? o->extra_fd() : -1;
        if (want_extra != extra) {
            if (extra >= 0)
                epoll_ctl(epfd, EPOLL_CTL_DEL, extra, NULL);
            extra = want_extra;
            if (extra >= 0) {
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &extra_marker};
                epoll_ctl(epfd, EPOLL_CTL_ADD, extra, &ev);
            }
        }
        int n = epoll_wait(epfd, events, 256, stop_started ? 100 : 1000);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == NULL) {
                if (!stopping)
                    accept_one(o->listen_fd);
                continue;
            }
            if (p == &extra_marker) {
                if (o->extra_ready)
                    o->extra_ready();
                if (o->extra_fd() != extra) {
                    /* the callback dropped or replaced the fd: re-register next turn */
                    epoll_ctl(epfd, EPOLL_CTL_DEL, extra, NULL);
                    extra = -1;
                }
                continue;
            }
            struct conn *c = p;
            int rc = 0;
            if (events[i].events & EPOLLOUT)
                rc = flush_out(c);
            if (!rc && (events[i].events & EPOLLIN))
                rc = on_readable(c);
            if (!rc && (events[i].events & (EPOLLERR | EPOLLHUP)))
                rc = -1;
            if (rc < 0)
                conn_close(c);
        }
        log_flush();
        double t = mono();
        if (t - last_tick >= 1.0) {
            last_tick = t;
            if (o->tick)
                o->tick();
        }
    }
    while (conns)
        conn_close(conns);
    log_flush();
    close(epfd);
    arena_destroy(&req_arena);
    return 0;
}
