/* test_router.c — unit tests of cgi/router.c over small static module tables: literal and
 * {param} matching, 404 vs 405 with Allow, HEAD on GET routes, /api/v1 twins of page routes. */
#include "unit.h"
#include "router.h"

static int h_noop(request *req, response *res)
{
    (void)req;
    (void)res;
    return 0;
}
static int h_other(request *req, response *res)
{
    (void)req;
    (void)res;
    return 1;
}

static const route alpha_routes[] = {
    {"GET", "/", h_noop, R_PUBLIC, NULL, NULL},
    {"GET", "/bots", h_noop, R_AUTH | R_PAGE, "bots.read", NULL},
    {"POST", "/bots", h_other, R_AUTH | R_CSRF, "bots.write", "bots.create"},
    {"GET", "/bots/new", h_noop, R_AUTH | R_PAGE, "bots.write", NULL},
    {"GET", "/bots/{id}", h_other, R_AUTH | R_PAGE, "bots.read", NULL},
    {"DELETE", "/bots/{id}", h_noop, R_AUTH | R_CSRF, "bots.write", NULL},
    {"GET", "/bots/{id}/trades/{trade}", h_noop, R_AUTH, NULL, NULL},
    {"POST", "/login", h_noop, R_CSRF, NULL, "auth.login"},
    {"PUT", "/settings", h_noop, R_AUTH, NULL, NULL},
    {"PATCH", "/settings", h_noop, R_AUTH, NULL, NULL},
};
static const route beta_routes[] = {
    {"GET", "/health", h_noop, R_PUBLIC | R_NOLOG, NULL, NULL},
    {"GET", "/metrics", h_noop, R_INTERNAL, NULL, NULL},
};
static const module alpha = {"alpha", "nav.alpha", "/bots", ROUTES(alpha_routes)};
static const module beta = {"beta", NULL, NULL, ROUTES(beta_routes)};
static const module empty = {"empty", "nav.empty", NULL, NULL, 0};
static const module *const modules[] = {&alpha, &empty, &beta, NULL};

/* 10 routes + 3 page twins + 2 */
#define N_ROUTES 15

static arena a;
static request req;

static void setup(void)
{
    ck_assert_int_eq(router_init(modules), 0);
    arena_init(&a, 0);
    memset(&req, 0, sizeof req);
    req.a = &a;
}

static void teardown(void)
{
    arena_destroy(&a);
}

static int match(const char *method, const char *path, int *idx, char *allow, size_t allowlen)
{
    *idx = -1;
    return router_match(&req, method, path, idx, allow, allowlen);
}

/* Splits a ", "-separated method list into up to 16 tokens; returns how many. */
static int split_methods(const char *list, char *copy, size_t copylen, char *tok[16])
{
    int n = 0;
    snprintf(copy, copylen, "%s", list);
    for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t && n < 16; t = strtok_r(NULL, ", ", &save))
        tok[n++] = t;
    return n;
}

/* Allow must hold exactly the methods of want (any order), well formed: "A, B, C". */
static void assert_allow(const char *allow, const char *want)
{
    char c1[256], c2[256];
    char *have[16], *need[16];
    int nh = split_methods(allow, c1, sizeof c1, have), nw = split_methods(want, c2, sizeof c2, need);
    ck_assert_msg(nh == nw, "Allow '%s' is not '%s'", allow, want);
    for (int i = 0; i < nw; i++) {
        int found = 0;
        for (int k = 0; k < nh; k++)
            found += strcmp(have[k], need[i]) == 0;
        ck_assert_msg(found == 1, "Allow '%s' is not '%s'", allow, want);
    }
    size_t n = strlen(allow);
    ck_assert_msg(n > 0 && allow[0] != ',' && allow[0] != ' ' && allow[n - 1] != ',' && allow[n - 1] != ' ' &&
                      !strstr(allow, ",,") && !strstr(allow, "  "),
                  "malformed Allow '%s'", allow);
}

START_TEST(test_init_and_count)
{
    ck_assert_uint_eq(router_count(), N_ROUTES);
    ck_assert_ptr_eq(router_modules(), modules);
    int twins = 0;
    for (int i = 0; i < (int)router_count(); i++) {
        ck_assert_ptr_nonnull(router_at(i));
        ck_assert_ptr_nonnull(router_name(i));
        twins += router_is_twin(i);
    }
    ck_assert_int_eq(twins, 3);
    ck_assert_ptr_null(router_at(-1));
    ck_assert_ptr_null(router_at(N_ROUTES));
    ck_assert_ptr_null(router_name(-1));
    ck_assert_ptr_null(router_name(N_ROUTES));
    ck_assert_int_eq(router_is_twin(-1), 0);
    ck_assert_int_eq(router_is_twin(N_ROUTES), 0);
}
END_TEST

