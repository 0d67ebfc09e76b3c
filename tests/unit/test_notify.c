/* test_notify.c — unit tests of the notification parts that need no database: template lookup
 * with its fallbacks, {{var}} substitution, the shipped templates, the template file cache and
 * HH:MM parsing (quiet hours' ends are computed in SQL: tests/unit/test_notify_db.c). */
#include "unit.h"
#include "arena.h"
#include "config.h"
#include "notify.h"
#include "notify_template.h"
#include "notify_template_cache.h"
#include <dirent.h>
#include <fcntl.h>
#include <time.h>

static arena A;

static void setup(void)
{
    arena_init(&A, 4096);
}

static void teardown(void)
{
    arena_destroy(&A);
    config_free();
    notify_template_cache_clear();
}

static const char *const TEXT = "# a comment\n"
                                "pt-BR.in_app.title = Olá {{name}}\n"
                                "pt-BR.in_app.body = Linha 1\\nLinha 2 \\\\ fim  \n"
                                "pt-BR.in_app.title_long = nunca\n"
                                "en.in_app.title = Hello {{name}}\n"
                                "en.telegram.text = Hi {{ name }}\n"
                                "  # pt-BR.email.subject = commented out\n";

START_TEST(test_template_parts_and_fallbacks)
{
    ck_assert_str_eq(notify_template_part(&A, TEXT, "pt-BR", "in_app", "title"), "Olá {{name}}");
    /* "\n" is a line break, "\\" a backslash, trailing blanks dropped */
    ck_assert_str_eq(notify_template_part(&A, TEXT, "pt-BR", "in_app", "body"), "Linha 1\nLinha 2 \\ fim");
    ck_assert_str_eq(notify_template_part(&A, TEXT, "en", "telegram", "text"), "Hi {{ name }}");
    /* a channel without the part uses the in-app one; a language without it uses pt-BR */
    ck_assert_str_eq(notify_template_part(&A, TEXT, "en", "email", "title"), "Hello {{name}}");
    ck_assert_str_eq(notify_template_part(&A, TEXT, "en", "in_app", "body"), "Linha 1\nLinha 2 \\ fim");
    ck_assert_str_eq(notify_template_part(&A, TEXT, "fr", "in_app", "title"), "Olá {{name}}");
    /* a key that only starts like the one asked for, or a commented line, is not it */
    ck_assert_ptr_null(notify_template_part(&A, TEXT, "pt-BR", "email", "subject"));
    ck_assert_ptr_null(notify_template_part(&A, TEXT, "pt-BR", "in_app", "title_lon"));
}
END_TEST

START_TEST(test_substitution)
{
    json_t *d = json_pack("{s:s, s:I, s:f, s:b, s:n, s:{s:s}}", "name", "Ana <b>", "n", (json_int_t)42, "x", 1.5, "ok",
                          1, "none", "user", "city", "Recife");
    /* nothing is escaped when stored: pages escape on render */
    ck_assert_str_eq(notify_subst(&A, "Olá {{name}}!", d, NULL), "Olá Ana <b>!");
    ck_assert_str_eq(notify_subst(&A, "{{n}}/{{x}}/{{ok}}/[{{none}}]/[{{missing}}]", d, NULL), "42/1.5/true/[]/[]");
    ck_assert_str_eq(notify_subst(&A, "{{user.city}} {{user.nope}} {{user}}", d, NULL), "Recife  ");
    ck_assert_str_eq(notify_subst(&A, "open {{name", d, NULL), "open {{name");
    ck_assert_str_eq(notify_subst(&A, "{{}}", d, NULL), "");
    ck_assert_str_eq(notify_subst(&A, "plain", NULL, NULL), "plain");
    ck_assert_str_eq(notify_subst(&A, "{{name}}", NULL, NULL), "");
    json_decref(d);
}
END_TEST

START_TEST(test_substitution_per_language)
{
    json_t *d = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "amount", "R$ 1.234,50", "amount@en", "R$1,234.50", "ref",
                          "DEP-1", "fee", "value", "R$ 0,10", "value@en", "R$0.10");
    /* the reader's language wins; a language without its own value, or none asked, gets the plain one */
    ck_assert_str_eq(notify_subst(&A, "{{amount}} {{ref}} {{fee.value}}", d, "en"), "R$1,234.50 DEP-1 R$0.10");
    ck_assert_str_eq(notify_subst(&A, "{{amount}} {{ref}} {{fee.value}}", d, "pt-BR"), "R$ 1.234,50 DEP-1 R$ 0,10");
    ck_assert_str_eq(notify_subst(&A, "{{amount}}", d, NULL), "R$ 1.234,50");
    /* a template may still name one language's value outright */
    ck_assert_str_eq(notify_subst(&A, "{{amount@en}}", d, "pt-BR"), "R$1,234.50");
    json_decref(d);
}
END_TEST

