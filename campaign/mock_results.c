/*
 * Mock exam results and statistics (see mock.h): results imported onto their registrations,
 * and the cohort's statistics with each candidate's results email once published.
 *
 * What is published, and when a new snapshot may replace the last, is lib/stats.h's rule
 * (docs/MOCK_EXAMS.md, "Statistics"): nothing under MOCK_STATS_MIN_COHORT, figures that
 * depend on a score only through its cell under MOCK_STATS_ORDER_COHORT, and a new snapshot
 * only once the minimum cohort of new results has come since the last.
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
    long *scores;
    long top;                      /* the top of the scale: the largest maxScore */
    struct json_object *regs;      /* the registrations with a result, plain */
    struct json_object *sums;      /* section → [sum of doubled cell midpoints, count] */
};

static int
collect(void *ctx, struct json_object *reg)
{
    struct cohort *c = ctx;
    struct json_object *res = NULL, *secs = NULL, *v, *acc;
    long long max;

    if (!json_str(reg, "status") || strcmp(json_str(reg, "status"), "confirmed") != 0 ||
        !json_object_object_get_ex(reg, "result", &res) ||
        !json_object_object_get_ex(res, "totalScore", &v))
        return APP_OK;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->scores = xrealloc(c->scores, c->cap * sizeof(*c->scores));
    }
    c->scores[c->n++] = (long)json_object_get_int64(v);
    max = json_object_object_get_ex(res, "maxScore", &v) ? json_object_get_int64(v) : 100;
    if (max > c->top)
        c->top = (long)max;
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
            /* A section's scale is not imported: its cells are pairs (lib/stats.h). */
            json_object_array_put_idx(acc, 0, json_object_new_int64(
                json_object_get_int64(json_object_array_get_idx(acc, 0)) +
                stats_cell_mid2(stats_cell((long)json_object_get_int64(sv), 0), 0)));
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

static void
add_order(struct json_object *o, const char *name, const struct stats_public *p, double v)
{
    json_object_object_add(o, name, p->order ? num2(v) : NULL);
}

/* The snapshot published for cohort c (as lib/stats.h defines it), number seq. */
static struct json_object *
snapshot_json(const struct stats_public *p, const struct cohort *c, const struct cfg *cfg,
              const char *exam_id, long long seq, const char *now)
{
    struct json_object *o = json_object_new_object(), *secs = json_object_new_object(), *h, *b;
    size_t i;

    json_add_str(o, "mockExamId", exam_id);
    json_object_object_add(o, "snapshot", json_object_new_int64(seq));
    json_object_object_add(o, "published", json_object_new_boolean(1));
    json_object_object_add(o, "count", json_object_new_int64((long long)p->count));
    json_object_object_add(o, "mean", json_object_new_int64(p->mean));
    h = json_object_new_array();
    for (i = 0; i < p->nbands; i++) {
        b = json_object_new_object();
        json_object_object_add(b, "from", json_object_new_int64(p->bands[i].from));
        json_object_object_add(b, "to", json_object_new_int64(p->bands[i].to));
        json_object_object_add(b, "count", json_object_new_int64((long long)p->bands[i].count));
        json_object_array_add(h, b);
    }
    json_object_object_add(o, "histogram", h);
    json_object_object_add(o, "orderStatisticsFrom", json_object_new_int64(
        cfg->mock_order_cohort > cfg->mock_min_cohort ? cfg->mock_order_cohort :
        cfg->mock_min_cohort));
    add_order(o, "median", p, p->exact.median);
    add_order(o, "stddev", p, p->exact.stddev);
    add_order(o, "min", p, p->exact.min);
    add_order(o, "max", p, p->exact.max);
    add_order(o, "p10", p, p->exact.p10);
    add_order(o, "p25", p, p->exact.p25);
    add_order(o, "p50", p, p->exact.p50);
    add_order(o, "p75", p, p->exact.p75);
    add_order(o, "p90", p, p->exact.p90);
    add_order(o, "passRate", p, p->pass_rate_bp / 100.0);
    json_object_object_foreach(c->sums, name, acc) {
        long long sum = json_object_get_int64(json_object_array_get_idx(acc, 0));
        long long cnt = json_object_get_int64(json_object_array_get_idx(acc, 1));

        if (cnt >= cfg->mock_min_cohort)       /* a section fewer took is not shown */
            json_object_object_add(secs, name, json_object_new_int64(
                stats_cell_mean(sum, (size_t)cnt)));
    }
    json_object_object_add(o, "sections", secs);
    json_add_str(o, "calculatedAt", now);
    return o;
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* A figure of the snapshot as the email's text, "61" or "61.5" (absent when the snapshot
 * withholds it: the template leaves its line out). */
