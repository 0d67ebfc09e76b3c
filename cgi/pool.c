/* pool.c — process supervision for botcriptofy-fcgi. Signals only set flags and poke a
 * self-pipe; all the work happens in the master's poll loop, outside signal context. */
#include "pool.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64

struct worker {
    pid_t pid;
    int slot;
    int generation;
    double started;
};

static struct worker workers[METRICS_MAX_SLOTS];
static int self_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_chld, got_hup, got_term;
static int generation;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGCHLD)
        got_chld = 1;
    else if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = 1;
    if (write(self_pipe[1], "x", 1) < 0) {
        /* pipe full: the loop is already due to wake */
    }
    errno = saved;
}

static int free_slot(void)
{
    for (int i = 0; i < METRICS_MAX_SLOTS; i++)
        if (!workers[i].pid)
            return i;
    return -1;
}

static pid_t spawn(const pool_opts *o, int slot, int ready_w)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* the child: default signals, die with the master, run the worker */
        signal(SIGCHLD, SIG_DFL);
        signal(SIGHUP, SIG_IGN);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        close(self_pipe[0]);
        close(self_pipe[1]);
        _exit(o->worker_main(slot, ready_w));
    }
    workers[slot].pid = pid;
    workers[slot].slot = slot;
    workers[slot].generation = generation;
    workers[slot].started = mono();
    return pid;
}

static int count_alive(int gen)
{
    int n = 0;
    for (int i = 0; i < METRICS_MAX_SLOTS; i++)
        if (workers[i].pid && (gen < 0 || workers[i].generation == gen))
            n++;
    return n;
}

/* Waits until `want` ready bytes arrive or timeout; returns how many arrived. */
static int wait_ready(int ready_r, int want, double timeout)
{
    int got = 0;
    double end = mono() + timeout;
    while (got < want) {
        double left = end - mono();
        if (left <= 0)
            break;
        struct pollfd p = {ready_r, POLLIN, 0};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0) {
            char b[64];
            ssize_t n = read(ready_r, b, sizeof b);
            if (n > 0)
                got += (int)n;
        }
        if (got_term)
            break;
    }
    return got;
}

int pool_run(const pool_opts *o)
{
    int ready[2];
    if (pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(ready, O_CLOEXEC) < 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int n = o->worker_count();
    for (int i = 0; i < n; i++)
        spawn(o, free_slot(), ready[1]);
    int up = wait_ready(ready[0], n, 15);
    log_info("pool master %d: %d of %d workers ready", (int)getpid(), up, n);

    double respawn_backoff = 0, next_respawn = 0;
    for (;;) {
        struct pollfd p[2] = {{self_pipe[0], POLLIN, 0}, {ready[0], POLLIN, 0}};
        int timeout = next_respawn > 0 ? 100 : 1000;
        if (poll(p, 2, timeout) > 0) {
            char b[64];
            if (p[0].revents & POLLIN)
                while (read(self_pipe[0], b, sizeof b) > 0) {
                }
            if (p[1].revents & POLLIN) {
                ssize_t r = read(ready[0], b, sizeof b);
                (void)r; /* a respawned worker came up */
            }
        }
        if (got_chld) {
            got_chld = 0;
            int status;
            pid_t pid;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                for (int i = 0; i < METRICS_MAX_SLOTS; i++) {
                    if (workers[i].pid != pid)
                        continue;
                    int current = workers[i].generation == generation;
                    double lived = mono() - workers[i].started;
                    workers[i].pid = 0;
                    metrics_slot_clear(i);
                    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 && current))
                        log_warn("worker %d (slot %d) ended: %s %d", (int)pid, i,
                                 WIFSIGNALED(status) ? "signal" : "exit status",
                                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                    /* a worker that dies right after start is throttled so a bad config cannot fork-bomb */
                    if (current && !got_term && lived < 1.0) {
                        respawn_backoff = respawn_backoff ? respawn_backoff * 2 : 0.1;
                        if (respawn_backoff > 5)
                            respawn_backoff = 5;
                    } else if (lived >= 1.0) {
                        respawn_backoff = 0;
                    }
                }
            }
            if (!got_term && next_respawn == 0 && count_alive(generation) < o->worker_count())
                next_respawn = mono() + respawn_backoff;
        }
        if (next_respawn > 0 && mono() >= next_respawn && !got_term) {
            next_respawn = 0;
            int want = o->worker_count();
            while (count_alive(generation) < want) {
                int slot = free_slot();
                if (slot < 0 || spawn(o, slot, ready[1]) < 0)
                    break;
                log_info("replaced a worker: slot %d", slot);
            }
        }
        if (got_hup) {
            got_hup = 0;
            if (o->reload_config() != 0) {
                log_error("reload: configuration rejected; keeping the running workers");
            } else {
                int old = generation++;
                int want = o->worker_count(), started = 0;
                for (int i = 0; i < want; i++) {
                    int slot = free_slot();
                    if (slot >= 0 && spawn(o, slot, ready[1]) > 0)
                        started++;
                }
                int ok = wait_ready(ready[0], started, 15);
                log_info("reload: generation %d has %d of %d workers ready; draining generation %d", generation, ok,
                         want, old);
                for (int i = 0; i < METRICS_MAX_SLOTS; i++)
                    if (workers[i].pid && workers[i].generation == old)
                        kill(workers[i].pid, SIGTERM);
            }
        }
        if (got_term)
            break;
    }

    log_info("pool master stopping: draining %d workers", count_alive(-1));
    for (int i = 0; i < METRICS_MAX_SLOTS; i++)
        if (workers[i].pid)
            kill(workers[i].pid, SIGTERM);
    double deadline = mono() + (double)config_int("fcgi.shutdown_timeout_s") + 5;
    while (count_alive(-1) > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (int i = 0; i < METRICS_MAX_SLOTS; i++)
                if (workers[i].pid == pid)
                    workers[i].pid = 0;
            continue;
        }
        if (mono() > deadline) {
            for (int i = 0; i < METRICS_MAX_SLOTS; i++)
                if (workers[i].pid)
                    kill(workers[i].pid, SIGKILL);
            deadline = mono() + 5;
        }
        usleep(20000);
    }
    return 0;
}
