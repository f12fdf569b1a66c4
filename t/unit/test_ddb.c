/*
 * The DynamoDB client (lib/ddb.c) on the wire, against a scripted stub (stub.h): what it
 * sends (JSON 1.0, the target, the SigV4 scope), how it classifies DynamoDB's answers (the
 * code, whether it tries again, the detail), and what *out holds afterwards.  One row a case.
 * The signature itself is checked against botocore by t/sigv4/crosscheck.py and, end to end,
 * by the SigV4-verifying front before DynamoDB Local (t/e2e/test_dynamodb.py).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "../../lib/ddb.h"
#include "../../lib/errors.h"
#include "../../lib/ids.h"
#include "../../lib/log.h"
#include "../../lib/metrics.h"
#include "stub.h"
#include "stub_bedrock.h"
#include "unit.h"

#define GET "DynamoDB_20120810.GetItem"
#define ITEM "{\"Item\":{\"pk\":{\"S\":\"SAVE20\"}}}"
#define ERR(t) "{\"__type\":\"com.amazonaws.dynamodb.v20120810#" t "\",\"message\":\"m\"}"
#define CANCELLED(r) \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\"," \
    "\"message\":\"Transaction cancelled\",\"CancellationReasons\":[{\"Code\":\"None\"}," \
    "{\"Code\":\"" r "\"}]}"

static const struct {
    const char *name;
    struct stub_reply script[3];
    size_t nscript;
    int rc;
    int attempts;
    const char *in_err;             /* in err.msg when rc is not APP_OK */
    const char *out_has;            /* in *out afterwards; NULL: *out is NULL */
} cases[] = {
    {"an item", {{GET, 200, ITEM}}, 1, APP_OK, 1, NULL, "SAVE20"},
    {"a condition lost", {{GET, 400, ERR("ConditionalCheckFailedException")}}, 1,
     APP_ECONDITION, 1, "dynamodb: ConditionalCheckFailedException (GetItem, attempt 1)",
     "ConditionalCheckFailedException"},
    {"a transaction's condition lost", {{GET, 400, CANCELLED("ConditionalCheckFailed")}}, 1,
     APP_ECONDITION, 1, "dynamodb: TransactionCanceledException (GetItem, attempt 1)",
     "CancellationReasons"},
    {"a transaction in conflict: retried", {{GET, 400, CANCELLED("TransactionConflict")},
                                            {GET, 200, ITEM}}, 2, APP_OK, 2, NULL, "SAVE20"},
    {"a transaction in conflict to the end", {{GET, 400, CANCELLED("TransactionConflict")},
                                              {GET, 400, CANCELLED("TransactionConflict")},
                                              {GET, 400, CANCELLED("TransactionConflict")}},
     3, APP_EUNAVAILABLE, 3, "TransactionCanceledException: conflict (GetItem, attempt 3)",
     "TransactionConflict"},
    {"a transaction cancelled otherwise", {{GET, 400, CANCELLED("ItemCollectionSizeLimit"
                                                                "Exceeded")}}, 1,
     APP_ECONFLICT, 1, "TransactionCanceledException: Transaction cancelled", "Cancellation"},
    {"throttled, then answered", {{GET, 400, ERR("ProvisionedThroughputExceededException")},
                                  {GET, 200, ITEM}}, 2, APP_OK, 2, NULL, "SAVE20"},
    {"throttled to the end", {{GET, 400, ERR("ThrottlingException")},
                              {GET, 400, ERR("RequestLimitExceeded")},
                              {GET, 400, ERR("ThrottlingException")}}, 3, APP_EUNAVAILABLE, 3,
     "dynamodb: ThrottlingException (GetItem, attempt 3)", "ThrottlingException"},
    {"5xx to the end", {{GET, 500, "{}"}, {GET, 503, "{}"}, {GET, 500, "<html>"}}, 3,
     APP_EUNAVAILABLE, 3, "dynamodb: HTTP 500 UnknownError (GetItem, attempt 3)", NULL},
    {"an unreadable answer, then an item", {{GET, 200, "<html>"}, {GET, 200, ITEM}}, 2,
     APP_OK, 2, NULL, "SAVE20"},
    {"unreadable answers to the end", {{GET, 200, "{\"Item\":"}, {GET, 200, ""},
                                       {GET, 200, "x"}}, 3, APP_EUNAVAILABLE, 3,
     "dynamodb: unreadable response (GetItem, attempt 3)", NULL},
    {"credentials refused: not retried", {{GET, 400, ERR("UnrecognizedClientException")}}, 1,
     APP_EUNAVAILABLE, 1, "dynamodb: UnrecognizedClientException: m (GetItem, attempt 1)",
     "UnrecognizedClientException"},
    {"access denied: not retried", {{GET, 400, ERR("AccessDeniedException")}}, 1,
     APP_EUNAVAILABLE, 1, "AccessDeniedException: m", "AccessDeniedException"},
    {"our request refused", {{GET, 400, ERR("ValidationException")}}, 1, APP_EINTERNAL, 1,
     "dynamodb: HTTP 400 ValidationException: m (GetItem, attempt 1)", "ValidationException"},
    {"a type without its namespace", {{GET, 400, "{\"__type\":\"ResourceNotFoundException\","
                                       "\"Message\":\"no table\"}"}}, 1, APP_EINTERNAL, 1,
     "HTTP 400 ResourceNotFoundException: no table", "no table"},
};

