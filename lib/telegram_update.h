/* telegram_update.h — reading one Telegram Bot API update: what kind it is, the chat, the text
 * or the button's data, and a command split into its name and arguments. No I/O. */
#ifndef BCF_TELEGRAM_UPDATE_H
#define BCF_TELEGRAM_UPDATE_H
#include <jansson.h>
#include <stddef.h>

typedef enum { TG_MESSAGE, TG_CALLBACK, TG_OTHER, TG_MALFORMED } tg_kind;

typedef struct tg_update {
    long long update_id;        /* -1 when the update has none (nothing can be stored then) */
    tg_kind kind;
    long long chat_id;          /* 0 when unknown */
    long long message_id;       /* the message (a callback's: the message that carried the buttons) */
    const char *text;           /* message text ("" for none); borrowed from the JSON */
    const char *callback_id;    /* callback_query.id */
    const char *callback_data;  /* callback_query.data ("" for none) */
    const char *language_code;  /* from.language_code ("" for none) */
} tg_update;

/* Reads j (an update object). Returns the kind also stored in u->kind: TG_MALFORMED when j is
 * not an object, has no integral update_id, or a message/callback lacks its chat or ids. */
tg_kind tg_update_parse(const json_t *j, tg_update *u);
/* "message", "callback_query", "other", "malformed": telegram_updates.kind. */
const char *tg_kind_name(tg_kind k);

/* A command split in place: "/startbot@MyBot 12" → name "startbot", args "12". */
typedef struct tg_command {
    char name[33];              /* lower case, without the slash and @bot; "" when text is no command */
    char args[256];             /* the rest, spaces trimmed; truncated at 255 bytes */
} tg_command;
/* 1 when text starts with a command (/[a-z0-9_]{1,32}), else 0 with cmd->name "". */
int tg_command_parse(const char *text, tg_command *cmd);
/* The next space-separated word of *s (at most n-1 bytes kept), advancing *s; 0 when none. */
int tg_next_word(const char **s, char *out, size_t n);
#endif
