/* main.c — botcriptofy-worker: the job consumer (queue_consumer.c: Redis stream in, PostgreSQL
 * truth), the sweeper, e-mail delivery and the heartbeat, in one loop; SIGTERM stops it gently. */
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
#include "autoconfig.h"

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
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc)
            cfg = argv[++i];
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            worker_backend = argv[++i];
        else {
            fprintf(stderr, "usage: %s [-c config] [--backend auto|cpu|cuda]\n", argv[0]);
            return 2;
        }
    }
    if (strcmp(worker_backend, "auto") && strcmp(worker_backend, "cpu") && strcmp(worker_backend, "cuda")) {
        fprintf(stderr, "botcriptofy-worker: unknown backend %s\n", worker_backend);
        return 2;
    }
#ifndef HAVE_CUDA
    if (!strcmp(worker_backend, "cuda")) {
        fprintf(stderr, "botcriptofy-worker: built without CUDA (configure found no nvcc)\n");
        return 2;
    }
    worker_backend = "cpu";
#else
    if (!strcmp(worker_backend, "auto"))
        worker_backend = "cuda";
#endif
    char err[256];
    if (config_load(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "botcriptofy-worker: %s\n", err);
        return 1;
    }
    log_open(config_get("log.file"), config_get("log.level"), "worker");
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
    log_info("worker %s starting (backend %s)", worker_id, worker_backend);
    double last_mail = 0;
    while (!worker_stopping) {
        mail_tick(&last_mail);
        worker_heartbeat(0);
        sweeper_tick();
        bots_scheduler_tick();
        /* the read blocks at most until the next e-mail poll or sweep is due (Redis wakes it the
         * moment an entry arrives); its socket timeout is sized for the block (consumer_poll) */
        long block = config_int("mail.poll_ms");
        if (block > config_int("queue.sweep_ms"))
            block = config_int("queue.sweep_ms");
        if (block > 1000)
            block = 1000;
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
