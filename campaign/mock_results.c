/*
 * Mock exam results and statistics (see mock.h): results imported onto their registrations,
 * and the cohort's statistics with each candidate's results email once published.
 *
 * Nothing is published for a cohort under MOCK_STATS_MIN_COHORT: an average of a handful of
 * people gives their scores away.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "../lib/outbox.h"
#include "../lib/stats.h"
#include "../lib/strparse.h"
#include "../lib/txn.h"
#include "campaign.h"
#include "mock.h"

#define MAX_SECTIONS 30
#define NAME_SHOWN_MAX 48              /* "results[999]." and this fit an error's field */

/* --- results ---------------------------------------------------------------------------- */

/* Name every member of the rows that no result has, as fields_done names a body's. */
static int
unknown_members(struct json_object *rows, struct json_object *fields, struct app_error *err)
{
    char name[80];
    size_t i, n;
    int found = 0;

    for (i = 0; i < json_object_array_length(rows); i++) {
        struct json_object *row = json_object_array_get_idx(rows, i);

        if (!json_object_is_type(row, json_type_object))
            continue;                  /* refused on its own */
        json_object_object_foreach(row, key, v) {
            (void)v;
            if (mock_result_key(key))
                continue;
            found++;
            n = strlen(key);
            if (n == 0 || n > NAME_SHOWN_MAX || !str_text_ok(key, n, 0)) {
                snprintf(name, sizeof(name), "results[%zu]", i);
                app_error_field(err, name, "has a member whose name is not a short UTF-8 text");
                json_add_str(fields, name, "has a member whose name is not a short UTF-8 text");
                continue;
            }
            snprintf(name, sizeof(name), "results[%zu].%s", i, key);
            app_error_field(err, name, "is not a known field");
            json_add_str(fields, name, "is not a known field");
        }
    }
    return found ? APP_EVALIDATION : APP_OK;
}

int
mock_results_import(const struct ctx *c, const char *exam_id, struct json_object *rows,
                    struct mock_imported *out, struct app_error *err)
{
    struct json_object *exam = NULL, *r;
    struct app_error e;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    out->fields = json_object_new_object();
    rc = unknown_members(rows, out->fields, err);
    if (rc != APP_OK)
        return rc;
    rc = mock_exam_find(c, exam_id, &exam, err);
    if (rc != APP_OK)
        return rc;
    json_object_put(exam);
    out->refused = json_object_new_array();
    for (i = 0; i < json_object_array_length(rows); i++) {
        app_error_clear(&e);
        rc = mock_result_apply(c->ddb, c->cfg, exam_id, json_object_array_get_idx(rows, i), &e);
        if (rc == APP_OK) {
            out->imported++;
            continue;
        }
        if (rc != APP_EVALIDATION && rc != APP_ENOTFOUND) {
            *err = e;
            return rc;                 /* DynamoDB trouble: the caller sends the batch again */
        }
        r = json_object_new_object();
        json_object_object_add(r, "index", json_object_new_int((int)i));
        json_add_str(r, "error", e.msg);
        json_object_array_add(out->refused, r);
    }
    return APP_OK;
}

/* --- statistics ------------------------------------------------------------------------- */

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
results_mail(const struct ctx *ctx, struct json_object *exam, struct json_object *reg,
             struct json_object *st, const double *sorted, size_t n)
{
    struct json_object *vars = json_object_new_object(), *res, *secs = NULL, *l, *x, *v;
    const char *rid = json_str(reg, "registrationId");
    char cause[64], pct[32], url[512];
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
             ctx->cfg->frontend_url, json_str(exam, "mockExamId"), rid);
    json_add_str(vars, "reportUrl", url);
    snprintf(cause, sizeof(cause), "%s#results", rid);
    if (!json_str(reg, "email")) {
        json_object_put(vars);
        return NULL;
    }
    return outbox_txn_mail(ctx->cfg, cause, "mock-results", json_str(reg, "email"),
                           json_str(reg, "firstName"), vars, ctx->now);
}

int
mock_stats_calculate(const struct ctx *ctx, const char *exam_id, struct json_object **out,
                     struct app_error *err)
{
    struct json_object *exam = NULL, *st = NULL, *items, *w;
    struct cohort c;
    struct stats s;
    char now[32];
    size_t i;
    int rc, published, emails = 0;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    rc = mock_exam_find(ctx, exam_id, &exam, err);
    if (rc != APP_OK)
        return rc;
    c.regs = json_object_new_array();
    c.sums = json_object_new_object();
    rc = mock_each_registration(ctx->ddb, ctx->cfg, exam_id, collect, &c, err);
    if (rc != APP_OK)
        goto done;
    if (c.n == 0) {
        rc = app_error_set(err, APP_EUNPROCESSABLE, "No results have been imported for this "
                           "exam");
        goto done;
    }
    stats_compute(c.scores, c.n, &s);
    qsort(c.scores, c.n, sizeof(double), by_score);
    published = c.n >= (size_t)ctx->cfg->mock_min_cohort;
    time_iso(ctx->now, now, sizeof(now));
    st = stats_json(&s, &c, exam_id, published, now);
    w = ddb_marshal_item(st);
    rc = ddb_put_item(ctx->ddb, ctx->cfg->tbl_mock_statistics, w, NULL, NULL, NULL, err);
    json_object_put(w);
    /* Each candidate's email, once ever (its outbox key), and only when published. */
    for (i = 0; rc == APP_OK && published && i < json_object_array_length(c.regs); i++) {
        w = results_mail(ctx, exam, json_object_array_get_idx(c.regs, i), st, c.scores, c.n);
        if (!w)
            continue;
        items = json_object_new_array();
        json_object_array_add(items, w);
        rc = txn_run(ctx->ddb, items, NULL, err);
        if (rc == APP_ECONDITION)
            rc = APP_OK;               /* sent before */
        else if (rc == APP_OK)
            emails++;
    }
    if (rc != APP_OK)
        goto done;
    json_object_object_add(st, "emailsQueued", json_object_new_int(emails));
    if (!published)
        json_object_object_add(st, "minimumCohort",
                               json_object_new_int64(ctx->cfg->mock_min_cohort));
    *out = st;
    st = NULL;
done:
    if (st)
        json_object_put(st);
    free(c.scores);
    json_object_put(c.regs);
    json_object_put(c.sums);
    json_object_put(exam);
    return rc;
}
