/* sweep.cu — the CUDA sweep behind cuda_api.h: one GPU thread per parameter set runs the sweep
 * kernel (lib/trading/sweep_kernel.h) over candles held in device memory, slice by slice. */
#include "plugin_errors.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifndef BCF_PACKAGE_VERSION
#define BCF_PACKAGE_VERSION "unknown"
#endif

/*
 * The layout: each candle field is one array (sweep_series), and every thread of a warp steps
 * through the same candle index at the same time, so a warp's read of open[i] is one broadcast.
 * A thread's state (sweep_state, 336 bytes) lives in registers inside sweep_advance and in
 * global memory between slices. The work is cut along the candles, not the parameter sets: a
 * launch advances every set by one slice, which keeps all of them in flight at once (the GPU
 * needs thousands of threads) and still gives the caller progress and a chance to cancel
 * every few tens of milliseconds.
 */

#define SLICE_STEPS (1LL << 30) /* parameter sets × candles per launch: ~20 ms on an H100 */
#define SLICE_MIN 2048          /* candles per launch at least, however many sets */
#define CHUNK_SETS ((size_t)1 << 18) /* sets in device memory at once (at most): ~200 MB of configs and states */

struct bcf_cuda_series {
    sweep_series dev; /* the same series, its arrays in device memory */
    double *buf;      /* open, high, low, close: 4 × n doubles */
    int64_t *time;
};

/*
 * One slice for `count` parameter sets of one kind: the first slice starts them (sweep_init),
 * each advances them to candle `to`, the last one (to == n) writes their statistics. KIND is a
 * template constant, so each strategy's loop is compiled on its own without the others' branches.
 */
template <int KIND>
__global__ void __launch_bounds__(256) sweep_slice(sweep_series se, const engine_config *__restrict__ cfgs,
                                                   const int64_t *__restrict__ warm, sweep_state *states,
                                                   sweep_stats *out, int count, double initial_balance, int64_t to,
                                                   int first)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count)
        return;
    engine_config cfg = cfgs[i];
    sweep_state s;
    if (first)
        sweep_init(&s, &cfg, &se, initial_balance, warm[i]);
    else
        s = states[i];
    sweep_advance(&s, &cfg, &se, to, KIND);
    if (to >= se.n)
        sweep_finish(&s, &cfg, &se, &out[i]);
    else
        states[i] = s;
}

/* Threads per block: 256 when the sets fill every multiprocessor twice over, fewer otherwise so
 * that a sweep of a few thousand sets still reaches every multiprocessor (each thread's loop is
 * one long dependency chain: spreading warps wide beats packing them). */
static int block_size(int count, int sms)
{
    int block = 256;
    while (block > 32 && (count + block - 1) / block < 2 * sms)
        block /= 2;
    return block;
}

