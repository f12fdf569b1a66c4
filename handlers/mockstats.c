/*
 * Mock exam results and statistics (docs/MOCK_EXAMS.md):
 *
 *   POST /v1/mock-exams/{id}/results          (admin) results onto their registrations
 *   POST /v1/mock-exams/{id}/calculate-stats  (admin) the cohort's statistics, and each
 *                                             candidate's results email once published
 *   GET  /v1/mock-exams/{id}/stats            the published aggregates only
 *
 * Nothing is published for a cohort under MOCK_STATS_MIN_COHORT: an average of a handful of
 * people gives their scores away.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "../lib/outbox.h"
#include "../lib/stats.h"
#include "../campaign/campaign.h"
#include "../lib/txn.h"
#include "handlers.h"
#include "../campaign/mock.h"

#define MAX_RESULTS 1000
#define MAX_SECTIONS 30

static int
exam_of(struct request *req, struct json_object **exam)
{
    int rc;

    *exam = NULL;
    rc = mock_exam_load(req->worker->ddb, req->cfg, req_path_param(req, "mockExamId"), exam,
                        &req->err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such mock exam");
    if (rc == APP_OK)
        arena_cleanup(req->arena, json_put_cb, *exam);
    return rc;
}

int
mock_results(struct request *req)
{
    struct json_object *exam, *rows, *row, *refused, *r, *d;
    const char *id = req_path_param(req, "mockExamId");
    struct app_error e;
    size_t i;
    int rc, ok = 0;

    rows = field_array(req, "results", 1, MAX_RESULTS, FIELD_REQUIRED);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = exam_of(req, &exam);
    if (rc != APP_OK)
        return rc;
    refused = json_object_new_array();
    for (i = 0; i < json_object_array_length(rows); i++) {
        row = json_object_array_get_idx(rows, i);
        app_error_clear(&e);
        rc = mock_result_apply(req->worker->ddb, req->cfg, id, row, &e);
        if (rc == APP_OK) {
            ok++;
            continue;
        }
        if (rc != APP_EVALIDATION && rc != APP_ENOTFOUND) {
            json_object_put(refused);
            req->err = e;
            return rc;             /* DynamoDB trouble: the caller sends the batch again */
        }
        r = json_object_new_object();
        json_object_object_add(r, "index", json_object_new_int((int)i));
        json_add_str(r, "error", e.msg);
        json_object_array_add(refused, r);
    }
    d = json_object_new_object();
    json_object_object_add(d, "imported", json_object_new_int(ok));
    json_object_object_add(d, "refused", refused);
    return reply_json(req, 200, d);
}

/* --- calculate-stats ------------------------------------------------------------------ */

struct cohort {
    size_t n, cap, passed;
    double *scores;
    struct json_object *regs;      /* the registrations with a result, plain */
    struct json_object *sums;      /* section → [sum, count] */
};

static int
collect(void *ctx, struct json_object *reg)
{
    struct cohort *c = ctx;
    struct json_object *res = NULL, *secs = NULL, *v, *acc;

    if (!json_str(reg, "status") || strcmp(json_str(reg, "status"), "confirmed") != 0 ||
        !json_object_object_get_ex(reg, "result", &res) ||
        !json_object_object_get_ex(res, "totalScore", &v))
        return APP_OK;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->scores = xrealloc(c->scores, c->cap * sizeof(double));
    }
    c->scores[c->n++] = (double)json_object_get_int64(v);
    if (json_object_object_get_ex(res, "passed", &v) && json_object_get_boolean(v))
        c->passed++;
    if (json_object_object_get_ex(res, "sections", &secs)) {
        json_object_object_foreach(secs, name, sv) {
            if (!json_object_object_get_ex(c->sums, name, &acc)) {
                if (json_object_object_length(c->sums) >= MAX_SECTIONS)
                    continue;
                acc = json_object_new_array();
                json_object_array_add(acc, json_object_new_int64(0));
                json_object_array_add(acc, json_object_new_int64(0));
                json_object_object_add(c->sums, name, acc);
            }
            json_object_array_put_idx(acc, 0, json_object_new_int64(
                json_object_get_int64(json_object_array_get_idx(acc, 0)) +
                json_object_get_int64(sv)));
            json_object_array_put_idx(acc, 1, json_object_new_int64(
                json_object_get_int64(json_object_array_get_idx(acc, 1)) + 1));
        }
    }
    json_object_array_add(c->regs, json_object_get(reg));
    return APP_OK;
}

