/* test_fcgi.c — unit tests of cgi/fcgi_loop.c: fcgi_parse_params (1-byte/4-byte lengths, truncation,
 * lengths past the end, field limit) and, over a unix socket, request state across kept-alive requests. */
#include "unit.h"
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fcgi_loop.h"

/* A params stream under construction. */
typedef struct stream {
    unsigned char data[70000];
    size_t n;
} stream;

static void put_len(stream *s, size_t len, int force_long)
{
    if (len < 128 && !force_long) {
        s->data[s->n++] = (unsigned char)len;
    } else {
        s->data[s->n++] = (unsigned char)(0x80 | (len >> 24));
        s->data[s->n++] = (unsigned char)(len >> 16);
        s->data[s->n++] = (unsigned char)(len >> 8);
        s->data[s->n++] = (unsigned char)len;
    }
}

static void put_pair(stream *s, const char *name, size_t nl, const char *value, size_t vl, int force_long)
{
    put_len(s, nl, force_long);
    put_len(s, vl, force_long);
    memcpy(s->data + s->n, name, nl);
    s->n += nl;
    memcpy(s->data + s->n, value, vl);
    s->n += vl;
}

static void put(stream *s, const char *name, const char *value)
{
    put_pair(s, name, strlen(name), value, strlen(value), 0);
}

/* Parses n bytes copied to an exact-size heap block, so ASan catches reads past the end. */
static int parse(arena *a, const unsigned char *p, size_t n, size_t max, kvlist *out)
{
    unsigned char *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, p, n);
    memset(out, 0, sizeof *out);
    int rc = fcgi_parse_params(a, copy, n, max, out);
    free(copy);
    return rc;
}

static stream st;

