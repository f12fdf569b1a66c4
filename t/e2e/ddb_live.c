/*
 * The DynamoDB client against a live endpoint (DynamoDB Local behind the signature-
 * verifying front), run by t/e2e/test_dynamodb.py with AWS_ENDPOINT_URL_DYNAMODB and
 * credentials in the environment, and SIGFRONT_URL for fault injection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>

#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "../../lib/ddb.h"
#include "../../lib/ddbjson.h"
#include "../../lib/outbox.h"

static struct cfg cfg;
static struct creds_provider *creds;
static struct ddb *ddb;
static char table[64];

static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* POST body to the front's control path (fault injection). */
static void
front(const char *path, const char *body)
{
    const char *base = getenv("SIGFRONT_URL");
    char url[256];
    CURL *c = curl_easy_init();

    ck_assert_msg(base != 0, "SIGFRONT_URL is not set");
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
}

static struct json_object *
key(const char *pk, const char *sk)
{
    struct json_object *k = json_object_new_object();

    json_object_object_add(k, "pk", ddb_av_s(pk));
    json_object_object_add(k, "sk", ddb_av_s(sk));
    return k;
}

static struct json_object *
parse(const char *s)
{
    struct json_object *o = json_tokener_parse(s);

    ck_assert_msg(o != 0, "bad test JSON: %s", s);
    return o;
}

/* Create table name from the definition def (consumed) and wait until it is ACTIVE. */
static void
create_table(const char *name, struct json_object *def)
{
    struct json_object *out = NULL;
    struct app_error e;
    int i, rc;

    json_object_object_add(def, "TableName", json_object_new_string(name));
    app_error_clear(&e);
    rc = ddb_call(ddb, "CreateTable", def, &out, &e);
    ck_assert_msg(rc == APP_OK, "CreateTable: %s", e.msg);
    json_object_put(def);
    json_object_put(out);
    for (i = 0; i < 50; i++) {
        struct json_object *d = json_object_new_object(), *t, *s;
        int active;

        json_object_object_add(d, "TableName", json_object_new_string(name));
        out = NULL;
        rc = ddb_call(ddb, "DescribeTable", d, &out, &e);
        json_object_put(d);
        active = rc == APP_OK && json_object_object_get_ex(out, "Table", &t) &&
                 json_object_object_get_ex(t, "TableStatus", &s) &&
                 strcmp(json_object_get_string(s), "ACTIVE") == 0;
        if (out)
            json_object_put(out);
        if (active)
            return;
        usleep(100000);
    }
    ck_abort_msg("table %s never became ACTIVE", name);
}

static void
drop_table(const char *name)
{
    struct json_object *d = json_object_new_object(), *out = NULL;
    struct app_error e;

    app_error_clear(&e);
    json_object_object_add(d, "TableName", json_object_new_string(name));
    ddb_call(ddb, "DeleteTable", d, &out, &e);
    json_object_put(d);
    if (out)
        json_object_put(out);
}

