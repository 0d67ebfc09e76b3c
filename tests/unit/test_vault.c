/* test_vault.c — unit tests of lib/vault.c: seal/open round trips, what must refuse to open
 * (other tenant or column, tampering, truncation, unknown key), key file checks, masks, rotation. */
#include "unit.h"
#include "arena.h"
#include "config.h"
#include "vault.h"
#include <sodium.h>

static char dir[512];
static arena a;

/* Two fixed keys (32 bytes each, base64) so the files are readable in the test. */
#define KEY1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define KEY2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static void setup(void)
{
    ck_assert_int_ge(sodium_init(), 0);
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    arena_init(&a, 65536);
}

static void teardown(void)
{
    arena_destroy(&a);
    unit_rm_rf(dir);
}

/* Writes a key file with the given mode; returns its path (static buffer per call site is
 * enough: the tests use one or two at a time). */
static const char *keyfile(const char *name, const char *text, mode_t mode, char *path, size_t len)
{
    ck_assert_int_eq(unit_write_file(dir, name, text, (size_t)-1), 0);
    snprintf(path, len, "%s/%s", dir, name);
    ck_assert_int_eq(chmod(path, mode), 0);
    return path;
}

static char err[512];

static int load_text(const char *text, mode_t mode)
{
    char path[1024];
    err[0] = '\0';
    return vault_load(keyfile("vault.keys", text, mode, path, sizeof path), err, sizeof err);
}

START_TEST(test_round_trip)
{
    ck_assert_int_eq(load_text("# comment\n\n1 " KEY1 "\n", 0600), 0);
    ck_assert(vault_loaded());
    ck_assert_uint_eq(vault_current_key(), 1);
    const char *secret = "s3cr3t-api-secret-value";
    char *env = vault_seal(&a, "credentials.api_secret", 42, secret, strlen(secret));
    ck_assert_ptr_nonnull(env);
    ck_assert_msg(!strncmp(env, "1|", 2), "envelope %s", env);
    ck_assert_ptr_null(strstr(env, secret));
    ck_assert_uint_eq(vault_envelope_key(env), 1);
    /* three fields, base64url only */
    const char *b1 = strchr(env, '|'), *b2 = strchr(b1 + 1, '|');
    ck_assert_ptr_nonnull(b2);
    ck_assert_ptr_null(strchr(b2 + 1, '|'));
    ck_assert_uint_eq(strspn(b1 + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_|"), strlen(b1 + 1));
    char *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(vault_open(&a, "credentials.api_secret", 42, env, &out, &n), 0);
    ck_assert_uint_eq(n, strlen(secret));
    ck_assert_str_eq(out, secret);
    /* binary content with a NUL inside survives too */
    const char bin[] = {'a', 0, 'b', (char)0xff};
    env = vault_seal(&a, "users.totp_secret", 7, bin, sizeof bin);
    ck_assert_int_eq(vault_open(&a, "users.totp_secret", 7, env, &out, &n), 0);
    ck_assert_uint_eq(n, sizeof bin);
    ck_assert_mem_eq(out, bin, sizeof bin);
    ck_assert_int_eq(out[n], 0);
    /* the empty secret is a valid plaintext */
    env = vault_seal(&a, "credentials.passphrase", 7, "", 0);
    ck_assert_int_eq(vault_open(&a, "credentials.passphrase", 7, env, &out, &n), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_nonce_is_random)
{
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0600), 0);
    char *e1 = vault_seal(&a, "credentials.api_key", 1, "same-plaintext", 14);
    char *e2 = vault_seal(&a, "credentials.api_key", 1, "same-plaintext", 14);
    ck_assert_ptr_nonnull(e1);
    ck_assert_ptr_nonnull(e2);
    ck_assert_str_ne(e1, e2);
    /* not only the ciphertext: the nonces differ */
    ck_assert_int_ne(strncmp(e1, e2, (size_t)(strrchr(e1, '|') - e1)), 0);
}
END_TEST

/* Replaces e[i] with another base64url character. */
static char *flip(const char *e, size_t i)
{
    char *c = arena_strdup(&a, e);
    c[i] = c[i] == 'A' ? 'B' : 'A';
    return c;
}

/* vault_context binds a value to its row's owner: another user of the same tenant cannot use it. */
START_TEST(test_owner_binding)
{
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0600), 0);
    const char *mine = vault_context(&a, "users.totp_secret", 41);
    ck_assert_str_eq(mine, "users.totp_secret#41");
    char *env = vault_seal(&a, mine, 3, "JBSWY3DPEHPK3PXP", 16);
    ck_assert_ptr_nonnull(env);
    char *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(vault_open(&a, vault_context(&a, "users.totp_secret", 41), 3, env, &out, &n), 0);
    ck_assert_str_eq(out, "JBSWY3DPEHPK3PXP");
    /* the same tenant and column, another user's row; and the column without an owner */
    ck_assert_int_eq(vault_open(&a, vault_context(&a, "users.totp_secret", 42), 3, env, &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, vault_context(&a, "users.totp_secret", 4), 3, env, &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, "users.totp_secret", 3, env, &out, &n), -1);
}
END_TEST

