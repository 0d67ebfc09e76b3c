/* devmail.c — /dev/mail (development only): the messages the worker wrote to mail.capture_dir,
 * newest first, and each one decoded (RFC 2047 headers, base64 bodies) for reading links in a browser. */
#include "app.h"
#include "config.h"
#include "modules.h"
#include "render.h"
#include "utf8.h"
#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { DEVMAIL_LIST_MAX = 200, DEVMAIL_HEAD_MAX = 16384, DEVMAIL_FILE_MAX = 1 << 20 };

/* Only names the worker writes, "<unix-time>-<outbox id>.eml": nothing else of the folder (or
 * beyond it) can be named. */
static int devmail_name_ok(const char *s, long long *when, long long *id)
{
    if (!s || strlen(s) > 60)
        return 0;
    const char *p = s;
    size_t a = strspn(p, "0123456789");
    if (!a || p[a] != '-')
        return 0;
    size_t b = strspn(p + a + 1, "0123456789");
    if (!b || strcmp(p + a + 1 + b, ".eml") != 0)
        return 0;
    if (when)
        *when = atoll(p);
    if (id)
        *id = atoll(p + a + 1);
    return 1;
}

/* Reads up to max bytes of dir/name; an arena string, or NULL. */
static char *devmail_read(arena *a, const char *name, size_t max, size_t *len)
{
    char dir[1024], path[1200];
    config_path("mail.capture_dir", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *out = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        size_t want = (size_t)st.st_size < max ? (size_t)st.st_size : max;
        out = arena_alloc(a, want + 1);
        size_t got = 0;
        while (out && got < want) {
            ssize_t n = read(fd, out + got, want - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (out) {
            out[got] = '\0';
            *len = got;
        }
    }
    close(fd);
    return out;
}

/* Bytes that are not UTF-8 become '?', so a hand-dropped file still renders. */
static char *devmail_text(arena *a, const char *s, size_t n)
{
    char *o = arena_alloc(a, n + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t seq = c < 0x80 ? 1 : utf8_seq((const unsigned char *)s + i, n - i);
        if (!seq || (c < 0x20 && c != '\n' && c != '\t')) {
            if (c != '\r')
                o[j++] = '?';
            i++;
            continue;
        }
        memcpy(o + j, s + i, seq);
        j += seq;
        i += seq;
    }
    o[j] = '\0';
    return o;
}

static int devmail_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes one encoded word's text t (tl bytes) into out; bytes written, or -1 when malformed. */
static long devmail_word(char enc, const char *t, size_t tl, char *out, size_t room)
{
    size_t got = 0;
    if (enc == 'b')
        return sodium_base642bin((unsigned char *)out, room, t, tl, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL)
                   ? -1
                   : (long)got;
    for (size_t k = 0; k < tl && got < room; k++) {
        if (t[k] == '_') {
            out[got++] = ' ';
        } else if (t[k] == '=') {
            if (k + 2 >= tl || devmail_hex(t[k + 1]) < 0 || devmail_hex(t[k + 2]) < 0)
                return -1;
            out[got++] = (char)(devmail_hex(t[k + 1]) * 16 + devmail_hex(t[k + 2]));
            k += 2;
        } else {
            out[got++] = t[k];
        }
    }
    return (long)got;
}

/* RFC 2047 encoded words (B and Q, UTF-8 or ASCII) decoded; white space between two encoded
 * words dropped as the RFC says. Anything malformed stays as it was written. */
static char *devmail_words(arena *a, const char *v)
{
    size_t n = strlen(v), j = 0;
    char *o = arena_alloc(a, n + 1);
    if (!o)
        return NULL;
    int prev_word = 0;
    for (size_t i = 0; i < n;) {
        if (v[i] == '=' && v[i + 1] == '?') {
            const char *cs = v + i + 2, *q1 = strchr(cs, '?');
            const char *end = q1 && q1[1] && q1[2] == '?' ? strstr(q1 + 3, "?=") : NULL;
            int cs_ok = q1 && ((q1 - cs == 5 && !strncasecmp(cs, "utf-8", 5)) ||
                               (q1 - cs == 8 && !strncasecmp(cs, "us-ascii", 8)));
            char enc = q1 ? (char)(q1[1] | 0x20) : 0;
            if (end && cs_ok && (enc == 'b' || enc == 'q')) {
                size_t keep = j;
                if (prev_word)
                    while (keep && (o[keep - 1] == ' ' || o[keep - 1] == '\t'))
                        keep--;
                long got = devmail_word(enc, q1 + 3, (size_t)(end - q1 - 3), o + j, n - j);
                if (got >= 0) {
                    memmove(o + keep, o + j, (size_t)got);
                    j = keep + (size_t)got;
                    i = (size_t)(end + 2 - v);
                    prev_word = 1;
                    continue;
                }
            }
        }
        if (v[i] != ' ' && v[i] != '\t')
            prev_word = 0;
        o[j++] = v[i++];
    }
    return devmail_text(a, o, j);
}

typedef struct devmail_msg {
    const char *subject, *to, *from, *date, *cte;
    const char *body; /* start of the body in the raw text, NULL when not read */
    size_t body_len;
} devmail_msg;

/* Splits headers from the body and picks the ones shown. Folded lines are joined. */
static void devmail_parse(arena *a, const char *raw, size_t len, devmail_msg *m)
{
    memset(m, 0, sizeof *m);
    const char *p = raw, *end = raw + len;
    char *cur = NULL;
    const char **slot = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        const char *next = nl ? nl + 1 : end;
        if (ll == 0) {
            m->body = next;
            m->body_len = (size_t)(end - next);
            break;
        }
        if ((*p == ' ' || *p == '\t') && slot && cur) {
            cur = arena_printf(a, "%s%.*s", cur, (int)ll, p);
            *slot = cur;
        } else {
            const char *colon = memchr(p, ':', ll);
            slot = NULL;
            if (colon) {
                size_t nlen = (size_t)(colon - p);
                const char *v = colon + 1;
                while (v < p + ll && *v == ' ')
                    v++;
                static const char *names[] = {"subject", "to", "from", "date", "content-transfer-encoding"};
                const char **slots[] = {&m->subject, &m->to, &m->from, &m->date, &m->cte};
                for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                    if (nlen == strlen(names[k]) && !strncasecmp(p, names[k], nlen) && !*slots[k]) {
                        slot = slots[k];
                        cur = arena_strndup(a, v, (size_t)(p + ll - v));
                        *slot = cur;
                    }
            }
        }
        p = next;
    }
    m->subject = m->subject ? devmail_words(a, m->subject) : "";
    m->from = m->from ? devmail_words(a, m->from) : "";
    m->to = m->to ? devmail_text(a, m->to, strlen(m->to)) : "";
    m->date = m->date ? devmail_text(a, m->date, strlen(m->date)) : "";
}

static const char *devmail_body(arena *a, const devmail_msg *m)
{
    if (!m->body)
        return "";
    if (m->cte && !strncasecmp(m->cte, "base64", 6)) {
        unsigned char *out = arena_alloc(a, m->body_len + 1);
        size_t got = 0;
        if (out && sodium_base642bin(out, m->body_len, m->body, m->body_len, " \r\n\t", &got, NULL,
                                     sodium_base64_VARIANT_ORIGINAL) == 0)
            return devmail_text(a, (const char *)out, got);
    }
    return devmail_text(a, m->body, m->body_len);
}

typedef struct devmail_entry {
    long long when, id;
    char name[64];
} devmail_entry;

static int devmail_newest_first(const void *x, const void *y)
{
    const devmail_entry *a = x, *b = y;
    if (a->when != b->when)
        return a->when < b->when ? 1 : -1;
    return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

static int devmail_list(request *req, response *res)
{
    char dir[1024];
    config_path("mail.capture_dir", dir, sizeof dir);
    json_t *list = json_array();
    DIR *d = opendir(dir);
    if (d) {
        size_t n = 0, cap = 64;
        devmail_entry *e = malloc(cap * sizeof *e);
        struct dirent *de;
        while (e && (de = readdir(d))) {
            long long when, id;
            if (!devmail_name_ok(de->d_name, &when, &id))
                continue;
            if (n == cap) {
                devmail_entry *g = realloc(e, 2 * cap * sizeof *e);
                if (!g)
                    break;
                e = g;
                cap *= 2;
            }
            e[n].when = when;
            e[n].id = id;
            /* devmail_name_ok accepted only digits, '-' and ".eml": the name fits */
            snprintf(e[n].name, sizeof e[n].name, "%.*s", (int)(sizeof e[n].name - 1), de->d_name);
            n++;
        }
        closedir(d);
        if (e) {
            qsort(e, n, sizeof *e, devmail_newest_first);
            for (size_t i = 0; i < n && i < DEVMAIL_LIST_MAX; i++) {
                size_t len = 0;
                char *raw = devmail_read(req->a, e[i].name, DEVMAIL_HEAD_MAX, &len);
                if (!raw)
                    continue;
                devmail_msg m;
                devmail_parse(req->a, raw, len, &m);
                json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "name", e[i].name, "subject", m.subject,
                                                      "to", m.to, "date", m.date));
            }
            free(e);
        }
    }
    res_page(res, "devmail/index.cs", "devmail.title", json_pack("{s:o}", "messages", list));
    return 0;
}

static int devmail_show(request *req, response *res)
{
    const char *name = req_path_param(req, "name");
    size_t len = 0;
    char *raw = devmail_name_ok(name, NULL, NULL) ? devmail_read(req->a, name, DEVMAIL_FILE_MAX, &len) : NULL;
    if (!raw) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    devmail_msg m;
    devmail_parse(req->a, raw, len, &m);
    const char *body = devmail_body(req->a, &m);
    res_page(res, "devmail/show.cs", "devmail.title",
             json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", name, "subject", m.subject, "from", m.from, "to", m.to,
                       "date", m.date, "body", body ? body : ""));
    return 0;
}

static const route routes[] = {
    {"GET", "/dev/mail", devmail_list, R_DEV | R_PUBLIC | R_PAGE, NULL, NULL},
    {"GET", "/dev/mail/{name}", devmail_show, R_DEV | R_PUBLIC | R_PAGE, NULL, NULL},
};

const module devmail_module = {"devmail", NULL, NULL, ROUTES(routes)};