static void
setup(void)
{
    static int serial;
    char err[512];

    ck_assert_msg(cfg_load(&cfg, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    creds = creds_new(&cfg);
    ddb = ddb_new(&cfg, creds);
    ck_assert_ptr_nonnull(ddb);
    snprintf(table, sizeof(table), "ph-live-%ld-%d-%d", (long)time(NULL), getpid(), ++serial);
    create_table(table, parse(
        "{\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"},"
        "{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}],"
        "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
        "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}],"
        "\"BillingMode\":\"PAY_PER_REQUEST\"}"));
}

static void
teardown(void)
{
    drop_table(table);
    ddb_free(ddb);
    creds_free(creds);
    cfg_free(&cfg);
}

START_TEST(test_put_get_marshalling)
{
    struct json_object *plain = parse("{\"pk\":\"a\",\"sk\":\"1\",\"amountCents\":12345,"
                                      "\"rate\":12.50,\"big\":12345678901234.000001,"
                                      "\"ok\":true,\"none\":null,\"tags\":[\"x\",1],"
                                      "\"m\":{\"n\":-3}}");
    struct json_object *item = ddb_marshal_item(plain), *got = NULL, *back, *k, *big;
    struct app_error e;

    app_error_clear(&e);
    ck_assert_int_eq(ddb_put_item(ddb, table, item, NULL, NULL, NULL, &e), APP_OK);
    k = key("a", "1");
    ck_assert_int_eq(ddb_get_item(ddb, table, k, 1, &got, &e), APP_OK);
    back = ddb_unmarshal_item(got);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(json_object_object_length(back), json_object_object_length(plain));
    json_object_object_foreach(plain, name, want) {
        struct json_object *have = NULL;

        ck_assert_msg(json_object_object_get_ex(back, name, &have), "%s is missing", name);
        ck_assert_msg(json_object_equal(want, have), "%s: %s != %s", name,
                      json_object_to_json_string(want), json_object_to_json_string(have));
    }
    /* DynamoDB keeps 38 digits: a number that a double cannot hold comes back exactly. */
    ck_assert(json_object_object_get_ex(back, "big", &big));
    ck_assert_str_eq(json_object_get_string(big), "12345678901234.000001");
    json_object_put(back);
    json_object_put(got);
    json_object_put(k);
    k = key("a", "missing");
    ck_assert_int_eq(ddb_get_item(ddb, table, k, 1, &got, &e), APP_ENOTFOUND);
    ck_assert_ptr_null(got);
    json_object_put(k);
    json_object_put(item);
    json_object_put(plain);
}
END_TEST

START_TEST(test_conditions)
{
    struct json_object *item = parse("{\"pk\":{\"S\":\"c\"},\"sk\":{\"S\":\"1\"},"
                                     "\"n\":{\"N\":\"0\"},\"limit\":{\"N\":\"2\"}}");
    struct json_object *vals = parse("{\":one\":{\"N\":\"1\"}}"), *attrs = NULL, *k, *v;
    struct json_object *names = parse("{\"#l\":\"limit\"}");
    struct app_error e;
    int i;

    app_error_clear(&e);
    ck_assert_int_eq(ddb_put_item(ddb, table, item, "attribute_not_exists(pk)", NULL, NULL, &e),
                     APP_OK);
    /* The same item again: the condition fails, as its own case. */
    ck_assert_int_eq(ddb_put_item(ddb, table, item, "attribute_not_exists(pk)", NULL, NULL, &e),
                     APP_ECONDITION);
    k = key("c", "1");
    for (i = 0; i < 2; i++) {
        app_error_clear(&e);
        ck_assert_int_eq(ddb_update_item(ddb, table, k, "SET n = n + :one", "n < #l",
                                         names, vals, "ALL_NEW", &attrs,
                                         &e), APP_OK);
        ck_assert(json_object_object_get_ex(attrs, "n", &v));
        json_object_put(attrs);
    }
    app_error_clear(&e);
    ck_assert_int_eq(ddb_update_item(ddb, table, k, "SET n = n + :one", "n < #l",
                                     names, vals, NULL, NULL, &e),
                     APP_ECONDITION);
    ck_assert_int_eq(ddb_delete_item(ddb, table, k, "n = :one", NULL, vals, &e), APP_ECONDITION);
    app_error_clear(&e);
    ck_assert_int_eq(ddb_delete_item(ddb, table, k, NULL, NULL, NULL, &e), APP_OK);
    json_object_put(k);
    json_object_put(names);
    json_object_put(vals);
    json_object_put(item);
}
END_TEST

START_TEST(test_batch_and_query_pagination)
{
    struct json_object *reqs = json_object_new_array(), *params, *items, *last = NULL;
    struct json_object *ri, *keys, *resp = NULL, *arr;
    struct app_error e;
    char sk[16];
    int i, pages = 0, seen = 0;

    for (i = 0; i < 60; i++) {
        struct json_object *put = json_object_new_object(), *w = json_object_new_object();

        snprintf(sk, sizeof(sk), "%03d", i);
        json_object_object_add(put, "Item", key("q", sk));
        json_object_object_add(w, "PutRequest", put);
        json_object_array_add(reqs, w);
    }
    app_error_clear(&e);
    ck_assert_int_eq(ddb_batch_write(ddb, table, reqs, &e), APP_OK);   /* 3 calls of 25 */
    json_object_put(reqs);

    do {
        params = parse("{\"KeyConditionExpression\":\"pk = :p\","
                       "\"ExpressionAttributeValues\":{\":p\":{\"S\":\"q\"}},\"Limit\":25}");
        json_object_object_add(params, "TableName", json_object_new_string(table));
        if (last)
            json_object_object_add(params, "ExclusiveStartKey", last);
        ck_assert_int_eq(ddb_query(ddb, params, &items, &last, &e), APP_OK);
        seen += (int)json_object_array_length(items);
        pages++;
        json_object_put(items);
        json_object_put(params);
    } while (last);
    ck_assert_int_eq(seen, 60);
    ck_assert_int_ge(pages, 3);

    ri = json_object_new_object();
    keys = json_object_new_array();
    for (i = 0; i < 40; i++) {
        snprintf(sk, sizeof(sk), "%03d", i);
        json_object_array_add(keys, key("q", sk));
    }
    arr = json_object_new_object();
    json_object_object_add(arr, "Keys", keys);
    json_object_object_add(ri, table, arr);
    ck_assert_int_eq(ddb_batch_get(ddb, ri, &resp, &e), APP_OK);
    ck_assert(json_object_object_get_ex(resp, table, &arr));
    ck_assert_int_eq(json_object_array_length(arr), 40);
    json_object_put(resp);
    json_object_put(ri);
}
END_TEST

START_TEST(test_unprocessed_items_are_retried)
{
    struct json_object *reqs = json_object_new_array(), *got = NULL, *k;
    struct app_error e;
    char body[1024];
    int i;

    for (i = 0; i < 3; i++) {
        struct json_object *put = json_object_new_object(), *w = json_object_new_object();
        char sk[8];

        snprintf(sk, sizeof(sk), "%d", i);
        json_object_object_add(put, "Item", key("u", sk));
        json_object_object_add(w, "PutRequest", put);
        json_object_array_add(reqs, w);
    }
    /* The front answers the first BatchWriteItem as DynamoDB does under load: nothing written,
     * every item handed back as unprocessed.  The client must send them again. */
    snprintf(body, sizeof(body),
             "{\"count\":1,\"status\":200,\"target\":\"BatchWriteItem\","
             "\"body\":{\"UnprocessedItems\":{\"%s\":%s}}}",
             table, json_object_to_json_string_ext(reqs, JSON_C_TO_STRING_PLAIN));
    front("/__front/fail", body);
    app_error_clear(&e);
    ck_assert_int_eq(ddb_batch_write(ddb, table, reqs, &e), APP_OK);
    for (i = 0; i < 3; i++) {
        char sk[8];

        snprintf(sk, sizeof(sk), "%d", i);
        k = key("u", sk);
        ck_assert_int_eq(ddb_get_item(ddb, table, k, 1, &got, &e), APP_OK);
        json_object_put(got);
        json_object_put(k);
    }
    json_object_put(reqs);
}
END_TEST

START_TEST(test_transactions)
{
    struct json_object *items;
    struct app_error e;
    char tx[1024], tok1[40], tok2[40];
    unsigned long id = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 20);

    /* Tokens unique to this run: DynamoDB remembers a token for 10 minutes. */
    snprintf(tok1, sizeof(tok1), "%08lx-0000-4000-8000-000000000001", id & 0xffffffffUL);
    snprintf(tok2, sizeof(tok2), "%08lx-0000-4000-8000-000000000002", id & 0xffffffffUL);
    snprintf(tx, sizeof(tx),
             "[{\"Put\":{\"TableName\":\"%s\",\"Item\":{\"pk\":{\"S\":\"t\"},\"sk\":{\"S\":\"c\"},"
             "\"n\":{\"N\":\"1\"}},\"ConditionExpression\":\"attribute_not_exists(pk)\"}},"
             "{\"Put\":{\"TableName\":\"%s\",\"Item\":{\"pk\":{\"S\":\"t\"},\"sk\":{\"S\":\"r1\"}},"
             "\"ConditionExpression\":\"attribute_not_exists(pk)\"}}]", table, table);
    items = parse(tx);
    app_error_clear(&e);
    ck_assert_int_eq(ddb_transact_write(ddb, items, tok1, &e),
                     APP_OK);
    /* The same token again within 10 minutes: idempotent, not a second write. */
    ck_assert_int_eq(ddb_transact_write(ddb, items, tok1, &e),
                     APP_OK);
    /* A new token: the conditions fail, and nothing of it is written. */
    ck_assert_int_eq(ddb_transact_write(ddb, items, tok2, &e),
                     APP_ECONDITION);
    json_object_put(items);
}
END_TEST

