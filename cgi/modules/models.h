/* models.h — what the model pages share between the request side (models.c: list, form, create,
 * predict, delete) and the report (models_report.c: one model, its versions and prediction runs). */
#ifndef BCF_MODELS_H
#define BCF_MODELS_H
#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>
#include "request.h"

/* A model beats the naive baseline when its test log-loss is at least this much lower (and its
 * test AUC above 0.5): on a pure random walk a model lands within a few thousandths of the
 * baseline by chance (docs/ml.md, "Pages and API"). */
#define MODELS_EDGE_LOGLOSS 0.005

/* SQL for a model row's status from its report and its job (alias m for ml_models, j for jobs):
 * done once the report is stored, else the job's status ("failed" when the job is gone, or done
 * without a report). */
#define MODELS_STATUS_SQL                                                                                             \
    "CASE WHEN m.report IS NOT NULL THEN 'done' WHEN j.status IS NULL OR j.status = 'done' THEN 'failed' "             \
    "ELSE j.status END"

/* Adds to row the test scores of a stored report (columns auc, logloss, baseline logloss of r's row,
 * SQL NULL until trained): test_auc, test_logloss, baseline_test_logloss, logloss_gain (baseline
 * minus model), verdict ("beats", "marginal", "no_edge" or null) with its label, and *_text twins. */
void models_scores(request *req, json_t *row, PGresult *r, int row_i, int auc_col);

/* The page GET /models/{id} (models_report.c). predict_form and predict_errors (stolen, NULL =
 * defaults and none) refill the prediction form after a refused POST /models/{id}/predict. */
int models_show_page(request *req, response *res, const char *id, json_t *predict_form, json_t *predict_errors);

/* "2024-01-02" or "2024-01-02T03:04:00Z" for epoch ms: what the forms and candle_parse_time read. */
const char *models_iso(arena *a, int64_t ms);
#endif
