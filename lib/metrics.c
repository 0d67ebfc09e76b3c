/* metrics.c — lock-free shared counters: fixed tables in a MAP_SHARED mapping, updated with
 * atomic adds, claimed with compare-and-swap. Nothing here allocates after metrics_init. */
#include "metrics.h"
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HIST_BUCKETS 14
static const double hist_le[HIST_BUCKETS - 1] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,    0.25,  0.5,    1,     2.5,  5};
#define HTTP_SLOTS 4096
#define NAMED_SLOTS 1024
#define CACHE_MODULES 64

struct hist {
    uint64_t bucket[HIST_BUCKETS]; /* non-cumulative; the last is +Inf */
    uint64_t count;
    uint64_t sum_ns;
};

struct named {
    uint32_t state; /* 0 free, 1 being claimed, 2 ready */
    char key[160];  /* name '\0' labels */
    uint64_t value;
};

struct cache_mod {
    uint32_t state;
    char module[32];
    uint64_t hits, misses;
};

struct proc_slot {
    int32_t pid;
    int64_t rss;
};

struct shm {
    uint64_t http_key[HTTP_SLOTS]; /* (route+1)<<24 | method<<16 | status; 0 = empty */
    uint64_t http_count[HTTP_SLOTS];
    struct hist route_hist[METRICS_MAX_ROUTES + 1];
    struct hist db_hist, redis_hist;
    uint64_t db_errors, redis_errors;
    struct cache_mod cache[CACHE_MODULES];
    struct named named[NAMED_SLOTS];
    struct proc_slot procs[METRICS_MAX_SLOTS];
};

static struct shm *M;

int metrics_init(void)
{
    if (M)
        return 0;
    void *p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    M = p;
    return 0;
}

static struct shm *m(void)
{
    if (!M)
        metrics_init();
    return M;
}

static const char *method_names[M_METHODS] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

int metrics_method_index(const char *method)
{
    for (int i = 0; i < M_OTHER; i++)
        if (strcmp(method, method_names[i]) == 0)
            return i;
    return M_OTHER;
}

const char *metrics_method_name(int idx)
{
    return (idx >= 0 && idx < M_METHODS) ? method_names[idx] : "OTHER";
}

static void hist_add(struct hist *h, double seconds)
{
    int b = 0;
    while (b < HIST_BUCKETS - 1 && seconds > hist_le[b])
        b++;
    __atomic_fetch_add(&h->bucket[b], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum_ns, (uint64_t)(seconds * 1e9), __ATOMIC_RELAXED);
}

