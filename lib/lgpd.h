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

/* The version of a document ("terms", "privacy") in force now (published_at <= now()); 0 when
 * none (or another name), -1 when the database cannot be read. One indexed query, no cache. */
int lgpd_current_version(arena *a, const char *document);
/* Records that user_id (of c's tenant) accepted (granted = 1) or withdrew (0) consent to a document
 * version or a purpose ("marketing", version 0), with c's address and the time, audited
 * "privacy.consent" in the same transaction: the caller's when it is inside one (registration),
 * else its own. 0; -2 refused (bad name, user not of c's tenant or deleted, terms/privacy version
 * not published); -1 database failure. */
int lgpd_record_consent(const ctx *c, long long user_id, const char *document, int version, int granted);
/* The same, also storing the browser's User-Agent (first 300 bytes). */
int lgpd_record_consent_ua(const ctx *c, long long user_id, const char *document, int version, int granted,
                           const char *user_agent);
/* 1 when a terms or privacy version in force is newer than the last one user_id (of c's tenant)
 * accepted, 0 when not, -1 when unknown. Both sides are cached: a consent change drops the user's
 * entry; a newly published version is noticed within cache.ttl.lgpd seconds, or at once after
 * `botctl cache-invalidate lgpd:documents`. */
int lgpd_acceptance_pending(const ctx *c, long long user_id);
/* The static table in lgpd.c: one hook per module that stores personal data. */
const lgpd_hook *lgpd_hooks(size_t *n);
/* {"format":"botcriptofy-export/1","generated_at":...,"user_id":...,"<module>":...} for user_id
 * of c's tenant, every hook's section; NULL when any section fails (never a partial copy). */
json_t *lgpd_export(const ctx *c, long long user_id);
/* Anonymises the account in one transaction (every hook's anonymiser, then the user row: e-mail
 * deleted-<id>@deleted.invalid, no name, an unusable password, no 2FA, status deleted), audited
 * "account.delete"; then ends the user's sessions and cached permissions. Audit rows and consent
 * records stay. 0; -2 when the user is the tenant's last active CEO; -1 on failure (nothing
 * changed). c->a must be set. */
int lgpd_delete_account(const ctx *c, long long user_id);
#endif
