/* http.c — the outbound HTTP client: one reused curl handle per thread (kept-alive connections),
 * bounded retries with full-jitter backoff, Retry-After, and per-service circuit breakers shared by the process's threads. */
#include "http.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_MAX_HEADER_BYTES 65536 /* response headers kept; beyond it further headers are dropped */
#define HTTP_BREAKERS 32            /* services one process talks to */

static pthread_once_t http_init_guard = PTHREAD_ONCE_INIT;
static int http_init_rc = -1;
static pthread_key_t http_handle_key;

static void http_handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void http_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return;
    if (pthread_key_create(&http_handle_key, http_handle_free) != 0)
        return;
    http_init_rc = 0;
}

int http_global_init(void)
{
    pthread_once(&http_init_guard, http_init_once);
    return http_init_rc;
}

/* The calling thread's handle: reset between requests, so the connection cache (keep-alive,
 * TLS sessions) survives while no option leaks from one request into the next. */
static CURL *http_handle(void)
{
    if (http_global_init() != 0)
        return NULL;
    CURL *h = pthread_getspecific(http_handle_key);
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    h = curl_easy_init();
    if (h && pthread_setspecific(http_handle_key, h) != 0) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return h;
}

/* ---- pure parts ---- */

long http_backoff_ms(int retry, long base_ms, long cap_ms, uint32_t rnd)
{
    if (retry < 1 || base_ms <= 0 || cap_ms <= 0)
        return 0;
    long ceiling = base_ms;
    for (int i = 1; i < retry && ceiling < cap_ms; i++)
        ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    /* uniform over [0, ceiling]: the full range, so many clients retrying at once spread out */
    return (long)((uint64_t)rnd * (uint64_t)(ceiling + 1) >> 32);
}

long http_parse_retry_after(const char *v, long long now_s)
{
    if (!v)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v)) {
        char *end;
        errno = 0;
        long long s = strtoll(v, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (errno || *end || s < 0)
            return -1;
        return s > 86400 * 7 ? 86400L * 7 * 1000 : (long)(s * 1000);
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    struct tm tm = {0};
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end)
        return -1;
    long long at = (long long)timegm(&tm);
    if (at <= now_s)
        return 0;
    long long d = at - now_s;
    return d > 86400 * 7 ? 86400L * 7 * 1000 : (long)(d * 1000);
}