void metrics_http(int route_idx, int method_idx, int status, double seconds)
{
    struct shm *s = m();
    if (!s)
        return;
    if (route_idx < -1 || route_idx >= METRICS_MAX_ROUTES)
        route_idx = -1;
    uint64_t key = ((uint64_t)(route_idx + 1) << 24) | ((uint64_t)method_idx << 16) | (uint64_t)(status & 0xffff);
    uint64_t h = (key * 0x9E3779B97F4A7C15ull) >> 52; /* 12 bits */
    for (int probe = 0; probe < HTTP_SLOTS; probe++) {
        size_t i = (h + (uint64_t)probe) & (HTTP_SLOTS - 1);
        uint64_t cur = __atomic_load_n(&s->http_key[i], __ATOMIC_ACQUIRE);
        if (cur == 0) {
            uint64_t expected = 0;
            if (__atomic_compare_exchange_n(&s->http_key[i], &expected, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                cur = key;
            else
                cur = expected;
        }
        if (cur == key) {
            __atomic_fetch_add(&s->http_count[i], 1, __ATOMIC_RELAXED);
            break;
        }
    }
    hist_add(&s->route_hist[route_idx + 1], seconds);
}

void metrics_db(double seconds, int ok)
{
    struct shm *s = m();
    if (!s)
        return;
    hist_add(&s->db_hist, seconds);
    if (!ok)
        __atomic_fetch_add(&s->db_errors, 1, __ATOMIC_RELAXED);
}

void metrics_redis(double seconds, int ok)
{
    struct shm *s = m();
    if (!s)
        return;
    hist_add(&s->redis_hist, seconds);
    if (!ok)
        __atomic_fetch_add(&s->redis_errors, 1, __ATOMIC_RELAXED);
}

/* Claims or finds a slot whose text key equals want; returns its index or -1 when full. */
static int claim(uint32_t *state, char *key, size_t keylen, size_t stride, int slots, const char *want, size_t wantlen)
{
    for (int i = 0; i < slots; i++) {
        uint32_t *st = (uint32_t *)((char *)state + (size_t)i * stride);
        char *k = key + (size_t)i * stride;
        uint32_t cur = __atomic_load_n(st, __ATOMIC_ACQUIRE);
        if (cur == 0) {
            uint32_t expected = 0;
            if (__atomic_compare_exchange_n(st, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                memcpy(k, want, wantlen < keylen ? wantlen : keylen - 1);
                __atomic_store_n(st, 2, __ATOMIC_RELEASE);
                return i;
            }
            cur = expected;
        }
        while (cur == 1) /* another process is writing the key: it takes nanoseconds */
            cur = __atomic_load_n(st, __ATOMIC_ACQUIRE);
        if (memcmp(k, want, wantlen < keylen ? wantlen : keylen - 1) == 0)
            return i;
    }
    return -1;
}

void metrics_cache(const char *module, int hit)
{
    struct shm *s = m();
    if (!s)
        return;
    char want[32] = {0};
    snprintf(want, sizeof want, "%s", module);
    int i = claim(&s->cache[0].state, s->cache[0].module, sizeof want, sizeof(struct cache_mod), CACHE_MODULES, want,
                  sizeof want);
    if (i < 0)
        return;
    __atomic_fetch_add(hit ? &s->cache[i].hits : &s->cache[i].misses, 1, __ATOMIC_RELAXED);
}

/* HELP text of the named counters the modules count. */
static const char *named_help(const char *name)
{
    static const struct {
        const char *name, *help;
    } helps[] = {
        {"rate_limit_requests_total", "Rate-limit checks, by limit name and result (allowed or limited)."},
        {"security_events_total", "Security events stored, by kind."},
        {"security_alerts_total", "Anomaly alerts raised, by rule."},
        {"http_client_requests_total", "Outbound HTTP attempts, by service and status (or transport error)."},
        {"http_client_breaker_transitions_total", "Circuit breaker state changes of outbound services, by the state entered."},
    };
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (!strcmp(helps[i].name, name))
            return helps[i].help;
    return "Counter of module events.";
}

static int named_slot(const char *name, const char *labels)
{
    struct shm *s = m();
    if (!s)
        return -1;
    char want[160] = {0};
    size_t nl = strlen(name), ll = labels ? strlen(labels) : 0;
    if (nl + ll + 2 > sizeof want)
        return -1;
    memcpy(want, name, nl);
    if (ll)
        memcpy(want + nl + 1, labels, ll);
    return claim(&s->named[0].state, s->named[0].key, sizeof want, sizeof(struct named), NAMED_SLOTS, want, sizeof want);
}

void metrics_count(const char *name, const char *labels, uint64_t n)
{
    int i = named_slot(name, labels);
    if (i >= 0)
        __atomic_fetch_add(&M->named[i].value, n, __ATOMIC_RELAXED);
}

uint64_t metrics_counter_value(const char *name, const char *labels)
{
    int i = named_slot(name, labels);
    return i >= 0 ? __atomic_load_n(&M->named[i].value, __ATOMIC_RELAXED) : 0;
}

void metrics_slot_set(int slot, int pid, long rss)
{
    struct shm *s = m();
    if (!s || slot < 0 || slot >= METRICS_MAX_SLOTS)
        return;
    __atomic_store_n(&s->procs[slot].pid, pid, __ATOMIC_RELAXED);
    __atomic_store_n(&s->procs[slot].rss, rss, __ATOMIC_RELAXED);
}

void metrics_slot_clear(int slot)
{
    metrics_slot_set(slot, 0, 0);
}

long metrics_self_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    long size = 0, resident = 0;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static void render_hist(buf *out, const char *name, const char *labels, const struct hist *h)
{
    uint64_t cum = 0;
    const char *sep = labels && *labels ? "," : "";
    for (int b = 0; b < HIST_BUCKETS; b++) {
        cum += __atomic_load_n(&h->bucket[b], __ATOMIC_RELAXED);
        if (b < HIST_BUCKETS - 1)
            buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels ? labels : "", sep, hist_le[b],
                       (unsigned long long)cum);
        else
            buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels ? labels : "", sep,
                       (unsigned long long)cum);
    }
    /* count equals the +Inf bucket even while other processes are adding */
    int has = labels && *labels;
    buf_printf(out, "%s_sum%s%s%s %.9f\n", name, has ? "{" : "", has ? labels : "", has ? "}" : "",
               (double)__atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED) / 1e9);
    buf_printf(out, "%s_count%s%s%s %llu\n", name, has ? "{" : "", has ? labels : "", has ? "}" : "",
               (unsigned long long)cum);
}

static void label_escape(buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_putc(out, '\\');
        if (*s == '\n') {
            buf_puts(out, "\\n");
            continue;
        }
        buf_putc(out, *s);
    }
}

