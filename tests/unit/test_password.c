/* test_password.c — unit tests of lib/password.c: argon2id hash/verify with small test parameters,
 * rehash when the configured parameters rise, and the policy (length, UTF-8, common list, e-mail). */
#include "unit.h"
#include "config.h"
#include "password.h"

/* Loads the config from the environment with cheap argon2 parameters and the repo's list. */
static void load_config(const char *opslimit, const char *memlimit_kib, const char *min_length)
{
    char err[256] = "";
    setenv("BCF_PASSWORD_OPSLIMIT", opslimit, 1);
    setenv("BCF_PASSWORD_MEMLIMIT_KIB", memlimit_kib, 1);
    setenv("BCF_PASSWORD_MIN_LENGTH", min_length, 1);
    setenv("BCF_APP_ROOT", unit_srcdir(), 1);
    unsetenv("BCF_PASSWORD_COMMON_LIST");
    ck_assert_msg(config_load(NULL, err, sizeof err) == 0, "config_load: %s", err);
}

static void setup(void)
{
    load_config("1", "8192", "10");
}

static void teardown(void)
{
    config_free();
}

START_TEST(test_hash_verify)
{
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
    const char *pw = "correct horse battery staple";
    ck_assert_int_eq(password_hash(pw, h1), 0);
    /* a PHC string with the configured parameters */
    ck_assert_msg(strncmp(h1, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0, "unexpected hash %s", h1);
    ck_assert_int_eq(password_verify(h1, pw), 1);
    ck_assert_int_eq(password_verify(h1, "correct horse battery stapler"), 0);
    ck_assert_int_eq(password_verify(h1, "Correct horse battery staple"), 0);
    ck_assert_int_eq(password_verify(h1, ""), 0);
    ck_assert_int_eq(password_verify(h1, NULL), 0);
    /* a fresh salt each time */
    ck_assert_int_eq(password_hash(pw, h2), 0);
    ck_assert_str_ne(h1, h2);
    ck_assert_int_eq(password_verify(h2, pw), 1);
    /* UTF-8 passwords hash as their bytes */
    ck_assert_int_eq(password_hash("sênha-çomprida-ão", h2), 0);
    ck_assert_int_eq(password_verify(h2, "sênha-çomprida-ão"), 1);
    ck_assert_int_eq(password_verify(h2, "senha-comprida-ao"), 0);
    ck_assert_int_eq(password_hash(NULL, h2), -1);
}
END_TEST

START_TEST(test_verify_malformed)
{
    char h[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("a fine passphrase", h), 0);
    ck_assert_int_eq(password_verify(NULL, "a fine passphrase"), 0);
    ck_assert_int_eq(password_verify("", "a fine passphrase"), 0);
    ck_assert_int_eq(password_verify("not a hash", "a fine passphrase"), 0);
    ck_assert_int_eq(password_verify("$argon2id$v=19$m=8192,t=1,p=1$", "a fine passphrase"), 0);
    /* the same hash cut short, and with one character of the digest changed */
    char cut[PASSWORD_HASH_MAX];
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(h) - 5, h);
    ck_assert_int_eq(password_verify(cut, "a fine passphrase"), 0);
    snprintf(cut, sizeof cut, "%s", h);
    size_t last = strlen(cut) - 2;
    cut[last] = cut[last] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(password_verify(cut, "a fine passphrase"), 0);
    /* a string longer than any hash (no NUL within libsodium's buffer) */
    char longer[512];
    memset(longer, 'a', sizeof longer - 1);
    longer[0] = '$';
    longer[sizeof longer - 1] = '\0';
    ck_assert_int_eq(password_verify(longer, "a fine passphrase"), 0);
    ck_assert_int_eq(password_needs_rehash(longer), 0);
    ck_assert_int_eq(password_needs_rehash("not a hash"), 0);
    ck_assert_int_eq(password_needs_rehash(NULL), 0);
}
END_TEST

START_TEST(test_needs_rehash)
{
    char h[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("rehash me when stronger", h), 0);
    ck_assert_int_eq(password_needs_rehash(h), 0);
    /* more passes configured: the next login rehashes; the old hash still verifies meanwhile */
    load_config("2", "8192", "10");
    ck_assert_int_eq(password_needs_rehash(h), 1);
    ck_assert_int_eq(password_verify(h, "rehash me when stronger"), 1);
    char fresh[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("rehash me when stronger", fresh), 0);
    ck_assert(strstr(fresh, "t=2") != NULL);
    ck_assert_int_eq(password_needs_rehash(fresh), 0);
    /* more memory configured: rehash too */
    load_config("1", "9216", "10");
    ck_assert_int_eq(password_needs_rehash(h), 1);
    /* back to the hash's own parameters */
    load_config("1", "8192", "10");
    ck_assert_int_eq(password_needs_rehash(h), 0);
}
END_TEST