static void
mail_figure(struct json_object *vars, const char *name, struct json_object *st, const char *k)
{
    struct json_object *v = NULL;
    char s[48];
    size_t n;

    if (!json_object_object_get_ex(st, k, &v) || !v)
        return;
    stats_round2(json_object_get_double(v), s, sizeof(s));
    n = strlen(s);
    while (n > 0 && s[n - 1] == '0')
        s[--n] = '\0';
    if (n > 0 && s[n - 1] == '.')
        s[--n] = '\0';
    json_add_str(vars, name, s);
}

/* The results email of one candidate with the figures of snapshot st and their standing
 * among the cells (cells[0..n-1], ascending) of the cohort now; NULL without an email. */
static struct json_object *
results_mail(const struct ctx *ctx, struct json_object *exam, struct json_object *reg,
             struct json_object *st, const double *cells, size_t n, long top)
{
    struct json_object *vars, *res = NULL, *secs = NULL, *means = NULL, *l, *x, *v, *mean;
    const char *rid = json_str(reg, "registrationId");
    char cause[64], pct[32], url[512];
    long long score;

    if (!json_str(reg, "email"))
        return NULL;
    vars = json_object_new_object();
    json_object_object_get_ex(reg, "result", &res);
    score = json_int(res, "totalScore");
    json_add_str(vars, "candidateName", json_str(reg, "firstName"));
    json_add_str(vars, "examTitle", json_str(exam, "title"));
    json_object_object_add(vars, "score", json_object_new_int64(score));
    json_object_object_add(vars, "passed", json_object_object_get_ex(res, "passed", &v) ?
                           json_object_get(v) : json_object_new_boolean(0));
    stats_round2(stats_percentile_rank(cells, n, (double)stats_cell((long)score, top)), pct,
                 sizeof(pct));
    json_add_str(vars, "percentile", pct);
    json_object_object_add(vars, "cohortSize", json_object_new_int64(json_int(st, "count")));
    mail_figure(vars, "cohortMean", st, "mean");
    mail_figure(vars, "cohortMedian", st, "median");
    mail_figure(vars, "passRate", st, "passRate");
    l = json_object_new_array();
    json_object_object_get_ex(res, "sections", &secs);
    json_object_object_get_ex(st, "sections", &means);
    json_object_object_foreach(secs, name, sv) {
        if (!json_object_object_get_ex(means, name, &mean))
            continue;                  /* no mean published for it */
        x = json_object_new_object();
        json_add_str(x, "name", name);
        json_object_object_add(x, "score", json_object_get(sv));
        json_object_object_add(x, "cohortMean", json_object_get(mean));
        json_object_array_add(l, x);
    }
    json_object_object_add(vars, "sections", l);
    snprintf(url, sizeof(url), "%s/mock-exams/%s/results?registration=%s",
             ctx->cfg->frontend_url, json_str(exam, "mockExamId"), rid);
    json_add_str(vars, "reportUrl", url);
    snprintf(cause, sizeof(cause), "%s#results", rid);
    return outbox_txn_mail(ctx->cfg, cause, "mock-results", json_str(reg, "email"),
                           json_str(reg, "firstName"), vars, ctx->now);
}

/* Each candidate of c without one gets the results email of snapshot st (its key: once). */
static int
queue_mails(const struct ctx *ctx, struct json_object *exam, const struct cohort *c,
            struct json_object *st, int *queued, struct app_error *err)
{
    struct json_object *items, *w;
    double *cells = xmalloc(c->n * sizeof(*cells));
    size_t i;
    int rc = APP_OK;

    for (i = 0; i < c->n; i++)
        cells[i] = (double)stats_cell(c->scores[i], c->top);
    qsort(cells, c->n, sizeof(*cells), by_value);
    for (i = 0; rc == APP_OK && i < json_object_array_length(c->regs); i++) {
        w = results_mail(ctx, exam, json_object_array_get_idx(c->regs, i), st, cells, c->n,
                         c->top);
        if (!w)
            continue;
        items = json_object_new_array();
        json_object_array_add(items, w);
        rc = txn_run(ctx->ddb, items, NULL, err);
        if (rc == APP_ECONDITION)
            rc = APP_OK;               /* sent before */
        else if (rc == APP_OK)
            (*queued)++;
    }
    free(cells);
    return rc;
}

/* The statistics item of the exam, plain, read consistently; NULL when there is none. */
static int
snapshot_load(const struct ctx *ctx, const char *exam_id, struct json_object **out,
              struct app_error *err)
{
    int rc = record_load(ctx->ddb, ctx->cfg->tbl_mock_statistics, "mockExamId", exam_id, NULL,
                         out, err);

    return rc == APP_ENOTFOUND ? APP_OK : rc;
}

/* 1 when st is a snapshot published under the rule (statistics stored before it carry no
 * snapshot number, and are neither served nor counted). */
static int
is_published(struct json_object *st)
{
    struct json_object *v;

    return st && json_int(st, "snapshot") >= 1 &&
           json_object_object_get_ex(st, "published", &v) && json_object_get_boolean(v);
}