START_TEST(test_template_names)
{
    ck_assert_int_eq(notify_template_name_ok("banco.deposit_confirmed"), 1);
    ck_assert_int_eq(notify_template_name_ok("../etc/passwd"), 0);
    ck_assert_int_eq(notify_template_name_ok("a..b"), 0);
    ck_assert_int_eq(notify_template_name_ok(".hidden"), 0);
    ck_assert_int_eq(notify_template_name_ok("Upper"), 0);
    ck_assert_int_eq(notify_template_name_ok("a/b"), 0);
    ck_assert_int_eq(notify_template_name_ok(""), 0);
    ck_assert_int_eq(notify_template_name_ok(NULL), 0);
}
END_TEST

/* the shipped templates render in both languages from the source tree */
START_TEST(test_shipped_templates)
{
    char cfg[1200], src[1024];
    /* an absolute directory: a relative one is taken under app.root */
    ck_assert_ptr_nonnull(realpath(unit_srcdir(), src));
    snprintf(cfg, sizeof cfg, "notify.templates_dir = %s/templates/notify\n", src);
    char err[256];
    ck_assert_int_eq(config_parse_text(cfg, err, sizeof err), 0);
    json_t *d = json_pack("{s:s, s:s}", "amount", "R$ 10,00", "reference", "DEP-1");
    ck_assert_str_eq(notify_render(&A, "banco.deposit_confirmed", "en", "in_app", "title", d), "Deposit confirmed");
    ck_assert_str_eq(notify_render(&A, "banco.deposit_confirmed", "pt-BR", "email", "subject", d),
                     "Depósito de R$ 10,00 confirmado");
    /* the e-mail body falls back to the in-app body */
    ck_assert_str_eq(notify_render(&A, "banco.deposit_confirmed", "en", "email", "body", d),
                     "Your deposit of R$ 10,00 (ref. DEP-1) was credited to your wallet.");
    ck_assert_ptr_null(notify_render(&A, "no.such_template", "en", "in_app", "title", d));
    ck_assert_ptr_null(notify_render(&A, "../lang/en", "en", "in_app", "title", d));
    json_decref(d);
    /* every shipped template speaks both languages on every channel itself, not through a fallback:
     * an e-mail without a subject would fail to send, an English reader would get Portuguese */
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/templates/notify", src);
    DIR *dh = opendir(dir);
    ck_assert_ptr_nonnull(dh);
    int seen = 0;
    for (struct dirent *e; (e = readdir(dh));) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".txt"))
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = notify_template_file(&A, path);
        ck_assert_ptr_nonnull(text);
        const char *langs[] = {"pt-BR", "en"};
        const char *keys[] = {"in_app.title", "in_app.body", "email.subject", "telegram.text"};
        for (int l = 0; l < 2; l++)
            for (int k = 0; k < 4; k++) {
                /* the telegram.* templates are chat replies only */
                if (!strncmp(e->d_name, "telegram.", 9) && k != 3)
                    continue;
                char line[64];
                snprintf(line, sizeof line, "\n%s.%s", langs[l], keys[k]);
                ck_assert_msg(strstr(text, line), "%s lacks %s.%s", e->d_name, langs[l], keys[k]);
            }
        seen++;
    }
    closedir(dh);
    ck_assert_int_ge(seen, 10);
}
END_TEST

