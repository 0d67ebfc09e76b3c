/* render.c — ClearSilver glue. Templates are parsed once per worker (HTML escaping of every var: set
 * before parsing) and rendered against the language's data set plus this request's data. */
#include "render.h"
#include "log.h"
#include "notify.h"
#include "router.h"
#include <ClearSilver.h>
#include <stdio.h>
#include <stdlib.h>
#include <glob.h>
#include <string.h>

#define MAX_TEMPLATES 128
#define N_LANGS 2

static const char *langs[N_LANGS] = {"pt-BR", "en"};
static HDF *lang_hdf[N_LANGS];
static char tdir[1024];

struct tpl {
    char *name;
    CSPARSE *cs;
    HDF *parse_hdf;
};
static struct tpl cache[MAX_TEMPLATES];
static int n_cache;

static void neo_to_msg(NEOERR *e, char *err, size_t errlen)
{
    STRING s;
    string_init(&s);
    nerr_error_string(e, &s);
    snprintf(err, errlen, "%s", s.buf ? s.buf : "template error");
    string_clear(&s);
    nerr_ignore(&e);
}

int render_lang_known(const char *lang)
{
    for (int i = 0; i < N_LANGS; i++)
        if (strcmp(lang, langs[i]) == 0)
            return 1;
    return 0;
}

static int lang_index(const char *lang)
{
    for (int i = 0; i < N_LANGS; i++)
        if (lang && strcmp(lang, langs[i]) == 0)
            return i;
    return 0;
}

/* The navigation lists every module, available or not. It is the same for every request in a
 * language, so it lives in that language's data set (the fallback of every render) as Nav.*. */
static NEOERR *build_nav(HDF *lh, const char *lang)
{
    NEOERR *e = STATUS_OK;
    int i = 0;
    for (const module *const *m = router_modules(); !e && m && *m; m++) {
        if (!(*m)->nav_key)
            continue;
        char key[64];
        snprintf(key, sizeof key, "Nav.%d.label", i);
        e = hdf_set_value(lh, key, render_lang_string(lang, (*m)->nav_key));
        if (!e && (*m)->nav_path) {
            snprintf(key, sizeof key, "Nav.%d.path", i);
            e = hdf_set_value(lh, key, (*m)->nav_path);
            /* the entry shows only to holders of the permission its page needs */
            for (size_t r = 0; !e && r < (*m)->n_routes; r++) {
                const route *rt = &(*m)->routes[r];
                if (rt->permission && !strcmp(rt->method, "GET") && !strcmp(rt->pattern, (*m)->nav_path)) {
                    snprintf(key, sizeof key, "Nav.%d.perm", i);
                    e = hdf_set_value(lh, key, rt->permission);
                }
            }
        }
        i++;
    }
    return e;
}

int render_init(const char *templates_dir)
{
    snprintf(tdir, sizeof tdir, "%s", templates_dir);
    for (int i = 0; i < N_LANGS; i++) {
        char path[1200], err[256];
        snprintf(path, sizeof path, "%s/lang/%s.hdf", tdir, langs[i]);
        NEOERR *e = hdf_init(&lang_hdf[i]);
        if (!e)
            e = hdf_read_file(lang_hdf[i], path);
        /* each module keeps its strings in lang/<lang>/<module>.hdf, read after the shared file */
        glob_t g;
        char pat[1200];
        snprintf(pat, sizeof pat, "%s/lang/%s/*.hdf", tdir, langs[i]);
        if (!e && glob(pat, 0, NULL, &g) == 0) {
            for (size_t k = 0; k < g.gl_pathc && !e; k++) {
                snprintf(path, sizeof path, "%s", g.gl_pathv[k]);
                e = hdf_read_file(lang_hdf[i], path);
            }
            globfree(&g);
        }
        if (e) {
            neo_to_msg(e, err, sizeof err);
            log_error("language file %s: %s", path, err);
            return -1;
        }
    }
    for (int i = 0; i < N_LANGS; i++) {
        NEOERR *e = build_nav(lang_hdf[i], langs[i]);
        if (e) {
            char err[256];
            neo_to_msg(e, err, sizeof err);
            log_error("navigation: %s", err);
            return -1;
        }
    }
    return 0;
}

void render_shutdown(void)
{
    for (int i = 0; i < n_cache; i++) {
        cs_destroy(&cache[i].cs);
        hdf_destroy(&cache[i].parse_hdf);
        free(cache[i].name);
    }
    n_cache = 0;
    for (int i = 0; i < N_LANGS; i++)
        if (lang_hdf[i])
            hdf_destroy(&lang_hdf[i]);
}

const char *render_lang_string(const char *lang, const char *key)
{
    char name[256];
    snprintf(name, sizeof name, "Lang.%s", key);
    const char *v = lang_hdf[lang_index(lang)] ? hdf_get_value(lang_hdf[lang_index(lang)], name, NULL) : NULL;
    if (!v && lang_hdf[0])
        v = hdf_get_value(lang_hdf[0], name, NULL);
    return v ? v : key;
}