static cudaError_t launch(int kind, int blocks, int block, const sweep_series &se, const engine_config *cfgs,
                          const int64_t *warm, sweep_state *states, sweep_stats *out, int count,
                          double initial_balance, int64_t to, int first)
{
    switch (kind) {
    case STRATEGY_SMA_CROSS:
        sweep_slice<STRATEGY_SMA_CROSS><<<blocks, block>>>(se, cfgs, warm, states, out, count, initial_balance, to,
                                                           first);
        break;
    case STRATEGY_EMA_CROSS:
        sweep_slice<STRATEGY_EMA_CROSS><<<blocks, block>>>(se, cfgs, warm, states, out, count, initial_balance, to,
                                                           first);
        break;
    case STRATEGY_RSI_REVERSION:
        sweep_slice<STRATEGY_RSI_REVERSION><<<blocks, block>>>(se, cfgs, warm, states, out, count, initial_balance,
                                                               to, first);
        break;
    case STRATEGY_BOLLINGER_BREAKOUT:
        sweep_slice<STRATEGY_BOLLINGER_BREAKOUT><<<blocks, block>>>(se, cfgs, warm, states, out, count,
                                                                    initial_balance, to, first);
        break;
    case STRATEGY_MACD_TREND:
        sweep_slice<STRATEGY_MACD_TREND><<<blocks, block>>>(se, cfgs, warm, states, out, count, initial_balance, to,
                                                            first);
        break;
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

BCF_EXPORT uint64_t bcf_cuda_abi(void)
{
    return BCF_CUDA_ABI;
}

BCF_EXPORT const char *bcf_cuda_version(void)
{
    return BCF_PACKAGE_VERSION;
}

BCF_EXPORT int bcf_cuda_probe(char *name, size_t namelen)
{
    char dummy[8];
    if (!name || !namelen) {
        name = dummy;
        namelen = sizeof dummy;
    }
    /* the runtime says "driver version is insufficient" when there is no driver at all */
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!driver) {
        snprintf(name, namelen, "no NVIDIA driver (%s)", dlerror());
        return 0;
    }
    dlclose(driver);
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorInsufficientDriver) {
        int drv = 0, rt = 0;
        cudaDriverGetVersion(&drv);
        cudaRuntimeGetVersion(&rt);
        cudaGetLastError();
        snprintf(name, namelen, "the NVIDIA driver supports CUDA %d.%d, the plugin was built with CUDA %d.%d",
                 drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
        return 0;
    }
    if (e != cudaSuccess) {
        cudaGetLastError();
        snprintf(name, namelen, "%s", cudaGetErrorString(e));
        return 0;
    }
    if (count <= 0) {
        snprintf(name, namelen, "no CUDA device");
        return 0;
    }
    /* before the context exists: wait for kernels asleep, not spinning, so a GPU worker leaves its
     * CPU core to the CPU workers beside it (a slice lasts milliseconds; the wake-up is cheap) */
    if (cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync) != cudaSuccess)
        cudaGetLastError();
    cudaDeviceProp p;
    e = cudaGetDeviceProperties(&p, 0);
    if (e != cudaSuccess) {
        cudaGetLastError();
        snprintf(name, namelen, "device 0: %s", cudaGetErrorString(e));
        return 0;
    }
    /* a device older than every architecture built into the plugin has no kernel to run */
    cudaFuncAttributes fa;
    e = cudaFuncGetAttributes(&fa, sweep_slice<STRATEGY_SMA_CROSS>);
    if (e != cudaSuccess) {
        cudaGetLastError();
        snprintf(name, namelen, "%s (sm_%d%d): %s", p.name, p.major, p.minor, cudaGetErrorString(e));
        return 0;
    }
    snprintf(name, namelen, "%s (sm_%d%d, %d SMs, %.0f GiB)", p.name, p.major, p.minor, p.multiProcessorCount,
             (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    return count;
}

BCF_EXPORT void bcf_cuda_series_free(bcf_cuda_series *s)
{
    if (!s)
        return;
    cudaFree(s->buf);
    cudaFree(s->time);
    free(s);
}

BCF_EXPORT bcf_cuda_series *bcf_cuda_series_upload(const sweep_series *se, char *err, size_t errlen)
{
    if (!se || se->n <= 0 || se->start < 0 || se->start >= se->n || !se->open || !se->high || !se->low ||
        !se->close || !se->time) {
        fail(err, errlen, "candles: none to trade");
        return NULL;
    }
    bcf_cuda_series *s = (bcf_cuda_series *)calloc(1, sizeof *s);
    if (!s) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    size_t n = (size_t)se->n, bytes = n * sizeof(double);
    cudaError_t e = cudaMalloc((void **)&s->buf, 4 * bytes);
    if (e == cudaSuccess)
        e = cudaMalloc((void **)&s->time, n * sizeof(int64_t));
    if (e != cudaSuccess) {
        cuda_fail(err, errlen, "cudaMalloc (candles)", e);
        bcf_cuda_series_free(s);
        return NULL;
    }
    const double *src[4] = {se->open, se->high, se->low, se->close};
    for (int k = 0; k < 4 && e == cudaSuccess; k++)
        e = cudaMemcpy(s->buf + k * n, src[k], bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess)
        e = cudaMemcpy(s->time, se->time, n * sizeof(int64_t), cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
        cuda_fail(err, errlen, "cudaMemcpy (candles)", e);
        bcf_cuda_series_free(s);
        return NULL;
    }
    s->dev = *se;
    s->dev.open = s->buf;
    s->dev.high = s->buf + n;
    s->dev.low = s->buf + 2 * n;
    s->dev.close = s->buf + 3 * n;
    s->dev.time = s->time;
    return s;
}

/* Device buffers of one chunk of parameter sets. */
typedef struct chunk_mem {
    engine_config *cfgs;
    int64_t *warm;
    sweep_state *states;
    sweep_stats *out;
} chunk_mem;

static void chunk_free(chunk_mem *m)
{
    cudaFree(m->cfgs);
    cudaFree(m->warm);
    cudaFree(m->states);
    cudaFree(m->out);
    memset(m, 0, sizeof *m);
}

/* Sorts the sets by kind (counting sort, stable), so each launch covers one kind's contiguous run. */
static void order_by_kind(const engine_config *cfgs, size_t n, size_t *order, size_t counts[STRATEGY_KIND_COUNT])
{
    size_t at[STRATEGY_KIND_COUNT];
    memset(counts, 0, STRATEGY_KIND_COUNT * sizeof *counts);
    for (size_t i = 0; i < n; i++)
        counts[cfgs[i].kind]++;
    size_t sum = 0;
    for (int k = 0; k < STRATEGY_KIND_COUNT; k++) {
        at[k] = sum;
        sum += counts[k];
    }
    for (size_t i = 0; i < n; i++)
        order[at[cfgs[i].kind]++] = i;
}

BCF_EXPORT int bcf_cuda_sweep(bcf_cuda_series *s, const engine_config *cfgs, const int64_t *warm, size_t n,
                              const bcf_cuda_sweep_opts *o, sweep_stats *out, char *err, size_t errlen)
{
    if (!s || (n && (!cfgs || !warm || !out)) || !o || !(o->initial_balance > 0) || o->slice_candles < 0)
        return fail(err, errlen, "bcf_cuda_sweep: invalid arguments");
    for (size_t i = 0; i < n; i++)
        if (cfgs[i].kind < 0 || cfgs[i].kind >= STRATEGY_KIND_COUNT || !sweep_kernel_covers(&cfgs[i]))
            return fail(err, errlen, "config %zu: strategy kind %d is not covered by the GPU sweep", i,
                        (int)cfgs[i].kind);
    if (n == 0)
        return 0;
    const sweep_series se = s->dev;
    int sms = 0;
    cudaError_t e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
    if (e != cudaSuccess)
        return cuda_fail(err, errlen, "cudaDeviceGetAttribute", e);

    int rc = 0;
    const double initial_balance = o->initial_balance;
    size_t chunk = o->chunk_sets && o->chunk_sets < CHUNK_SETS ? o->chunk_sets : CHUNK_SETS;
    if (chunk > n)
        chunk = n;
    size_t *order = (size_t *)malloc(n * sizeof *order);
    engine_config *hcfg = (engine_config *)malloc(chunk * sizeof *hcfg);
    int64_t *hwarm = (int64_t *)malloc(chunk * sizeof *hwarm);
    sweep_stats *hout = (sweep_stats *)malloc(chunk * sizeof *hout);
    chunk_mem m;
    memset(&m, 0, sizeof m);
    size_t counts[STRATEGY_KIND_COUNT];
    if (!order || !hcfg || !hwarm || !hout) {
        rc = fail(err, errlen, "out of memory");
        goto out;
    }
    order_by_kind(cfgs, n, order, counts);
    if ((e = cudaMalloc((void **)&m.cfgs, chunk * sizeof *m.cfgs)) != cudaSuccess ||
        (e = cudaMalloc((void **)&m.warm, chunk * sizeof *m.warm)) != cudaSuccess ||
        (e = cudaMalloc((void **)&m.states, chunk * sizeof *m.states)) != cudaSuccess ||
        (e = cudaMalloc((void **)&m.out, chunk * sizeof *m.out)) != cudaSuccess) {
        rc = cuda_fail(err, errlen, "cudaMalloc (parameter sets)", e);
        goto out;
    }
    {
        /* progress counts candle-steps: each set's candles from its warm-up on */
        double total = 0, done = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t w = warm[i] < 0 ? 0 : warm[i] > se.start ? se.start : warm[i];
            total += (double)(se.n - (se.start - w));
        }
        for (size_t c0 = 0; c0 < n && rc == 0; c0 += chunk) {
            size_t cn = n - c0 < chunk ? n - c0 : chunk;
            int64_t lo = se.n; /* the earliest first candle of the chunk */
            for (size_t j = 0; j < cn; j++) {
                size_t i = order[c0 + j];
                hcfg[j] = cfgs[i];
                hwarm[j] = warm[i] < 0 ? 0 : warm[i] > se.start ? se.start : warm[i];
                if (se.start - hwarm[j] < lo)
                    lo = se.start - hwarm[j];
            }
            if ((e = cudaMemcpy(m.cfgs, hcfg, cn * sizeof *hcfg, cudaMemcpyHostToDevice)) != cudaSuccess ||
                (e = cudaMemcpy(m.warm, hwarm, cn * sizeof *hwarm, cudaMemcpyHostToDevice)) != cudaSuccess) {
                rc = cuda_fail(err, errlen, "cudaMemcpy (parameter sets)", e);
                break;
            }
            int64_t slice = o->slice_candles;
            if (!slice) {
                slice = SLICE_STEPS / (int64_t)cn;
                if (slice < SLICE_MIN)
                    slice = SLICE_MIN;
            }
            double chunk_total = 0;
            for (size_t j = 0; j < cn; j++)
                chunk_total += (double)(se.n - (se.start - hwarm[j]));
            int first = 1;
            for (int64_t from = lo; rc == 0; first = 0) {
                int64_t to = se.n - from > slice ? from + slice : se.n;
                /* one launch per kind present in the chunk; the runs are contiguous (order_by_kind) */
                for (size_t j = 0; j < cn;) {
                    size_t k = j;
                    while (k < cn && hcfg[k].kind == hcfg[j].kind)
                        k++;
                    int count = (int)(k - j), block = block_size(count, sms);
                    e = launch(hcfg[j].kind, (count + block - 1) / block, block, se, m.cfgs + j, m.warm + j,
                               m.states + j, m.out + j, count, initial_balance, to, first);
                    if (e != cudaSuccess) {
                        rc = cuda_fail(err, errlen, "kernel launch", e);
                        break;
                    }
                    j = k;
                }
                if (rc == 0 && (e = cudaDeviceSynchronize()) != cudaSuccess)
                    rc = cuda_fail(err, errlen, "sweep kernel", e);
                if (rc)
                    break;
                double part = (double)(to - lo) / (double)(se.n - lo);
                if (o->progress && o->progress(done + chunk_total * part, total, o->ud)) {
                    rc = BCF_CUDA_ECANCELLED;
                    break;
                }
                if (to >= se.n)
                    break;
                from = to;
            }
            if (rc)
                break;
            done += chunk_total;
            if ((e = cudaMemcpy(hout, m.out, cn * sizeof *hout, cudaMemcpyDeviceToHost)) != cudaSuccess) {
                rc = cuda_fail(err, errlen, "cudaMemcpy (results)", e);
                break;
            }
            for (size_t j = 0; j < cn; j++)
                out[order[c0 + j]] = hout[j];
        }
    }
out:
    chunk_free(&m);
    free(order);
    free(hcfg);
    free(hwarm);
    free(hout);
    return rc;
}