static void
setup(void)
{
    unit_clean_env();
    log_level_min = LL_CRIT + 1;
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("AWS_REGION", "ap-southeast-2", 1);
    setenv("DYNAMODB_MAX_ATTEMPTS", "3", 1);
}

static struct ddb *
client(struct cfg *c, struct creds_provider **creds, const char *base)
{
    char err[256] = "";
    struct ddb *d;

    setenv("AWS_ENDPOINT_URL_DYNAMODB", base, 1);
    ck_assert_msg(cfg_load(c, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    *creds = creds_new(c);
    d = ddb_new(c, *creds);
    ck_assert_ptr_nonnull(d);
    return d;
}

static struct json_object *
get_req(void)
{
    return json_tokener_parse("{\"TableName\":\"prodenthub-coupons\",\"Key\":{\"pk\":"
                              "{\"S\":\"SAVE20\"}}}");
}

START_TEST(test_call)
{
    struct json_object *req = get_req(), *out = NULL;
    struct creds_provider *creds;
    struct app_error err;
    struct stub st;
    struct cfg c;
    struct ddb *d;
    size_t j;
    int rc;
    size_t op = metrics_index(MF_DDB_REQUESTS, 0, "GetItem");
    uint64_t throttles = 0;

    ck_assert_int_eq(metrics_create(1), 0);
    metrics_slot_used(0);
    metrics_attach(0);
    stub_start(&st, cases[_i].script, cases[_i].nscript);
    d = client(&c, &creds, st.base);
    app_error_clear(&err);
    rc = ddb_call(d, "GetItem", req, &out, &err);
    /* The worker's counters (lib/metrics.h): one call, its retries, throttles, a failure. */
    for (j = 0; j < (size_t)cases[_i].attempts; j++)
        throttles += strstr(cases[_i].script[j].body, "Throttl") ||
                     strstr(cases[_i].script[j].body, "ProvisionedThroughputExceeded") ||
                     strstr(cases[_i].script[j].body, "RequestLimitExceeded");
    ck_assert_uint_eq(metrics_sum(MF_DDB_REQUESTS, op), 1);
    ck_assert_uint_eq(metrics_sum(MF_DDB_RETRIES, op), (uint64_t)cases[_i].attempts - 1);
    ck_assert_uint_eq(metrics_sum(MF_DDB_THROTTLES, op), throttles);
    ck_assert_uint_eq(metrics_sum(MF_DDB_ERRORS, op), rc != APP_OK && rc != APP_ECONDITION);
    metrics_destroy();
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s)", cases[_i].name, rc, err.msg);
    ck_assert_msg(ddb_last_attempts(d) == cases[_i].attempts, "%s: %d attempts",
                  cases[_i].name, ddb_last_attempts(d));
    if (rc != APP_OK)
        ck_assert_msg(strstr(err.msg, cases[_i].in_err), "%s: err %s", cases[_i].name,
                      err.msg);
    if (cases[_i].out_has)
        ck_assert_msg(out && strstr(json_object_to_json_string(out), cases[_i].out_has),
                      "%s: out %s", cases[_i].name, out ? json_object_to_json_string(out) : "-");
    else
        ck_assert_msg(!out, "%s: out %s", cases[_i].name, json_object_to_json_string(out));
    json_object_put(out);
    json_object_put(req);
    ddb_free(d);
    creds_free(creds);
    stub_stop(&st);
    ck_assert_msg(st.nseen == (size_t)cases[_i].attempts, "%s: %zu requests", cases[_i].name,
                  st.nseen);
    for (j = 0; j < st.nseen; j++) {
        ck_assert_msg(strncmp(st.seen[j], "POST / HTTP/1.1\r\n", 17) == 0, "%s", st.seen[j]);
        ck_assert_str_eq(stub_body(st.seen[j]), "{\"TableName\":\"prodenthub-coupons\","
                         "\"Key\":{\"pk\":{\"S\":\"SAVE20\"}}}");
    }
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* The request is DynamoDB's: JSON 1.0, the target, the scope, the session token signed. */
START_TEST(test_request_signed_for_dynamodb)
{
    static const struct stub_reply script[] = {{GET, 200, ITEM}};
    static const char *const want[] = {
        "Content-Type: application/x-amz-json-1.0\r\n", "X-Amz-Target: " GET "\r\n",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDSTUB/",
        "/ap-southeast-2/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
        "x-amz-security-token;x-amz-target, Signature=",
        "X-Amz-Security-Token: tok-456\r\n", "X-Amz-Date: ", NULL,
    };
    struct json_object *req = get_req(), *out = NULL;
    struct creds_provider *creds;
    struct app_error err;
    struct stub st;
    struct cfg c;
    struct ddb *d;

    setenv("AWS_SESSION_TOKEN", "tok-456", 1);
    stub_start(&st, script, 1);
    d = client(&c, &creds, st.base);
    app_error_clear(&err);
    ck_assert_int_eq(ddb_call(d, "GetItem", req, &out, &err), APP_OK);
    json_object_put(out);
    json_object_put(req);
    ddb_free(d);
    creds_free(creds);
    stub_stop(&st);
    stub_expect_sent(&st, "signed", GET, want, 7);
    ck_assert_ptr_null(strstr(st.seen[0], "Expect:"));
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* Readiness: one DescribeTable of the table named, never retried. */
START_TEST(test_ping_is_one_attempt)
{
    static const struct stub_reply script[] = {
        {"DynamoDB_20120810.DescribeTable", 500, "{}"},
        {"DynamoDB_20120810.DescribeTable", 200, "{\"Table\":{}}"},
    };
    struct creds_provider *creds;
    struct app_error err;
    struct stub st;
    struct cfg c;
    struct ddb *d;

    stub_start(&st, script, 2);
    d = client(&c, &creds, st.base);
    app_error_clear(&err);
    ck_assert_int_eq(ddb_ping(d, "prodenthub-catalogue", 500, &err), APP_EUNAVAILABLE);
    ck_assert_msg(strstr(err.msg, "(DescribeTable, attempt 1)"), "%s", err.msg);
    app_error_clear(&err);
    ck_assert_int_eq(ddb_ping(d, "prodenthub-catalogue", 500, &err), APP_OK);
    ddb_free(d);
    creds_free(creds);
    stub_stop(&st);
    ck_assert_uint_eq(st.nseen, 2);
    ck_assert_str_eq(stub_body(st.seen[0]), "{\"TableName\":\"prodenthub-catalogue\"}");
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* Nothing listens: every attempt is a network error, retried, then 503. */
START_TEST(test_unreachable)
{
    struct json_object *req = get_req(), *out = NULL;
    struct creds_provider *creds;
    struct app_error err;
    char base[64];
    struct cfg c;
    struct ddb *d;
    int fd;

    fd = unit_listen_loopback(base, sizeof(base));
    close(fd);
    d = client(&c, &creds, base);
    app_error_clear(&err);
    ck_assert_int_eq(ddb_call(d, "GetItem", req, &out, &err), APP_EUNAVAILABLE);
    ck_assert_int_eq(ddb_last_attempts(d), 3);
    ck_assert_msg(strncmp(err.msg, "dynamodb: ", 10) == 0 &&
                  strstr(err.msg, "(GetItem, attempt 3)"), "%s", err.msg);
    ck_assert_ptr_null(out);
    json_object_put(req);
    ddb_free(d);
    creds_free(creds);
    cfg_free(&c);
}
END_TEST

/* An answer slower than DYNAMODB_TIMEOUT_MS: 504 within the budget. */
START_TEST(test_timeout)
{
    static const struct stub_bedrock_reply slow[] = {{200, NULL, 1500, ITEM},
                                                     {200, NULL, 1500, ITEM}};
    struct json_object *req = get_req(), *out = NULL;
    struct creds_provider *creds;
    struct app_error err;
    struct stub st;
    struct cfg c;
    struct ddb *d;
    long t0;
    int fd, w;

    if (stub_fork(&st, &fd, &w)) {
        stub_bedrock_serve(fd, w, slow, 2);
        _exit(0);
    }
    setenv("DYNAMODB_TIMEOUT_MS", "300", 1);
    setenv("DYNAMODB_CONNECT_TIMEOUT_MS", "100", 1);
    d = client(&c, &creds, st.base);
    app_error_clear(&err);
    t0 = clock_ms();
    ck_assert_int_eq(ddb_call(d, "GetItem", req, &out, &err), APP_ETIMEOUT);
    ck_assert_int_lt(clock_ms() - t0, 1000);
    ck_assert_msg(strstr(err.msg, "dynamodb: ") && strstr(err.msg, "300 ms"), "%s", err.msg);
    ck_assert_ptr_null(out);
    json_object_put(req);
    ddb_free(d);
    creds_free(creds);
    stub_stop(&st);
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* ddb_get_many: one round trip for several keys, a GetItem when there is one, unprocessed
 * keys asked again, each item matched to its get. */
#define BATCH "DynamoDB_20120810.BatchGetItem"
#define PK(id) "{\"pk\":{\"S\":\"" id "\"}}"

static const struct {
    const char *name;
    struct ddb_get gets[3];
    size_t n;
    struct stub_reply script[2];
    size_t nscript;
    int rc;
    int found[3];                   /* gets[i].item afterwards */
    const char *sent[2];            /* in request i */
    const char *lacks;              /* in the first request */
} many_cases[] = {
    {"one key: a GetItem", {{"t-a", "pk", "one", 0, NULL}}, 1,
     {{GET, 200, "{\"Item\":" PK("one") "}"}}, 1, APP_OK, {1},
     {"\"TableName\":\"t-a\",\"Key\":" PK("one"), NULL}, "ConsistentRead"},
    {"one key not there: none", {{"t-a", "pk", "one", 1, NULL}}, 1, {{GET, 200, "{}"}}, 1,
     APP_OK, {0}, {"\"ConsistentRead\":true", NULL}, NULL},
    {"the same key twice: one GetItem, consistent when either asks",
     {{"t-a", "pk", "one", 0, NULL}, {"t-a", "pk", "one", 1, NULL}}, 2,
     {{GET, 200, "{\"Item\":" PK("one") "}"}}, 1, APP_OK, {1, 1},
     {"\"ConsistentRead\":true", NULL}, NULL},
    {"two tables: one BatchGetItem, consistent per table, a key not there",
     {{"t-a", "pk", "one", 0, NULL}, {"t-b", "pk", "two", 1, NULL},
      {"t-a", "pk", "three", 0, NULL}}, 3,
     {{BATCH, 200, "{\"Responses\":{\"t-b\":[" PK("two") "],\"t-a\":[" PK("one") "]}}"}}, 1,
     APP_OK, {1, 1, 0},
     {"{\"RequestItems\":{\"t-a\":{\"Keys\":[" PK("one") "," PK("three") "]},\"t-b\":"
      "{\"Keys\":[" PK("two") "],\"ConsistentRead\":true}}}", NULL}, NULL},
    {"unprocessed keys: asked again, alone",
     {{"t-a", "pk", "one", 0, NULL}, {"t-b", "pk", "two", 1, NULL}}, 2,
     {{BATCH, 200, "{\"Responses\":{\"t-a\":[" PK("one") "]},\"UnprocessedKeys\":"
       "{\"t-b\":{\"Keys\":[" PK("two") "],\"ConsistentRead\":true}}}"},
      {BATCH, 200, "{\"Responses\":{\"t-b\":[" PK("two") "]},\"UnprocessedKeys\":{}}"}},
     2, APP_OK, {1, 1},
     {NULL, "{\"RequestItems\":{\"t-b\":{\"Keys\":[" PK("two") "],"
      "\"ConsistentRead\":true}}}"}, NULL},
    {"refused: the error, no items",
     {{"t-a", "pk", "one", 0, NULL}, {"t-b", "pk", "two", 1, NULL}}, 2,
     {{BATCH, 400, ERR("ValidationException")}}, 1, APP_EINTERNAL, {0, 0}, {NULL, NULL},
     NULL},
};

START_TEST(test_get_many)
{
    struct ddb_get gets[3];
    struct creds_provider *creds;
    struct app_error err;
    struct stub st;
    struct cfg c;
    struct ddb *d;
    size_t i;
    int rc;

    memcpy(gets, many_cases[_i].gets, sizeof(gets));
    stub_start(&st, many_cases[_i].script, many_cases[_i].nscript);
    d = client(&c, &creds, st.base);
    app_error_clear(&err);
    rc = ddb_get_many(d, gets, many_cases[_i].n, &err);
    ddb_free(d);
    creds_free(creds);
    stub_stop(&st);
    ck_assert_msg(rc == many_cases[_i].rc, "%s: rc %d (%s)", many_cases[_i].name, rc, err.msg);
    ck_assert_msg(st.nseen == many_cases[_i].nscript, "%s: %zu requests", many_cases[_i].name,
                  st.nseen);
    for (i = 0; i < many_cases[_i].n; i++) {
        ck_assert_msg(!gets[i].item == !many_cases[_i].found[i], "%s: item %zu",
                      many_cases[_i].name, i);
        if (gets[i].item)
            ck_assert_str_eq(json_object_get_string(json_object_object_get(
                json_object_object_get(gets[i].item, "pk"), "S")), gets[i].id);
        json_object_put(gets[i].item);
    }
    for (i = 0; i < st.nseen && i < 2; i++) {
        if (many_cases[_i].sent[i])
            ck_assert_msg(strstr(stub_body(st.seen[i]), many_cases[_i].sent[i]),
                          "%s: no %s in %s", many_cases[_i].name, many_cases[_i].sent[i],
                          stub_body(st.seen[i]));
    }
    if (many_cases[_i].lacks)
        ck_assert_msg(!strstr(st.seen[0], many_cases[_i].lacks), "%s: %s sent",
                      many_cases[_i].name, many_cases[_i].lacks);
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

static Suite *
ddb_suite(void)
{
    Suite *s = suite_create("ddb");
    TCase *tc = tcase_create("client");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, test_call, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_request_signed_for_dynamodb);
    tcase_add_test(tc, test_ping_is_one_attempt);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_timeout);
    tcase_add_loop_test(tc, test_get_many, 0, sizeof(many_cases) / sizeof(many_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(ddb_suite)
