/* test_config.c — unit tests of lib/config.c: the key = value syntax, unknown and secret keys,
 * environment overrides, built-in defaults, typed getters, and that docs/configuration.md covers every key. */
#include "unit.h"
#include <ctype.h>
#include "config.h"

static char err[256];

/* Parses text into a fresh config; returns config_parse_text's result. */
static int parse(const char *text)
{
    config_free();
    err[0] = '\0';
    return config_parse_text(text, err, sizeof err);
}

/* The BCF_ environment variable of a key, as config.c derives it. */
static void env_name(const char *key, char *out, size_t outlen)
{
    size_t j = (size_t)snprintf(out, outlen, "BCF_");
    for (const char *p = key; *p && j + 1 < outlen; p++)
        out[j++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
    out[j] = '\0';
}

static void teardown(void)
{
    config_free();
}

START_TEST(test_defaults)
{
    config_free();
    size_t n = 0;
    for (const struct config_default *d = config_defaults; d->key; d++, n++) {
        ck_assert_msg(d->doc && *d->doc, "%s has no doc", d->key);
        char env[160];
        env_name(d->key, env, sizeof env);
        if (getenv(env))
            continue; /* overridden by the environment running the tests */
        const char *v = config_get(d->key);
        if (d->value)
            ck_assert_msg(v && strcmp(v, d->value) == 0, "%s: '%s' != default '%s'", d->key, v ? v : "(null)",
                          d->value);
        else
            ck_assert_msg(v == NULL, "%s should be unset", d->key);
    }
    ck_assert_uint_gt(n, 10);
    /* the table has no duplicate keys */
    for (const struct config_default *d = config_defaults; d->key; d++)
        for (const struct config_default *e = d + 1; e->key; e++)
            ck_assert_msg(strcmp(d->key, e->key) != 0, "duplicate default %s", d->key);
    unsetenv("BCF_REDIS_PORT");
    config_free();
    ck_assert_str_eq(config_get("redis.port"), "6379");
    ck_assert_ptr_null(config_get("no.such.key"));
    ck_assert_int_eq(config_load(NULL, err, sizeof err), 0);
    ck_assert_str_eq(config_get("redis.port"), "6379");
}
END_TEST

START_TEST(test_comments_blank_lines)
{
    unsetenv("BCF_APP_ENV");
    unsetenv("BCF_LOG_LEVEL");
    unsetenv("BCF_REDIS_HOST");
    const char *text = "# a comment line\n"
                       "\n"
                       "   \t  \n"
                       "   # indented comment\n"
                       "app.env = development   # trailing comment\n"
                       "log.level=debug\n"
                       "\tredis.host\t=\t10.0.0.5\t\n"
                       "# app.env = production\n";
    ck_assert_int_eq(parse(text), 0);
    ck_assert_str_eq(config_get("app.env"), "development");
    ck_assert_str_eq(config_get("log.level"), "debug");
    ck_assert_str_eq(config_get("redis.host"), "10.0.0.5");
    /* CRLF files and a last line without newline */
    ck_assert_int_eq(parse("app.env = test\r\nlog.level = warn"), 0);
    ck_assert_str_eq(config_get("app.env"), "test");
    ck_assert_str_eq(config_get("log.level"), "warn");
    /* empty text and comments only */
    ck_assert_int_eq(parse(""), 0);
    ck_assert_int_eq(parse("# nothing\n\n"), 0);
    ck_assert_str_eq(config_get("app.env"), "production");
    /* a later line wins over an earlier one */
    ck_assert_int_eq(parse("app.env = a\napp.env = b\n"), 0);
    ck_assert_str_eq(config_get("app.env"), "b");
}
END_TEST

START_TEST(test_quotes)
{
    unsetenv("BCF_APP_BASE_URL");
    unsetenv("BCF_LOG_LEVEL");
    unsetenv("BCF_METRICS_ALLOW");
    ck_assert_int_eq(parse("app.base_url = \"https://bcf.example\"\n"), 0);
    ck_assert_str_eq(config_get("app.base_url"), "https://bcf.example");
    /* quotes keep inner spaces; an empty quoted value is empty */
    ck_assert_int_eq(parse("metrics.allow = \" 10.0.0.0/8 \"\nlog.level = \"\"\n"), 0);
    ck_assert_str_eq(config_get("metrics.allow"), " 10.0.0.0/8 ");
    ck_assert_str_eq(config_get("log.level"), "");
    /* an unbalanced quote is kept as is */
    ck_assert_int_eq(parse("log.level = \"info\n"), 0);
    ck_assert_str_eq(config_get("log.level"), "\"info");
}
END_TEST

/* Regression (fixed; lib/config.c, config_parse_text): the comment is cut at the first '#' before quotes are
 * looked at, so `app.base_url = "https://x.example/#top"` silently becomes the value
 * `"https://x.example/` (leading quote kept, rest dropped). A quoted value must either keep its
 * '#' or the line must be rejected; a silently mangled value is the one wrong outcome. */
START_TEST(test_hash_inside_quotes)
{
    unsetenv("BCF_APP_BASE_URL");
    int rc = parse("app.base_url = \"https://x.example/#top\"\n");
    if (rc == 0)
        ck_assert_str_eq(config_get("app.base_url"), "https://x.example/#top");
    else
        ck_assert_msg(strstr(err, "line 1") != NULL, "error without line number: %s", err);
}
END_TEST

START_TEST(test_unknown_key)
{
    ck_assert_int_eq(parse("app.env = test\n# comment\n\nbogus.key = 1\napp.env = x\n"), -1);
    ck_assert_msg(strstr(err, "line 4") != NULL, "err lacks the line number: %s", err);
    ck_assert_msg(strstr(err, "bogus.key") != NULL, "err lacks the key: %s", err);
    ck_assert_int_eq(parse("bogus = 1"), -1);
    ck_assert_msg(strstr(err, "line 1") != NULL, "err: %s", err);
    /* prefixes and suffixes of real keys are not keys */
    ck_assert_int_eq(parse("app = 1\n"), -1);
    ck_assert_int_eq(parse("app.envx = 1\n"), -1);
    ck_assert_int_eq(parse("redis.port_file = /tmp/x\n"), -1); /* not a secret: no _file form */
    /* a line that is not key = value */
    ck_assert_int_eq(parse("app.env = ok\njust some words\n"), -1);
    ck_assert_msg(strstr(err, "line 2") != NULL, "err: %s", err);
    ck_assert_int_eq(parse(" = value\n"), -1);
}
END_TEST

START_TEST(test_secret_in_file_rejected)
{
    ck_assert_int_eq(parse("app.env = test\ndb.password = hunter2\n"), -1);
    ck_assert_msg(strstr(err, "line 2") != NULL, "err lacks the line number: %s", err);
    ck_assert_msg(strstr(err, "db.password") != NULL, "err lacks the key: %s", err);
    ck_assert_msg(strstr(err, "hunter2") == NULL, "the error message leaks the secret: %s", err);
    ck_assert_int_eq(parse("redis.password = \"s3cr3t\"\n"), -1);
    ck_assert_msg(strstr(err, "s3cr3t") == NULL, "the error message leaks the secret: %s", err);
    ck_assert_int_eq(parse("db.password =\n"), -1);
}
END_TEST

START_TEST(test_secret_file_accepted)
{
    unsetenv("BCF_DB_PASSWORD");
    unsetenv("BCF_DB_PASSWORD_FILE");
    char dir[512];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    ck_assert_int_eq(unit_write_file(dir, "dbpass", "  s3cr3t-pw \n second line\n", (size_t)-1), 0);
    char text[1200];
    snprintf(text, sizeof text, "db.password_file = %s/dbpass\nredis.password_file = \"%s/missing\"\n", dir, dir);
    ck_assert_int_eq(parse(text), 0);
    char *pw = config_secret("db.password");
    ck_assert_ptr_nonnull(pw);
    ck_assert_str_eq(pw, "s3cr3t-pw");
    free(pw);
    /* the secret never shows through config_get */
    ck_assert_ptr_null(config_get("db.password"));
    /* a missing file: no secret */
    unsetenv("BCF_REDIS_PASSWORD");
    unsetenv("BCF_REDIS_PASSWORD_FILE");
    ck_assert_ptr_null(config_secret("redis.password"));
    /* the environment wins over the file */
    setenv("BCF_DB_PASSWORD", "from-env", 1);
    pw = config_secret("db.password");
    ck_assert_str_eq(pw, "from-env");
    free(pw);
    unsetenv("BCF_DB_PASSWORD");
    unit_rm_rf(dir);
}
END_TEST

/* config.c memoises lookups: the environment is read once per load, so each case sets the
 * variable first and then (re)loads. */
START_TEST(test_env_override)
{
    unsetenv("BCF_REDIS_PORT");
    ck_assert_int_eq(parse("redis.port = 6380\n"), 0);
    ck_assert_str_eq(config_get("redis.port"), "6380");
    setenv("BCF_REDIS_PORT", "7001", 1);
    ck_assert_int_eq(parse("redis.port = 6380\n"), 0);
    ck_assert_str_eq(config_get("redis.port"), "7001");
    ck_assert_int_eq(config_int("redis.port"), 7001);
    /* over the default too */
    config_free();
    ck_assert_str_eq(config_get("redis.port"), "7001");
    unsetenv("BCF_REDIS_PORT");
    config_free();
    ck_assert_str_eq(config_get("redis.port"), "6379");
    /* dotted keys with underscores */
    setenv("BCF_HTTP_MAX_BODY_BYTES", "42", 1);
    config_free();
    ck_assert_int_eq(config_int("http.max_body_bytes"), 42);
    unsetenv("BCF_HTTP_MAX_BODY_BYTES");
    config_free();
    ck_assert_int_eq(config_int("http.max_body_bytes"), 1048576);
    /* an environment value for a key the file does not set, next to one it does */
    setenv("BCF_LOG_LEVEL", "error", 1);
    ck_assert_int_eq(parse("app.env = test\nlog.level = debug\n"), 0);
    ck_assert_str_eq(config_get("log.level"), "error");
    ck_assert_str_eq(config_get("app.env"), "test");
    unsetenv("BCF_LOG_LEVEL");
}
END_TEST

START_TEST(test_int_and_bool)
{
    static const char *yes[] = {"1", "true", "TRUE", "yes", "Yes", "on", "ON"};
    static const char *no[] = {"0", "false", "no", "off", "", "2", "enabled"};
    unsetenv("BCF_CACHE_ENABLED");
    unsetenv("BCF_HTTP_MAX_FIELDS");
    unsetenv("BCF_DB_RETRY_MAX");
    config_free();
    ck_assert_int_eq(config_int("http.max_fields"), 256);
    ck_assert_int_eq(config_bool("cache.enabled"), 1);
    ck_assert_int_eq(config_int("no.such.key"), 0);
    ck_assert_int_eq(config_bool("no.such.key"), 0);
    ck_assert_int_eq(parse("http.max_fields = 17\ndb.retry_max = -3\n"), 0);
    ck_assert_int_eq(config_int("http.max_fields"), 17);
    ck_assert_int_eq(config_int("db.retry_max"), -3);
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "cache.enabled = %s\n", yes[i]);
        ck_assert_int_eq(parse(text), 0);
        ck_assert_msg(config_bool("cache.enabled") == 1, "'%s' is not true", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "cache.enabled = %s\n", no[i]);
        ck_assert_int_eq(parse(text), 0);
        ck_assert_msg(config_bool("cache.enabled") == 0, "'%s' is not false", no[i]);
    }
}
END_TEST

