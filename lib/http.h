/* http.h — the one outbound HTTP client (exchanges, Stripe, Telegram): libcurl with a reused handle
 * per thread, timeouts from config, retries with full-jitter backoff and Retry-After, and a circuit breaker per service. */
#ifndef BCF_HTTP_H
#define BCF_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* Why no HTTP answer came back (rs->err). An answer with any status, 5xx included, is HTTP_OK:
 * the status says the rest. */
typedef enum http_err {
    HTTP_OK = 0,
    HTTP_ERR_CONNECT = -1,      /* could not resolve or connect: nothing was sent */
    HTTP_ERR_TIMEOUT = -2,      /* no complete answer within the timeout: the request may have been processed */
    HTTP_ERR_OPEN = -3,         /* the service's circuit breaker is open: nothing was sent */
    HTTP_ERR_TOO_LARGE = -4,    /* the answer exceeded max_response_bytes */
    HTTP_ERR_TRANSPORT = -5,    /* any other transport failure (TLS, reset, protocol) */
    HTTP_ERR_INVALID = -6,      /* refused before sending: bad URL, method or arguments */
} http_err;

typedef struct http_request {
    const char *service;        /* breaker, metrics and config name ("binance", "stripe"); required */
    const char *method;         /* GET, POST, PUT, PATCH, DELETE */
    const char *url;            /* http:// or https://, query included */
    const char *const *headers; /* "Name: value" lines, never logged */
    size_t nheaders;
    const char *body;           /* NULL = no body */
    size_t body_len;
    /* POST and PATCH are retried only when the caller says a repeat cannot act twice (an
     * idempotency key, Binance's newClientOrderId); GET, HEAD, PUT and DELETE always may be. A
     * request that was never sent (connect failure, 429) is retried whatever the method. */
    int retry_unsafe;
    long timeout_ms;            /* 0 = http.client[.<service>].timeout_ms */
    int max_attempts;           /* 0 = http.client[.<service>].max_attempts; 1 = no retry */
    const char *log_path;       /* shown in logs instead of the URL's path, for a path that carries a
                                 * secret (Telegram's /bot<token>/<method>); NULL = the path */
} http_request;

typedef struct http_response {
    long status;                /* HTTP status of the last attempt; 0 when none came back */
    buf body;                   /* the last answer's body (NUL-terminated), at most max_response_bytes */
    buf headers;                /* the last answer's headers: "name\0value\0" pairs, names lower-cased */
    long retry_after_ms;        /* the last answer's Retry-After, -1 when absent */
    int attempts;               /* requests actually sent (0 when the breaker refused at once) */
    http_err err;
    char error[160];            /* a reason for err, never a URL's query nor a header value */
} http_response;

/* Sends rq, retrying as configured, and fills rs (which the caller then frees with
 * http_response_free, whatever the outcome). Returns 0 when an HTTP answer came back (any status),
 * or rs->err. Blocks the calling thread for at most about attempts × timeout plus the backoff.
 * Logs method, host, path, status and timing only: never the query string, headers or bodies. */
int http_do(const http_request *rq, http_response *rs);
void http_response_free(http_response *rs);
/* A header of the last answer by name (any case), or NULL. */
const char *http_response_header(const http_response *rs, const char *name);
/* A short word for an error, used in logs and metrics ("connect", "timeout", "open", ...). */
const char *http_err_name(http_err e);

/* One-time libcurl setup for the process (thread-safe; http_do calls it). 0 or -1. */
int http_global_init(void);

/* ---- pure parts, exposed for the unit tests ---- */

/* Full-jitter backoff before retry number `retry` (1 = the first retry): a uniform pick in
 * [0, min(cap_ms, base_ms * 2^(retry-1))] from the 32-bit random value rnd. */
long http_backoff_ms(int retry, long base_ms, long cap_ms, uint32_t rnd);
/* Retry-After as delay-seconds or an HTTP-date, in milliseconds from now_s (Unix seconds); -1
 * when unparseable. Dates in the past give 0. */
long http_parse_retry_after(const char *v, long long now_s);
/* Is the status worth another attempt (429, 500, 502, 503, 504)? */
int http_status_retryable(long status);

/* The circuit breaker of one service: closed → open after `threshold` consecutive failures →
 * half-open once `cooldown_ms` has passed, letting one probe through → closed when it succeeds,
 * open again (for another cool-down) when it fails. Time is passed in, so tests drive it. */
typedef enum http_breaker_state { HTTP_BREAKER_CLOSED = 0, HTTP_BREAKER_OPEN, HTTP_BREAKER_HALF_OPEN } http_breaker_state;
typedef struct http_breaker {
    http_breaker_state state;
    int failures;            /* consecutive failures while closed */
    int64_t opened_ms;       /* when it last opened */
    int probe_in_flight;     /* half-open: the one probe has been let through */
} http_breaker;
/* May a request go now? Moves open → half-open after the cool-down and lets exactly one probe
 * through while half-open. */
int http_breaker_allow(http_breaker *b, int64_t now_ms, long cooldown_ms);
/* Would http_breaker_allow let a request through now? Changes nothing, so a caller can look
 * before it takes work it could not do (a probe once let through must be recorded). */
int http_breaker_ready(const http_breaker *b, int64_t now_ms, long cooldown_ms);
/* Records an attempt's outcome (ok: the service answered, 4xx included; failure: connect error,
 * timeout, 5xx). Returns the state after. */
http_breaker_state http_breaker_record(http_breaker *b, int ok, int64_t now_ms, int threshold);
const char *http_breaker_state_name(http_breaker_state s);
/* The state of a service's breaker in this process (CLOSED for one never used). */
http_breaker_state http_breaker_state_of(const char *service);

/* The same per-service breakers for a channel that does not go through http_do (SMTP, service
 * "smtp"): the thresholds come from http.client[.<service>].breaker_failures and
 * breaker_cooldown_ms, and every transition is logged and counted in
 * http_client_breaker_transitions_total as http_do's are. */
/* Would a call go through now? Changes nothing (see http_breaker_ready). */
int http_service_ready(const char *service);
/* May one call go now? A yes must be followed by http_service_record: when half-open it is the
 * one probe, and the breaker waits for its outcome. */
int http_service_allow(const char *service);
/* The call's outcome: ok when the server answered (even to refuse the request), not ok when it
 * could not be reached or did not answer. */
void http_service_record(const char *service, int ok);
#endif