int http_status_retryable(long status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

int http_breaker_allow(http_breaker *b, int64_t now_ms, long cooldown_ms)
{
    switch (b->state) {
    case HTTP_BREAKER_CLOSED:
        return 1;
    case HTTP_BREAKER_OPEN:
        if (now_ms - b->opened_ms < cooldown_ms)
            return 0;
        b->state = HTTP_BREAKER_HALF_OPEN;
        b->probe_in_flight = 1;
        return 1;
    case HTTP_BREAKER_HALF_OPEN:
        /* one probe at a time: the others wait for its verdict */
        if (b->probe_in_flight)
            return 0;
        b->probe_in_flight = 1;
        return 1;
    }
    return 0;
}

int http_breaker_ready(const http_breaker *b, int64_t now_ms, long cooldown_ms)
{
    http_breaker probe = *b;
    return http_breaker_allow(&probe, now_ms, cooldown_ms);
}

http_breaker_state http_breaker_record(http_breaker *b, int ok, int64_t now_ms, int threshold)
{
    if (ok) {
        b->state = HTTP_BREAKER_CLOSED;
        b->failures = 0;
        b->probe_in_flight = 0;
        return b->state;
    }
    if (b->state == HTTP_BREAKER_HALF_OPEN) {
        /* the probe failed: another full cool-down */
        b->state = HTTP_BREAKER_OPEN;
        b->opened_ms = now_ms;
        b->probe_in_flight = 0;
    } else if (b->state == HTTP_BREAKER_CLOSED && ++b->failures >= (threshold > 0 ? threshold : 1)) {
        b->state = HTTP_BREAKER_OPEN;
        b->opened_ms = now_ms;
        b->failures = 0;
    }
    /* a failure reported while open (an attempt let through before it opened) changes nothing */
    return b->state;
}

const char *http_breaker_state_name(http_breaker_state s)
{
    return s == HTTP_BREAKER_OPEN ? "open" : s == HTTP_BREAKER_HALF_OPEN ? "half_open" : "closed";
}

const char *http_err_name(http_err e)
{
    switch (e) {
    case HTTP_OK:
        return "ok";
    case HTTP_ERR_CONNECT:
        return "connect";
    case HTTP_ERR_TIMEOUT:
        return "timeout";
    case HTTP_ERR_OPEN:
        return "open";
    case HTTP_ERR_TOO_LARGE:
        return "too_large";
    case HTTP_ERR_TRANSPORT:
        return "transport";
    case HTTP_ERR_INVALID:
        return "invalid";
    }
    return "error";
}

/* ---- the process's breakers ---- */

static struct {
    char service[32];
    http_breaker b;
} breakers[HTTP_BREAKERS];
static pthread_mutex_t breakers_lock = PTHREAD_MUTEX_INITIALIZER;

/* The breaker slot of service (created on first use); -1 when the table is full, and that
 * service then goes without one. Called with breakers_lock held. */
static int breaker_slot(const char *service)
{
    for (int i = 0; i < HTTP_BREAKERS; i++) {
        if (!breakers[i].service[0]) {
            snprintf(breakers[i].service, sizeof breakers[i].service, "%s", service);
            return i;
        }
        if (!strcmp(breakers[i].service, service))
            return i;
    }
    return -1;
}

http_breaker_state http_breaker_state_of(const char *service)
{
    pthread_mutex_lock(&breakers_lock);
    int i = breaker_slot(service);
    http_breaker_state s = i >= 0 ? breakers[i].b.state : HTTP_BREAKER_CLOSED;
    pthread_mutex_unlock(&breakers_lock);
    return s;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t mono_ms(void)
{
    return (int64_t)(mono_s() * 1000.0);
}

static void breaker_metric(const char *service, http_breaker_state s)
{
    char labels[96];
    snprintf(labels, sizeof labels, "service=\"%s\",state=\"%s\"", service, http_breaker_state_name(s));
    metrics_count("http_client_breaker_transitions_total", labels, 1);
    log_fmt(s == HTTP_BREAKER_CLOSED ? LOG_INFO : LOG_WARN, "http client: %s circuit breaker %s", service,
            http_breaker_state_name(s));
}

static int breaker_allow(const char *service, long cooldown_ms)
{
    pthread_mutex_lock(&breakers_lock);
    int i = breaker_slot(service);
    int ok = 1;
    http_breaker_state before = HTTP_BREAKER_CLOSED, after = HTTP_BREAKER_CLOSED;
    if (i >= 0) {
        before = breakers[i].b.state;
        ok = http_breaker_allow(&breakers[i].b, mono_ms(), cooldown_ms);
        after = breakers[i].b.state;
    }
    pthread_mutex_unlock(&breakers_lock);
    if (before != after)
        breaker_metric(service, after);
    return ok;
}

static void breaker_record(const char *service, int ok, int threshold)
{
    pthread_mutex_lock(&breakers_lock);
    int i = breaker_slot(service);
    http_breaker_state before = HTTP_BREAKER_CLOSED, after = HTTP_BREAKER_CLOSED;
    if (i >= 0) {
        before = breakers[i].b.state;
        after = http_breaker_record(&breakers[i].b, ok, mono_ms(), threshold);
    }
    pthread_mutex_unlock(&breakers_lock);
    if (before != after)
        breaker_metric(service, after);
}

/* ---- config ---- */

/* http.client.<service>.<name>, else http.client.<name>. */
static long svc_conf(const char *service, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "http.client.%s.%s", service, name);
    const char *v = config_get(key);
    if (!v) {
        snprintf(key, sizeof key, "http.client.%s", name);
        v = config_get(key);
    }
    return v ? strtol(v, NULL, 10) : 0;
}

int http_service_ready(const char *service)
{
    long cooldown = svc_conf(service, "breaker_cooldown_ms");
    pthread_mutex_lock(&breakers_lock);
    int i = breaker_slot(service);
    int ok = i < 0 || http_breaker_ready(&breakers[i].b, mono_ms(), cooldown);
    pthread_mutex_unlock(&breakers_lock);
    return ok;
}

int http_service_allow(const char *service)
{
    return breaker_allow(service, svc_conf(service, "breaker_cooldown_ms"));
}

void http_service_record(const char *service, int ok)
{
    breaker_record(service, ok, (int)svc_conf(service, "breaker_failures"));
}

/* ---- one attempt ---- */

typedef struct http_sink {
    http_response *rs;
    size_t cap;
    int too_large;
} http_sink;

static size_t http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    http_sink *s = arg;
    size_t n = size * nmemb;
    if (s->rs->body.len + n > s->cap) {
        s->too_large = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return buf_append(&s->rs->body, data, n) == 0 ? n : 0;
}

static size_t http_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    http_sink *s = arg;
    size_t n = size * nmemb;
    buf *h = &s->rs->headers;
    /* a new status line (after 100 Continue, or on a retry) starts a fresh set */
    if (n >= 5 && !memcmp(data, "HTTP/", 5)) {
        buf_clear(h);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon || h->len + n + 2 > HTTP_MAX_HEADER_BYTES)
        return n;
    size_t nl = (size_t)(colon - data);
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (size_t i = 0; i < nl; i++)
        buf_putc(h, (char)tolower((unsigned char)data[i]));
    buf_putc(h, '\0');
    buf_append(h, v, (size_t)(end - v));
    buf_putc(h, '\0');
    return n;
}

