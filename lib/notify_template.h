/* notify_template.h — the request-free parts of notifications: message templates per channel and
 * language ({{var}} filled from JSON data, nothing escaped) and HH:MM parsing for quiet hours. */
#ifndef BCF_NOTIFY_TEMPLATE_H
#define BCF_NOTIFY_TEMPLATE_H
#include <jansson.h>
#include "arena.h"

/* A template name: [a-z0-9_.] only, 1..80 characters, no "..", so it can name a file. */
int notify_template_name_ok(const char *name);

/* The value of "<lang>.<channel>.<part> = ..." in template text (one "key = value" per line, '#'
 * comments, "\n" in a value is a line break). Missing: the same part of the in_app channel, then
 * both again in pt-BR. Returns an arena copy, or NULL when none of them exists. */
char *notify_template_part(arena *a, const char *text, const char *lang, const char *channel, const char *part);

/* tmpl with each {{name}} (dots walk nested objects) replaced by data's value: strings as they
 * are, numbers printed, true/false, missing or null as "". An unclosed "{{" stays as written.
 * When lang is set, a key "name@<lang>" wins over "name": a sender passes a value formatted for
 * each language ("amount": "R$ 1.234,50", "amount@en": "R$1,234.50") and every template says
 * {{amount}}. */
char *notify_subst(arena *a, const char *tmpl, const json_t *data, const char *lang);

/* Renders one part of templates/notify/<name>.txt (config notify.templates_dir), the file's text
 * coming through the cache of lib/notify_template_cache.h (re-read when it changed). NULL when
 * the name is invalid, the file is missing or it lacks the part. */
char *notify_render(arena *a, const char *name, const char *lang, const char *channel, const char *part,
                    const json_t *data);

/* "HH:MM" -> minutes of the day, or -1 when malformed. */
int notify_parse_hhmm(const char *s);
#endif
