/* fuzz_router.c — fuzz target for router_match (cgi/router.c) over a fixed route table: the first
 * byte picks the method, the rest is the path; results must be consistent with the table. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "router.h"

static int h(request *req, response *res)
{
    (void)req;
    (void)res;
    return 0;
}

static const route routes[] = {
    {"GET", "/", h, R_PUBLIC, NULL, NULL},
    {"GET", "/health", h, R_PUBLIC | R_NOLOG, NULL, NULL},
    {"GET", "/login", h, R_PAGE, NULL, NULL},
    {"POST", "/login", h, R_CSRF, NULL, "auth.login"},
    {"GET", "/bots", h, R_AUTH | R_PAGE, "bots.read", NULL},
    {"POST", "/bots", h, R_AUTH | R_CSRF, "bots.write", NULL},
    {"GET", "/bots/{id}", h, R_AUTH | R_PAGE, "bots.read", NULL},
    {"PUT", "/bots/{id}", h, R_AUTH | R_CSRF, "bots.write", NULL},
    {"DELETE", "/bots/{id}", h, R_AUTH | R_CSRF, "bots.write", NULL},
    {"GET", "/bots/{id}/trades/{trade}", h, R_AUTH, NULL, NULL},
    {"PATCH", "/settings/{section}", h, R_AUTH | R_CSRF, NULL, NULL},
};
static const module mod = {"fuzz", "nav.fuzz", "/", ROUTES(routes)};
static const module *const modules[] = {&mod, NULL};
static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (router_init(modules) != 0)
            abort();
        ready = 1;
    }
    if (size < 1)
        return 0;
    const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    char *path = malloc(size);
    if (!path)
        return 0;
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    arena a;
    arena_init(&a, 1024);
    request req = {0};
    req.a = &a;
    int idx = -1;
    char allow[128];
    int rc = router_match(&req, method, path, &idx, allow, sizeof allow);
    if (rc == ROUTER_FOUND) {
        const route *r = router_at(idx);
        if (!r || !router_name(idx))
            abort();
        if (strcmp(r->method, method) != 0 && !(strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
            abort();
        /* a twin lives under /api/v1; every pattern starts with '/' */
        if ((router_is_twin(idx) && strncmp(path, "/api/v1/", 8) != 0) || path[0] != '/')
            abort();
        for (size_t i = 0; i < req.path_params.n; i++)
            if (!req.path_params.items[i].value[0] || strchr(req.path_params.items[i].value, '/'))
                abort();
    } else if (rc == ROUTER_BAD_METHOD) {
        /* Allow is non-empty and never offers the method that was refused */
        if (allow[0] == '\0')
            abort();
        for (char *save = NULL, *t = strtok_r(allow, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            if (strcmp(t, method) == 0)
                abort();
    } else if (rc != ROUTER_NOT_FOUND) {
        abort();
    }
    arena_destroy(&a);
    free(path);
    return 0;
}