/* Write st in place of prev (NULL: none), unless another run replaced prev meanwhile. */
static int
snapshot_put(const struct ctx *ctx, struct json_object *prev, struct json_object *st,
             struct app_error *err)
{
    struct json_object *w = ddb_marshal_item(st), *names = NULL, *vals = NULL;
    const char *cond = "attribute_not_exists(mockExamId)";
    int rc;

    if (prev) {
        names = json_object_new_object();
        json_object_object_add(names, "#sn", json_object_new_string("snapshot"));
        cond = "attribute_not_exists(#sn)";        /* stored before snapshots were numbered */
    }
    if (prev && json_object_object_get_ex(prev, "snapshot", NULL)) {
        vals = json_object_new_object();
        json_object_object_add(vals, ":sn", ddb_av_n(json_int(prev, "snapshot")));
        cond = "#sn = :sn";
    }
    rc = ddb_put_item(ctx->ddb, ctx->cfg->tbl_mock_statistics, w, cond, names, vals, err);
    json_object_put(w);
    json_object_put(names);
    json_object_put(vals);
    return rc;
}

int
mock_stats_calculate(const struct ctx *ctx, const char *exam_id, struct json_object **out,
                     struct app_error *err)
{
    const struct cfg *cfg = ctx->cfg;
    struct stats_rule rule = { (size_t)cfg->mock_min_cohort, (size_t)cfg->mock_order_cohort,
                               cfg->mock_band_width, 0 };
    struct json_object *exam = NULL, *prev = NULL, *st = NULL;
    const char *outcome = "unpublished";
    struct stats_public p;
    struct cohort c;
    size_t before = 0;
    char now[32];
    int rc, attempt, emails = 0;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    rc = mock_exam_find(ctx, exam_id, &exam, err);
    if (rc != APP_OK)
        return rc;
    c.regs = json_object_new_array();
    c.sums = json_object_new_object();
    rc = mock_each_registration(ctx->ddb, cfg, exam_id, collect, &c, err);
    if (rc != APP_OK)
        goto done;
    if (c.n == 0) {
        rc = app_error_set(err, APP_EUNPROCESSABLE, "No results have been imported for this "
                           "exam");
        goto done;
    }
    rule.top = c.top;
    time_iso(ctx->now, now, sizeof(now));
    /* A run that lost the race to another one decides again on what that one wrote. */
    for (attempt = 0; attempt < 3; attempt++) {
        json_object_put(prev);
        json_object_put(st);
        st = NULL;
        rc = snapshot_load(ctx, exam_id, &prev, err);
        if (rc != APP_OK)
            goto done;
        before = is_published(prev) ? (size_t)json_int(prev, "count") : 0;
        if (stats_snapshot_due(c.n, before, rule.min_cohort)) {
            if (stats_publish(c.scores, c.n, c.passed, &rule, &p) != 0) {
                rc = app_error_set(err, APP_EINTERNAL, "a stored result is malformed");
                goto done;
            }
            st = snapshot_json(&p, &c, cfg, exam_id, json_int(prev, "snapshot") + 1, now);
            stats_public_free(&p);
            outcome = "published";
        } else if (before > 0) {
            outcome = "kept";          /* fewer than the minimum are new: nothing written */
            st = json_object_get(prev);
            break;
        } else {
            st = json_object_new_object();
            json_add_str(st, "mockExamId", exam_id);
            json_object_object_add(st, "snapshot", json_object_new_int64(0));
            json_object_object_add(st, "published", json_object_new_boolean(0));
            json_object_object_add(st, "count", json_object_new_int64((long long)c.n));
            json_add_str(st, "calculatedAt", now);
            outcome = "unpublished";
        }
        rc = snapshot_put(ctx, prev, st, err);
        if (rc != APP_ECONDITION)
            break;
        app_error_clear(err);
    }
    if (rc == APP_ECONDITION)
        rc = app_error_set(err, APP_ECONFLICT, "The statistics were being recalculated at the "
                           "same time; run it again");
    if (rc != APP_OK)
        goto done;
    /* Emails go with a published snapshot, the candidates of a kept one who had none yet
     * (a run that failed half-way, results that came later) with its figures. */
    if (strcmp(outcome, "unpublished") != 0)
        rc = queue_mails(ctx, exam, &c, st, &emails, err);
    if (rc != APP_OK)
        goto done;
    json_add_str(st, "outcome", outcome);
    json_object_object_add(st, "resultCount", json_object_new_int64((long long)c.n));
    json_object_object_add(st, "newResults", json_object_new_int64(
        (long long)(c.n > before ? c.n - before : 0)));
    json_object_object_add(st, "minimumCohort", json_object_new_int64(cfg->mock_min_cohort));
    json_object_object_add(st, "emailsQueued", json_object_new_int(emails));
    *out = st;
    st = NULL;
done:
    json_object_put(st);
    json_object_put(prev);
    free(c.scores);
    json_object_put(c.regs);
    json_object_put(c.sums);
    json_object_put(exam);
    return rc;
}