START_TEST(test_literal_match)
{
    int idx;
    ck_assert_int_eq(match("GET", "/", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/");
    ck_assert_int_eq(match("GET", "/bots", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/bots");
    ck_assert_str_eq(router_at(idx)->method, "GET");
    ck_assert_ptr_eq(router_at(idx)->handler, h_noop);
    ck_assert_str_eq(router_at(idx)->permission, "bots.read");
    ck_assert_int_eq(router_is_twin(idx), 0);
    ck_assert_int_eq(match("POST", "/bots", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_ptr_eq(router_at(idx)->handler, h_other);
    ck_assert_str_eq(router_at(idx)->rate_action, "bots.create");
    ck_assert_int_eq(match("GET", "/health", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/health");
    ck_assert_uint_eq(req.path_params.n, 0);
    /* the literal route listed first wins over the {id} one */
    ck_assert_int_eq(match("GET", "/bots/new", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/bots/new");
    /* prefixes and extensions of a literal do not match */
    ck_assert_int_eq(match("GET", "/bot", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/botsx", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/healthz", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "health", &idx, NULL, 0), ROUTER_NOT_FOUND);
}
END_TEST

START_TEST(test_param_capture)
{
    int idx;
    ck_assert_int_eq(match("GET", "/bots/42", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/bots/{id}");
    ck_assert_ptr_eq(router_at(idx)->handler, h_other);
    ck_assert_str_eq(req_path_param(&req, "id"), "42");
    ck_assert_uint_eq(req.path_params.n, 1);
    ck_assert_uint_eq(req.path_params.items[0].value_len, 2);
    ck_assert_ptr_null(req_path_param(&req, "trade"));
    ck_assert_int_eq(match("GET", "/bots/abc-9/trades/t_7", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/bots/{id}/trades/{trade}");
    ck_assert_str_eq(req_path_param(&req, "id"), "abc-9");
    ck_assert_str_eq(req_path_param(&req, "trade"), "t_7");
    /* a later match replaces the captures of the earlier one */
    ck_assert_int_eq(match("DELETE", "/bots/7", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_at(idx)->method, "DELETE");
    ck_assert_uint_eq(req.path_params.n, 1);
    ck_assert_str_eq(req_path_param(&req, "id"), "7");
    /* a parameter is one non-empty segment */
    ck_assert_int_eq(match("GET", "/bots//trades/1", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/bots/1/trades", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/bots/1/2", &idx, NULL, 0), ROUTER_NOT_FOUND);
}
END_TEST

START_TEST(test_trailing_slash)
{
    int idx;
    ck_assert_int_eq(match("GET", "/bots/", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/bots/42/", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/health/", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/bots/1/trades/2/", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "//", &idx, NULL, 0), ROUTER_NOT_FOUND);
}
END_TEST

START_TEST(test_404_vs_405)
{
    int idx;
    char allow[128];
    strcpy(allow, "garbage");
    ck_assert_int_eq(match("GET", "/nope", &idx, allow, sizeof allow), ROUTER_NOT_FOUND);
    ck_assert_str_eq(allow, "");
    ck_assert_int_eq(match("POST", "/nope", &idx, allow, sizeof allow), ROUTER_NOT_FOUND);
    /* the path exists, the method does not: 405 with Allow listing the methods, HEAD for GET */
    ck_assert_int_eq(match("POST", "/bots/42", &idx, allow, sizeof allow), ROUTER_BAD_METHOD);
    assert_allow(allow, "GET, HEAD, DELETE");
    ck_assert_int_eq(match("PUT", "/bots", &idx, allow, sizeof allow), ROUTER_BAD_METHOD);
    assert_allow(allow, "GET, HEAD, POST");
    ck_assert_int_eq(match("GET", "/login", &idx, allow, sizeof allow), ROUTER_BAD_METHOD);
    assert_allow(allow, "POST");
    ck_assert_int_eq(match("DELETE", "/settings", &idx, allow, sizeof allow), ROUTER_BAD_METHOD);
    assert_allow(allow, "PUT, PATCH");
    ck_assert_int_eq(match("POST", "/bots/1/trades/2", &idx, allow, sizeof allow), ROUTER_BAD_METHOD);
    assert_allow(allow, "GET, HEAD");
    /* HEAD is not offered where there is no GET */
    ck_assert_int_eq(match("HEAD", "/login", &idx, allow, sizeof allow), ROUTER_BAD_METHOD);
    assert_allow(allow, "POST");
    /* 405 without an Allow buffer, and with one too small: no overflow, still terminated */
    ck_assert_int_eq(match("POST", "/bots/42", &idx, NULL, 0), ROUTER_BAD_METHOD);
    char tiny[5];
    memset(tiny, 'x', sizeof tiny);
    ck_assert_int_eq(match("POST", "/bots/42", &idx, tiny, sizeof tiny), ROUTER_BAD_METHOD);
    ck_assert_ptr_nonnull(memchr(tiny, '\0', sizeof tiny));
}
END_TEST

START_TEST(test_head_matches_get)
{
    int idx, gidx;
    ck_assert_int_eq(match("GET", "/bots", &gidx, NULL, 0), ROUTER_FOUND);
    ck_assert_int_eq(match("HEAD", "/bots", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_int_eq(idx, gidx);
    ck_assert_int_eq(match("HEAD", "/bots/9", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/bots/{id}");
    ck_assert_str_eq(req_path_param(&req, "id"), "9");
    ck_assert_int_eq(match("HEAD", "/api/v1/bots", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_int_eq(router_is_twin(idx), 1);
}
END_TEST

START_TEST(test_page_twins)
{
    int idx, pidx;
    ck_assert_int_eq(match("GET", "/bots", &pidx, NULL, 0), ROUTER_FOUND);
    ck_assert_int_eq(match("GET", "/api/v1/bots", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_int_ne(idx, pidx);
    ck_assert_int_eq(router_is_twin(idx), 1);
    ck_assert_int_eq(router_is_twin(pidx), 0);
    ck_assert_str_eq(router_name(idx), "/api/v1/bots");
    /* the twin carries everything the page route declares */
    ck_assert_ptr_eq(router_at(idx)->handler, router_at(pidx)->handler);
    ck_assert_uint_eq(router_at(idx)->flags, router_at(pidx)->flags);
    ck_assert_str_eq(router_at(idx)->permission, "bots.read");
    ck_assert_str_eq(router_at(idx)->method, "GET");
    ck_assert_int_eq(match("GET", "/api/v1/bots/77", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/api/v1/bots/{id}");
    ck_assert_int_eq(router_is_twin(idx), 1);
    ck_assert_str_eq(req_path_param(&req, "id"), "77");
    ck_assert_int_eq(match("GET", "/api/v1/bots/new", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/api/v1/bots/new");
    /* only R_PAGE routes get a twin */
    ck_assert_int_eq(match("GET", "/api/v1/health", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/api/v1/bots/1/trades/2", &idx, NULL, 0), ROUTER_NOT_FOUND);
    ck_assert_int_eq(match("GET", "/api/v1/", &idx, NULL, 0), ROUTER_NOT_FOUND);
    char allow[64];
    ck_assert_int_eq(match("POST", "/api/v1/bots", &idx, allow, sizeof allow), ROUTER_BAD_METHOD);
    assert_allow(allow, "GET, HEAD");
    ck_assert_int_eq(match("GET", "/api/v1/bots/", &idx, NULL, 0), ROUTER_NOT_FOUND);
    /* the twin list keeps every original name */
    int seen_page = 0, seen_twin = 0;
    for (int i = 0; i < (int)router_count(); i++) {
        if (strcmp(router_name(i), "/bots/{id}") == 0 && strcmp(router_at(i)->method, "GET") == 0)
            seen_page++;
        if (strcmp(router_name(i), "/api/v1/bots/{id}") == 0)
            seen_twin += router_is_twin(i);
    }
    ck_assert_int_eq(seen_page, 1);
    ck_assert_int_eq(seen_twin, 1);
}
END_TEST

START_TEST(test_router_name)
{
    int idx;
    ck_assert_int_eq(match("GET", "/bots/123456", &idx, NULL, 0), ROUTER_FOUND);
    /* the metric name is the pattern, never the concrete path */
    ck_assert_str_eq(router_name(idx), "/bots/{id}");
    ck_assert_str_eq(router_name(idx), router_at(idx)->pattern);
    ck_assert_int_eq(match("GET", "/metrics", &idx, NULL, 0), ROUTER_FOUND);
    ck_assert_str_eq(router_name(idx), "/metrics");
    ck_assert_uint_eq(router_at(idx)->flags, R_INTERNAL);
}
END_TEST

/* Regression (fixed; cgi/router.c, router_match): allow[0] is cleared only when allowlen > 0, but on a 405
 * path `if (allow && !strstr(allow, r->method))` still reads allow, and snprintf(allow + alen,
 * allowlen - alen, ...) is called with size 0. With allow != NULL and allowlen == 0 (a caller
 * that has no room), strstr scans a buffer that was never terminated: an out-of-bounds read. */
/* The flags the FastCGI loop reads before a body arrives (R_UPLOAD), twins and HEAD included. */
START_TEST(test_path_flags)
{
    ck_assert_uint_eq(router_path_flags("POST", "/bots"), R_AUTH | R_CSRF);
    ck_assert_uint_eq(router_path_flags("GET", "/bots/7"), R_AUTH | R_PAGE);
    ck_assert_uint_eq(router_path_flags("HEAD", "/bots/7"), R_AUTH | R_PAGE);
    ck_assert_uint_eq(router_path_flags("GET", "/api/v1/bots/7"), R_AUTH | R_PAGE);
    ck_assert_uint_eq(router_path_flags("DELETE", "/bots/7"), R_AUTH | R_CSRF);
    /* "/bots/new" matches both the literal route and "/bots/{id}": their flags together */
    ck_assert_uint_eq(router_path_flags("GET", "/bots/new"), R_AUTH | R_PAGE);
    ck_assert_uint_eq(router_path_flags("GET", "/metrics"), R_INTERNAL);
    ck_assert_uint_eq(router_path_flags("POST", "/nope"), 0);
    ck_assert_uint_eq(router_path_flags("POST", "/bots/7"), 0);
}
END_TEST

START_TEST(test_allow_len_zero)
{
    int idx;
    char *allow = malloc(4);
    memcpy(allow, "ABCD", 4); /* not terminated: with no room the router must not touch it */
    ck_assert_int_eq(match("POST", "/bots/42", &idx, allow, 0), ROUTER_BAD_METHOD);
    ck_assert_int_eq(memcmp(allow, "ABCD", 4), 0);
    free(allow);
}
END_TEST

static const route bad_routes[] = {
    {"GET", "/ok", h_noop, R_PUBLIC, NULL, NULL},
    {"GET", "no-slash", h_noop, R_PUBLIC, NULL, NULL},
};
static const module bad_mod = {"bad", NULL, NULL, ROUTES(bad_routes)};
static const module *const bad_modules[] = {&bad_mod, NULL};

START_TEST(test_init_rejects_bad_pattern)
{
    ck_assert_int_eq(router_init(bad_modules), -1);
}
END_TEST

/* Declarations that would silently skip their own check are refused at start. */
static const route perm_no_auth[] = {{"GET", "/x", h_noop, R_PUBLIC, "audit.read", NULL}};
static const route stepup_no_auth[] = {{"POST", "/x", h_noop, R_CSRF | R_STEPUP, NULL, NULL}};
static const route csrf_on_get[] = {{"GET", "/x", h_noop, R_AUTH | R_CSRF, NULL, NULL}};
static const route fine[] = {{"POST", "/x", h_noop, R_AUTH | R_CSRF | R_STEPUP, "audit.read", "a.b"}};

START_TEST(test_init_rejects_unenforceable_declarations)
{
    const module m1 = {"m", NULL, NULL, ROUTES(perm_no_auth)}, m2 = {"m", NULL, NULL, ROUTES(stepup_no_auth)};
    const module m3 = {"m", NULL, NULL, ROUTES(csrf_on_get)}, m4 = {"m", NULL, NULL, ROUTES(fine)};
    const module *const l1[] = {&m1, NULL}, *const l2[] = {&m2, NULL}, *const l3[] = {&m3, NULL};
    const module *const l4[] = {&m4, NULL};
    ck_assert_int_eq(router_init(l1), -1);
    ck_assert_int_eq(router_init(l2), -1);
    ck_assert_int_eq(router_init(l3), -1);
    ck_assert_int_eq(router_init(l4), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("match");
    /* checked fixture: router_init runs once in each test's own process */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_init_and_count);
    tcase_add_test(tc, test_literal_match);
    tcase_add_test(tc, test_param_capture);
    tcase_add_test(tc, test_trailing_slash);
    tcase_add_test(tc, test_404_vs_405);
    tcase_add_test(tc, test_head_matches_get);
    tcase_add_test(tc, test_page_twins);
    tcase_add_test(tc, test_router_name);
    tcase_add_test(tc, test_path_flags);
    suite_add_tcase(s, tc);
    tc = unit_regressions_tcase();
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_allow_len_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("init");
    tcase_add_test(tc, test_init_rejects_bad_pattern);
    tcase_add_test(tc, test_init_rejects_unenforceable_declarations);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
