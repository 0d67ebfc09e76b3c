/* pool.h — the pool master: owns the listening socket, forks workers, restarts the ones that
 * die, reloads on SIGHUP (new workers first, then old ones drain) and stops on SIGTERM. */
#ifndef BCF_POOL_H
#define BCF_POOL_H

typedef struct pool_opts {
    const char *config_path;
    int listen_fd;
    /* Runs in each forked worker: returns its exit status. slot is the worker's metrics slot;
     * ready_fd gets one byte once the worker accepts requests. */
    int (*worker_main)(int slot, int ready_fd);
    /* Re-reads configuration in the master before a reload; returns 0 on success. */
    int (*reload_config)(void);
    int (*worker_count)(void);
} pool_opts;

int pool_run(const pool_opts *o);
#endif
