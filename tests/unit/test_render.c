/* test_render.c — unit tests of cgi/render.c against a throw-away templates directory: HTML
 * auto-escaping, language strings per request, cached templates re-rendered, missing templates. */
#include "unit.h"
#include "render.h"
#include "router.h"

static int h_noop(request *req, response *res)
{
    (void)req;
    (void)res;
    return 0;
}
static const route test_routes[] = {
    {"GET", "/", h_noop, R_PUBLIC, NULL, NULL},
};
static const module test_module = {"test", "nav.home", "/", ROUTES(test_routes)};
static const module *const test_modules[] = {&test_module, NULL};

static char tdir[512];

static const char *PT_HDF = "Lang {\n"
                            "  hello = Ol\xC3\xA1\n"
                            "  only_pt = S\xC3\xB3 em portugu\xC3\xAA" "s\n"
                            "  title = T\xC3\xADtulo <b>\n"
                            "  nav {\n    home = In\xC3\xAD" "cio\n  }\n"
                            "}\n";
static const char *EN_HDF = "Lang {\n"
                            "  hello = Hello\n"
                            "  title = Title <b>\n"
                            "  nav {\n    home = Home\n  }\n"
                            "}\n";
static const char *PAGE_CS = "<?cs # page.cs: a test template ?>"
                             "[x=<?cs var:data.x ?>]"
                             "[hello=<?cs var:Lang.hello ?>]"
                             "[lang=<?cs var:req.lang ?>]"
                             "[title=<?cs var:page.title ?>]"
                             "[nav=<?cs each:n = Nav ?><?cs var:n.label ?>@<?cs var:n.path ?>;<?cs /each ?>]"
                             "[list=<?cs each:i = data.list ?><?cs var:i ?>,<?cs /each ?>]";

