/* fcgi_hello.c — the bare libfcgi baseline of tests/bench/run: P processes x T threads, each thread
 * blocked in FCGX_Accept_r, answering an ~800-byte JSON from memory. No Redis, no PostgreSQL.
 *
 * Usage: fcgi_hello SOCKET_PATH [PROCESSES [THREADS]]   (defaults 2 x 64)
 * Build: cc -O2 -o fcgi_hello fcgi_hello.c -lfcgi -lpthread
 * The parent forks the processes, writes nothing but errors, and on SIGTERM/SIGINT ends them. */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The shape of a dashboard summary, about 800 bytes (835). */
static const char body[] =
    "{\"tenant\":{\"id\":2,\"name\":\"Demo Trader\",\"kind\":\"trader\",\"plan\":\"pro\"},\"users\":1,"
    "\"jobs\":{\"queued\":0,\"running\":0,\"done\":0},"
    "\"bots\":[{\"id\":1,\"name\":\"BTC grid\",\"exchange\":\"binance\",\"symbol\":\"BTC/USDT\",\"mode\":\"paper\","
    "\"status\":\"running\",\"pnl_minor\":123456,\"trades\":42},"
    "{\"id\":2,\"name\":\"ETH momentum\",\"exchange\":\"binance\",\"symbol\":\"ETH/USDT\",\"mode\":\"paper\","
    "\"status\":\"stopped\",\"pnl_minor\":-2345,\"trades\":7},"
    "{\"id\":3,\"name\":\"SOL mean reversion\",\"exchange\":\"bybit\",\"symbol\":\"SOL/USDT\",\"mode\":\"live\","
    "\"status\":\"running\",\"pnl_minor\":98765,\"trades\":133}],"
    "\"balances\":[{\"asset\":\"BRL\",\"available_minor\":1500000,\"locked_minor\":0},"
    "{\"asset\":\"USDT\",\"available_minor\":250000000,\"locked_minor\":1000000}],"
    "\"notifications\":{\"unread\":3},\"plan\":{\"name\":\"pro\",\"renews_at\":\"2026-12-01T00:00:00Z\","
    "\"limits\":{\"bots\":20,\"backtests_per_day\":200,\"optimizations_per_day\":20}}}";

static int listen_fd;
static char header[256];
static size_t header_len;

static void *serve(void *arg)
{
    (void)arg;
    FCGX_Request r;
    if (FCGX_InitRequest(&r, listen_fd, 0) != 0)
        return NULL;
    for (;;) {
        /* No mutex around FCGX_Accept_r, unlike libfcgi's threaded example: with nginx's
         * fastcgi_keep_conn, FCGX_Accept_r on a kept connection blocks reading that connection's
         * next request, so a lock held across it serializes every thread (the pool stalls at
         * ~100 req/s). Linux's accept(2) needs no serialization. */
        int rc = FCGX_Accept_r(&r);
        if (rc < 0)
            break;
        FCGX_PutStr(header, (int)header_len, r.out);
        FCGX_PutStr(body, (int)sizeof body - 1, r.out);
        FCGX_Finish_r(&r);
    }
    return NULL;
}

static void child(int threads)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    if (!t)
        _exit(1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024); /* the handler needs little stack */
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], &attr, serve, NULL) != 0) {
            perror("fcgi_hello: pthread_create");
            _exit(1);
        }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    _exit(0);
}

static volatile sig_atomic_t stop;
static void on_signal(int s)
{
    (void)s;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SOCKET_PATH [PROCESSES [THREADS]]\n", argv[0]);
        return 2;
    }
    int procs = argc > 2 ? atoi(argv[2]) : 2, threads = argc > 3 ? atoi(argv[3]) : 64;
    if (procs < 1 || procs > 64 || threads < 1 || threads > 4096) {
        fprintf(stderr, "fcgi_hello: bad process/thread count\n");
        return 2;
    }
    header_len = (size_t)snprintf(header, sizeof header,
                                  "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                                  "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
                                  sizeof body - 1);
    if (FCGX_Init() != 0) {
        fprintf(stderr, "fcgi_hello: FCGX_Init failed\n");
        return 1;
    }
    unlink(argv[1]);
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0) {
        fprintf(stderr, "fcgi_hello: cannot listen on %s\n", argv[1]);
        return 1;
    }
    chmod(argv[1], 0777); /* nginx workers run as another user */
    pid_t *kids = calloc((size_t)procs, sizeof *kids);
    if (!kids)
        return 1;
    for (int i = 0; i < procs; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            child(threads);
        if (kids[i] < 0) {
            perror("fcgi_hello: fork");
            return 1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!stop) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == ECHILD)
            break;
    }
    for (int i = 0; i < procs; i++)
        kill(kids[i], SIGKILL);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    unlink(argv[1]);
    return 0;
}
