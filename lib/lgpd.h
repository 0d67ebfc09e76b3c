/* lgpd.h — data-subject rights: every module registers one exporter (its part of "my data") and
 * one anonymiser (what it erases or keeps when an account is deleted). */
#ifndef BCF_LGPD_H
#define BCF_LGPD_H
#include <jansson.h>
#include "ctx.h"

typedef struct lgpd_hook {
    const char *module;                                   /* key in the export document */
    json_t *(*export_fn)(const ctx *c, long long user_id);/* new reference, or NULL on failure */
    int (*anonymise_fn)(const ctx *c, long long user_id); /* inside the deletion transaction; 0 or -1 */
} lgpd_hook;

/* The current published version of a document ("terms", "privacy"); 0 when none, -1 on error. */
int lgpd_current_version(arena *a, const char *document);
/* Records that user_id accepted (granted = 1) or withdrew (0) consent to a document version or a
 * purpose ("marketing"), with c's address and time; audited. 0 or -1. */
int lgpd_record_consent(const ctx *c, long long user_id, const char *document, int version, int granted);
/* Registered once at start (static table in lgpd.c lists every module's hook). */
const lgpd_hook *lgpd_hooks(size_t *n);
/* {"format":"botcriptofy-export/1","generated_at":...,"<module>":...} for user_id of c's tenant. */
json_t *lgpd_export(const ctx *c, long long user_id);
/* Anonymises the account in one transaction (all hooks, then the user row), audited. 0 or -1. */
int lgpd_delete_account(const ctx *c, long long user_id);
#endif
