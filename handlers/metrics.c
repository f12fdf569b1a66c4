/*
 * GET /metrics, on the metrics listener only (R_METRICS): every counter of the pool in
 * Prometheus's text format (lib/metrics.h), and the email outbox's backlog.
 *
 * The outbox is drained by another process (prodenthubctl send-mail), so its backlog is read
 * where it is, in DynamoDB: one Query with Select=COUNT per status on the outbox's
 * status-nextAttemptAt index (finished rows leave that index), at most every
 * OUTBOX_EVERY_S seconds per worker.  A pending row with a lastError is one that failed and
 * waits for another attempt.  Rows given up on leave the index: the mailer logs those.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/metrics.h"
#include "handlers.h"

#define OUTBOX_EVERY_S 15
#define OUTBOX_PAGES 10             /* Select=COUNT reads 1 MB a page: a lower bound past it */
#define OUTBOX_INDEX "status-nextAttemptAt-index"

/* The worker's last reading, kept between its requests (like its connections). */
static struct {
    time_t at;
    int ok;
    long long pending, sending, retrying;
} outbox;

/* Rows of the index with status st: *out_all, and *out_failed of them with a lastError. */
static int
count_status(struct ddb *d, const struct cfg *cfg, const char *st, long long *out_all,
             long long *out_failed, struct app_error *err)
{
    struct json_object *q, *names, *vals, *res = NULL, *last = NULL, *v;
    int page, rc = APP_OK;

    *out_all = 0;
    *out_failed = 0;
    for (page = 0; page < OUTBOX_PAGES && rc == APP_OK; page++) {
        q = json_object_new_object();
        json_object_object_add(q, "TableName", json_object_new_string(cfg->tbl_email_outbox));
        json_object_object_add(q, "IndexName", json_object_new_string(OUTBOX_INDEX));
        json_object_object_add(q, "Select", json_object_new_string("COUNT"));
        json_object_object_add(q, "KeyConditionExpression", json_object_new_string("#st = :st"));
        json_object_object_add(q, "FilterExpression",
                               json_object_new_string("attribute_exists(lastError) AND "
                                                      "lastError <> :none"));
        names = json_object_new_object();
        json_object_object_add(names, "#st", json_object_new_string("status"));
        json_object_object_add(q, "ExpressionAttributeNames", names);
        vals = json_object_new_object();
        json_object_object_add(vals, ":st", ddb_av_s(st));
        json_object_object_add(vals, ":none", ddb_av_s(""));
        json_object_object_add(q, "ExpressionAttributeValues", vals);
        if (last)
            json_object_object_add(q, "ExclusiveStartKey", last);
        last = NULL;
        rc = ddb_call(d, "Query", q, &res, err);
        json_object_put(q);
        if (rc != APP_OK) {
            if (res)
                json_object_put(res);
            break;
        }
        if (json_object_object_get_ex(res, "ScannedCount", &v))
            *out_all += json_object_get_int64(v);
        if (json_object_object_get_ex(res, "Count", &v))
            *out_failed += json_object_get_int64(v);
        if (json_object_object_get_ex(res, "LastEvaluatedKey", &v))
            last = json_object_get(v);
        json_object_put(res);
        res = NULL;
        if (!last)
            break;
    }
    if (last)
        json_object_put(last);
    return rc;
}

static void
outbox_read(struct request *req)
{
    struct ddb *d = req->worker ? req->worker->ddb : NULL;
    long long failed_sending = 0;
    time_t now = time(NULL);
    int rc;

    if (!d || (outbox.at && now - outbox.at < OUTBOX_EVERY_S))
        return;
    outbox.at = now;
    rc = count_status(d, req->cfg, "pending", &outbox.pending, &outbox.retrying, &req->err);
    if (rc == APP_OK)
        rc = count_status(d, req->cfg, "sending", &outbox.sending, &failed_sending, &req->err);
    outbox.ok = rc == APP_OK;
    if (!outbox.ok)
        req_log(req, LL_WARN, "metrics: cannot count the outbox: %s", req->err.msg);
    app_error_clear(&req->err);
}

int
metrics_get(struct request *req)
{
    struct buf *out = &req->resp_body;
    int rc;

    outbox_read(req);
    buf_reset(out);
    rc = metrics_render(out);
    if (rc == APP_OK && outbox.ok) {
        rc = metrics_render_gauge(out, "prodenthub_outbox_backlog", "Emails in the outbox "
                                  "not yet sent (pending, or being sent).",
                                  (double)(outbox.pending + outbox.sending));
        if (rc == APP_OK)
            rc = metrics_render_gauge(out, "prodenthub_outbox_retrying", "Emails of the "
                                      "backlog whose last attempt failed.",
                                      (double)outbox.retrying);
        if (rc == APP_OK)
            rc = metrics_render_gauge(out, "prodenthub_outbox_age_seconds", "Age of this "
                                      "reading of the outbox.", (double)(time(NULL) - outbox.at));
    }
    if (rc != APP_OK) {
        buf_reset(out);
        return app_error_set(&req->err, APP_EINTERNAL, "metrics: the text is over %zu bytes",
                             out->max);
    }
    req->resp_type = "text/plain; version=0.0.4; charset=utf-8";
    req->status = 200;
    return APP_OK;
}
