/*
 * Mock exam results and statistics (docs/MOCK_EXAMS.md; the work in campaign/mock_results.c):
 *
 *   POST /v1/mock-exams/{id}/results          (admin) results onto their registrations
 *   POST /v1/mock-exams/{id}/calculate-stats  (admin) the cohort's statistics, and each
 *                                             candidate's results email once published
 *   GET  /v1/mock-exams/{id}/stats            the published snapshot only
 */
#include "config.h"

#include <string.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/mem.h"
#include "../campaign/mock.h"
#include "handlers.h"

static int
exam_of(struct request *req, struct json_object **exam)
{
    int rc;

    *exam = NULL;
    rc = mock_exam_find(&req->ctx, req_path_param(req, "mockExamId"), exam, &req->err);
    if (rc == APP_OK)
        arena_cleanup(req->arena, json_put_cb, *exam);
    return rc;
}

int
mockexams_results(struct request *req)
{
    struct json_object *rows, *d;
    struct mock_imported out;
    int rc;

    rows = field_array(req, "results", 1, MOCK_RESULTS_MAX, FIELD_REQUIRED);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = mock_results_import(&req->ctx, req_path_param(req, "mockExamId"), rows, &out,
                             &req->err);
    if (rc == APP_EVALIDATION && json_object_object_length(out.fields) > 0) {
        /* Every member no row may hold, named as fields_done names a body's. */
        d = json_object_new_object();
        json_object_object_add(d, "fields", out.fields);
        out.fields = NULL;
        rc = reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
    } else if (rc == APP_OK) {
        d = json_object_new_object();
        json_object_object_add(d, "imported", json_object_new_int(out.imported));
        json_object_object_add(d, "refused", out.refused);
        out.refused = NULL;
        rc = reply_json(req, 200, d);
    }
    json_object_put(out.fields);
    json_object_put(out.refused);
    return rc;
}

int
mockexams_calculate(struct request *req)
{
    struct json_object *st = NULL;
    int rc;

    rc = mock_stats_calculate(&req->ctx, req_path_param(req, "mockExamId"), &st, &req->err);
    if (rc != APP_OK)
        return rc;
    return reply_json(req, 200, st);
}

int
mockexams_stats(struct request *req)
{
    struct json_object *exam, *k, *item = NULL, *st, *d, *v;
    int rc;

    rc = exam_of(req, &exam);
    if (rc != APP_OK)
        return rc;
    k = ddb_key_s("mockExamId", json_str(exam, "mockExamId"));
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_mock_statistics, k, 0, &item, &req->err);
    json_object_put(k);
    st = rc == APP_OK ? ddb_unmarshal_item(item) : NULL;
    json_object_put(item);
    if (rc == APP_OK && !st)
        return app_error_set(&req->err, APP_EINTERNAL, "statistics malformed");
    /* Statistics stored before snapshots were numbered (and the rule of docs/MOCK_EXAMS.md
     * held) are not served: calculate-stats replaces them. */
    if (rc == APP_OK && json_int(st, "snapshot") < 1 &&
        json_object_object_get_ex(st, "published", &v) && json_object_get_boolean(v)) {
        json_object_put(st);
        rc = APP_ENOTFOUND;
    }
    if (rc == APP_ENOTFOUND) {
        app_error_clear(&req->err);
        d = json_object_new_object();
        json_add_str(d, "reason", "NOT_CALCULATED");
        return reply_error(req, APP_ENOTFOUND, "No statistics for this exam yet", d);
    }
    if (rc != APP_OK)
        return rc;
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