START_TEST(test_policy_length)
{
    ck_assert_str_eq(password_policy_error("", NULL), "password.too_short");
    ck_assert_str_eq(password_policy_error("short", NULL), "password.too_short");
    ck_assert_str_eq(password_policy_error("nine-char", NULL), "password.too_short");
    ck_assert_ptr_null(password_policy_error("ten-chars!", NULL));
    /* code points, not bytes: 9 two-byte characters are 18 bytes but still too short */
    ck_assert_str_eq(password_policy_error("çãéíóúêôà", NULL), "password.too_short");
    ck_assert_ptr_null(password_policy_error("çãéíóúêôàõ", NULL));
    /* 4-byte characters count once each too */
    ck_assert_str_eq(password_policy_error("🔑🔑🔑🔑🔑🔑🔑🔑🔑", NULL), "password.too_short");
    ck_assert_ptr_null(password_policy_error("🔑🔑🔑🔑🔑🔑🔑🔑🔑🔐", NULL));
    /* at most 1024 bytes */
    char big[1100];
    memset(big, 'x', 1024);
    big[0] = 'Q';
    big[1024] = '\0';
    ck_assert_ptr_null(password_policy_error(big, NULL));
    big[1024] = 'y';
    big[1025] = '\0';
    ck_assert_str_eq(password_policy_error(big, NULL), "password.too_long");
    /* the minimum follows the config */
    load_config("1", "8192", "12");
    ck_assert_str_eq(password_policy_error("eleven-char", NULL), "password.too_short");
    ck_assert_ptr_null(password_policy_error("twelve-chars", NULL));
}
END_TEST

START_TEST(test_policy_utf8)
{
    ck_assert_str_eq(password_policy_error("abcdefghij\xff", NULL), "password.invalid");
    ck_assert_str_eq(password_policy_error("abcdefghij\xc3", NULL), "password.invalid");         /* truncated */
    ck_assert_str_eq(password_policy_error("abcdefghij\xc0\xaf", NULL), "password.invalid");     /* overlong '/' */
    ck_assert_str_eq(password_policy_error("abcdefghij\xed\xa0\x80", NULL), "password.invalid"); /* surrogate */
    ck_assert_str_eq(password_policy_error(NULL, NULL), "password.invalid");
}
END_TEST

START_TEST(test_policy_common)
{
    /* at the default minimum of 10, long entries of the list are still refused */
    ck_assert_str_eq(password_policy_error("1234567890", NULL), "password.common");
    ck_assert_str_eq(password_policy_error("qwertyuiop", NULL), "password.common");
    ck_assert_str_eq(password_policy_error("QwErTyUiOp", NULL), "password.common");
    /* with a lower minimum the short favourites reach the list check */
    load_config("1", "8192", "6");
    static const char *common[] = {"123456", "password", "PassWord", "PASSWORD", "senha123", "SENHA123", "Senha123"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        const char *e = password_policy_error(common[i], NULL);
        ck_assert_msg(e && strcmp(e, "password.common") == 0, "'%s' should be common, got %s", common[i],
                      e ? e : "NULL");
    }
    /* the comment lines at the top of the file are not passwords */
    ck_assert_ptr_null(password_policy_error("# common-passwords.txt — passwords refused at registration and "
                                             "password change: the Openwall",
                                             NULL));
    ck_assert_ptr_null(password_policy_error("senha123-não-é-comum", NULL));
}
END_TEST

START_TEST(test_policy_email)
{
    const char *email = "Ana.Souza.Silva@Example.com";
    ck_assert_str_eq(password_policy_error("ana.souza.silva", email), "password.common");
    ck_assert_str_eq(password_policy_error("ANA.SOUZA.SILVA", email), "password.common");
    ck_assert_str_eq(password_policy_error("ana.souza.silva@example.com", email), "password.common");
    ck_assert_ptr_null(password_policy_error("ana.souza.silva2", email));
    ck_assert_ptr_null(password_policy_error("ana.souza.silva", "someone.else@example.com"));
    ck_assert_ptr_null(password_policy_error("ana.souza.silva", ""));
    /* an address without '@' still counts as a whole */
    ck_assert_str_eq(password_policy_error("localonly-user", "localonly-user"), "password.common");
}
END_TEST

