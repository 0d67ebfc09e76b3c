/* stripe_api.c — Stripe's REST API as we use it: form-encoded POSTs with a secret key, a pinned API
 * version and an idempotency key, so the shared HTTP client may retry them and Stripe acts once. */
#include "stripe_api.h"
#include "config.h"
#include "log.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRIPE_SERVICE "stripe"
/* Stripe refuses keys longer than 255 characters */
#define STRIPE_IDEM_MAX 255

int stripe_form_add(buf *form, const char *key, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!value)
        return 0;
    if (form->len)
        buf_putc(form, '&');
    for (int part = 0; part < 2; part++) {
        const unsigned char *p = (const unsigned char *)(part ? value : key);
        for (; *p; p++) {
            int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                        *p == '-' || *p == '_' || *p == '.' || *p == '~' || (!part && (*p == '[' || *p == ']'));
            if (plain) {
                buf_putc(form, (char)*p);
            } else {
                char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
                buf_append(form, esc, 3);
            }
        }
        if (!part)
            buf_putc(form, '=');
    }
    return form->oom ? -1 : 0;
}

const char *stripe_result_name(stripe_result r)
{
    switch (r) {
    case STRIPE_OK: return "ok";
    case STRIPE_ERR_UNAVAILABLE: return "unavailable";
    case STRIPE_ERR_REFUSED: return "refused";
    case STRIPE_ERR_CONFIG: return "config";
    case STRIPE_ERR_BAD_ANSWER: return "bad_answer";
    case STRIPE_ERR_INVALID: return "invalid";
    }
    return "unknown";
}

