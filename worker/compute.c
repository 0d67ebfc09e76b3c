/* compute.c — the worker's compute backend for parameter sweeps: the CPU sweep on every core
 * (worker.compute_threads), behind one function the optimization jobs call. */
#include "worker.h"

int worker_sweep(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, sweep_stats *out)
{
    return sweep_run(d, cfgs, n, o, out);
}