/* A number rounded to 2 decimals, as a JSON number whose text is exactly that. */
static struct json_object *
num2(double v)
{
    char s[48];

    stats_round2(v, s, sizeof(s));
    return json_object_new_double_s(strtod(s, NULL), s);     /* checksrc: ok */
}

static struct json_object *
stats_json(const struct stats *s, const struct cohort *c, const char *exam_id, int published,
           const char *now)
{
    struct json_object *o = json_object_new_object(), *secs = json_object_new_object();
    int bp = stats_pass_rate_bp(c->passed, c->n);

    json_add_str(o, "mockExamId", exam_id);
    json_object_object_add(o, "count", json_object_new_int64((long long)c->n));
    json_object_object_add(o, "published", json_object_new_boolean(published));
    json_object_object_add(o, "mean", num2(s->mean));
    json_object_object_add(o, "median", num2(s->median));
    json_object_object_add(o, "stddev", num2(s->stddev));
    json_object_object_add(o, "min", num2(s->min));
    json_object_object_add(o, "max", num2(s->max));
    json_object_object_add(o, "p10", num2(s->p10));
    json_object_object_add(o, "p25", num2(s->p25));
    json_object_object_add(o, "p50", num2(s->p50));
    json_object_object_add(o, "p75", num2(s->p75));
    json_object_object_add(o, "p90", num2(s->p90));
    json_object_object_add(o, "passRate", num2(bp / 100.0));
    json_object_object_foreach(c->sums, name, acc) {
        long long sum = json_object_get_int64(json_object_array_get_idx(acc, 0));
        long long cnt = json_object_get_int64(json_object_array_get_idx(acc, 1));

        json_object_object_add(secs, name, num2(cnt ? (double)sum / (double)cnt : 0));
    }
    json_object_object_add(o, "sections", secs);
    json_add_str(o, "calculatedAt", now);
    return o;
}

