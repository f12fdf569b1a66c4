#include "config.h"

#include <stdio.h>
#include <string.h>

#include "aws.h"
#include "cfg.h"
#include "ddb.h"
#include "metrics.h"

static const struct aws_service ddb_service = {
    .name = "dynamodb",
    .endpoint_label = "dynamodb",
    .answer_max = 16 * 1024 * 1024,
    .backoff_base_ms = 25,
    .backoff_cap_ms = 1000,
    .attempt_min_ms = 1,
    .net_code = APP_EUNAVAILABLE,
    .toolarge_code = APP_EUNAVAILABLE,
};

struct ddb {
    struct aws aws;
};

struct ddb *
ddb_new(const struct cfg *cfg, struct creds_provider *creds)
{
    return aws_new(sizeof(struct ddb), &ddb_service, cfg, creds, cfg->aws_endpoint_url_dynamodb,
                   cfg->ddb_connect_timeout_ms);
}

void
ddb_free(struct ddb *d)
{
    aws_delete(d);
}

int
ddb_last_attempts(const struct ddb *d)
{
    return d->aws.last_attempts;
}

/* The error type without its namespace: "com.amazonaws...#ThrottlingException". */
static const char *
short_type(const char *t)
{
    const char *h = strrchr(t, '#');

    return h ? h + 1 : t;
}

static int
reasons_include(struct json_object *body, const char *code)
{
    struct json_object *reasons, *r, *c;
    size_t i;

    if (!body || !json_object_object_get_ex(body, "CancellationReasons", &reasons))
        return 0;
    for (i = 0; i < json_object_array_length(reasons); i++) {
        r = json_object_array_get_idx(reasons, i);
        if (json_object_object_get_ex(r, "Code", &c) &&
            strcmp(json_object_get_string(c), code) == 0)
            return 1;
    }
    return 0;
}

/* Classify an error answer: the code for the caller, and whether to try again. */
static enum aws_outcome
classify(size_t op, long status, struct json_object *body, int *code, struct app_error *err)
{
    static const char *const retryable[] = {
        "ProvisionedThroughputExceededException", "ThrottlingException",
        "RequestLimitExceeded", "TransactionInProgressException", NULL,
    };
    static const char *const throttled[] = {
        "ProvisionedThroughputExceededException", "ThrottlingException",
        "RequestLimitExceeded", NULL,
    };
    static const char *const auth[] = {
        "InvalidSignatureException", "UnrecognizedClientException",
        "MissingAuthenticationTokenException", "ExpiredTokenException",
        "AccessDeniedException", "IncompleteSignatureException", NULL,
    };
    struct json_object *t = NULL, *m = NULL;
    const char *type = "UnknownError", *msg = "";

    if (body && json_object_object_get_ex(body, "__type", &t))
        type = short_type(json_object_get_string(t));
    if (body && (json_object_object_get_ex(body, "message", &m) ||
                 json_object_object_get_ex(body, "Message", &m)))
        msg = json_object_get_string(m);

    if (aws_type_in(type, throttled))
        metrics_inc(MF_DDB_THROTTLES, op, 0);
    if (status >= 500) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: HTTP %ld %s", status, type);
        return AWS_RETRY;
    }
    if (aws_type_in(type, retryable)) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s", type);
        return AWS_RETRY;
    }
    if (strcmp(type, "ConditionalCheckFailedException") == 0 ||
        (strcmp(type, "TransactionCanceledException") == 0 &&
         reasons_include(body, "ConditionalCheckFailed"))) {
        *code = app_error_set(err, APP_ECONDITION, "dynamodb: %s", type);
        return AWS_FAIL;
    }
    if (strcmp(type, "TransactionCanceledException") == 0 &&
        reasons_include(body, "TransactionConflict")) {
        /* Another transaction held one of the items: nothing was written, try again. */
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s: conflict", type);
        return AWS_RETRY;
    }
    if (strcmp(type, "TransactionCanceledException") == 0) {
        *code = app_error_set(err, APP_ECONFLICT, "dynamodb: %s: %s", type, msg);
        return AWS_FAIL;
    }
    if (aws_type_in(type, auth)) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s: %s", type, msg);
        return AWS_FAIL;
    }
    *code = app_error_set(err, APP_EINTERNAL, "dynamodb: HTTP %ld %s: %s", status, type, msg);
    return AWS_FAIL;
}

/* An answer: 200 with JSON is the result, anything else an error to classify.  ud: the
 * operation's index in the metrics' operation label. */
static enum aws_outcome
answer(void *ud, const struct aws_answer *a, int *code, struct app_error *err)
{
    if (a->status != 200)
        return classify(*(const size_t *)ud, a->status, a->body, code, err);
    if (!a->body) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: unreadable response");
        return AWS_RETRY;
    }
    *code = APP_OK;
    return AWS_OK;
}

static int
call(struct ddb *d, const char *op, struct json_object *req, long budget_ms, long max_attempts,
     struct json_object **out, struct app_error *err)
{
    char target[96];
    size_t opi = metrics_index(MF_DDB_REQUESTS, 0, op);
    int rc;
    const struct sigv4_header h[2] = {
        {"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", target},
    };
    const struct aws_call k = {
        .label = op, .headers = h, .nheaders = 2, .json = req, .budget_ms = budget_ms,
        .max_attempts = (int)max_attempts, .answer = answer, .ud = &opi,
    };

    snprintf(target, sizeof(target), "DynamoDB_20120810.%s", op);
    rc = aws_call(&d->aws, &k, out, err);
    metrics_inc(MF_DDB_REQUESTS, opi, 0);
    if (d->aws.last_attempts > 1)
        metrics_add(MF_DDB_RETRIES, opi, 0, (uint64_t)(d->aws.last_attempts - 1));
    if (rc != APP_OK && rc != APP_ECONDITION)
        metrics_inc(MF_DDB_ERRORS, opi, 0);
    return rc;
}

int
ddb_call(struct ddb *d, const char *op, struct json_object *req, struct json_object **out,
         struct app_error *err)
{
    return call(d, op, req, d->aws.cfg->ddb_timeout_ms, d->aws.cfg->ddb_max_attempts, out, err);
}

int
ddb_ping(struct ddb *d, const char *table, long timeout_ms, struct app_error *err)
{
    struct json_object *req = json_object_new_object(), *out = NULL;
    int rc;

    /* One attempt within the readiness bound: a probe must answer fast, not retry. */
    json_object_object_add(req, "TableName", json_object_new_string(table));
    rc = call(d, "DescribeTable", req, timeout_ms, 1, &out, err);
    json_object_put(req);
    if (out)
        json_object_put(out);
    return rc;
}
