/* backend.c — loads the CUDA plugin (worker/cuda/cuda_api.h) with dlopen when the backend asks for
 * it, splits each sweep between the GPU (kernel strategies) and the CPU threads (the rest), and
 * hands ML training the plugin's gradient engine. */
#include "backend.h"
#include "autoconfig.h"
#include "cuda/cuda_api.h"
#include "log.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BCF_PKGLIBDIR
#define BCF_PKGLIBDIR "/usr/local/lib/botcriptofy"
#endif
#define BACKEND_PLUGIN "botcriptofy-cuda.so"

#ifdef __SANITIZE_ADDRESS__
/* The CUDA driver maps device memory at addresses inside ASan's shadow gap, which ASan protects by
 * default; without this a sanitizer build could not use a GPU at all (cuInit fails). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "protect_shadow_gap=0";
}
/* The driver keeps allocations for the life of the process where LeakSanitizer cannot see them. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcuda.so\nleak:libnvidia-ptxjitcompiler.so\nleak:" BACKEND_PLUGIN "\n";
}
#endif

static struct {
    int cuda;          /* 1: sweeps go to the plugin */
    char detail[PATH_MAX + 320];
    void *handle;      /* the plugin, once loaded (never unloaded: a CUDA runtime does not unload) */
    uint64_t (*abi)(void);
    const char *(*version)(void);
    int (*probe)(char *, size_t);
    bcf_cuda_series *(*upload)(const sweep_series *, char *, size_t);
    void (*series_free)(bcf_cuda_series *);
    int (*sweep)(bcf_cuda_series *, const engine_config *, const int64_t *, size_t, const bcf_cuda_sweep_opts *,
                 sweep_stats *, char *, size_t);
    bcf_cuda_train *(*train_begin)(const ml_net *, int, size_t, const double *, const signed char *, size_t,
                                   char *, size_t);
    int (*train_batch)(bcf_cuda_train *, const double *, const size_t *, size_t, double *, double *, char *,
                       size_t);
    void (*train_end)(bcf_cuda_train *);
} be = {.detail = "cpu"};

void backend_default_plugin(char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, outlen, "%s/cuda/%s", exe, BACKEND_PLUGIN);
            if (access(out, R_OK) == 0)
                return;
        }
    }
    snprintf(out, outlen, "%s/%s", BCF_PKGLIBDIR, BACKEND_PLUGIN);
}

/* dlopen + dlsym + the ABI check; 0, or -1 with why. */
static int plugin_load(const char *path, char *why, size_t whylen)
{
    if (be.handle)
        return 0;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, whylen, "cannot load the CUDA plugin: %s", dlerror());
        return -1;
    }
    be.abi = (uint64_t(*)(void))dlsym(h, "bcf_cuda_abi");
    be.version = (const char *(*)(void))dlsym(h, "bcf_cuda_version");
    be.probe = (int (*)(char *, size_t))dlsym(h, "bcf_cuda_probe");
    be.upload = (bcf_cuda_series * (*)(const sweep_series *, char *, size_t)) dlsym(h, "bcf_cuda_series_upload");
    be.series_free = (void (*)(bcf_cuda_series *))dlsym(h, "bcf_cuda_series_free");
    be.sweep = (int (*)(bcf_cuda_series *, const engine_config *, const int64_t *, size_t, const bcf_cuda_sweep_opts *,
                        sweep_stats *, char *, size_t))dlsym(h, "bcf_cuda_sweep");
    be.train_begin = (bcf_cuda_train * (*)(const ml_net *, int, size_t, const double *, const signed char *, size_t,
                                           char *, size_t)) dlsym(h, "bcf_cuda_train_begin");
    be.train_batch = (int (*)(bcf_cuda_train *, const double *, const size_t *, size_t, double *, double *, char *,
                              size_t))dlsym(h, "bcf_cuda_train_batch");
    be.train_end = (void (*)(bcf_cuda_train *))dlsym(h, "bcf_cuda_train_end");
    if (!be.abi || !be.version || !be.probe || !be.upload || !be.series_free || !be.sweep || !be.train_begin ||
        !be.train_batch || !be.train_end) {
        snprintf(why, whylen, "%s is not a BotCriptoFy CUDA plugin (a symbol is missing)", path);
        dlclose(h);
        return -1;
    }
    if (be.abi() != BCF_CUDA_ABI || strcmp(be.version(), PACKAGE_VERSION) != 0) {
        snprintf(why, whylen, "%s belongs to another build (version %s, ABI %llx; this worker: %s, %llx)", path,
                 be.version(), (unsigned long long)be.abi(), PACKAGE_VERSION, (unsigned long long)BCF_CUDA_ABI);
        dlclose(h);
        return -1;
    }
    be.handle = h;
    return 0;
}

int backend_init(const char *want, const char *plugin, char *err, size_t errlen)
{
    be.cuda = 0;
    snprintf(be.detail, sizeof be.detail, "cpu");
    if (!want || !*want)
        want = "auto";
    int need;
    if (!strcmp(want, "cpu"))
        return 0;
    else if (!strcmp(want, "auto"))
        need = 0;
    else if (!strcmp(want, "cuda"))
        need = 1;
    else {
        snprintf(err, errlen, "unknown backend '%s' (auto, cpu or cuda)", want);
        return -1;
    }
    char path[PATH_MAX], why[PATH_MAX + 256], device[192];
    if (plugin && *plugin)
        snprintf(path, sizeof path, "%s", plugin);
    else
        backend_default_plugin(path, sizeof path);
    int devices = 0;
    if (plugin_load(path, why, sizeof why) == 0) {
        devices = be.probe(device, sizeof device);
        if (devices <= 0)
            snprintf(why, sizeof why, "no usable CUDA device: %s", device);
    }
    if (devices <= 0) {
        if (need) {
            snprintf(err, errlen, "backend cuda unavailable: %s", why);
            return -1;
        }
        snprintf(be.detail, sizeof be.detail, "cpu (auto: %s)", why);
        return 0;
    }
    be.cuda = 1;
    snprintf(be.detail, sizeof be.detail, "cuda: %s%s", device, devices > 1 ? " (device 0 of several)" : "");
    return 0;
}

