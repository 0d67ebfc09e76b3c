/* telegram_update.c — reads a Telegram update into the few fields the bot acts on and splits a
 * command; anything unexpected makes the update malformed instead of a guess. */
#include "telegram_update.h"
#include <ctype.h>
#include <string.h>

static const char *str_or_empty(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int int_member(const json_t *o, const char *key, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return 0;
    *out = (long long)json_integer_value(v);
    return 1;
}

static tg_kind set_kind(tg_update *u, tg_kind k)
{
    u->kind = k;
    return k;
}

tg_kind tg_update_parse(const json_t *j, tg_update *u)
{
    memset(u, 0, sizeof *u);
    u->update_id = -1;
    u->text = u->callback_id = u->callback_data = u->language_code = "";
    if (!json_is_object(j) || !int_member(j, "update_id", &u->update_id) || u->update_id < 0) {
        u->update_id = -1;
        return set_kind(u, TG_MALFORMED);
    }
    json_t *msg = json_object_get(j, "message");
    json_t *cb = json_object_get(j, "callback_query");
    if (msg) {
        json_t *chat = json_object_get(msg, "chat");
        if (!json_is_object(msg) || !int_member(chat, "id", &u->chat_id) || !int_member(msg, "message_id", &u->message_id))
            return set_kind(u, TG_MALFORMED);
        json_t *text = json_object_get(msg, "text");
        if (text && !json_is_string(text))
            return set_kind(u, TG_MALFORMED);
        u->text = str_or_empty(msg, "text");
        u->language_code = str_or_empty(json_object_get(msg, "from"), "language_code");
        return set_kind(u, TG_MESSAGE);
    }
    if (cb) {
        json_t *m = json_object_get(cb, "message");
        if (!json_is_object(cb) || !json_is_string(json_object_get(cb, "id")) ||
            !int_member(json_object_get(m, "chat"), "id", &u->chat_id) || !int_member(m, "message_id", &u->message_id))
            return set_kind(u, TG_MALFORMED);
        u->callback_id = str_or_empty(cb, "id");
        u->callback_data = str_or_empty(cb, "data");
        u->language_code = str_or_empty(json_object_get(cb, "from"), "language_code");
        return set_kind(u, TG_CALLBACK);
    }
    return set_kind(u, TG_OTHER);
}

const char *tg_kind_name(tg_kind k)
{
    switch (k) {
    case TG_MESSAGE:
        return "message";
    case TG_CALLBACK:
        return "callback_query";
    case TG_OTHER:
        return "other";
    default:
        return "malformed";
    }
}

int tg_command_parse(const char *text, tg_command *cmd)
{
    cmd->name[0] = cmd->args[0] = '\0';
    if (!text || text[0] != '/')
        return 0;
    const char *p = text + 1;
    size_t n = 0;
    while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_')) {
        if (n >= sizeof cmd->name - 1)
            return 0;
        n++;
    }
    if (n == 0 || (p[n] && p[n] != '@' && !isspace((unsigned char)p[n])))
        return 0;
    for (size_t i = 0; i < n; i++)
        cmd->name[i] = (char)tolower((unsigned char)p[i]);
    cmd->name[n] = '\0';
    p += n;
    if (*p == '@')
        while (*p && !isspace((unsigned char)*p))
            p++;
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    if (len >= sizeof cmd->args)
        len = sizeof cmd->args - 1;
    memcpy(cmd->args, p, len);
    cmd->args[len] = '\0';
    return 1;
}

int tg_next_word(const char **s, char *out, size_t n)
{
    const char *p = *s;
    while (isspace((unsigned char)*p))
        p++;
    size_t len = 0;
    while (p[len] && !isspace((unsigned char)p[len]))
        len++;
    if (!len || !n)
        return 0;
    size_t keep = len < n - 1 ? len : n - 1;
    memcpy(out, p, keep);
    out[keep] = '\0';
    *s = p + len;
    return 1;
}
