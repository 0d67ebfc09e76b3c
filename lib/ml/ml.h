/* ml.h — price-direction models for jobs and bots: train on candles (ml_train), predict a whole
 * series (ml_predict_series) or one candle at a time (ml_stream), store a model as JSON. */
#ifndef BCF_ML_H
#define BCF_ML_H
#include "candles.h"
#include "dataset.h"
#include "features.h"
#include "metrics.h"
#include "net.h"
#include "trainer.h"
#include <jansson.h>
#include <stddef.h>

/* Version of the model JSON (docs/ml.md, "Model format"); a loader refuses other versions. */
#define ML_FORMAT 1

typedef struct ml_train_opts {
    ml_kind kind;
    int horizon;       /* label: close[t + horizon] > close[t]; 1..ML_MAX_HORIZON */
    double train_frac; /* shares of the usable rows for training and validation; test is the rest */
    double val_frac;
    int threads;       /* CPU threads; 0 = every online core. Never changes the result. */
    ml_hparams hp;
    ml_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    /* NULL: gradients on the CPU threads. Else they come from the engine (trainer.h), and
     * ml_train returns ML_ERR_ENGINE when it fails; the CPU gives the same model within a
     * tolerance (docs/ml.md, "GPU training"). */
    const ml_grad_engine *engine;
} ml_train_opts;

/* Defaults for a kind (docs/ml.md lists them): horizon 1, 60/20/20 split, all cores, no engine. */
void ml_train_opts_defaults(ml_train_opts *o, ml_kind kind);

/* The trained model's numbers: plain values, safe to copy. */
typedef struct ml_report {
    ml_split split;       /* candle indices of each set (row t = candle t) */
    double base_rate;     /* share of label 1 among the training rows: the naive baseline's p */
    ml_metrics train, val, test;             /* the model on each set */
    ml_metrics baseline_val, baseline_test;  /* the naive baseline on the same rows */
    int epochs_run, best_epoch;
} ml_report;

/* A trained model. Read its fields freely; create and free it only through these functions. */
typedef struct ml_model {
    ml_kind kind;
    int format;      /* ML_FORMAT */
    int feature_set; /* ML_FEATURE_SET */
    int n_features;  /* ML_N_FEATURES */
    int horizon;
    double train_frac, val_frac;
    ml_hparams hp;
    ml_scaler scaler; /* fitted on the training rows */
    ml_net net;
    double *params;   /* net.n_params values, layout in logreg.h / gru.h */
    ml_report report;
    ml_curve curve;
} ml_model;

void ml_model_free(ml_model *m);
/* Candles a series needs before its first prediction: the feature warm-up plus the GRU's L - 1. */
size_t ml_model_first_row(const ml_model *m);

/*
 * Trains a model of o->kind on candles c[0..n) (oldest first; every price finite and > 0,
 * high >= low, volume finite and >= 0): features, labels at o->horizon, the time split with
 * gaps, standardisation on the training rows, training with early stopping on validation, and
 * the metrics of the model and of the naive baseline on every set. On success returns ML_OK,
 * *out holds the model and *rep (when not NULL) a copy of its report. Otherwise returns an
 * ML_ERR_* code with the reason in err (ML_ERR_CANCELLED when progress asked to stop,
 * ML_ERR_ENGINE when o->engine failed).
 */
int ml_train(const candle *c, size_t n, const ml_train_opts *o, ml_model **out, ml_report *rep, char *err,
             size_t errlen);

/* prob_out[t] = P(close[t + horizon] > close[t]) from candles 0..t, for t in 0..n-1; NAN for the
 * first ml_model_first_row(m) candles. threads: 0 = every core (never changes the result).
 * Returns ML_OK, ML_ERR_INVALID (a bad candle; prob_out untouched) or ML_ERR_NOMEM. */
int ml_predict_series(const ml_model *m, const candle *c, size_t n, int threads, double *prob_out);

/* The probability for the last candle of c[0..n): ml_predict_series's prob_out[n - 1] to the
 * bit, for the cost of the features and one window (a bot that reloads its recent candles each
 * tick). *prob = NAN when n <= ml_model_first_row(m). ML_OK, ML_ERR_INVALID or ML_ERR_NOMEM. */
int ml_predict_last(const ml_model *m, const candle *c, size_t n, double *prob);

/* The same predictions one candle at a time, for a live bot (stream.c): fed candles 0..t it
 * gives exactly ml_predict_series's prob_out[t]. The model must outlive the stream. A stream is
 * used by one thread at a time; any number of streams may share one model. */
typedef struct ml_stream ml_stream;
ml_stream *ml_stream_new(const ml_model *m); /* NULL when out of memory */
void ml_stream_free(ml_stream *s);
/* Returns 1 with *prob set, 0 during the warm-up (*prob = NAN), ML_ERR_INVALID for a bad candle
 * (the stream is left unchanged). */
int ml_stream_update(ml_stream *s, const candle *c, double *prob);

/* The stream's state as bytes, so a bot can stop and resume where it was: a header (magic,
 * version, sizes, a fingerprint of the model's weights and scale, a checksum), the feature
 * state and the GRU window. Size fixed per model shape (about 13 KB + 16·L·12 bytes). */
size_t ml_stream_state_size(const ml_stream *s);
/* Writes the state into buf (len >= ml_stream_state_size(s)); the bytes written, or ML_ERR_INVALID. */
long ml_stream_save(const ml_stream *s, void *buf, size_t len);
/* Restores a saved state into a stream of the same model. Refuses (ML_ERR_INVALID, s unchanged) a
 * blob of another magic, version, build layout or model, a wrong length, a checksum mismatch, or
 * indicator indexes out of range. Returns ML_OK. */
int ml_stream_load(ml_stream *s, const void *buf, size_t len);

/* JSON (model_json.c). ml_model_to_json: a new object (NULL when out of memory).
 * ml_model_dumps: compact text with 17 significant digits per number, so every double reads
 * back to the same bits (malloc'd; free it). */
json_t *ml_model_to_json(const ml_model *m);
char *ml_model_dumps(const ml_model *m);
/* Validates everything (format, kind, feature set, sizes, finite numbers, ranges) and builds a
 * model; returns ML_OK, or ML_ERR_INVALID / ML_ERR_NOMEM with the reason in err. */
int ml_model_from_json(const json_t *j, ml_model **out, char *err, size_t errlen);
int ml_model_loads(const char *text, size_t len, ml_model **out, char *err, size_t errlen);

/* What pages show without the weights: kind, horizon, epochs_run, and the model JSON's "split",
 * "metrics" and "curve" objects. A new object, NULL when out of memory. */
json_t *ml_report_to_json(const ml_model *m);

/* Training options as JSON: {"kind", "horizon", "train_frac", "val_frac", "hyperparameters":
 * {...}} (threads, the progress callback and the engine are the caller's, not part of the job). */
json_t *ml_opts_to_json(const ml_train_opts *o);
/* Reads options a job asks for: "kind" is required; every other key is optional and defaults as
 * ml_train_opts_defaults(kind); unknown keys and out-of-range values are refused with a reason.
 * o->threads, o->progress, o->progress_ctx and o->engine are kept as the caller set them. ML_OK or
 * ML_ERR_INVALID (*o unchanged). */
int ml_opts_from_json(const json_t *j, ml_train_opts *o, char *err, size_t errlen);

/* Checks one candle as ml_train and the predictors need it; 0 or -1. */
int ml_candle_ok(const candle *c);
#endif