const char *backend_name(void)
{
    return be.cuda ? "cuda" : "cpu";
}

const char *backend_detail(void)
{
    return be.detail;
}

void backend_reset(void)
{
    be.cuda = 0;
    snprintf(be.detail, sizeof be.detail, "cpu");
}

/* ---- the split sweep ---- */

/* Maps one part's progress (the GPU's candle-steps, or a CPU sweep_run's sets) onto the whole
 * sweep's parameter sets. */
typedef struct part_progress {
    const sweep_opts *o;
    size_t offset, count, total;
} part_progress;

static int gpu_progress(double done, double total, void *ud)
{
    part_progress *p = ud;
    size_t sets = total > 0 ? (size_t)((double)p->count * (done / total)) : 0;
    return p->o->progress(p->offset + (sets < p->count ? sets : p->count), p->total, p->o->ud);
}

static int cpu_progress(size_t done, size_t total, void *ud)
{
    (void)total;
    part_progress *p = ud;
    return p->o->progress(p->offset + done, p->total, p->o->ud);
}

/* cfgs[0..n) on the CPU threads, progress reported from offset on. */
static int cpu_part(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, size_t offset,
                    size_t total, sweep_stats *out)
{
    part_progress p = {o, offset, n, total};
    sweep_opts co = *o;
    if (o->progress) {
        co.progress = cpu_progress;
        co.ud = &p;
    }
    return sweep_run(d, cfgs, n, &co, out);
}

/* cfgs[0..n) (all covered by the kernel) on the GPU; on a CUDA failure, on the CPU. */
static int gpu_part(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, size_t total,
                    sweep_stats *out)
{
    int64_t *warm = malloc(n * sizeof *warm);
    if (!warm)
        return SWEEP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        warm[i] = sweep_warmup(&cfgs[i], &d->se, o->warmup_max);
    char err[256] = "";
    int rc = BCF_CUDA_EFAIL;
    bcf_cuda_series *s = be.upload(&d->se, err, sizeof err);
    if (s) {
        part_progress p = {o, 0, n, total};
        bcf_cuda_sweep_opts go = {.initial_balance = o->initial_balance};
        if (o->progress) {
            go.progress = gpu_progress;
            go.ud = &p;
        }
        rc = be.sweep(s, cfgs, warm, n, &go, out, err, sizeof err);
        be.series_free(s);
    }
    free(warm);
    if (rc == BCF_CUDA_ECANCELLED)
        return SWEEP_ECANCELLED;
    if (rc != 0) {
        log_warn("CUDA sweep of %zu parameter sets failed (%s): running them on the CPU", n, err);
        return cpu_part(d, cfgs, n, o, 0, total, out);
    }
    return 0;
}

int backend_sweep(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, sweep_stats *out)
{
    if (!be.cuda)
        return sweep_run(d, cfgs, n, o, out);
    if (!d || !d->buf || (n && (!cfgs || !out)) || !o || !(o->initial_balance > 0))
        return SWEEP_EINVAL;
    size_t ngpu = 0;
    for (size_t i = 0; i < n; i++)
        ngpu += sweep_kernel_covers(&cfgs[i]) != 0;
    if (ngpu == 0)
        return sweep_run(d, cfgs, n, o, out);
    size_t ncpu = n - ngpu;
    int rc = SWEEP_ENOMEM;
    size_t *idx = malloc(n * sizeof *idx); /* the GPU's sets first, then the CPU's */
    engine_config *part = malloc(n * sizeof *part);
    sweep_stats *res = malloc(n * sizeof *res);
    if (!idx || !part || !res)
        goto out;
    size_t g = 0, c = ngpu;
    for (size_t i = 0; i < n; i++)
        idx[sweep_kernel_covers(&cfgs[i]) ? g++ : c++] = i;
    for (size_t k = 0; k < n; k++)
        part[k] = cfgs[idx[k]];
    rc = gpu_part(d, part, ngpu, o, n, res);
    if (rc == 0 && ncpu)
        rc = cpu_part(d, part + ngpu, ncpu, o, ngpu, n, res + ngpu);
    if (rc != 0)
        goto out;
    for (size_t k = 0; k < n; k++)
        out[idx[k]] = res[k];
    if (o->progress && o->progress(n, n, o->ud))
        rc = SWEEP_ECANCELLED;
out:
    free(idx);
    free(part);
    free(res);
    return rc;
}

/* ---- ML training ---- */

static void *cuda_train_begin(void *ctx, const ml_net *net, int shards, size_t max_batch, const double *X,
                              const signed char *y, size_t nrows, char *err, size_t errlen)
{
    (void)ctx;
    return be.train_begin(net, shards, max_batch, X, y, nrows, err, errlen);
}

static int cuda_train_batch(void *state, const double *theta, const size_t *rows, size_t count, double *grad,
                            double *shard_loss, char *err, size_t errlen)
{
    return be.train_batch(state, theta, rows, count, grad, shard_loss, err, errlen) == 0 ? 0 : -1;
}

static void cuda_train_end(void *state)
{
    be.train_end(state);
}

static const ml_grad_engine cuda_engine = {"cuda", NULL, cuda_train_begin, cuda_train_batch, cuda_train_end};

const ml_grad_engine *backend_ml_engine(void)
{
    return be.cuda ? &cuda_engine : NULL;
}