static int
by_score(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The results email of one candidate; NULL when the registration has no email. */
static struct json_object *
results_mail(struct request *req, struct json_object *exam, struct json_object *reg,
             struct json_object *st, const double *sorted, size_t n, time_t now)
{
    struct json_object *vars = json_object_new_object(), *res, *secs = NULL, *l, *x, *v, *w;
    const char *rid = json_str(reg, "registrationId");
    char cause[64], pct[32], url[512];
    struct outbox_mail m;
    double score;

    json_object_object_get_ex(reg, "result", &res);
    score = (double)json_int(res, "totalScore");
    json_add_str(vars, "candidateName", json_str(reg, "firstName"));
    json_add_str(vars, "examTitle", json_str(exam, "title"));
    json_object_object_add(vars, "score", json_object_new_int64((long long)score));
    json_object_object_add(vars, "passed", json_object_object_get_ex(res, "passed", &v) ?
                           json_object_get(v) : json_object_new_boolean(0));
    stats_round2(stats_percentile_rank(sorted, n, score), pct, sizeof(pct));
    json_add_str(vars, "percentile", pct);
    json_object_object_add(vars, "cohortSize", json_object_new_int64((long long)n));
    json_object_object_get_ex(st, "mean", &v);
    json_object_object_add(vars, "cohortMean", json_object_get(v));
    json_object_object_get_ex(st, "median", &v);
    json_object_object_add(vars, "cohortMedian", json_object_get(v));
    json_object_object_get_ex(st, "passRate", &v);
    json_object_object_add(vars, "passRate", json_object_get(v));
    l = json_object_new_array();
    json_object_object_get_ex(res, "sections", &secs);
    json_object_object_get_ex(st, "sections", &v);
    json_object_object_foreach(secs, name, sv) {
        struct json_object *mean = NULL;

        x = json_object_new_object();
        json_add_str(x, "name", name);
        json_object_object_add(x, "score", json_object_get(sv));
        json_object_object_get_ex(v, name, &mean);
        json_object_object_add(x, "cohortMean", mean ? json_object_get(mean) : NULL);
        json_object_array_add(l, x);
    }
    json_object_object_add(vars, "sections", l);
    snprintf(url, sizeof(url), "%s/mock-exams/%s/results?registration=%s",
             req->cfg->frontend_url, json_str(exam, "mockExamId"), rid);
    json_add_str(vars, "reportUrl", url);
    snprintf(cause, sizeof(cause), "%s#results", rid);
    memset(&m, 0, sizeof(m));
    m.cause = cause;
    m.tmpl = "mock-results";
    m.to = json_str(reg, "email");
    m.to_name = json_str(reg, "firstName");
    m.vars = vars;
    w = m.to ? outbox_txn_put(req->cfg, &m, now) : NULL;
    json_object_put(vars);
    return w;
}

int
mock_calculate_stats(struct request *req)
{
    struct json_object *exam, *st, *items, *w;
    const char *id = req_path_param(req, "mockExamId");
    struct cohort c;
    struct stats s;
    char now[32];
    time_t t = req->ctx.now;
    size_t i;
    int rc, published, emails = 0;

    rc = exam_of(req, &exam);
    if (rc != APP_OK)
        return rc;
    memset(&c, 0, sizeof(c));
    c.regs = json_object_new_array();
    c.sums = json_object_new_object();
    rc = mock_each_registration(req->worker->ddb, req->cfg, id, collect, &c, &req->err);
    if (rc == APP_OK && c.n == 0)
        rc = reply_error(req, APP_EUNPROCESSABLE, "No results have been imported for this exam",
                         NULL);
    else if (rc == APP_OK) {
        stats_compute(c.scores, c.n, &s);
        qsort(c.scores, c.n, sizeof(double), by_score);
        published = c.n >= (size_t)req->cfg->mock_min_cohort;
        time_iso(t, now, sizeof(now));
        st = stats_json(&s, &c, id, published, now);
        w = ddb_marshal_item(st);
        rc = ddb_put_item(req->worker->ddb, req->cfg->tbl_mock_statistics, w, NULL, NULL, NULL,
                          &req->err);
        json_object_put(w);
        /* Each candidate's email, once ever (its outbox key), and only when published. */
        for (i = 0; rc == APP_OK && published && i < json_object_array_length(c.regs); i++) {
            w = results_mail(req, exam, json_object_array_get_idx(c.regs, i), st, c.scores,
                             c.n, t);
            if (!w)
                continue;
            items = json_object_new_array();
            json_object_array_add(items, w);
            rc = txn_run(req->ctx.ddb, items, NULL, &req->err);
            if (rc == APP_ECONDITION)
                rc = APP_OK;       /* sent before */
            else if (rc == APP_OK)
                emails++;
        }
        if (rc == APP_OK) {
            json_object_object_add(st, "emailsQueued", json_object_new_int(emails));
            if (!published)
                json_object_object_add(st, "minimumCohort",
                                       json_object_new_int64(req->cfg->mock_min_cohort));
            rc = reply_json(req, 200, st);
        } else {
            json_object_put(st);
        }
    }
    free(c.scores);
    json_object_put(c.regs);
    json_object_put(c.sums);
    return rc;
}

int
mock_stats(struct request *req)
{
    struct json_object *exam, *k, *item = NULL, *st, *d, *v;
    int rc;

    rc = exam_of(req, &exam);
    if (rc != APP_OK)
        return rc;
    k = ddb_key_s("mockExamId", json_str(exam, "mockExamId"));
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_mock_statistics, k, 0, &item, &req->err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(&req->err);
        d = json_object_new_object();
        json_add_str(d, "reason", "NOT_CALCULATED");
        return reply_error(req, APP_ENOTFOUND, "No statistics for this exam yet", d);
    }
    if (rc != APP_OK)
        return rc;
    st = ddb_unmarshal_item(item);
    json_object_put(item);
    if (!st)
        return app_error_set(&req->err, APP_EINTERNAL, "statistics malformed");
    if (!json_object_object_get_ex(st, "published", &v) || !json_object_get_boolean(v) ||
        json_int(st, "count") < req->cfg->mock_min_cohort) {
        json_object_put(st);
        d = json_object_new_object();
        json_add_str(d, "reason", "COHORT_TOO_SMALL");
        json_object_object_add(d, "minimumCohort",
                               json_object_new_int64(req->cfg->mock_min_cohort));
        return reply_error(req, APP_ENOTFOUND, "No statistics are published for this exam",
                           d);
    }
    json_object_object_add(st, "title", json_object_new_string(json_str(exam, "title") ?
                                                               json_str(exam, "title") : ""));
    return reply_json(req, 200, st);
}