START_TEST(test_short_lengths)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    st.n = 0;
    put(&st, "SERVER_PORT", "80");
    put(&st, "REQUEST_METHOD", "GET");
    put(&st, "HTTP_COOKIE", "");
    ck_assert_int_eq(parse(&a, st.data, st.n, 64, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(kv_get(&l, "SERVER_PORT"), "80");
    ck_assert_str_eq(kv_get(&l, "REQUEST_METHOD"), "GET");
    ck_assert_str_eq(kv_get(&l, "HTTP_COOKIE"), "");
    ck_assert_uint_eq(l.items[1].value_len, 3);
    ck_assert_uint_eq(l.items[2].value_len, 0);
    /* the literal bytes of a record: \x0b\x02SERVER_PORT80 */
    static const unsigned char raw[] = "\x0b\x02SERVER_PORT80";
    ck_assert_int_eq(parse(&a, raw, sizeof raw - 1, 64, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "SERVER_PORT"), "80");
    /* the longest 1-byte length, 127 */
    char v127[128];
    memset(v127, 'v', 127);
    v127[127] = '\0';
    st.n = 0;
    put(&st, "X", v127);
    ck_assert_uint_eq(st.n, 1 + 1 + 1 + 127);
    ck_assert_int_eq(parse(&a, st.data, st.n, 64, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "X"), v127);
    /* nothing at all */
    ck_assert_int_eq(parse(&a, st.data, 0, 64, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 0);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_long_lengths)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    char name[300], value[60000];
    memset(name, 'N', 200);
    name[200] = '\0';
    memset(value, 'v', 50000);
    value[50000] = '\0';
    st.n = 0;
    put(&st, "HTTP_X_SHORT", "s");
    put(&st, name, "short-value");    /* 4-byte name length, 1-byte value length */
    put(&st, "HTTP_X_BIG", value);    /* 1-byte name length, 4-byte value length */
    put(&st, "Z", "z");
    ck_assert_int_eq(parse(&a, st.data, st.n, 64, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_str_eq(kv_get(&l, name), "short-value");
    ck_assert_str_eq(kv_get(&l, "HTTP_X_BIG"), value);
    ck_assert_uint_eq(l.items[2].value_len, 50000);
    ck_assert_str_eq(kv_get(&l, "Z"), "z");
    /* 128 is the first length that needs the long form */
    char v128[129];
    memset(v128, 'w', 128);
    v128[128] = '\0';
    st.n = 0;
    put(&st, "L", v128);
    ck_assert_uint_eq(st.n, 1 + 4 + 1 + 128);
    ck_assert_int_eq(parse(&a, st.data, st.n, 64, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "L"), v128);
    /* the long form of a short length is accepted too */
    st.n = 0;
    put_pair(&st, "ABC", 3, "de", 2, 1);
    ck_assert_uint_eq(st.n, 4 + 4 + 3 + 2);
    ck_assert_int_eq(parse(&a, st.data, st.n, 64, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "ABC"), "de");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_binary_values)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    st.n = 0;
    put_pair(&st, "K", 1, "a\0b", 3, 0);
    ck_assert_int_eq(parse(&a, st.data, st.n, 64, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.items[0].value_len, 3);
    ck_assert_int_eq(memcmp(l.items[0].value, "a\0b", 4), 0);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_truncated)
{
    static const struct {
        const char *bytes;
        size_t n;
    } bad[] = {
        {"\x0b", 1},                     /* name length only */
        {"\x80", 1},                     /* first byte of a 4-byte length */
        {"\x80\x00\x00", 3},             /* 3 of 4 bytes */
        {"\x01\x80\x00", 3},             /* value length cut */
        {"\x01", 1},
        {"\x0b\x02SERVER", 8},           /* data cut */
        {"\x0b\x02SERVER_PORT8", 14},    /* one byte short */
        {"\x01\x01" "ab\x01", 5},        /* a good pair, then a cut one */
        {"\x01\x01" "ab\x01\x01" "c", 7},
    };
    arena a;
    arena_init(&a, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kvlist l;
        ck_assert_msg(parse(&a, (const unsigned char *)bad[i].bytes, bad[i].n, 64, &l) == PARSE_EINVAL,
                      "truncated case %zu accepted", i);
    }
    arena_destroy(&a);
}
END_TEST

START_TEST(test_lengths_past_end)
{
    static const struct {
        const char *bytes;
        size_t n;
    } bad[] = {
        {"\x7f\x7f" "AB", 4},
        {"\x02\x7f" "AB", 4},
        {"\x7f\x00" "AB", 4},
        {"\xff\xff\xff\xff\x00" "A", 6},           /* name length 2^31-1 */
        {"\x01\xff\xff\xff\xff" "A", 6},           /* value length 2^31-1 */
        {"\xff\xff\xff\xff\xff\xff\xff\xff", 8},   /* both huge: nl + vl must not wrap */
        {"\x80\x00\x01\x00\x01" "A", 6},           /* 256 announced */
        {"\x01\x80\x00\x00\x02" "AB", 7},          /* one past */
    };
    arena a;
    arena_init(&a, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kvlist l;
        ck_assert_msg(parse(&a, (const unsigned char *)bad[i].bytes, bad[i].n, 64, &l) == PARSE_EINVAL,
                      "case %zu accepted", i);
    }
    /* exactly at the end is fine */
    kvlist l;
    ck_assert_int_eq(parse(&a, (const unsigned char *)"\x01\x80\x00\x00\x02" "ABC", 8, 64, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "A"), "BC");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_field_limit)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    st.n = 0;
    put(&st, "A", "1");
    put(&st, "B", "2");
    put(&st, "C", "3");
    ck_assert_int_eq(parse(&a, st.data, st.n, 2, &l), PARSE_ETOOMANY);
    ck_assert_int_eq(parse(&a, st.data, st.n, 3, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(parse(&a, st.data, st.n, 0, &l), PARSE_ETOOMANY);
    ck_assert_int_eq(parse(&a, st.data, 0, 0, &l), PARSE_OK);
    /* many fields */
    st.n = 0;
    for (int i = 0; i < 1000; i++) {
        char k[16];
        snprintf(k, sizeof k, "HTTP_X_%d", i);
        put(&st, k, "v");
    }
    ck_assert_int_eq(parse(&a, st.data, st.n, 1000, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 1000);
    ck_assert_str_eq(kv_get(&l, "HTTP_X_999"), "v");
    ck_assert_int_eq(parse(&a, st.data, st.n, 999, &l), PARSE_ETOOMANY);
    arena_destroy(&a);
}
END_TEST

/* ---- the event loop, driven over a unix socket by a minimal FastCGI client ---- */

enum { T_BEGIN = 1, T_ABORT = 2, T_END = 3, T_PARAMS = 4, T_STDIN = 5, T_STDOUT = 6 };

/* "/deferred" leaves work for after the response (the app_defer path); the work waits for the
 * client's go-ahead on a pipe, which the client sends only once it has the whole answer. */
static int gate[2] = {-1, -1};
static int deferred_pending;

static int after(int run)
{
    if (!run)
        return deferred_pending;
    struct pollfd pf = {.fd = gate[0], .events = POLLIN};
    char b;
    if (poll(&pf, 1, 5000) == 1 && read(gate[0], &b, 1) == 1)
        deferred_pending = 0;
    else
        _exit(3); /* the answer never left before the work: the client's read times out too */
    return 0;
}

static void dispatch(fcgi_req *r, buf *out)
{
    const char *uri = kv_get(&r->params, "REQUEST_URI");
    if (uri && !strcmp(uri, "/deferred"))
        deferred_pending = 1;
    buf_printf(out, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nuri=%s body_too_large=%d params_too_large=%d body=%.*s",
               uri ? uri : "-", r->body_too_large, r->params_too_large, (int)r->body_len, r->body);
}

/* Requests under /big may carry up to 32 bytes (the R_UPLOAD path); others keep max_body (16). */
static size_t body_limit(const unsigned char *params, size_t len)
{
    size_t vl = 0;
    const char *v = fcgi_param_find(params, len, "REQUEST_URI", &vl);
    return v && vl >= 4 && !memcmp(v, "/big", 4) ? 32 : 0;
}

static void on_term(int sig)
{
    (void)sig;
    fcgi_loop_stop();
}

static char sock_dir[512];
static pid_t loop_pid;
static int cli = -1;

/* Starts fcgi_loop_run in a child process (max_body 16, max_params 256) and connects to it. */
static void loop_start(void)
{
    ck_assert_ptr_nonnull(unit_mkdtemp(sock_dir, sizeof sock_dir));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int w = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/f.sock", sock_dir);
    ck_assert_msg(w > 0 && (size_t)w < sizeof sa.sun_path, "socket path too long: %s", sock_dir);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(pipe(gate), 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(lfd, 16), 0);
    loop_pid = fork();
    ck_assert_int_ge(loop_pid, 0);
    if (loop_pid == 0) {
        signal(SIGTERM, on_term);
        fcgi_loop_opts o = {.listen_fd = lfd, .max_body = 16, .max_params = 256, .max_conns = 8,
                            .shutdown_timeout_s = 1, .dispatch = dispatch, .after = after,
                            .body_limit = body_limit};
        fcgi_loop_run(&o);
        _exit(0); /* the loop's process: no leak report of its own */
    }
    close(lfd);
    cli = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(cli, 0);
    ck_assert_int_eq(connect(cli, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void loop_stop(void)
{
    if (cli >= 0)
        close(cli);
    cli = -1;
    if (loop_pid > 0) {
        kill(loop_pid, SIGTERM);
        int status;
        waitpid(loop_pid, &status, 0);
        loop_pid = 0;
    }
    unit_rm_rf(sock_dir);
    for (int i = 0; i < 2; i++)
        if (gate[i] >= 0)
            close(gate[i]);
    gate[0] = gate[1] = -1;
}

static void send_record(int type, int id, const void *content, size_t len)
{
    unsigned char h[8] = {1, (unsigned char)type, (unsigned char)(id >> 8), (unsigned char)id,
                          (unsigned char)(len >> 8), (unsigned char)len, 0, 0};
    ck_assert_int_eq(send(cli, h, 8, MSG_NOSIGNAL), 8);
    if (len)
        ck_assert_int_eq(send(cli, content, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void send_begin(int id)
{
    unsigned char body[8] = {0, 1 /* responder */, 1 /* keep conn */, 0, 0, 0, 0, 0};
    send_record(T_BEGIN, id, body, sizeof body);
}

static void send_params(int id, const char *uri)
{
    unsigned char p[300];
    size_t n = 0, ul = strlen(uri);
    p[n++] = 11;
    p[n++] = (unsigned char)ul;
    memcpy(p + n, "REQUEST_URI", 11);
    n += 11;
    memcpy(p + n, uri, ul);
    n += ul;
    send_record(T_PARAMS, id, p, n);
    send_record(T_PARAMS, id, NULL, 0);
}

static void read_full(void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(cli, (char *)p + got, n - got, 0);
        ck_assert_msg(r > 0, "connection closed or timed out while reading a response");
        got += (size_t)r;
    }
}

/* Reads records until END_REQUEST for id; returns the STDOUT content (static buffer). */
static const char *read_response(int id)
{
    static char out[4096];
    size_t olen = 0;
    for (;;) {
        unsigned char h[8], content[65536 + 256];
        read_full(h, 8);
        size_t clen = ((size_t)h[4] << 8) | h[5], plen = h[6];
        read_full(content, clen + plen);
        int rid = (h[2] << 8) | h[3];
        if (h[1] == T_STDOUT && rid == id && clen && olen + clen < sizeof out) {
            memcpy(out + olen, content, clen);
            olen += clen;
        }
        if (h[1] == T_END && rid == id)
            break;
    }
    out[olen] = '\0';
    return out;
}

START_TEST(test_loop_keepalive_requests)
{
    loop_start();
    send_begin(1);
    send_params(1, "/one");
    send_record(T_STDIN, 1, "hello", 5);
    send_record(T_STDIN, 1, NULL, 0);
    const char *r = read_response(1);
    ck_assert_msg(strstr(r, "uri=/one body_too_large=0 params_too_large=0 body=hello") != NULL, "got: %s", r);
    /* a body over max_body is answered (flagged), and the flag does not outlive its request */
    send_begin(2);
    send_params(2, "/two");
    send_record(T_STDIN, 2, "0123456789abcdefXYZ", 19);
    send_record(T_STDIN, 2, NULL, 0);
    r = read_response(2);
    ck_assert_msg(strstr(r, "uri=/two body_too_large=1") != NULL, "got: %s", r);
    send_begin(3);
    send_params(3, "/three");
    send_record(T_STDIN, 3, "ok", 2);
    send_record(T_STDIN, 3, NULL, 0);
    r = read_response(3);
    ck_assert_msg(strstr(r, "uri=/three body_too_large=0 params_too_large=0 body=ok") != NULL, "got: %s", r);
    loop_stop();
}
END_TEST

/* Work left for after the response runs only once the response has been written: the client
 * reads the whole answer while that work is still waiting for it. */
START_TEST(test_loop_after_response)
{
    loop_start();
    send_begin(1);
    send_params(1, "/deferred");
    send_record(T_STDIN, 1, NULL, 0);
    const char *r = read_response(1);
    ck_assert_msg(strstr(r, "uri=/deferred") != NULL, "got: %s", r);
    ck_assert_int_eq(write(gate[1], "g", 1), 1);
    /* the loop carries on with the next request on the same connection */
    send_begin(2);
    send_params(2, "/after");
    send_record(T_STDIN, 2, NULL, 0);
    r = read_response(2);
    ck_assert_msg(strstr(r, "uri=/after") != NULL, "got: %s", r);
    loop_stop();
}
END_TEST

/* Regression (fixed; cgi/fcgi_loop.c, on_record, case FCGI_ABORT_REQUEST): the abort clears params, body,
 * req_id and params_done but not body_too_large / params_too_large (run_request is the only
 * place that resets them). After nginx aborts a request whose body was over http.max_body_bytes
 * (client went away mid-upload), the next request on the same kept-alive connection — usually
 * another user's — inherits body_too_large = 1: its body is dropped and it is answered 413. */
START_TEST(test_loop_abort_resets_request_state)
{
    loop_start();
    send_begin(1);
    send_params(1, "/upload");
    send_record(T_STDIN, 1, "0123456789abcdefXYZ", 19); /* over max_body (16) */
    send_record(T_ABORT, 1, NULL, 0);
    (void)read_response(1);
    send_begin(2);
    send_params(2, "/next");
    send_record(T_STDIN, 2, "hello", 5);
    send_record(T_STDIN, 2, NULL, 0);
    const char *r = read_response(2);
    ck_assert_msg(strstr(r, "uri=/next body_too_large=0 params_too_large=0 body=hello") != NULL,
                  "the aborted request's state leaked into the next one: %s", r);
    loop_stop();
}
END_TEST

START_TEST(test_param_find)
{
    memset(&st, 0, sizeof st);
    put(&st, "REQUEST_METHOD", "POST");
    put_pair(&st, "DOCUMENT_URI", 12, "/markets/import", 15, 1);
    put(&st, "EMPTY", "");
    size_t vl = 99;
    const char *v = fcgi_param_find(st.data, st.n, "DOCUMENT_URI", &vl);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(vl, 15);
    ck_assert_int_eq(memcmp(v, "/markets/import", 15), 0);
    v = fcgi_param_find(st.data, st.n, "REQUEST_METHOD", &vl);
    ck_assert(v && vl == 4 && !memcmp(v, "POST", 4));
    v = fcgi_param_find(st.data, st.n, "EMPTY", &vl);
    ck_assert(v && vl == 0);
    ck_assert_ptr_null(fcgi_param_find(st.data, st.n, "REQUEST", &vl));   /* a prefix is not the name */
    ck_assert_ptr_null(fcgi_param_find(st.data, st.n, "MISSING", &vl));
    /* a stream cut inside the second pair: the first is still found, the rest is not read past the end */
    unsigned char *cut = malloc(20);
    memcpy(cut, st.data, 20);
    ck_assert_ptr_nonnull(fcgi_param_find(cut, 20, "REQUEST_METHOD", &vl));
    ck_assert_ptr_null(fcgi_param_find(cut, 20, "DOCUMENT_URI", &vl));
    free(cut);
    ck_assert_ptr_null(fcgi_param_find(st.data, 0, "REQUEST_METHOD", &vl));
}
END_TEST

/* The per-request body limit: /big may carry 32 bytes, others 16, and a raised limit does not
 * outlive its request (nor an aborted one). */
START_TEST(test_loop_body_limit_per_request)
{
    loop_start();
    send_begin(1);
    send_params(1, "/big");
    send_record(T_STDIN, 1, "0123456789abcdef0123456789", 26);
    send_record(T_STDIN, 1, NULL, 0);
    const char *r = read_response(1);
    ck_assert_msg(strstr(r, "uri=/big body_too_large=0 params_too_large=0 body=0123456789abcdef0123456789"), "got: %s", r);
    send_begin(2);
    send_params(2, "/big");
    send_record(T_STDIN, 2, "0123456789abcdef0123456789abcdefX", 33);
    send_record(T_STDIN, 2, NULL, 0);
    r = read_response(2);
    ck_assert_msg(strstr(r, "uri=/big body_too_large=1"), "got: %s", r);
    send_begin(3);
    send_params(3, "/small");
    send_record(T_STDIN, 3, "0123456789abcdef0123456789", 26);
    send_record(T_STDIN, 3, NULL, 0);
    r = read_response(3);
    ck_assert_msg(strstr(r, "uri=/small body_too_large=1"), "got: %s", r);
    send_begin(4);
    send_params(4, "/big");
    send_record(T_STDIN, 4, "0123456789", 10);
    send_record(T_ABORT, 4, NULL, 0);
    (void)read_response(4);
    send_begin(5);
    send_params(5, "/after-abort");
    send_record(T_STDIN, 5, "0123456789abcdef0123", 20);
    send_record(T_STDIN, 5, NULL, 0);
    r = read_response(5);
    ck_assert_msg(strstr(r, "uri=/after-abort body_too_large=1"), "got: %s", r);
    loop_stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fcgi");
    TCase *tc = tcase_create("params");
    tcase_add_test(tc, test_short_lengths);
    tcase_add_test(tc, test_long_lengths);
    tcase_add_test(tc, test_binary_values);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_lengths_past_end);
    tcase_add_test(tc, test_field_limit);
    tcase_add_test(tc, test_param_find);
    suite_add_tcase(s, tc);
    tc = tcase_create("loop");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_loop_keepalive_requests);
    tcase_add_test(tc, test_loop_after_response);
    suite_add_tcase(s, tc);
    tc = unit_regressions_tcase();
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_loop_abort_resets_request_state);
    tcase_add_test(tc, test_loop_body_limit_per_request);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
