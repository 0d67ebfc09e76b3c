/* stream.c — a model's predictions one candle at a time for a live bot, and the stream's state
 * saved as bytes (magic, version, sizes, the model's fingerprint, a checksum) and validated back. */
#include "indicators_inline.h"
#include "ml.h"
#include "mlmath.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ML_STREAM_MAGIC 0x54534C4Du /* "MLST" little-endian */
#define ML_STREAM_VERSION 1u

struct ml_stream {
    const ml_model *m;
    ml_feature_state features;
    gru_stream gru; /* the window of the last L rows (GRU only) */
    double row[ML_N_FEATURES];
};

ml_stream *ml_stream_new(const ml_model *m)
{
    ml_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    ml_feature_state_init(&s->features);
    if (m->kind == ML_GRU && gru_stream_init(&s->gru, &m->net.shape, m->params) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void ml_stream_free(ml_stream *s)
{
    if (!s)
        return;
    if (s->m->kind == ML_GRU)
        gru_stream_free(&s->gru);
    free(s);
}

int ml_stream_update(ml_stream *s, const candle *c, double *prob)
{
    *prob = NAN;
    if (ml_candle_ok(c) < 0)
        return ML_ERR_INVALID;
    if (!ml_feature_state_update(&s->features, c, s->row))
        return 0;
    ml_scaler_apply(&s->m->scaler, s->row, 0, 1); /* the batch's own arithmetic, on one row */
    double logit;
    if (s->m->kind == ML_GRU) {
        if (!gru_stream_push(&s->gru, s->row, &logit))
            return 0;
    } else {
        logit = ml_net_logit(&s->m->net, s->m->params, s->row, 0, NULL);
    }
    *prob = ml_sigmoid(logit);
    return 1;
}

/* ---- saved state ---- */

typedef struct stream_blob_header {
    uint32_t magic, version;
    uint32_t features_size; /* sizeof(ml_feature_state) of the build that wrote it */
    uint32_t kind, F, H, L, pad;
    uint64_t model;    /* fingerprint of the model's scaler and weights */
    uint64_t checksum; /* of the payload: feature state, window count, window rows */
} stream_blob_header;

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t model_fingerprint(const ml_model *m)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, &m->scaler, sizeof m->scaler);
    return fnv1a(h, m->params, m->net.n_params * sizeof *m->params);
}

/* Doubles of the GRU window (2L rows of F; 0 for logistic regression). */
static size_t ring_len(const ml_stream *s)
{
    return s->m->kind == ML_GRU ? 2 * (size_t)s->m->net.shape.L * ML_N_FEATURES : 0;
}

static size_t payload_len(const ml_stream *s)
{
    return sizeof(ml_feature_state) + sizeof(uint64_t) + ring_len(s) * sizeof(double);
}

size_t ml_stream_state_size(const ml_stream *s)
{
    return sizeof(stream_blob_header) + payload_len(s);
}

static stream_blob_header blob_header(const ml_stream *s)
{
    stream_blob_header h;
    memset(&h, 0, sizeof h);
    h.magic = ML_STREAM_MAGIC;
    h.version = ML_STREAM_VERSION;
    h.features_size = (uint32_t)sizeof(ml_feature_state);
    h.kind = (uint32_t)s->m->kind;
    h.F = (uint32_t)s->m->net.shape.F;
    h.H = (uint32_t)s->m->net.shape.H;
    h.L = (uint32_t)s->m->net.shape.L;
    h.model = model_fingerprint(s->m);
    return h;
}

long ml_stream_save(const ml_stream *s, void *buf, size_t len)
{
    size_t need = ml_stream_state_size(s);
    if (!buf || len < need)
        return ML_ERR_INVALID;
    unsigned char *out = buf, *p = out + sizeof(stream_blob_header);
    uint64_t count = s->m->kind == ML_GRU ? (uint64_t)s->gru.count : 0;
    memcpy(p, &s->features, sizeof s->features);
    memcpy(p + sizeof s->features, &count, sizeof count);
    if (ring_len(s))
        memcpy(p + sizeof s->features + sizeof count, s->gru.ring, ring_len(s) * sizeof(double));
    stream_blob_header h = blob_header(s);
    h.checksum = fnv1a(0xcbf29ce484222325ULL, p, payload_len(s));
    memcpy(out, &h, sizeof h);
    return (long)need;
}

/* A ring window: the period it was made for, and a fill count and position inside it. */
static int ring_ok(int period, int want_period, int count, int pos)
{
    return period == want_period && count >= 0 && count <= period && pos >= 0 && pos < period;
}

/* The invariants the indicator updates rely on for memory safety, against a fresh state's
 * parameters: the same periods and factors, indexes and counts inside their rings. */
static int features_valid(const ml_feature_state *f)
{
    ml_feature_state t;
    ml_feature_state_init(&t);
    const ind_sma *a = &f->sma20;
    int cadence = t.sma20.period > IND_SMA_RESYNC ? t.sma20.period : IND_SMA_RESYNC;
    if (!ring_ok(a->period, t.sma20.period, a->count, a->pos) || a->scale != t.sma20.scale || a->resync_in < 1 ||
        a->resync_in > cadence)
        return 0;
    const ind_bbands *bands[2] = {&f->bb20, &f->vol20}, *fresh[2] = {&t.bb20, &t.vol20};
    for (int i = 0; i < 2; i++)
        if (!ring_ok(bands[i]->period, fresh[i]->period, bands[i]->count, bands[i]->pos) ||
            bands[i]->k != fresh[i]->k || bands[i]->since_resync < 0 || bands[i]->since_resync >= bands[i]->period)
            return 0;
    const ind_macd *m = &f->macd;
    return f->rsi14.period == t.rsi14.period && f->rsi14.count >= 0 && f->rsi14.count <= t.rsi14.period + 1 &&
           m->slow_period == t.macd.slow_period && m->count >= 0 && m->count <= m->slow_period &&
           m->fast.alpha == t.macd.fast.alpha && m->slow.alpha == t.macd.slow.alpha &&
           m->signal.alpha == t.macd.signal.alpha && f->atr14.period == t.atr14.period && f->atr14.count >= 0 &&
           f->atr14.count <= t.atr14.period && f->count >= 0;
}

int ml_stream_load(ml_stream *s, const void *buf, size_t len)
{
    stream_blob_header h, want = blob_header(s);
    if (!buf || len != ml_stream_state_size(s))
        return ML_ERR_INVALID;
    memcpy(&h, buf, sizeof h);
    const unsigned char *p = (const unsigned char *)buf + sizeof h;
    want.checksum = h.checksum;
    if (memcmp(&h, &want, sizeof h) != 0 || fnv1a(0xcbf29ce484222325ULL, p, payload_len(s)) != h.checksum)
        return ML_ERR_INVALID;
    ml_feature_state f;
    uint64_t count;
    memcpy(&f, p, sizeof f);
    memcpy(&count, p + sizeof f, sizeof count);
    if (!features_valid(&f) || (s->m->kind != ML_GRU && count != 0))
        return ML_ERR_INVALID;
    s->features = f;
    if (ring_len(s)) {
        s->gru.count = (size_t)count;
        memcpy(s->gru.ring, p + sizeof f + sizeof count, ring_len(s) * sizeof(double));
    }
    return ML_OK;
}
