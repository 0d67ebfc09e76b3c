/* main.c — botcriptofy-fcgi: loads the config, opens the FastCGI unix socket, maps the shared
 * metrics and runs the pool master; each forked worker runs the event loop over app_dispatch. */
#include "app.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "metrics.h"
#include "modules.h"
#include "pool.h"
#include "router.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *config_file;
static int listen_fd = -1;

static void on_term(int sig)
{
    (void)sig;
    fcgi_loop_stop();
}

static double last_near_try;

static void worker_tick(void)
{
    metrics_slot_set(app_worker_slot, (int)getpid(), metrics_self_rss());
    /* keep the near cache's invalidation channel up; retry at most once a second */
    if (cache_near_fd() < 0 && config_bool("cache.enabled") && now_s() - last_near_try >= 1.0) {
        last_near_try = now_s();
        cache_near_start();
    }
}

static int worker_main(int slot, int ready_fd)
{
    app_worker_slot = slot;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (app_init() != 0)
        return 1;
    log_set_buffered(1);
    db_configure(NULL);
    kv_configure(NULL, 0);
    if (config_bool("cache.enabled")) {
        last_near_try = now_s();
        cache_near_start(); /* Redis may be down: the tick retries */
    }
    metrics_slot_set(slot, (int)getpid(), metrics_self_rss());
    fcgi_loop_opts o = {
        .listen_fd = listen_fd,
        .max_body = (size_t)config_int("http.max_body_bytes"),
        .max_params = (size_t)config_int("http.max_params_bytes"),
        .max_conns = (int)config_int("fcgi.max_conns"),
        .shutdown_timeout_s = (int)config_int("fcgi.shutdown_timeout_s"),
        .dispatch = app_dispatch,
        .after = app_after_response,
        .body_limit = app_body_limit,
        .tick = worker_tick,
        .extra_fd = cache_near_fd,
        .extra_ready = cache_near_drain,
    };
    if (write(ready_fd, "r", 1) != 1)
        log_warn("could not tell the master this worker is ready");
    close(ready_fd);
    int rc = fcgi_loop_run(&o);
    metrics_slot_clear(slot);
    log_set_buffered(0);
    cache_near_stop();
    kv_close();
    db_close();
    return rc == 0 ? 0 : 1;
}

static int reload_config(void)
{
    char err[256];
    if (config_load(config_file, err, sizeof err) != 0) {
        log_error("config: %s", err);
        return -1;
    }
    return 0;
}

static int worker_count(void)
{
    long n = config_int("fcgi.workers");
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 64)
        n = 64;
    return (int)n;
}

static int open_socket(const char *path)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        log_error("socket path too long: %s", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0666) < 0 || listen(fd, 4096) < 0) {
        log_error("socket %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The route tables as JSON lines: the tests walk every route from this (tenant isolation, CSRF,
 * escaping), so a new route is covered the day it is added. */
static int print_routes(void)
{
    static const struct {
        unsigned flag;
        const char *name;
    } names[] = {{R_AUTH, "auth"},         {R_CSRF, "csrf"},   {R_PAGE, "page"},
                 {R_INTERNAL, "internal"}, {R_NO_CSRF_SIGNED, "signed"}, {R_NOLOG, "nolog"},
                 {R_STEPUP, "stepup"},     {R_MFA_SETUP, "mfa_setup"},   {R_SESSION_ONLY, "session_only"},
                 {R_DEV, "dev"},           {R_UPLOAD, "upload"}};
    for (size_t i = 0; i < router_count(); i++) {
        const route *r = router_at((int)i);
        json_t *flags = json_array();
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (r->flags & names[k].flag)
                json_array_append_new(flags, json_string(names[k].name));
        json_t *j = json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:b}", "method", r->method, "pattern", router_name((int)i),
                              "flags", flags, "permission", r->permission, "rate_action", r->rate_action, "twin",
                              router_is_twin((int)i));
        char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (line)
            printf("%s\n", line);
        free(line);
        json_decref(j);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int check_only = 0, list_routes = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc)
            config_file = argv[++i];
        else if (!strcmp(argv[i], "-t"))
            check_only = 1;
        else if (!strcmp(argv[i], "--routes"))
            list_routes = 1;
        else {
            fprintf(stderr,
                    "usage: %s [-c config] [-t] [--routes]\n  -t        check the configuration and exit\n"
                    "  --routes  print every route with its declared needs as JSON lines and exit\n",
                    argv[0]);
            return 2;
        }
    }
    if (!config_file)
        config_file = getenv("BCF_CONFIG");
    char err[256];
    if (config_load(config_file, err, sizeof err) != 0) {
        fprintf(stderr, "botcriptofy-fcgi: %s\n", err);
        return 1;
    }
    log_open(config_get("log.file"), config_get("log.level"), "fcgi");
    if (sodium_init() < 0 || metrics_init() != 0 || router_init(all_modules) != 0) {
        log_error("start-up failed");
        return 1;
    }
    if (check_only) {
        printf("configuration ok: %zu routes\n", router_count());
        return 0;
    }
    if (list_routes)
        return print_routes();
    const char *sock = config_get("fcgi.socket");
    listen_fd = open_socket(sock);
    if (listen_fd < 0)
        return 1;
    /* the listening socket is inherited by every worker generation */
    fcntl(listen_fd, F_SETFD, 0);
    const char *pidfile = config_get("fcgi.pidfile");
    FILE *pf = pidfile ? fopen(pidfile, "w") : NULL;
    if (pf) {
        fprintf(pf, "%d\n", (int)getpid());
        fclose(pf);
    }
    log_info("botcriptofy-fcgi master %d listening on %s with %d workers", (int)getpid(), sock, worker_count());
    pool_opts po = {config_file, listen_fd, worker_main, reload_config, worker_count};
    int rc = pool_run(&po);
    close(listen_fd);
    unlink(sock);
    if (pidfile)
        unlink(pidfile);
    log_info("botcriptofy-fcgi stopped");
    return rc;
}