const char *http_response_header(const http_response *rs, const char *name)
{
    const char *p = rs->headers.data, *end = p ? p + rs->headers.len : NULL;
    while (p && p < end) {
        const char *value = p + strlen(p) + 1;
        if (value >= end)
            break;
        if (!strcasecmp(p, name))
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

/* Host and path of url, without userinfo, query or fragment: all a log line may show. */
static void url_parts(const char *url, char *host, size_t hostlen, char *path, size_t pathlen)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t hn = strcspn(p, "/?#");
    const char *at = memchr(p, '@', hn);
    if (at) {
        hn -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(host, hostlen, "%.*s", (int)hn, p);
    p += hn;
    size_t pn = *p == '/' ? strcspn(p, "?#") : 0;
    snprintf(path, pathlen, "%.*s", (int)(pn ? pn : 1), pn ? p : "/");
}

static int method_ok(const char *m)
{
    static const char *const ok[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(m, ok[i]))
            return 1;
    return 0;
}

static int service_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 31)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

typedef struct http_limits {
    long timeout_ms, connect_timeout_ms, max_response;
} http_limits;

/* One request on the wire. Fills rs->status/body/headers/err; returns rs->err. *sent tells
 * whether any byte of the request left (a connect failure or connect timeout sends nothing). */
static http_err http_once(const http_request *rq, const http_limits *lim, http_response *rs, int *sent)
{
    buf_clear(&rs->body);
    buf_clear(&rs->headers);
    rs->status = 0;
    rs->error[0] = '\0';
    *sent = 0;
    CURL *h = http_handle();
    if (!h) {
        snprintf(rs->error, sizeof rs->error, "curl unavailable");
        return rs->err = HTTP_ERR_TRANSPORT;
    }
    struct curl_slist *hdrs = NULL;
    int oom = 0;
    for (size_t i = 0; i < rq->nheaders && !oom; i++) {
        struct curl_slist *n = curl_slist_append(hdrs, rq->headers[i]);
        oom = !n;
        hdrs = n ? n : hdrs;
    }
    /* no "Expect: 100-continue" round trip before a body */
    struct curl_slist *n = oom ? NULL : curl_slist_append(hdrs, "Expect:");
    oom |= !n;
    hdrs = n ? n : hdrs;
    if (oom) {
        curl_slist_free_all(hdrs);
        snprintf(rs->error, sizeof rs->error, "out of memory");
        return rs->err = HTTP_ERR_TRANSPORT;
    }
    http_sink sink = {rs, (size_t)lim->max_response, 0};
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, lim->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, lim->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "botcriptofy");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    if (!strcmp(rq->method, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(rq->method, "POST"))
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
        if (rq->body || !strcmp(rq->method, "POST")) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        }
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0, reqsize = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &reqsize);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    /* header lines may hold API keys: wipe the copies before they go back to the allocator */
    for (struct curl_slist *l = hdrs; l; l = l->next)
        sodium_memzero(l->data, strlen(l->data));
    curl_slist_free_all(hdrs);
    *sent = reqsize > 0;
    if (rc == CURLE_OK) {
        rs->status = status;
        return rs->err = HTTP_OK;
    }
    /* curl's messages name hosts and ports; a '?' would start a query string, so cut there */
    cerr[strcspn(cerr, "?")] = '\0';
    snprintf(rs->error, sizeof rs->error, "%s%s%s", curl_easy_strerror(rc), cerr[0] ? ": " : "", cerr);
    if (sink.too_large) {
        rs->status = status;
        snprintf(rs->error, sizeof rs->error, "answer larger than %ld bytes", lim->max_response);
        return rs->err = HTTP_ERR_TOO_LARGE;
    }
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY)
        return rs->err = HTTP_ERR_CONNECT;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return rs->err = *sent ? HTTP_ERR_TIMEOUT : HTTP_ERR_CONNECT;
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
        return rs->err = HTTP_ERR_INVALID;
    return rs->err = HTTP_ERR_TRANSPORT;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void count_attempt(const char *service, const http_response *rs)
{
    char labels[96];
    if (rs->err == HTTP_OK)
        snprintf(labels, sizeof labels, "service=\"%s\",status=\"%ld\"", service, rs->status);
    else
        snprintf(labels, sizeof labels, "service=\"%s\",status=\"%s\"", service, http_err_name(rs->err));
    metrics_count("http_client_requests_total", labels, 1);
}

void http_response_free(http_response *rs)
{
    buf_free(&rs->body);
    buf_free(&rs->headers);
}

