/*
 * The outbox's backlog, for the metrics: one Query with Select=COUNT per unfinished status on
 * the status-nextAttemptAt index (finished rows leave that index).  A pending row with a
 * lastError is one that failed and waits for another attempt.
 */
#include "config.h"

#include <json-c/json.h>

#include "cfg.h"
#include "ddb.h"
#include "ddbjson.h"
#include "outbox.h"

#define PAGES 10                    /* Select=COUNT reads 1 MB a page: a lower bound past it */

/* Rows of the index with status st: *out_all, and *out_failed of them with a lastError. */
static int
count_status(struct ddb *d, const struct cfg *cfg, const char *st, long long *out_all,
             long long *out_failed, struct app_error *err)
{
    struct json_object *q = json_object_new_object(), *names, *vals, *res, *last, *v;
    int page, rc = APP_OK;

    json_add_str(q, "TableName", cfg->tbl_email_outbox);
    json_add_str(q, "IndexName", OUTBOX_STATUS_INDEX);
    json_add_str(q, "Select", "COUNT");
    json_add_str(q, "KeyConditionExpression", "#st = :st");
    json_add_str(q, "FilterExpression", "attribute_exists(lastError) AND lastError <> :none");
    names = json_object_new_object();
    json_add_str(names, "#st", "status");
    json_object_object_add(q, "ExpressionAttributeNames", names);
    vals = json_object_new_object();
    json_object_object_add(vals, ":st", ddb_av_s(st));
    json_object_object_add(vals, ":none", ddb_av_s(""));
    json_object_object_add(q, "ExpressionAttributeValues", vals);
    *out_all = 0;
    *out_failed = 0;
    for (page = 0; page < PAGES; page++) {
        res = NULL;
        rc = ddb_call(d, "Query", q, &res, err);
        if (rc == APP_OK) {
            *out_all += json_int(res, "ScannedCount");
            *out_failed += json_int(res, "Count");
        }
        last = NULL;
        if (rc == APP_OK && json_object_object_get_ex(res, "LastEvaluatedKey", &v))
            last = json_object_get(v);
        if (res)
            json_object_put(res);
        if (!last)
            break;
        json_object_object_add(q, "ExclusiveStartKey", last);    /* q owns it now */
    }
    json_object_put(q);
    return rc;
}

int
outbox_backlog(struct ddb *d, const struct cfg *cfg, struct outbox_backlog *b,
               struct app_error *err)
{
    long long failed_sending = 0;
    int rc;

    rc = count_status(d, cfg, "pending", &b->pending, &b->retrying, err);
    if (rc == APP_OK)
        rc = count_status(d, cfg, "sending", &b->sending, &failed_sending, err);
    return rc;
}