START_TEST(test_cache_ttl_keys)
{
    unsetenv("BCF_CACHE_TTL_BOTS_LIST");
    unsetenv("BCF_CACHE_TTL_DASHBOARD");
    ck_assert_int_eq(parse("cache.ttl.bots.list = 45\ncache.ttl.dashboard = 10\ncache.ttl.p2p.market_prices = 5\n"), 0);
    ck_assert_int_eq(config_int("cache.ttl.bots.list"), 45);
    ck_assert_int_eq(config_int("cache.ttl.dashboard"), 10);
    ck_assert_int_eq(config_int("cache.ttl.p2p.market_prices"), 5);
    setenv("BCF_CACHE_TTL_BOTS_LIST", "99", 1);
    ck_assert_int_eq(parse("cache.ttl.bots.list = 45\n"), 0);
    ck_assert_int_eq(config_int("cache.ttl.bots.list"), 99);
    unsetenv("BCF_CACHE_TTL_BOTS_LIST");
    /* defaults of module policies */
    config_free();
    ck_assert_int_eq(config_int("cache.ttl.default"), 300);
    ck_assert_int_eq(config_int("cache.ttl.financeiro.commission_rates"), 86400);
    /* other cache.* keys are still checked */
    ck_assert_int_eq(parse("cache.bogus = 1\n"), -1);
}
END_TEST