/* writes dir/t.txt and dates it seconds_ago (fixed, so the cache can trust its mtime) */
static void write_template(const char *dir, const char *text, long seconds_ago)
{
    ck_assert_int_eq(unit_write_file(dir, "t.txt", text, (size_t)-1), 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/t.txt", dir);
    struct timespec when[2] = {{time(NULL) - seconds_ago, 0}, {time(NULL) - seconds_ago, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, when, 0), 0);
}

static const char *title_of(const char *name)
{
    return notify_render(&A, name, "pt-BR", "in_app", "title", NULL);
}

START_TEST(test_template_cache_follows_the_file)
{
    char dir[512], cfg[700], err[128];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    snprintf(cfg, sizeof cfg, "notify.templates_dir = %s\n", dir);
    ck_assert_int_eq(config_parse_text(cfg, err, sizeof err), 0);

    write_template(dir, "pt-BR.in_app.title = one\n", 600);
    ck_assert_str_eq(title_of("t"), "one");
    ck_assert_int_eq(notify_template_cache_size(), 1);
    /* same inode, size and mtime: the cached text is served (the file is not read again) */
    write_template(dir, "pt-BR.in_app.title = two\n", 600);
    ck_assert_str_eq(title_of("t"), "one");
    /* only the mtime differs: read again */
    write_template(dir, "pt-BR.in_app.title = two\n", 300);
    ck_assert_str_eq(title_of("t"), "two");
    /* only the size differs */
    write_template(dir, "pt-BR.in_app.title = three\n", 300);
    ck_assert_str_eq(title_of("t"), "three");
    /* just written (mtime now): always read again until it is older than the file system's clock tick */
    write_template(dir, "pt-BR.in_app.title = four!\n", 0);
    ck_assert_str_eq(title_of("t"), "four!");
    write_template(dir, "pt-BR.in_app.title = five!\n", 0);
    ck_assert_str_eq(title_of("t"), "five!");

    /* a missing file gives NULL and leaves the cache; created again, it is found */
    char path[1100];
    snprintf(path, sizeof path, "%s/t.txt", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_ptr_null(title_of("t"));
    ck_assert_int_eq(notify_template_cache_size(), 0);
    ck_assert_ptr_null(title_of("t"));
    write_template(dir, "pt-BR.in_app.title = back\n", 600);
    ck_assert_str_eq(title_of("t"), "back");

    /* bounded: more files than slots keep at most NOTIFY_TEMPLATE_CACHE_SLOTS */
    for (int i = 0; i < NOTIFY_TEMPLATE_CACHE_SLOTS + 6; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "f%d.txt", i);
        snprintf(text, sizeof text, "pt-BR.in_app.title = file %d\n", i);
        ck_assert_int_eq(unit_write_file(dir, name, text, (size_t)-1), 0);
        snprintf(name, sizeof name, "f%d", i);
        ck_assert_str_eq(title_of(name), arena_printf(&A, "file %d", i));
    }
    ck_assert_int_eq(notify_template_cache_size(), NOTIFY_TEMPLATE_CACHE_SLOTS);
    unit_rm_rf(dir);
}
END_TEST

START_TEST(test_hhmm_and_names)
{
    ck_assert_int_eq(notify_parse_hhmm("00:00"), 0);
    ck_assert_int_eq(notify_parse_hhmm("22:30"), 22 * 60 + 30);
    ck_assert_int_eq(notify_parse_hhmm("23:59"), 1439);
    ck_assert_int_eq(notify_parse_hhmm("24:00"), -1);
    ck_assert_int_eq(notify_parse_hhmm("12:60"), -1);
    ck_assert_int_eq(notify_parse_hhmm("7:00"), -1);
    ck_assert_int_eq(notify_parse_hhmm("07-00"), -1);
    ck_assert_int_eq(notify_parse_hhmm(NULL), -1);
    ck_assert_int_eq(notify_priority_of_severity("critical"), NOTIFY_URGENT);
    ck_assert_int_eq(notify_priority_of_severity("warning"), NOTIFY_HIGH);
    ck_assert_int_eq(notify_priority_of_severity("info"), NOTIFY_NORMAL);
    ck_assert_int_eq(notify_priority_of_severity(NULL), NOTIFY_NORMAL);
    ck_assert_int_eq(notify_category_ok("p2p"), 1);
    ck_assert_int_eq(notify_category_ok("segurança"), 0);
    ck_assert_int_eq(notify_priority_parse("urgent"), NOTIFY_URGENT);
    ck_assert_int_eq(notify_priority_parse("loud"), -1);
    ck_assert_str_eq(notify_priority_name(NOTIFY_LOW), "low");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("templates");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_template_parts_and_fallbacks);
    tcase_add_test(tc, test_substitution);
    tcase_add_test(tc, test_substitution_per_language);
    tcase_add_test(tc, test_template_names);
    tcase_add_test(tc, test_shipped_templates);
    tcase_add_test(tc, test_template_cache_follows_the_file);
    tcase_add_test(tc, test_hhmm_and_names);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