static CSPARSE *template_get(const char *name, char *err, size_t errlen)
{
    for (int i = 0; i < n_cache; i++)
        if (strcmp(cache[i].name, name) == 0)
            return cache[i].cs;
    if (n_cache >= MAX_TEMPLATES || strstr(name, "..")) {
        snprintf(err, errlen, "template %s not allowed", name);
        return NULL;
    }
    HDF *h = NULL;
    CSPARSE *cs = NULL;
    NEOERR *e = hdf_init(&h);
    if (!e)
        /* ClearSilver 0.10.5 (Debian) names automatic escaping Config.VarEscapeMode; every var:
         * is HTML-escaped unless a template asks otherwise (none does) */
        e = hdf_set_value(h, "Config.VarEscapeMode", "html");
    if (!e)
        e = hdf_set_value(h, "hdf.loadpaths.0", tdir);
    if (!e)
        e = cs_init(&cs, h);
    if (!e)
        e = cs_parse_file(cs, name);
    if (e) {
        neo_to_msg(e, err, errlen);
        if (cs)
            cs_destroy(&cs);
        if (h)
            hdf_destroy(&h);
        return NULL;
    }
    cache[n_cache].name = strdup(name);
    cache[n_cache].cs = cs;
    cache[n_cache].parse_hdf = h;
    n_cache++;
    return cs;
}

/* data.foo.0.bar = value: the JSON tree as HDF nodes */
static NEOERR *json_to_hdf(HDF *h, char *path, size_t plen, size_t cap, json_t *j)
{
    char num[64];
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            size_t kl = strlen(k);
            if (plen + kl + 2 >= cap)
                continue;
            path[plen] = '.';
            for (size_t i = 0; i < kl; i++)
                path[plen + 1 + i] = (k[i] == '.' || k[i] == ' ') ? '_' : k[i];
            path[plen + 1 + kl] = '\0';
            NEOERR *e = json_to_hdf(h, path, plen + 1 + kl, cap, v);
            if (e)
                return e;
        }
        path[plen] = '\0';
        return STATUS_OK;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            int w = snprintf(path + plen, cap - plen, ".%zu", i);
            if (w < 0 || (size_t)w >= cap - plen)
                break;
            NEOERR *e = json_to_hdf(h, path, plen + (size_t)w, cap, v);
            if (e)
                return e;
        }
        path[plen] = '\0';
        return STATUS_OK;
    }
    case JSON_STRING:
        return hdf_set_value(h, path, json_string_value(j));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return hdf_set_value(h, path, num);
    case JSON_REAL:
        snprintf(num, sizeof num, "%.10g", json_real_value(j));
        return hdf_set_value(h, path, num);
    case JSON_TRUE:
        return hdf_set_value(h, path, "1");
    case JSON_FALSE:
        return hdf_set_value(h, path, "0");
    default:
        return STATUS_OK;
    }
}

static NEOERR *out_cb(void *out, char *s)
{
    buf_puts(out, s);
    return STATUS_OK;
}

/* Per-request data lives only under these top-level names of the language's data set. */
static const char *const request_trees[] = {"req", "user", "page", "data"};

static void clear_request_data(HDF *h)
{
    for (size_t i = 0; i < sizeof request_trees / sizeof request_trees[0]; i++) {
        NEOERR *e = hdf_remove_tree(h, request_trees[i]);
        nerr_ignore(&e);
    }
}

static NEOERR *fill_common(HDF *h, request *req, response *res)
{
    NEOERR *e = STATUS_OK;
    const char *lang = req->lang ? req->lang : "pt-BR";
    e = hdf_set_value(h, "req.lang", lang);
    if (!e)
        e = hdf_set_value(h, "req.path", req->path ? req->path : "/");
    if (!e)
        e = hdf_set_value(h, "req.request_id", req->request_id ? req->request_id : "");
    if (!e && req->csrf)
        e = hdf_set_value(h, "req.csrf", req->csrf);
    if (!e)
        e = hdf_set_value(h, "req.other_lang", strcmp(lang, "en") == 0 ? "pt-BR" : "en");
    if (!e && res->title_key)
        e = hdf_set_value(h, "page.title", render_lang_string(lang, res->title_key));
    if (!e && req->session) {
        e = hdf_set_value(h, "user.name", req->session->name ? req->session->name : "");
        if (!e)
            e = hdf_set_value(h, "user.email", req->session->email ? req->session->email : "");
        if (!e)
            e = hdf_set_value(h, "user.logged_in", "1");
        if (!e && req->session->mfa_enrolled)
            e = hdf_set_value(h, "user.mfa", "1");
        if (!e && req->session->staff)
            e = hdf_set_value(h, "user.staff", "1");
        /* the bell: one short scan of a partial index per signed-in page */
        long unread = e ? 0 : notify_unread_count(&req->cx, req->session->user_id);
        if (!e && unread > 0)
            e = hdf_set_value(h, "user.unread", unread >= 100 ? "99+" : arena_printf(req->a, "%ld", unread));
        for (const char *const *p = req->session->perms; !e && p && *p; p++) {
            char key[128];
            snprintf(key, sizeof key, "user.perms.%s", *p);
            e = hdf_set_value(h, key, "1");
        }
    }
    return e;
}

int render_page(request *req, response *res, buf *out, char *err, size_t errlen)
{
    CSPARSE *cs = template_get(res->template, err, errlen);
    if (!cs)
        return -1;
    /* The language's data set (strings and navigation, built once) receives this request's
     * data under req/user/page/data, which are removed again after rendering: no per-request
     * copy of the constant part. */
    HDF *h = lang_hdf[lang_index(req->lang)];
    clear_request_data(h);
    NEOERR *e = fill_common(h, req, res);
    if (!e && res->data) {
        char path[512] = "data";
        e = json_to_hdf(h, path, 4, sizeof path, res->data);
    }
    if (!e) {
        /* the cached parse tree renders against this request's data, with the language as the
         * fallback ("global") data set */
        cs->hdf = h;
        e = cs_render(cs, out, out_cb);
        cs->hdf = NULL;
    }
    clear_request_data(h);
    if (e) {
        neo_to_msg(e, err, errlen);
        return -1;
    }
    return 0;
}
