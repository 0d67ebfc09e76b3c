/* telegram_api.c — the Bot API over lib/http.c. The bot token is part of every URL, so the URL is
 * built here, wiped after use, and the HTTP client logs the method in place of the path with the token. */
#include "telegram_api.h"
#include "buf.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TG_SERVICE "telegram"

const char *tg_result_name(tg_result r)
{
    switch (r) {
    case TG_OK: return "ok";
    case TG_ERR_UNAVAILABLE: return "unavailable";
    case TG_ERR_RATE_LIMITED: return "rate_limited";
    case TG_ERR_REFUSED: return "refused";
    case TG_ERR_CONFIG: return "config";
    case TG_ERR_BAD_ANSWER: return "bad_answer";
    case TG_ERR_INVALID: return "invalid";
    }
    return "unknown";
}

static int fail(tg_error *e, tg_result r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(tg_error *e, tg_result r, const char *fmt, ...)
{
    e->result = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->description, sizeof e->description, fmt, ap);
    va_end(ap);
    return r;
}

int telegram_parse_answer(long http_status, const char *body, size_t len, json_t **result, tg_error *e)
{
    tg_error local;
    if (!e)
        e = &local;
    *result = NULL;
    e->status = http_status;
    json_error_t jerr;
    json_t *j = body && len ? json_loadb(body, len, 0, &jerr) : NULL;
    json_t *ok = json_object_get(j, "ok");
    if (!json_is_object(j) || !json_is_boolean(ok)) {
        json_decref(j);
        e->error_code = (int)http_status;
        if (http_status == 429 || http_status >= 500)
            return fail(e, http_status == 429 ? TG_ERR_RATE_LIMITED : TG_ERR_UNAVAILABLE, "HTTP %ld", http_status);
        return fail(e, TG_ERR_BAD_ANSWER, "HTTP %ld without a Bot API answer", http_status);
    }
    if (json_is_true(ok) && http_status >= 200 && http_status < 300) {
        json_t *r = json_object_get(j, "result");
        *result = json_incref(r ? r : json_null());
        json_decref(j);
        e->result = TG_OK;
        return TG_OK;
    }
    json_t *code = json_object_get(j, "error_code");
    e->error_code = json_is_integer(code) ? (int)json_integer_value(code) : (int)http_status;
    const char *desc = json_string_value(json_object_get(j, "description"));
    json_t *ra = json_object_get(json_object_get(j, "parameters"), "retry_after");
    e->retry_after_s = json_is_integer(ra) && json_integer_value(ra) > 0 ? (long)json_integer_value(ra) : 0;
    tg_result r = TG_ERR_REFUSED;
    if (e->error_code == 429 || http_status == 429)
        r = TG_ERR_RATE_LIMITED;
    else if (e->error_code >= 500 || http_status >= 500)
        r = TG_ERR_UNAVAILABLE;
    fail(e, r, "%d %s", e->error_code, desc ? desc : "(no description)");
    json_decref(j);
    return r;
}

char *telegram_html_escape(arena *a, const char *s)
{
    buf b;
    buf_init(&b);
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '&')
            buf_puts(&b, "&amp;");
        else if (*p == '<')
            buf_puts(&b, "&lt;");
        else if (*p == '>')
            buf_puts(&b, "&gt;");
        else
            buf_putc(&b, *p);
    }
    char *out = NULL;
    if (!b.oom)
        out = a ? arena_strndup(a, b.data ? b.data : "", b.len) : strdup(b.data ? b.data : "");
    buf_free(&b);
    return out;
}

/* Bot API method names are camelCase words: anything else cannot be a path segment we meant. */
static int method_ok(const char *m)
{
    size_t n = m ? strlen(m) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (const char *p = m; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

int telegram_call(const char *method, const json_t *params, int max_attempts, json_t **result, tg_error *e)
{
    tg_error local;
    if (!e)
        e = &local;
    memset(e, 0, sizeof *e);
    *result = NULL;
    if (!method_ok(method) || (params && !json_is_object(params)))
        return fail(e, TG_ERR_INVALID, "bad method name or params");
    char *body = params ? json_dumps(params, JSON_COMPACT) : strdup("{}");
    if (!body)
        return fail(e, TG_ERR_INVALID, "params cannot be encoded");
    char *token = config_secret("telegram.bot_token");
    if (!token || !*token || strpbrk(token, "/?# \r\n")) {
        free(token);
        free(body);
        return fail(e, TG_ERR_CONFIG, "telegram.bot_token is not set or malformed");
    }
    const char *base = config_get("telegram.api_base");
    buf url;
    buf_init(&url);
    buf_printf(&url, "%s/bot%s/%s", base && *base ? base : "https://api.telegram.org", token, method);
    sodium_memzero(token, strlen(token));
    free(token);
    char log_path[96];
    snprintf(log_path, sizeof log_path, "/bot***/%s", method);
    static const char *const headers[] = {"Content-Type: application/json"};
    http_request rq = {.service = TG_SERVICE,
                       .method = "POST",
                       .url = url.data,
                       .headers = headers,
                       .nheaders = 1,
                       .body = body,
                       .body_len = strlen(body),
                       /* retried only when the caller allows more than one attempt: setWebhook
                        * and getWebhookInfo repeat harmlessly; the outbox worker passes 1 */
                       .retry_unsafe = max_attempts != 1,
                       .max_attempts = max_attempts,
                       .log_path = log_path};
    http_response rs;
    int herr = url.oom ? HTTP_ERR_INVALID : http_do(&rq, &rs);
    if (url.data)
        sodium_memzero(url.data, url.len);
    int oom = url.oom;
    buf_free(&url);
    free(body);
    if (oom)
        return fail(e, TG_ERR_UNAVAILABLE, "out of memory");
    e->sent = rs.attempts > 0;
    if (herr != HTTP_OK) {
        fail(e, TG_ERR_UNAVAILABLE, "no answer: %s", rs.error[0] ? rs.error : http_err_name(rs.err));
        http_response_free(&rs);
        return TG_ERR_UNAVAILABLE;
    }
    int r = telegram_parse_answer(rs.status, rs.body.data, rs.body.len, result, e);
    e->sent = 1;
    http_response_free(&rs);
    if (r != TG_OK)
        log_warn("telegram: %s: %s: %s", method, tg_result_name((tg_result)r), e->description);
    return r;
}