START_TEST(test_throttling_is_retried)
{
    struct json_object *k = key("a", "throttled"), *got = NULL;
    struct app_error e;

    /* Only GetItem: the stack's mailer polls the same front with its own calls. */
    front("/__front/fail", "{\"count\":2,\"status\":400,\"target\":\"GetItem\",\"type\":"
          "\"com.amazonaws.dynamodb.v20120810#ThrottlingException\",\"message\":\"Rate exceeded\"}");
    app_error_clear(&e);
    ck_assert_int_eq(ddb_get_item(ddb, table, k, 0, &got, &e), APP_ENOTFOUND);
    ck_assert_int_eq(ddb_last_attempts(ddb), 3);
    json_object_put(k);
}
END_TEST

START_TEST(test_validation_errors_are_not_retried)
{
    struct json_object *k = parse("{\"nope\":{\"S\":\"x\"}}"), *got = NULL;
    struct app_error e;

    app_error_clear(&e);
    ck_assert_int_eq(ddb_get_item(ddb, table, k, 0, &got, &e), APP_EINTERNAL);
    ck_assert_int_eq(ddb_last_attempts(ddb), 1);
    ck_assert_ptr_nonnull(strstr(e.msg, "ValidationException"));
    json_object_put(k);
}
END_TEST

START_TEST(test_server_errors_exhaust_attempts)
{
    struct json_object *k = key("a", "x"), *got = NULL;
    struct app_error e;

    front("/__front/fail", "{\"count\":5,\"status\":500,\"target\":\"GetItem\",\"type\":"
          "\"com.amazonaws.dynamodb.v20120810#InternalServerError\",\"message\":\"boom\"}");
    app_error_clear(&e);
    ck_assert_int_eq(ddb_get_item(ddb, table, k, 0, &got, &e), APP_EUNAVAILABLE);
    ck_assert_int_eq(ddb_last_attempts(ddb), 3);
    front("/__front/reset", "{}");
    json_object_put(k);
}
END_TEST