static int fail(stripe_error *e, stripe_result r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(stripe_error *e, stripe_result r, const char *fmt, ...)
{
    if (e) {
        e->result = r;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return r;
}

static void copy_str(char *dst, size_t n, json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    snprintf(dst, n, "%s", s ? s : "");
}

/* Stripe's error body {"error": {"type", "code", "param", "message"}} into e. */
static void read_error(stripe_error *e, json_t *body)
{
    json_t *err = json_object_get(body, "error");
    copy_str(e->type, sizeof e->type, err, "type");
    copy_str(e->code, sizeof e->code, err, "code");
    copy_str(e->param, sizeof e->param, err, "param");
    copy_str(e->message, sizeof e->message, err, "message");
    if (!e->message[0])
        snprintf(e->message, sizeof e->message, "Stripe answered HTTP %ld", e->status);
}

/* One call: a POST carries form and idem_key, a GET neither (reads are safe to retry as they are). */
static int stripe_call(const char *method, const char *path, const char *form, size_t form_len, const char *idem_key,
                       json_t **out, stripe_error *e)
{
    stripe_error local;
    if (!e)
        e = &local;
    memset(e, 0, sizeof *e);
    *out = NULL;
    int post = !strcmp(method, "POST");
    if (!path || path[0] != '/' || strpbrk(path, "\r\n ") ||
        (post && (!idem_key || !*idem_key || strlen(idem_key) > STRIPE_IDEM_MAX || strpbrk(idem_key, "\r\n"))))
        return fail(e, STRIPE_ERR_INVALID, "a path and an idempotency key of 1 to %d characters are needed",
                    STRIPE_IDEM_MAX);
    char *key = config_secret("stripe.secret_key");
    if (!key || !*key) {
        free(key);
        return fail(e, STRIPE_ERR_CONFIG, "stripe.secret_key is not set");
    }
    const char *version = config_get("stripe.api_version");
    const char *base = config_get("stripe.api_base");
    buf url, auth;
    buf_init(&url);
    buf_init(&auth);
    buf_printf(&url, "%s%s", base && *base ? base : "https://api.stripe.com", path);
    buf_printf(&auth, "Authorization: Bearer %s", key);
    sodium_memzero(key, strlen(key));
    free(key);
    char ver[96], idem[300];
    snprintf(ver, sizeof ver, "Stripe-Version: %s", version && *version ? version : "");
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", post ? idem_key : "");
    const char *headers[4] = {auth.data, ver};
    size_t nh = version && *version ? 2 : 1;
    if (post) {
        headers[nh++] = idem;
        headers[nh++] = "Content-Type: application/x-www-form-urlencoded";
    }
    http_request rq = {.service = STRIPE_SERVICE,
                       .method = method,
                       .url = url.data,
                       .headers = headers,
                       .nheaders = nh,
                       .body = post && form ? form : NULL,
                       .body_len = post && form ? form_len : 0,
                       /* the idempotency key makes a repeat return the first answer */
                       .retry_unsafe = post};
    int oom = url.oom || auth.oom;
    http_response rs;
    int herr = oom ? HTTP_ERR_INVALID : http_do(&rq, &rs);
    if (auth.data)
        sodium_memzero(auth.data, auth.len);
    buf_free(&auth);
    buf_free(&url);
    if (oom)
        return fail(e, STRIPE_ERR_UNAVAILABLE, "out of memory");
    e->attempts = rs.attempts;
    e->status = rs.status;
    e->transport = rs.err;
    if (herr != HTTP_OK) {
        log_warn("stripe: %s %s: no answer after %d attempt(s): %s", method, path, rs.attempts, rs.error);
        fail(e, STRIPE_ERR_UNAVAILABLE, "Stripe did not answer: %s", rs.error[0] ? rs.error : http_err_name(rs.err));
        http_response_free(&rs);
        return STRIPE_ERR_UNAVAILABLE;
    }
    json_error_t jerr;
    json_t *j = rs.body.len ? json_loadb(rs.body.data, rs.body.len, 0, &jerr) : NULL;
    const char *rid = http_response_header(&rs, "request-id");
    char request_id[64];
    snprintf(request_id, sizeof request_id, "%s", rid ? rid : "-");
    http_response_free(&rs);
    if (e->status >= 200 && e->status < 300) {
        if (!json_is_object(j)) {
            json_decref(j);
            log_warn("stripe: %s %s: HTTP %ld without a JSON object (request %s)", method, path, e->status, request_id);
            return fail(e, STRIPE_ERR_BAD_ANSWER, "Stripe answered HTTP %ld without a JSON object", e->status);
        }
        *out = j;
        return STRIPE_OK;
    }
    read_error(e, j);
    json_decref(j);
    e->result = (e->status == 429 || e->status >= 500) ? STRIPE_ERR_UNAVAILABLE : STRIPE_ERR_REFUSED;
    log_warn("stripe: %s %s: HTTP %ld %s%s%s after %d attempt(s) (request %s): %s", method, path, e->status, e->type,
             e->code[0] ? "/" : "", e->code, e->attempts, request_id, e->message);
    return e->result;
}

int stripe_post(const char *path, const char *form, size_t form_len, const char *idem_key, json_t **out,
                stripe_error *e)
{
    return stripe_call("POST", path, form, form_len, idem_key, out, e);
}

int stripe_get(const char *path, json_t **out, stripe_error *e)
{
    return stripe_call("GET", path, NULL, 0, NULL, out, e);
}

/* The string member name of a 2xx answer into out, or STRIPE_ERR_BAD_ANSWER. */
static int answer_field(json_t *j, const char *name, const char *prefix, char *out, size_t n, stripe_error *e)
{
    const char *s = json_string_value(json_object_get(j, name));
    if (!s || strncmp(s, prefix, strlen(prefix)) != 0 || strlen(s) >= n)
        return fail(e, STRIPE_ERR_BAD_ANSWER, "Stripe's answer has no usable %s", name);
    memcpy(out, s, strlen(s) + 1);
    return STRIPE_OK;
}

/* Posts form and copies up to two string fields of the answer. */
static int post_and_read(const char *path, buf *form, const char *idem_key, const char *f1, const char *p1, char *o1,
                         size_t n1, const char *f2, const char *p2, char *o2, size_t n2, stripe_error *e)
{
    stripe_error local;
    if (!e)
        e = &local;
    if (form->oom) {
        buf_free(form);
        memset(e, 0, sizeof *e);
        return fail(e, STRIPE_ERR_INVALID, "out of memory");
    }
    json_t *j = NULL;
    int rc = stripe_post(path, form->data ? form->data : "", form->len, idem_key, &j, e);
    buf_free(form);
    if (rc == STRIPE_OK)
        rc = answer_field(j, f1, p1, o1, n1, e);
    if (rc == STRIPE_OK && f2)
        rc = answer_field(j, f2, p2, o2, n2, e);
    json_decref(j);
    return rc;
}

int stripe_create_customer(const char *idem_key, long long tenant_id, const char *email, char *customer_id,
                           size_t idlen, stripe_error *e)
{
    char tenant[24];
    snprintf(tenant, sizeof tenant, "%lld", tenant_id);
    buf form;
    buf_init(&form);
    stripe_form_add(&form, "metadata[tenant_id]", tenant);
    if (email && *email)
        stripe_form_add(&form, "email", email);
    return post_and_read("/v1/customers", &form, idem_key, "id", "cus_", customer_id, idlen, NULL, NULL, NULL, 0, e);
}

int stripe_create_checkout_session(const char *idem_key, const stripe_checkout *p, char *session_id, size_t idlen,
                                   char *url, size_t urllen, stripe_error *e)
{
    if (!p->customer || !p->price || !p->success_url || !p->cancel_url) {
        if (e)
            memset(e, 0, sizeof *e);
        return fail(e, STRIPE_ERR_INVALID, "a customer, a price and both return URLs are needed");
    }
    char tenant[24], trial[24];
    snprintf(tenant, sizeof tenant, "%lld", p->tenant_id);
    snprintf(trial, sizeof trial, "%ld", p->trial_days);
    buf form;
    buf_init(&form);
    stripe_form_add(&form, "mode", "subscription");
    stripe_form_add(&form, "customer", p->customer);
    stripe_form_add(&form, "client_reference_id", tenant);
    stripe_form_add(&form, "line_items[0][price]", p->price);
    stripe_form_add(&form, "line_items[0][quantity]", "1");
    stripe_form_add(&form, "success_url", p->success_url);
    stripe_form_add(&form, "cancel_url", p->cancel_url);
    stripe_form_add(&form, "metadata[tenant_id]", tenant);
    /* the webhook finds the tenant of a subscription event through its metadata too */
    stripe_form_add(&form, "subscription_data[metadata][tenant_id]", tenant);
    if (p->trial_days > 0)
        stripe_form_add(&form, "subscription_data[trial_period_days]", trial);
    return post_and_read("/v1/checkout/sessions", &form, idem_key, "id", "cs_", session_id, idlen, "url", "http", url,
                         urllen, e);
}

int stripe_create_portal_session(const char *idem_key, const char *customer, const char *return_url, char *url,
                                 size_t urllen, stripe_error *e)
{
    if (!customer || !return_url) {
        if (e)
            memset(e, 0, sizeof *e);
        return fail(e, STRIPE_ERR_INVALID, "a customer and a return URL are needed");
    }
    buf form;
    buf_init(&form);
    stripe_form_add(&form, "customer", customer);
    stripe_form_add(&form, "return_url", return_url);
    return post_and_read("/v1/billing_portal/sessions", &form, idem_key, "url", "http", url, urllen, NULL, NULL, NULL,
                         0, e);
}

int stripe_price_for_plan(const char *plan, char *out, size_t outlen)
{
    char key[64];
    if (!plan || !*plan || strchr(plan, '.') || snprintf(key, sizeof key, "stripe.price.%s", plan) >= (int)sizeof key)
        return -1;
    const char *list = config_get(key);
    if (!list)
        return -1;
    list += strspn(list, " \t");
    size_t n = strcspn(list, ",");
    while (n && (list[n - 1] == ' ' || list[n - 1] == '\t'))
        n--;
    if (!n || n >= outlen)
        return -1;
    memcpy(out, list, n);
    out[n] = '\0';
    return 0;
}

/* "sub_" and letters or digits only: the id goes into a URL path */
static int subscription_id_ok(const char *s)
{
    if (!s || strncmp(s, "sub_", 4) != 0 || !s[4] || strlen(s) >= 128)
        return 0;
    for (const char *p = s + 4; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

/* The fields of a subscription object we act on; STRIPE_ERR_BAD_ANSWER without its first item. */
static int read_subscription(json_t *j, stripe_subscription *out, stripe_error *e)
{
    memset(out, 0, sizeof *out);
    json_t *item = json_array_get(json_object_get(json_object_get(j, "items"), "data"), 0);
    json_t *price = json_object_get(item, "price");
    if (json_is_object(price))
        price = json_object_get(price, "id");
    int rc = answer_field(j, "id", "sub_", out->id, sizeof out->id, e);
    if (rc == STRIPE_OK)
        rc = answer_field(item, "id", "si_", out->item_id, sizeof out->item_id, e);
    if (rc != STRIPE_OK)
        return rc;
    copy_str(out->status, sizeof out->status, j, "status");
    snprintf(out->price, sizeof out->price, "%s", json_string_value(price) ? json_string_value(price) : "");
    out->cancel_at_period_end = json_is_true(json_object_get(j, "cancel_at_period_end"));
    json_t *end = json_object_get(j, "current_period_end");
    if (!json_is_integer(end)) /* API versions from 2025-03 carry it on the item */
        end = json_object_get(item, "current_period_end");
    out->current_period_end = json_is_integer(end) ? (long long)json_integer_value(end) : 0;
    return STRIPE_OK;
}

int stripe_get_subscription(const char *subscription_id, stripe_subscription *out, stripe_error *e)
{
    stripe_error local;
    if (!e)
        e = &local;
    if (!subscription_id_ok(subscription_id)) {
        memset(e, 0, sizeof *e);
        return fail(e, STRIPE_ERR_INVALID, "not a subscription id");
    }
    char path[160];
    snprintf(path, sizeof path, "/v1/subscriptions/%s", subscription_id);
    json_t *j = NULL;
    int rc = stripe_get(path, &j, e);
    if (rc == STRIPE_OK)
        rc = read_subscription(j, out, e);
    json_decref(j);
    return rc;
}

int stripe_update_subscription(const char *idem_key, const char *subscription_id, const stripe_subscription_change *c,
                               stripe_subscription *out, stripe_error *e)
{
    stripe_error local;
    if (!e)
        e = &local;
    if (!subscription_id_ok(subscription_id) || (c->price && (!c->item_id || !c->proration_behavior)) ||
        (!c->price && c->cancel_at_period_end < 0)) {
        memset(e, 0, sizeof *e);
        return fail(e, STRIPE_ERR_INVALID, "a subscription id and a price change (item, price, proration) or a "
                                           "cancellation flag are needed");
    }
    buf form;
    buf_init(&form);
    if (c->price) {
        stripe_form_add(&form, "items[0][id]", c->item_id);
        stripe_form_add(&form, "items[0][price]", c->price);
        stripe_form_add(&form, "proration_behavior", c->proration_behavior);
    }
    if (c->cancel_at_period_end >= 0)
        stripe_form_add(&form, "cancel_at_period_end", c->cancel_at_period_end ? "true" : "false");
    if (form.oom) {
        buf_free(&form);
        memset(e, 0, sizeof *e);
        return fail(e, STRIPE_ERR_INVALID, "out of memory");
    }
    char path[160];
    snprintf(path, sizeof path, "/v1/subscriptions/%s", subscription_id);
    json_t *j = NULL;
    int rc = stripe_post(path, form.data ? form.data : "", form.len, idem_key, &j, e);
    buf_free(&form);
    stripe_subscription local_sub;
    if (rc == STRIPE_OK)
        rc = read_subscription(j, out ? out : &local_sub, e);
    json_decref(j);
    return rc;
}