START_TEST(test_refusals)
{
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0600), 0);
    const char *col = "credentials.api_key";
    char *env = vault_seal(&a, col, 5, "key-material-0123", 17);
    ck_assert_ptr_nonnull(env);
    char *out = (char *)"untouched";
    size_t n = 99;
    /* the control: it opens */
    ck_assert_int_eq(vault_open(&a, col, 5, env, &out, &n), 0);
    /* another tenant, another column */
    ck_assert_int_eq(vault_open(&a, col, 6, env, &out, &n), -1);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(vault_open(&a, "credentials.api_secret", 5, env, &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, "users.totp_secret", 5, env, &out, &n), -1);
    /* the separators matter: tenant 12 + column "3x" is not tenant 123 + column "x" */
    char *sep = vault_seal(&a, "3x", 12, "abcdefgh", 8);
    ck_assert_int_eq(vault_open(&a, "x", 123, sep, &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, "3x", 12, sep, &out, &n), 0);
    /* one changed character in the ciphertext, and in the nonce */
    const char *ct = strrchr(env, '|') + 1;
    ck_assert_int_eq(vault_open(&a, col, 5, flip(env, (size_t)(ct - env) + 3), &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, flip(env, 4), &out, &n), -1);
    /* truncations */
    size_t len = strlen(env);
    for (size_t cut = 0; cut < len; cut++) {
        char *t = arena_strndup(&a, env, cut);
        ck_assert_msg(vault_open(&a, col, 5, t, &out, &n) == -1, "truncated to %zu opened", cut);
    }
    /* ciphertext shorter than the tag, an extra field, trailing junk */
    char *shorty = arena_printf(&a, "%.*sAAAA", (int)(ct - env), env);
    ck_assert_int_eq(vault_open(&a, col, 5, shorty, &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, arena_printf(&a, "%s|AAAA", env), &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, arena_printf(&a, "%s=", env), &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, arena_printf(&a, "%s ", env), &out, &n), -1);
    /* unknown key ids, and ids that are not ids */
    ck_assert_int_eq(vault_open(&a, col, 5, arena_printf(&a, "9%s", env + 1), &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, arena_printf(&a, "0%s", env + 1), &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, arena_printf(&a, "01%s", env + 1), &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, arena_printf(&a, "-1%s", env + 1), &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, "", &out, &n), -1);
    ck_assert_int_eq(vault_open(&a, col, 5, "plain text api key", &out, &n), -1);
    ck_assert_uint_eq(vault_envelope_key("12|a|b"), 12);
    ck_assert_uint_eq(vault_envelope_key("12"), 0);
    ck_assert_uint_eq(vault_envelope_key("x|a|b"), 0);
    ck_assert_uint_eq(vault_envelope_key("0|a|b"), 0);
    ck_assert_uint_eq(vault_envelope_key(NULL), 0);
    /* a refused open leaves nothing to read */
    ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_keyfile_errors)
{
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0644), -1);
    ck_assert_msg(strstr(err, "0644") && strstr(err, "group/other"), "message: %s", err);
    ck_assert(!vault_loaded());
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0640), -1);
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0604), -1);
    ck_assert_int_eq(load_text("1 " KEY1 "\n1 " KEY2 "\n", 0600), -1);
    ck_assert_msg(strstr(err, "duplicate key id 1"), "message: %s", err);
    ck_assert_int_eq(load_text("1 not*base64!!\n", 0600), -1);
    ck_assert_msg(strstr(err, "line 1") && strstr(err, "base64"), "message: %s", err);
    /* base64 of 16 bytes: a valid encoding, the wrong size */
    ck_assert_int_eq(load_text("1 AAAAAAAAAAAAAAAAAAAAAA==\n", 0600), -1);
    ck_assert_msg(strstr(err, "16 bytes"), "message: %s", err);
    ck_assert_int_eq(load_text("1 " KEY1 "AAAA\n", 0600), -1);
    ck_assert_int_eq(load_text("0 " KEY1 "\n", 0600), -1);
    ck_assert_int_eq(load_text("x " KEY1 "\n", 0600), -1);
    ck_assert_int_eq(load_text("1\n", 0600), -1);
    ck_assert_int_eq(load_text("# only a comment\n\n", 0600), -1);
    ck_assert_msg(strstr(err, "no keys"), "message: %s", err);
    /* no message ever carries key material */
    ck_assert_int_eq(load_text("1 " KEY1 "\n2 " KEY2 "\n2 " KEY1 "\n", 0600), -1);
    ck_assert_ptr_null(strstr(err, "AQEB"));
    ck_assert_ptr_null(strstr(err, "AgIC"));
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/none", dir);
    ck_assert_int_eq(vault_load(missing, err, sizeof err), -1);
    ck_assert(!vault_loaded());
    /* a good file, with CRLF, tabs and comments; then a bad reload keeps the loaded keys */
    ck_assert_int_eq(load_text("# keys\r\n\t2\t" KEY2 "  \r\n  # old\n1 " KEY1 "\n", 0600), 0);
    ck_assert_uint_eq(vault_current_key(), 2);
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0644), -1);
    ck_assert_uint_eq(vault_current_key(), 2);
    char *env = vault_seal(&a, "c", 1, "still-works", 11);
    ck_assert_ptr_nonnull(env);
    ck_assert_uint_eq(vault_envelope_key(env), 2);
}
END_TEST