static void setup(void)
{
    ck_assert_ptr_nonnull(unit_mkdtemp(tdir, sizeof tdir));
    ck_assert_int_eq(unit_write_file(tdir, "lang/pt-BR.hdf", PT_HDF, (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(tdir, "lang/en.hdf", EN_HDF, (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(tdir, "page.cs", PAGE_CS, (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(tdir, "sub/inner.cs", "<inner><?cs var:data.x ?></inner>", (size_t)-1), 0);
    ck_assert_int_eq(router_init(test_modules), 0);
    ck_assert_int_eq(render_init(tdir), 0);
}

static void teardown(void)
{
    render_shutdown();
    unit_rm_rf(tdir);
}

/* Renders template with data (stolen) for lang; returns render_page's result, output in out. */
static int render(const char *tpl, const char *lang, json_t *data, const char *title_key, buf *out, char *err,
                  size_t errlen)
{
    arena a;
    arena_init(&a, 0);
    request req = {0};
    req.a = &a;
    req.lang = lang;
    req.path = "/";
    response res = {0};
    buf_init(&res.headers);
    buf_init(&res.body);
    res.template = tpl;
    res.title_key = title_key;
    res.data = data;
    buf_init(out);
    err[0] = '\0';
    int rc = render_page(&req, &res, out, err, errlen);
    if (res.data)
        json_decref(res.data);
    buf_free(&res.headers);
    buf_free(&res.body);
    arena_destroy(&a);
    return rc;
}

#define assert_contains(hay, needle) ck_assert_msg(strstr((hay), (needle)) != NULL, "'%s' not in output: %s", (needle), (hay))
#define assert_lacks(hay, needle) ck_assert_msg(strstr((hay), (needle)) == NULL, "'%s' in output: %s", (needle), (hay))

/* Regression (fixed; cgi/render.c, template_get): the parse HDF sets "Config.AutoEscape" = 1, a setting of
 * newer ClearSilver releases that Debian's clearsilver-dev 0.10.5 does not know (no such string in
 * libneo_cs.a); that version's global escaping is "Config.VarEscapeMode" = html. As built, every
 * <?cs var: ?> is emitted raw: data.x = "<script>alert(1)</script>" comes out as a live script tag. */
START_TEST(test_autoescape)
{
    buf out;
    char err[512];
    json_t *d = json_pack("{s:s, s:[s, s]}", "x", "<script>alert(1)</script>", "list", "a&b", "\"q\"");
    ck_assert_int_eq(render("page.cs", "en", d, "title", &out, err, sizeof err), 0);
    assert_contains(out.data, "[x=&lt;script&gt;alert(1)&lt;/script&gt;]");
    assert_lacks(out.data, "<script>");
    assert_contains(out.data, "a&amp;b,");
    assert_lacks(out.data, "\"q\"");
    /* strings from the language files too (page.title) */
    assert_contains(out.data, "[title=Title &lt;b&gt;]");
    buf_free(&out);
    ck_assert_int_eq(render("sub/inner.cs", "en", json_pack("{s:s}", "x", "<i>"), NULL, &out, err, sizeof err), 0);
    ck_assert_str_eq(out.data, "<inner>&lt;i&gt;</inner>");
    buf_free(&out);
}
END_TEST

START_TEST(test_lang_strings)
{
    buf out;
    char err[512];
    ck_assert_int_eq(render("page.cs", "en", json_pack("{s:s}", "x", "1"), "title", &out, err, sizeof err), 0);
    assert_contains(out.data, "[hello=Hello]");
    assert_contains(out.data, "[lang=en]");
    assert_contains(out.data, "[nav=Home@/;]");
    /* page.title comes from the language file of the request */
    assert_contains(out.data, "[title=Title ");
    buf_free(&out);
    ck_assert_int_eq(render("page.cs", "pt-BR", json_pack("{s:s}", "x", "1"), "title", &out, err, sizeof err), 0);
    assert_contains(out.data, "[hello=Ol\xC3\xA1]");
    assert_contains(out.data, "[lang=pt-BR]");
    assert_contains(out.data, "[nav=In\xC3\xAD" "cio@/;]");
    buf_free(&out);
    /* no language: pt-BR; an unknown language: pt-BR strings */
    ck_assert_int_eq(render("page.cs", NULL, NULL, NULL, &out, err, sizeof err), 0);
    assert_contains(out.data, "[hello=Ol\xC3\xA1]");
    buf_free(&out);
    ck_assert_int_eq(render("page.cs", "fr", NULL, NULL, &out, err, sizeof err), 0);
    assert_contains(out.data, "[hello=Ol\xC3\xA1]");
    buf_free(&out);
}
END_TEST

START_TEST(test_lang_string_api)
{
    ck_assert_str_eq(render_lang_string("en", "hello"), "Hello");
    ck_assert_str_eq(render_lang_string("pt-BR", "hello"), "Ol\xC3\xA1");
    /* missing in en: pt-BR; missing everywhere: the key */
    ck_assert_str_eq(render_lang_string("en", "only_pt"), "S\xC3\xB3 em portugu\xC3\xAAs");
    ck_assert_str_eq(render_lang_string("en", "no.such.key"), "no.such.key");
    ck_assert_str_eq(render_lang_string("xx", "hello"), "Ol\xC3\xA1");
    ck_assert_str_eq(render_lang_string(NULL, "nav.home"), "In\xC3\xAD" "cio");
    ck_assert_int_eq(render_lang_known("en"), 1);
    ck_assert_int_eq(render_lang_known("pt-BR"), 1);
    ck_assert_int_eq(render_lang_known("fr"), 0);
    ck_assert_int_eq(render_lang_known("pt"), 0);
}
END_TEST

START_TEST(test_cached_template_rerendered)
{
    buf out;
    char err[512];
    ck_assert_int_eq(render("page.cs", "en", json_pack("{s:s, s:[i,i]}", "x", "first", "list", 1, 2), NULL, &out,
                            err, sizeof err),
                     0);
    assert_contains(out.data, "[x=first]");
    assert_contains(out.data, "[list=1,2,]");
    buf_free(&out);
    /* the parse tree is cached now: new data, new language, nothing left over */
    ck_assert_int_eq(render("page.cs", "pt-BR", json_pack("{s:s, s:[i]}", "x", "second", "list", 3), NULL, &out,
                            err, sizeof err),
                     0);
    assert_contains(out.data, "[x=second]");
    assert_contains(out.data, "[list=3,]");
    assert_contains(out.data, "[hello=Ol\xC3\xA1]");
    assert_lacks(out.data, "first");
    assert_lacks(out.data, "Hello");
    buf_free(&out);
    /* and without data at all */
    ck_assert_int_eq(render("page.cs", "en", NULL, NULL, &out, err, sizeof err), 0);
    assert_contains(out.data, "[x=]");
    assert_contains(out.data, "[list=]");
    assert_contains(out.data, "[hello=Hello]");
    buf_free(&out);
    /* many renders of the same template stay consistent */
    for (int i = 0; i < 50; i++) {
        char want[32];
        snprintf(want, sizeof want, "[x=%d]", i);
        ck_assert_int_eq(render("page.cs", i % 2 ? "en" : "pt-BR", json_pack("{s:i}", "x", i), NULL, &out, err,
                                sizeof err),
                         0);
        assert_contains(out.data, want);
        assert_contains(out.data, i % 2 ? "[hello=Hello]" : "[hello=Ol\xC3\xA1]");
        buf_free(&out);
    }
}
END_TEST

START_TEST(test_subdirectory_template)
{
    buf out;
    char err[512];
    ck_assert_int_eq(render("sub/inner.cs", "en", json_pack("{s:s}", "x", "in sub"), NULL, &out, err, sizeof err), 0);
    ck_assert_str_eq(out.data, "<inner>in sub</inner>");
    buf_free(&out);
}
END_TEST

START_TEST(test_missing_template)
{
    buf out;
    char err[512];
    ck_assert_int_eq(render("nope.cs", "en", json_pack("{s:s}", "x", "1"), NULL, &out, err, sizeof err), -1);
    ck_assert_msg(err[0] != '\0', "no error message");
    buf_free(&out);
    /* a failed lookup is not cached: still -1, and other templates still work */
    ck_assert_int_eq(render("nope.cs", "en", NULL, NULL, &out, err, sizeof err), -1);
    buf_free(&out);
    ck_assert_int_eq(render("../etc/passwd", "en", NULL, NULL, &out, err, sizeof err), -1);
    buf_free(&out);
    ck_assert_int_eq(render("page.cs", "en", NULL, NULL, &out, err, sizeof err), 0);
    buf_free(&out);
}
END_TEST

START_TEST(test_broken_template)
{
    buf out;
    char err[512];
    ck_assert_int_eq(unit_write_file(tdir, "broken.cs", "<?cs bogus:data.x ?>", (size_t)-1), 0);
    ck_assert_int_eq(render("broken.cs", "en", NULL, NULL, &out, err, sizeof err), -1);
    ck_assert_msg(err[0] != '\0', "no error message");
    buf_free(&out);
}
END_TEST

START_TEST(test_init_missing_lang)
{
    render_shutdown();
    char empty[512];
    ck_assert_ptr_nonnull(unit_mkdtemp(empty, sizeof empty));
    ck_assert_int_eq(render_init(empty), -1);
    render_shutdown();
    unit_rm_rf(empty);
    /* the fixture's teardown shuts down again: harmless */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lang_strings);
    tcase_add_test(tc, test_lang_string_api);
    tcase_add_test(tc, test_cached_template_rerendered);
    tcase_add_test(tc, test_subdirectory_template);
    tcase_add_test(tc, test_missing_template);
    tcase_add_test(tc, test_broken_template);
    tcase_add_test(tc, test_init_missing_lang);
    suite_add_tcase(s, tc);
    tc = unit_regressions_tcase();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_autoescape);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
