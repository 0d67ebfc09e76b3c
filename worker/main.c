/* main.c — botcriptofy-worker: the job consumer (queue_consumer.c: Redis stream in, PostgreSQL
 * truth), the sweeper, e-mail delivery and the heartbeat, in one loop; SIGTERM stops it gently. */
#include "backend.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "mail.h"
#include "queue_consumer.h"
#include "handlers.h"
#include "sweeper.h"
#include "worker.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char worker_id[128];
const char *worker_backend = "cpu";
volatile sig_atomic_t worker_stopping;
volatile sig_atomic_t worker_grace_over;

static unsigned grace_s; /* worker.shutdown_grace_s, read before any signal can come */

/* The first TERM/INT starts the grace period (SIGALRM ends it); a second one ends it at once. */
static void on_term(int sig)
{
    (void)sig;
    if (worker_stopping || grace_s == 0)
        worker_grace_over = 1;
    else
        alarm(grace_s);
    worker_stopping = 1;
}

static void on_alarm(int sig)
{
    (void)sig;
    worker_grace_over = 1;
}

/* E-mail lives in PostgreSQL, so it is delivered every mail.poll_ms even while Redis is down. */
static void mail_tick(double *last)
{
    static int was_down;
    double now = now_s();
    if ((now - *last) * 1000.0 < (double)config_int("mail.poll_ms"))
        return;
    *last = now;
    int down = mail_deliver_due(50) < 0;
    if (down != was_down)
        log_fmt(down ? LOG_WARN : LOG_INFO, "mail delivery %s", down ? "paused: database unavailable" : "resumed");
    was_down = down;
}

static void signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    const char *cfg = getenv("BCF_CONFIG");
    const char *backend = NULL; /* --backend wins over worker.backend */
    int check_backend = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc)
            cfg = argv[++i];
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            backend = argv[++i];
        else if (!strcmp(argv[i], "--check-backend"))
            check_backend = 1;
        else {
            fprintf(stderr, "usage: %s [-c config] [--backend auto|cpu|cuda] [--check-backend]\n", argv[0]);
            return 2;
        }
    }
    if (backend && strcmp(backend, "auto") && strcmp(backend, "cpu") && strcmp(backend, "cuda")) {
        fprintf(stderr, "botcriptofy-worker: unknown backend '%s' (auto, cpu or cuda)\n", backend);
        return 2;
    }
    char err[256];
    if (config_load(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "botcriptofy-worker: %s\n", err);
        return 1;
    }
    /* the backend is settled before anything else starts: `cuda` without a GPU is an error now,
     * not a surprise at the first sweep */
    char plugin[4096];
    if (config_get("worker.cuda_plugin"))
        config_path("worker.cuda_plugin", plugin, sizeof plugin);
    else
        plugin[0] = '\0';
    log_open(config_get("log.file"), config_get("log.level"), "worker");
    if (backend_init(backend ? backend : config_get("worker.backend"), plugin, err, sizeof err) != 0) {
        log_error("worker not started: %s", err);
        if (config_get("log.file")) /* the log may be a file: say it where the operator looks */
            fprintf(stderr, "botcriptofy-worker: %s\n", err);
        return 1;
    }
    worker_backend = backend_name();
    if (check_backend) {
        printf("%s\n", backend_detail());
        return 0;
    }
    long g = config_int("worker.shutdown_grace_s");
    grace_s = g < 0 ? 0 : (unsigned)g;
    signals();
    if (config_get("worker.id")) {
        snprintf(worker_id, sizeof worker_id, "%s", config_get("worker.id"));
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        snprintf(worker_id, sizeof worker_id, "%s:%d", host, (int)getpid());
    }
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    db_configure(NULL);
    kv_configure(NULL, 0);
    log_info("worker %s starting (backend %s)", worker_id, backend_detail());
    double last_mail = 0;
    while (!worker_stopping) {
        mail_tick(&last_mail);
        worker_heartbeat(0);
        sweeper_tick();
        bots_scheduler_tick();
        ledger_expiry_tick();
        dunning_tick();
        long deliveries_in = notify_delivery_tick();
        /* the read blocks at most until the next e-mail poll or sweep is due (Redis wakes it the
         * moment an entry arrives); its socket timeout is sized for the block (consumer_poll) */
        long block = config_int("mail.poll_ms");
        if (block > config_int("queue.sweep_ms"))
            block = config_int("queue.sweep_ms");
        if (block > config_int("telegram.poll_ms"))
            block = config_int("telegram.poll_ms");
        if (block > 1000)
            block = 1000;
        if (block > deliveries_in) /* a backlog under Telegram's pacing: an idle wait would waste its rate */
            block = deliveries_in;
        if (consumer_poll(block) < 0 && !worker_stopping)
            sleep(1);
    }
    log_info("worker %s stopping", worker_id);
    worker_set_current(0);
    worker_heartbeat(1);
    db_close();
    kv_close();
    return 0;
}