/* The outbox's backlog counts the index's rows by status; finished rows are not in it. */
START_TEST(test_outbox_backlog)
{
    static const char *const rows[] = {      /* outboxId, status, nextAttemptAt?, lastError */
        "{\"outboxId\":{\"S\":\"a\"},\"status\":{\"S\":\"pending\"},"
        "\"nextAttemptAt\":{\"S\":\"1970-01-01T00:00:00Z\"}}",
        "{\"outboxId\":{\"S\":\"b\"},\"status\":{\"S\":\"pending\"},"
        "\"nextAttemptAt\":{\"S\":\"2026-01-01T00:00:00Z\"},\"lastError\":{\"S\":\"421\"}}",
        "{\"outboxId\":{\"S\":\"c\"},\"status\":{\"S\":\"pending\"},"
        "\"nextAttemptAt\":{\"S\":\"2026-01-02T00:00:00Z\"},\"lastError\":{\"S\":\"\"}}",
        "{\"outboxId\":{\"S\":\"d\"},\"status\":{\"S\":\"sending\"},"
        "\"nextAttemptAt\":{\"S\":\"2026-01-03T00:00:00Z\"},\"lastError\":{\"S\":\"451\"}}",
        "{\"outboxId\":{\"S\":\"e\"},\"status\":{\"S\":\"sending\"},"
        "\"nextAttemptAt\":{\"S\":\"2026-01-04T00:00:00Z\"}}",
        "{\"outboxId\":{\"S\":\"f\"},\"status\":{\"S\":\"sent\"}}",
    };
    struct outbox_backlog b;
    struct app_error e;
    char name[80];
    size_t i;

    snprintf(name, sizeof(name), "%s-outbox", table);
    create_table(name, parse(
        "{\"AttributeDefinitions\":[{\"AttributeName\":\"outboxId\",\"AttributeType\":\"S\"},"
        "{\"AttributeName\":\"status\",\"AttributeType\":\"S\"},"
        "{\"AttributeName\":\"nextAttemptAt\",\"AttributeType\":\"S\"}],"
        "\"KeySchema\":[{\"AttributeName\":\"outboxId\",\"KeyType\":\"HASH\"}],"
        "\"GlobalSecondaryIndexes\":[{\"IndexName\":\"" OUTBOX_STATUS_INDEX "\","
        "\"KeySchema\":[{\"AttributeName\":\"status\",\"KeyType\":\"HASH\"},"
        "{\"AttributeName\":\"nextAttemptAt\",\"KeyType\":\"RANGE\"}],"
        "\"Projection\":{\"ProjectionType\":\"ALL\"}}],\"BillingMode\":\"PAY_PER_REQUEST\"}"));
    free(cfg.tbl_email_outbox);
    cfg.tbl_email_outbox = strdup(name);
    app_error_clear(&e);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct json_object *item = parse(rows[i]);

        ck_assert_int_eq(ddb_put_item(ddb, name, item, NULL, NULL, NULL, &e), APP_OK);
        json_object_put(item);
    }
    ck_assert_int_eq(outbox_backlog(ddb, &cfg, &b, &e), APP_OK);
    ck_assert_int_eq(b.pending, 3);
    ck_assert_int_eq(b.retrying, 1);             /* b: a lastError; c's is empty */
    ck_assert_int_eq(b.sending, 2);
    drop_table(name);
}
END_TEST

static Suite *
live_suite(void)
{
    Suite *s = suite_create("dynamodb-live");
    TCase *tc = tcase_create("ops");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_put_get_marshalling);
    tcase_add_test(tc, test_conditions);
    tcase_add_test(tc, test_batch_and_query_pagination);
    tcase_add_test(tc, test_outbox_backlog);
    tcase_add_test(tc, test_unprocessed_items_are_retried);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_throttling_is_retried);
    tcase_add_test(tc, test_validation_errors_are_not_retried);
    tcase_add_test(tc, test_server_errors_exhaust_attempts);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    sr = srunner_create(live_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