START_TEST(test_no_keyfile)
{
    /* the workers load lazily: a missing vault.keyfile fails seal and open, it does not crash */
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/absent.keys", dir);
    setenv("BCF_VAULT_KEYFILE", missing, 1);
    ck_assert_int_eq(config_load(NULL, err, sizeof err), 0);
    ck_assert_ptr_null(vault_seal(&a, "credentials.api_key", 1, "abcdefgh", 8));
    char *out = NULL;
    size_t n;
    const char *well_formed = "1|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|AAAAAAAAAAAAAAAAAAAAAAAA";
    ck_assert_int_eq(vault_open(&a, "credentials.api_key", 1, well_formed, &out, &n), -1);
    ck_assert(!vault_loaded());
    /* and once the file appears, the next use loads it */
    char path[1024];
    keyfile("absent.keys", "1 " KEY1 "\n", 0600, path, sizeof path);
    ck_assert_int_eq(vault_load(path, err, sizeof err), 0);
    ck_assert_ptr_nonnull(vault_seal(&a, "credentials.api_key", 1, "abcdefgh", 8));
    config_free();
    unsetenv("BCF_VAULT_KEYFILE");
}
END_TEST

START_TEST(test_lazy_load_from_config)
{
    char path[1024];
    keyfile("lazy.keys", "3 " KEY1 "\n", 0600, path, sizeof path);
    setenv("BCF_VAULT_KEYFILE", path, 1);
    ck_assert_int_eq(config_load(NULL, err, sizeof err), 0);
    char *env = vault_seal(&a, "credentials.api_key", 1, "abcdefgh", 8);
    ck_assert_ptr_nonnull(env);
    ck_assert_uint_eq(vault_envelope_key(env), 3);
    ck_assert(vault_loaded());
    config_free();
    unsetenv("BCF_VAULT_KEYFILE");
}
END_TEST

START_TEST(test_rotation)
{
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0600), 0);
    char *old = vault_seal(&a, "credentials.api_secret", 9, "old-secret-value", 16);
    ck_assert_uint_eq(vault_envelope_key(old), 1);
    /* key 2 listed first: the highest id is current, not the last line */
    ck_assert_int_eq(load_text("2 " KEY2 "\n1 " KEY1 "\n", 0600), 0);
    ck_assert_uint_eq(vault_current_key(), 2);
    char *fresh = vault_seal(&a, "credentials.api_secret", 9, "new-secret-value", 16);
    ck_assert(!strncmp(fresh, "2|", 2));
    char *out;
    size_t n;
    ck_assert_int_eq(vault_open(&a, "credentials.api_secret", 9, old, &out, &n), 0);
    ck_assert_str_eq(out, "old-secret-value");
    ck_assert_int_eq(vault_open(&a, "credentials.api_secret", 9, fresh, &out, &n), 0);
    ck_assert_str_eq(out, "new-secret-value");
    /* the key id is bound too: relabelling a key-1 envelope as key 2 does not open */
    char *relabel = arena_printf(&a, "2%s", old + 1);
    ck_assert_int_eq(vault_open(&a, "credentials.api_secret", 9, relabel, &out, &n), -1);
    /* with key 1 gone from the file, its envelopes no longer open */
    ck_assert_int_eq(load_text("2 " KEY2 "\n", 0600), 0);
    ck_assert_int_eq(vault_open(&a, "credentials.api_secret", 9, old, &out, &n), -1);
}
END_TEST