START_TEST(test_config_load_and_path)
{
    unsetenv("BCF_APP_ROOT");
    unsetenv("BCF_FCGI_SOCKET");
    unsetenv("BCF_FCGI_PIDFILE");
    char dir[512], path[1024];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    ck_assert_int_eq(unit_write_file(dir, "bcf.conf", "app.root = /srv/bcf\nfcgi.socket = run/f.sock\n", (size_t)-1), 0);
    snprintf(path, sizeof path, "%s/bcf.conf", dir);
    ck_assert_int_eq(config_load(path, err, sizeof err), 0);
    char out[256];
    ck_assert_str_eq(config_path("fcgi.socket", out, sizeof out), "/srv/bcf/run/f.sock");
    ck_assert_str_eq(config_path("fcgi.pidfile", out, sizeof out), "/run/botcriptofy/fcgi.pid");
    /* errors name the file and the line */
    ck_assert_int_eq(unit_write_file(dir, "bad.conf", "app.env = x\nnope = 1\n", (size_t)-1), 0);
    snprintf(path, sizeof path, "%s/bad.conf", dir);
    ck_assert_int_eq(config_load(path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bad.conf") && strstr(err, "line 2"), "err: %s", err);
    snprintf(path, sizeof path, "%s/missing.conf", dir);
    ck_assert_int_eq(config_load(path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "missing.conf") != NULL, "err: %s", err);
    /* an empty file is fine */
    ck_assert_int_eq(unit_write_file(dir, "empty.conf", "", 0), 0);
    snprintf(path, sizeof path, "%s/empty.conf", dir);
    ck_assert_int_eq(config_load(path, err, sizeof err), 0);
    unit_rm_rf(dir);
}
END_TEST

START_TEST(test_every_key_documented)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/configuration.md", unit_srcdir());
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL,
                  "%s does not exist (yet): every key of config_defaults must be documented there "
                  "(set BCF_SRCDIR to the source tree when running outside make check)",
                  path);
    size_t cap = 1 << 16, len = 0, n;
    char *doc = malloc(cap + 1);
    while ((n = fread(doc + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            doc = realloc(doc, cap + 1);
        }
    }
    fclose(f);
    doc[len] = '\0';
    char missing[2048] = "";
    int n_missing = 0;
    for (const struct config_default *d = config_defaults; d->key; d++) {
        if (!strstr(doc, d->key)) {
            n_missing++;
            if (strlen(missing) + strlen(d->key) + 3 < sizeof missing) {
                strcat(missing, " ");
                strcat(missing, d->key);
            }
        }
    }
    free(doc);
    ck_assert_msg(n_missing == 0, "%d keys missing from docs/configuration.md:%s", n_missing, missing);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_comments_blank_lines);
    tcase_add_test(tc, test_quotes);
    tcase_add_test(tc, test_unknown_key);
    tcase_add_test(tc, test_secret_in_file_rejected);
    tcase_add_test(tc, test_secret_file_accepted);
    tcase_add_test(tc, test_env_override);
    tcase_add_test(tc, test_int_and_bool);
    tcase_add_test(tc, test_cache_ttl_keys);
    tcase_add_test(tc, test_config_load_and_path);
    suite_add_tcase(s, tc);
    tc = tcase_create("docs");
    tcase_add_test(tc, test_every_key_documented);
    suite_add_tcase(s, tc);
    tc = unit_regressions_tcase();
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_hash_inside_quotes);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