int http_do(const http_request *rq, http_response *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->retry_after_ms = -1;
    if (!rq || !service_ok(rq->service) || !rq->method || !method_ok(rq->method) || !rq->url ||
        (strncmp(rq->url, "http://", 7) && strncmp(rq->url, "https://", 8)) || (rq->nheaders && !rq->headers)) {
        snprintf(rs->error, sizeof rs->error, "invalid request");
        rs->err = HTTP_ERR_INVALID;
        return rs->err;
    }
    const char *svc = rq->service;
    http_limits lim = {rq->timeout_ms > 0 ? rq->timeout_ms : svc_conf(svc, "timeout_ms"),
                       svc_conf(svc, "connect_timeout_ms"), svc_conf(svc, "max_response_bytes")};
    if (lim.timeout_ms <= 0)
        lim.timeout_ms = 10000;
    if (lim.connect_timeout_ms <= 0 || lim.connect_timeout_ms > lim.timeout_ms)
        lim.connect_timeout_ms = lim.timeout_ms;
    if (lim.max_response <= 0)
        lim.max_response = 16L << 20;
    int max_attempts = rq->max_attempts > 0 ? rq->max_attempts : (int)svc_conf(svc, "max_attempts");
    if (max_attempts < 1)
        max_attempts = 1;
    long base = svc_conf(svc, "backoff_base_ms"), cap = svc_conf(svc, "backoff_max_ms");
    long ra_max = svc_conf(svc, "retry_after_max_ms"), cooldown = svc_conf(svc, "breaker_cooldown_ms");
    int threshold = (int)svc_conf(svc, "breaker_failures");
    int safe = rq->retry_unsafe || (strcmp(rq->method, "POST") && strcmp(rq->method, "PATCH"));
    char host[128], path[256];
    url_parts(rq->url, host, sizeof host, path, sizeof path);
    if (rq->log_path)
        snprintf(path, sizeof path, "%s", rq->log_path);

    for (int attempt = 1;; attempt++) {
        if (!breaker_allow(svc, cooldown)) {
            if (attempt == 1) {
                rs->err = HTTP_ERR_OPEN;
                snprintf(rs->error, sizeof rs->error, "circuit breaker open for %s", svc);
                count_attempt(svc, rs);
                log_fmt(LOG_WARN, "http client: %s %s %s%s refused: circuit breaker open", svc, rq->method, host, path);
            }
            /* opened during the retries: the last attempt's outcome stands */
            break;
        }
        int sent = 0;
        double t0 = mono_s();
        http_err e = http_once(rq, &lim, rs, &sent);
        double ms = (mono_s() - t0) * 1000.0;
        rs->attempts++;
        const char *ra = e == HTTP_OK ? http_response_header(rs, "retry-after") : NULL;
        rs->retry_after_ms = ra ? http_parse_retry_after(ra, (long long)time(NULL)) : -1;
        int failure = (e != HTTP_OK && e != HTTP_ERR_TOO_LARGE && e != HTTP_ERR_INVALID) ||
                      (e == HTTP_OK && rs->status >= 500);
        if (e != HTTP_ERR_INVALID)
            breaker_record(svc, !failure, threshold);
        count_attempt(svc, rs);

        int again = 0;
        if (attempt < max_attempts) {
            if (e == HTTP_ERR_CONNECT)
                again = 1; /* nothing was sent: safe for any method */
            else if (e == HTTP_ERR_TIMEOUT || e == HTTP_ERR_TRANSPORT)
                again = safe;
            else if (e == HTTP_OK && rs->status == 429)
                again = 1; /* refused before processing */
            else if (e == HTTP_OK && http_status_retryable(rs->status))
                again = safe;
        }
        long delay = again ? http_backoff_ms(attempt, base, cap, randombytes_random()) : 0;
        if (again && rs->retry_after_ms >= 0) {
            if (rs->retry_after_ms > ra_max)
                again = 0; /* longer than we may wait here: the caller sees the answer and decides */
            else if (rs->retry_after_ms > delay)
                delay = rs->retry_after_ms;
        }
        buf f = {0};
        log_field_str(&f, "service", svc);
        log_field_str(&f, "method", rq->method);
        log_field_str(&f, "host", host);
        log_field_str(&f, "path", path);
        log_field_int(&f, "status", rs->status);
        log_field_int(&f, "attempt", attempt);
        log_field_double(&f, "ms", ms);
        if (e != HTTP_OK) {
            log_field_str(&f, "error", http_err_name(e));
            log_field_str(&f, "reason", rs->error);
        }
        if (again)
            log_field_int(&f, "retry_in_ms", delay);
        log_write(failure || (e == HTTP_OK && rs->status == 429) ? LOG_WARN : LOG_DEBUG, "http client request",
                  f.data);
        buf_free(&f);
        if (!again)
            break;
        sleep_ms(delay);
    }
    return rs->err;
}
