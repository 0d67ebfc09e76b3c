/* notify_template.c — notification templates (one text file per template, "lang.channel.part =
 * value" lines, {{var}} substitution) and HH:MM parsing for quiet hours, free of any database. */
#include "notify_template.h"
#include "notify_template_cache.h"
#include "buf.h"
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int notify_template_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 80 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.") != n || strstr(name, ".."))
        return 0;
    return name[0] != '.';
}

/* the value of one exact key, unescaped ("\n" -> line break, "\\" -> backslash) */
static char *find_key(arena *a, const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);
        const char *p = line + strspn(line, " \t");
        if (*p != '#' && (size_t)(end - p) > klen && !strncmp(p, key, klen)) {
            const char *q = p + klen;
            q += strspn(q, " \t");
            if (*q == '=') {
                q++;
                q += strspn(q, " \t");
                const char *stop = end;
                while (stop > q && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r'))
                    stop--;
                char *out = arena_alloc(a, (size_t)(stop - q) + 1), *o = out;
                if (!out)
                    return NULL;
                for (const char *s = q; s < stop; s++) {
                    if (*s == '\\' && s + 1 < stop && (s[1] == 'n' || s[1] == '\\')) {
                        *o++ = s[1] == 'n' ? '\n' : '\\';
                        s++;
                    } else {
                        *o++ = *s;
                    }
                }
                *o = '\0';
                return out;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

char *notify_template_part(arena *a, const char *text, const char *lang, const char *channel, const char *part)
{
    const char *langs[] = {lang && *lang ? lang : "pt-BR", "pt-BR"};
    const char *channels[] = {channel, "in_app"};
    for (int l = 0; l < 2; l++)
        for (int c = 0; c < 2; c++) {
            char key[128];
            snprintf(key, sizeof key, "%s.%s.%s", langs[l], channels[c], part);
            char *v = find_key(a, text, key);
            if (v)
                return v;
        }
    return NULL;
}

static const json_t *lookup(const json_t *data, const char *name, size_t n)
{
    char path[128];
    if (n >= sizeof path)
        return NULL;
    memcpy(path, name, n);
    path[n] = '\0';
    const json_t *v = data;
    for (char *save = NULL, *seg = strtok_r(path, ".", &save); seg && v; seg = strtok_r(NULL, ".", &save))
        v = json_is_object(v) ? json_object_get(v, seg) : NULL;
    return v == data ? NULL : v;
}

static void put_value(buf *b, const json_t *v)
{
    if (json_is_string(v))
        buf_puts(b, json_string_value(v));
    else if (json_is_integer(v))
        buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        buf_printf(b, "%.10g", json_real_value(v));
    else if (json_is_boolean(v))
        buf_puts(b, json_is_true(v) ? "true" : "false");
}

char *notify_subst(arena *a, const char *tmpl, const json_t *data, const char *lang)
{
    buf b;
    buf_init(&b);
    const char *s = tmpl ? tmpl : "";
    for (;;) {
        const char *open = strstr(s, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (!close) {
            buf_puts(&b, s);
            break;
        }
        buf_append(&b, s, (size_t)(open - s));
        const char *name = open + 2;
        size_t n = (size_t)(close - name);
        while (n && *name == ' ')
            name++, n--;
        while (n && name[n - 1] == ' ')
            n--;
        const json_t *v = NULL;
        char local[160];
        /* "name@lang" first: a value the sender formatted for the reader's language */
        if (data && lang && *lang && (size_t)snprintf(local, sizeof local, "%.*s@%s", (int)n, name, lang) < sizeof local)
            v = lookup(data, local, strlen(local));
        if (!v && data)
            v = lookup(data, name, n);
        if (v)
            put_value(&b, v);
        s = close + 2;
    }
    char *out = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return out;
}

char *notify_render(arena *a, const char *name, const char *lang, const char *channel, const char *part,
                    const json_t *data)
{
    if (!notify_template_name_ok(name))
        return NULL;
    char dir[1024], path[1200];
    config_path("notify.templates_dir", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    const char *text = notify_template_file(a, path);
    char *t = text ? notify_template_part(a, text, lang, channel, part) : NULL;
    return t ? notify_subst(a, t, data, lang && *lang ? lang : "pt-BR") : NULL;
}

int notify_parse_hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}
