/* bench_clients.h — the timed-clients harness the database benchmarks share (tests/bench/ledger_clients,
 * tests/bench/notify_clients): N forked processes, each with its own connection, run M operations. */
#ifndef BCF_BENCH_CLIENTS_H
#define BCF_BENCH_CLIENTS_H

/* One client's operations: init runs once in the forked child (open connections, make state) and
 * returns that state, or NULL to fail the client; op runs operation number `op` and returns 0 or -1. */
typedef struct bench_ops {
    void *(*init)(int client, void *arg);
    int (*op)(void *state, long op);
    void *arg;
} bench_ops;

/* Runs `clients` processes x `ops` operations, each timed, and prints one line:
 * "ops N seconds S per_s R p50_ms A p99_ms B", where N and R count units (ops x units_per_op: a call
 * of 100 transfers is 100 units) and the latencies are per operation. 0, or exits 2 when a client
 * failed. The caller closes its own database connections first: children must not share them. */
int bench_clients_run(int clients, long ops, int units_per_op, const bench_ops *o);

/* PostgreSQL's commit floor in the same shape: one autocommitted INSERT into a temp table per
 * operation, each client on its own connection to BCF_TEST_DSN. */
int bench_clients_floor(int clients, long ops);

/* Monotonic seconds. */
double bench_mono_s(void);
/* Prints "<prog>: msg" to stderr and exits 2. */
void bench_die(const char *prog, const char *msg);
#endif
