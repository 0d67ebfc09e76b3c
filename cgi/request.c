/* request.c — accessors over the parsed request and the response helpers every handler uses.
 * HTML error pages are rendered by app.c; this file only records what to render. */
#include "request.h"
#include "utf8.h"
#include <stdlib.h>
#include <string.h>

const char *req_param(const request *r, const char *name)
{
    return kv_get(&r->params, name);
}

const char *req_header(const request *r, const char *http_name)
{
    return kv_get(&r->params, http_name);
}

const char *req_query(const request *r, const char *name)
{
    return kv_get(&r->query, name);
}

const char *req_form(const request *r, const char *name)
{
    return kv_get(&r->form, name);
}

const char *req_cookie(const request *r, const char *name)
{
    return kv_get(&r->cookies, name);
}

const char *req_path_param(const request *r, const char *name)
{
    return kv_get(&r->path_params, name);
}

const char *req_field(request *r, const char *name)
{
    const char *v = req_form(r, name);
    if (v || !r->json || !json_is_object(r->json))
        return v;
    json_t *j = json_object_get(r->json, name);
    if (json_is_string(j))
        return json_string_value(j);
    if (json_is_true(j))
        return "1";
    if (json_is_false(j))
        return "0";
    if (json_is_integer(j))
        return arena_printf(r->a, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    return NULL;
}

int req_is_id(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    return n > 0 && n <= 18 && strspn(v, "0123456789") == n && v[0] != '0';
}

const char *req_id_param(const request *r, const char *name)
{
    const char *v = kv_get(&r->path_params, name);
    return req_is_id(v) ? v : NULL;
}

const char *req_local_path(const char *next, const char *fallback)
{
    /* an open redirect would let a phishing link bounce through the portal. Browsers drop tabs
     * and newlines from URLs and read '\\' as '/', so "/<TAB>/evil" and "/\\evil" mean //evil:
     * any control byte or backslash makes the value unsafe */
    if (!next || next[0] != '/' || next[1] == '/')
        return fallback;
    for (const unsigned char *c = (const unsigned char *)next; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '\\')
            return fallback;
    return next;
}

void res_header(response *res, const char *name, const char *value)
{
    /* header injection guard: values never carry CR or LF */
    if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n: "))
        return;
    buf_printf(&res->headers, "%s: %s\r\n", name, value);
}

void res_text(response *res, int status, const char *ctype, const char *body, size_t len)
{
    res->status = status;
    res->content_type = ctype;
    buf_clear(&res->body);
    buf_append(&res->body, body, len);
}

void res_json(response *res, int status, json_t *obj)
{
    res->status = status;
    res->content_type = "application/json; charset=utf-8";
    buf_clear(&res->body);
    char *s = json_dumps(obj, JSON_COMPACT);
    if (s) {
        buf_puts(&res->body, s);
        free(s);
    }
    json_decref(obj);
}

void res_redirect(response *res, const char *location)
{
    res->status = 303;
    res_header(res, "Location", location);
    res->content_type = "text/plain; charset=utf-8";
    buf_clear(&res->body);
}

void res_page(response *res, const char *template_name, const char *title_key, json_t *data)
{
    res->status = res->status ? res->status : 200;
    if (res->data)
        json_decref(res->data);
    res->data = data;
    res->template = template_name;
    res->title_key = title_key;
}

void res_error(request *req, response *res, int status, const char *code, const char *message)
{
    res->status = status;
    res->error_code = code;
    json_t *err = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", code, "message", message, "request_id",
                            req->request_id ? req->request_id : "");
    if (req->api) {
        res->template = NULL;
        if (res->data) {
            json_decref(res->data);
            res->data = NULL;
        }
        res_json(res, status, err);
    } else {
        /* app.c renders errors/error.cs from this data */
        buf_clear(&res->body);
        if (res->data)
            json_decref(res->data);
        res->data = err;
        res->template = "errors/error.cs";
        res->title_key = "error.title";
    }
}

const char *req_user_agent(request *r)
{
    const char *ua = req_header(r, "HTTP_USER_AGENT");
    if (!ua)
        return "";
    /* stored and shown: valid UTF-8 only, cut at a character boundary */
    size_t n = strlen(ua);
    if (n > 300) {
        n = 300;
        while (n > 0 && ((unsigned char)ua[n] & 0xC0) == 0x80)
            n--;
    }
    if (!utf8_valid(ua, n))
        return "?";
    return n == strlen(ua) ? ua : arena_strndup(r->a, ua, n);
}