void metrics_render(buf *out, const char *(*route_name)(int))
{
    struct shm *s = m();
    if (!s)
        return;
    buf_puts(out, "# HELP http_requests_total HTTP requests served, by method, route and status.\n"
                  "# TYPE http_requests_total counter\n");
    for (int i = 0; i < HTTP_SLOTS; i++) {
        uint64_t key = __atomic_load_n(&s->http_key[i], __ATOMIC_ACQUIRE);
        if (!key)
            continue;
        int route = (int)(key >> 24) - 1, method = (int)((key >> 16) & 0xff), status = (int)(key & 0xffff);
        const char *rn = route >= 0 && route_name ? route_name(route) : NULL;
        buf_printf(out, "http_requests_total{method=\"%s\",route=\"", metrics_method_name(method));
        label_escape(out, rn ? rn : "unmatched");
        buf_printf(out, "\",status=\"%d\"} %llu\n", status,
                   (unsigned long long)__atomic_load_n(&s->http_count[i], __ATOMIC_RELAXED));
    }
    buf_puts(out, "# HELP http_request_duration_seconds Time from request start to response end, by route.\n"
                  "# TYPE http_request_duration_seconds histogram\n");
    for (int r = 0; r <= METRICS_MAX_ROUTES; r++) {
        if (!__atomic_load_n(&s->route_hist[r].count, __ATOMIC_RELAXED))
            continue;
        const char *rn = r > 0 && route_name ? route_name(r - 1) : NULL;
        buf b;
        buf_init(&b);
        buf_puts(&b, "route=\"");
        label_escape(&b, rn ? rn : "unmatched");
        buf_putc(&b, '"');
        render_hist(out, "http_request_duration_seconds", b.data, &s->route_hist[r]);
        buf_free(&b);
    }
    buf_puts(out, "# HELP db_query_duration_seconds PostgreSQL calls and their latency.\n"
                  "# TYPE db_query_duration_seconds histogram\n");
    render_hist(out, "db_query_duration_seconds", "", &s->db_hist);
    buf_printf(out, "# HELP db_errors_total PostgreSQL calls that failed.\n# TYPE db_errors_total counter\n"
                    "db_errors_total %llu\n",
               (unsigned long long)__atomic_load_n(&s->db_errors, __ATOMIC_RELAXED));
    buf_puts(out, "# HELP redis_command_duration_seconds Redis commands and their latency.\n"
                  "# TYPE redis_command_duration_seconds histogram\n");
    render_hist(out, "redis_command_duration_seconds", "", &s->redis_hist);
    buf_printf(out, "# HELP redis_errors_total Redis commands that failed.\n# TYPE redis_errors_total counter\n"
                    "redis_errors_total %llu\n",
               (unsigned long long)__atomic_load_n(&s->redis_errors, __ATOMIC_RELAXED));
    buf_puts(out, "# HELP cache_hits_total Cache lookups that found a value, by module.\n"
                  "# TYPE cache_hits_total counter\n");
    for (int i = 0; i < CACHE_MODULES; i++)
        if (__atomic_load_n(&s->cache[i].state, __ATOMIC_ACQUIRE) == 2)
            buf_printf(out, "cache_hits_total{module=\"%s\"} %llu\n", s->cache[i].module,
                       (unsigned long long)__atomic_load_n(&s->cache[i].hits, __ATOMIC_RELAXED));
    buf_puts(out, "# HELP cache_misses_total Cache lookups that found nothing, by module.\n"
                  "# TYPE cache_misses_total counter\n");
    for (int i = 0; i < CACHE_MODULES; i++)
        if (__atomic_load_n(&s->cache[i].state, __ATOMIC_ACQUIRE) == 2)
            buf_printf(out, "cache_misses_total{module=\"%s\"} %llu\n", s->cache[i].module,
                       (unsigned long long)__atomic_load_n(&s->cache[i].misses, __ATOMIC_RELAXED));
    buf_puts(out, "# HELP process_resident_memory_bytes Resident memory of each FastCGI process.\n"
                  "# TYPE process_resident_memory_bytes gauge\n");
    for (int i = 0; i < METRICS_MAX_SLOTS; i++) {
        int pid = __atomic_load_n(&s->procs[i].pid, __ATOMIC_RELAXED);
        if (pid)
            buf_printf(out, "process_resident_memory_bytes{slot=\"%d\",pid=\"%d\"} %ld\n", i, pid,
                       (long)__atomic_load_n(&s->procs[i].rss, __ATOMIC_RELAXED));
    }
    /* named counters: group by metric name so each family gets one TYPE line */
    for (int i = 0; i < NAMED_SLOTS; i++) {
        if (__atomic_load_n(&s->named[i].state, __ATOMIC_ACQUIRE) != 2)
            continue;
        const char *name = s->named[i].key;
        int first = 1;
        for (int j = 0; j < i; j++)
            if (__atomic_load_n(&s->named[j].state, __ATOMIC_ACQUIRE) == 2 && strcmp(s->named[j].key, name) == 0)
                first = 0;
        if (!first)
            continue;
        buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, named_help(name), name);
        for (int j = i; j < NAMED_SLOTS; j++) {
            if (__atomic_load_n(&s->named[j].state, __ATOMIC_ACQUIRE) != 2 || strcmp(s->named[j].key, name) != 0)
                continue;
            const char *labels = s->named[j].key + strlen(name) + 1;
            buf_printf(out, "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
                       (unsigned long long)__atomic_load_n(&s->named[j].value, __ATOMIC_RELAXED));
        }
    }
}
