/* mfa.h — two-step verification for an account: TOTP enrolment (secret sealed in the vault),
 * code checks with the replay guard, and single-use recovery codes. */
#ifndef BCF_MFA_H
#define BCF_MFA_H
#include "ctx.h"

#define MFA_RECOVERY_CODES 10

/* Starts (or restarts) enrolment of c's user: a new secret, sealed into users.totp_secret while
 * totp_enabled_at stays NULL. Writes the base32 secret (arena) to *secret_b32. Audited.
 * 0, -1 on failure, -2 when 2FA is already enabled. */
int mfa_begin(const ctx *c, char **secret_b32);
/* Confirms enrolment with a first code: enables 2FA, stores MFA_RECOVERY_CODES new recovery
 * codes (hashed) and returns them in codes[] (arena strings). Audited.
 * 1 enabled, 0 wrong code, -1 failure, -2 nothing pending or already enabled. */
int mfa_enable(const ctx *c, const char *code, char *codes[MFA_RECOVERY_CODES]);
/* Checks a TOTP code or an unused recovery code of user_id (tenant c->tenant_id). A TOTP step
 * is accepted once (users.totp_last_step moves forward atomically); a recovery code is spent.
 * *method is "totp" or "recovery". 1 right, 0 wrong, -1 failure, -2 2FA not enabled. */
int mfa_verify(const ctx *c, long long user_id, const char *code, const char **method);
/* Turns 2FA off for c's user (secret and recovery codes removed). Audited. 0 or -1. */
int mfa_disable(const ctx *c);
/* Replaces the recovery codes of c's user (old ones stop working). Audited. 0 or -1. */
int mfa_new_recovery_codes(const ctx *c, char *codes[MFA_RECOVERY_CODES]);
#endif