START_TEST(test_policy_strong)
{
    ck_assert_ptr_null(password_policy_error("correct horse battery staple 42 ção", "ana@example.com"));
    ck_assert_ptr_null(password_policy_error("Tr0ub4dor&3-muito-longa", NULL));
}
END_TEST

START_TEST(test_common_list_file)
{
    char dir[256];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    ck_assert_int_eq(unit_write_file(dir, "list.txt",
                                     "# a comment line\r\n\r\nHunter2Hunter2\r\nzebra-zebra-zebra\n#notalisted-pw\n"
                                     "aaaaaaaaaaaa",
                                     (size_t)-1),
                     0);
    char path[512];
    snprintf(path, sizeof path, "%s/list.txt", dir);
    ck_assert_int_eq(password_load_common(path), 0);
    ck_assert_str_eq(password_policy_error("hunter2hunter2", NULL), "password.common"); /* CRLF, folded */
    ck_assert_str_eq(password_policy_error("ZEBRA-zebra-ZEBRA", NULL), "password.common");
    ck_assert_str_eq(password_policy_error("aaaaaaaaaaaa", NULL), "password.common"); /* last line, no newline */
    ck_assert_ptr_null(password_policy_error("#notalisted-pw", NULL));
    ck_assert_ptr_null(password_policy_error("# a comment line", NULL));
    /* the loaded list replaced the bundled one */
    ck_assert_ptr_null(password_policy_error("1234567890", NULL));
    /* a failed load keeps the list in use */
    ck_assert_int_eq(password_load_common("/nonexistent/bcf/list.txt"), -1);
    ck_assert_str_eq(password_policy_error("hunter2hunter2", NULL), "password.common");
    unit_rm_rf(dir);
    /* forgetting it brings the bundled list back at the next check (and for later tests under CK_FORK=no) */
    ck_assert_int_eq(password_load_common(NULL), 0);
    ck_assert_str_eq(password_policy_error("1234567890", NULL), "password.common");
    ck_assert_ptr_null(password_policy_error("hunter2hunter2", NULL));
}
END_TEST

START_TEST(test_common_list_missing)
{
    /* the configured list cannot be read: an error is logged and the other rules still hold */
    setenv("BCF_PASSWORD_COMMON_LIST", "/nonexistent/bcf/common.txt", 1);
    char err[256];
    ck_assert_int_eq(config_load(NULL, err, sizeof err), 0);
    ck_assert_int_eq(password_load_common(NULL), 0); /* forget any list an earlier test loaded */
    ck_assert_ptr_null(password_policy_error("1234567890", NULL));
    ck_assert_str_eq(password_policy_error("short", NULL), "password.too_short");
    ck_assert_str_eq(password_policy_error("abcdefghij\xff", NULL), "password.invalid");
    ck_assert_str_eq(password_policy_error("ana.souza.silva", "ana.souza.silva@example.com"), "password.common");
    ck_assert_ptr_null(password_policy_error("another fine passphrase", NULL));
    /* the list is back once the config names a readable file and the list is forgotten */
    unsetenv("BCF_PASSWORD_COMMON_LIST");
    ck_assert_int_eq(config_load(NULL, err, sizeof err), 0);
    ck_assert_ptr_null(password_policy_error("1234567890", NULL)); /* the failure is remembered */
    ck_assert_int_eq(password_load_common(NULL), 0);
    ck_assert_str_eq(password_policy_error("1234567890", NULL), "password.common");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("password");
    /* argon2 with 8 MiB and one pass takes milliseconds; the default timeout only guards hangs */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hash_verify);
    tcase_add_test(tc, test_verify_malformed);
    tcase_add_test(tc, test_needs_rehash);
    tcase_add_test(tc, test_policy_length);
    tcase_add_test(tc, test_policy_utf8);
    tcase_add_test(tc, test_policy_common);
    tcase_add_test(tc, test_policy_email);
    tcase_add_test(tc, test_policy_strong);
    tcase_add_test(tc, test_common_list_file);
    tcase_add_test(tc, test_common_list_missing);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