START_TEST(test_reload_on_unknown_key)
{
    /* a process that knows only key 1 meets an envelope under key 2 (sealed by a process that
     * already saw a rotation): it re-reads its key file, which was replaced, and opens it */
    char p2[1024], p1[1024];
    ck_assert_int_eq(vault_load(keyfile("both.keys", "1 " KEY1 "\n2 " KEY2 "\n", 0600, p2, sizeof p2), err, sizeof err), 0);
    char *env = vault_seal(&a, "users.totp_secret", 3, "JBSWY3DPEHPK3PXP", 16);
    ck_assert_uint_eq(vault_envelope_key(env), 2);
    ck_assert_int_eq(vault_load(keyfile("one.keys", "1 " KEY1 "\n", 0600, p1, sizeof p1), err, sizeof err), 0);
    ck_assert_uint_eq(vault_current_key(), 1);
    ck_assert_int_eq(rename(p2, p1), 0);
    char *out;
    size_t n;
    ck_assert_int_eq(vault_open(&a, "users.totp_secret", 3, env, &out, &n), 0);
    ck_assert_str_eq(out, "JBSWY3DPEHPK3PXP");
    ck_assert_uint_eq(vault_current_key(), 2);
}
END_TEST

START_TEST(test_plaintext_wiped_with_arena)
{
    ck_assert_int_eq(load_text("1 " KEY1 "\n", 0600), 0);
    arena b;
    arena_init(&b, 65536); /* one chunk: it stays mapped across arena_reset */
    char *env = vault_seal(&b, "credentials.api_key", 1, "wipe-me-please", 14);
    char *out;
    size_t n;
    ck_assert_int_eq(vault_open(&b, "credentials.api_key", 1, env, &out, &n), 0);
    ck_assert_str_eq(out, "wipe-me-please");
    arena_reset(&b);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(out[i], 0);
    arena_destroy(&b);
}
END_TEST

/* Characters of a mask that come from the secret (the bullets and the ellipsis do not). */
static size_t mask_visible(const char *m)
{
    size_t v = 0;
    for (const unsigned char *p = (const unsigned char *)m; *p; p++)
        v += *p < 0x80;
    return v;
}

START_TEST(test_mask)
{
    char s[300];
    for (size_t len = 0; len < sizeof s - 1; len++) {
        for (size_t i = 0; i < len; i++)
            s[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[i % 36];
        s[len] = '\0';
        char *m = vault_mask(&a, s);
        ck_assert_ptr_nonnull(m);
        size_t vis = mask_visible(m);
        ck_assert_msg(vis * 4 <= len, "len %zu: mask %s shows %zu characters", len, m, vis);
        if (len < 12)
            ck_assert_str_eq(m, "••••");
        else {
            ck_assert_msg(vis >= 2, "len %zu: mask %s shows nothing", len, m);
            ck_assert_uint_le(vis, 8);
            /* only the ends are shown */
            size_t k = vis / 2;
            ck_assert_int_eq(strncmp(m, s, k), 0);
            ck_assert_int_eq(strcmp(m + strlen(m) - k, s + len - k), 0);
        }
    }
    ck_assert_str_eq(vault_mask(&a, "AKIAIOSFODNN7EXAMPLEabcdefghijkl"), "AKIA…ijkl");
    ck_assert_str_eq(vault_mask(&a, "abcdefghijkl"), "a…l");
    ck_assert_str_eq(vault_mask(&a, "abcdefghijklmnop"), "ab…op");
    ck_assert_str_eq(vault_mask(&a, "short"), "••••");
    ck_assert_str_eq(vault_mask(&a, ""), "••••");
    /* a multi-byte character at an end is never cut in half: nothing is shown then */
    ck_assert_str_eq(vault_mask(&a, "ééééééééééééééééééééé"), "••••");
}
END_TEST

START_TEST(test_new_key_line)
{
    char l1[128], l2[128];
    ck_assert_int_eq(vault_new_key_line(1, l1, sizeof l1), 0);
    ck_assert_int_eq(vault_new_key_line(2, l2, sizeof l2), 0);
    ck_assert(!strncmp(l1, "1 ", 2));
    ck_assert(!strncmp(l2, "2 ", 2));
    ck_assert_str_ne(l1 + 2, l2 + 2);
    ck_assert_int_eq(vault_new_key_line(0, l1, sizeof l1), -1);
    ck_assert_int_eq(vault_new_key_line(1, l1, 10), -1);
    char text[300];
    ck_assert_int_eq(vault_new_key_line(1, l1, sizeof l1), 0);
    snprintf(text, sizeof text, "%s\n%s\n", l1, l2);
    ck_assert_int_eq(load_text(text, 0600), 0);
    ck_assert_uint_eq(vault_current_key(), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vault");
    TCase *tc = tcase_create("vault");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_nonce_is_random);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_owner_binding);
    tcase_add_test(tc, test_keyfile_errors);
    tcase_add_test(tc, test_no_keyfile);
    tcase_add_test(tc, test_lazy_load_from_config);
    tcase_add_test(tc, test_rotation);
    tcase_add_test(tc, test_reload_on_unknown_key);
    tcase_add_test(tc, test_plaintext_wiped_with_arena);
    tcase_add_test(tc, test_mask);
    tcase_add_test(tc, test_new_key_line);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
