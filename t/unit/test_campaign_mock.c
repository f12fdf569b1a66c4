/*
 * Mock exams' campaign layer (campaign/mock_register.c, mock_results.c) against stub DynamoDB
 * and Stripe (stub.h): a seat taken free or premium, each refusal with its reason, Stripe
 * failing after the seat was taken (the seat given back), the pay link, the results import
 * and its refusals, and the statistics.  One case per row: the scripts, the answer, and what
 * one request must (and must not) hold.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../campaign/mock.h"
#include "../../lib/ddbjson.h"
#include "stub.h"
#include "unit.h"

#define NOW 1768478400              /* 2026-01-15T12:00:00Z */

#define GET "DynamoDB_20120810.GetItem"
#define TXN "DynamoDB_20120810.TransactWriteItems"
#define UPDATE "DynamoDB_20120810.UpdateItem"
#define QUERY "DynamoDB_20120810.Query"
#define PUT "DynamoDB_20120810.PutItem"
#define POST_SESSION "POST /v1/checkout/sessions HTTP"

#define EXAM(type, capacity, taken) \
    "{\"Item\":{\"mockExamId\":{\"S\":\"written-1\"},\"listing\":{\"S\":\"EXAM\"}," \
    "\"title\":{\"S\":\"Written Mock\"},\"type\":{\"S\":\"" type "\"}," \
    "\"examDate\":{\"S\":\"2026-02-01T09:00:00Z\"},\"durationMinutes\":{\"N\":\"180\"}," \
    "\"capacity\":{\"N\":\"" capacity "\"},\"seatsTaken\":{\"N\":\"" taken "\"}," \
    "\"status\":{\"S\":\"scheduled\"}}}"
#define CATALOGUE(cents) \
    "{\"Item\":{\"planId\":{\"S\":\"mock-exam-premium\"},\"status\":{\"S\":\"active\"}," \
    "\"amountCents\":{\"N\":\"" cents "\"},\"currency\":{\"S\":\"AUD\"}}}"
#define REG(status) \
    "{\"Item\":{\"registrationId\":{\"S\":\"reg_0123456789abcdef01234567\"}," \
    "\"mockExamId\":{\"S\":\"written-1\"},\"email\":{\"S\":\"sam@example.com\"}," \
    "\"firstName\":{\"S\":\"Sam\"},\"tier\":{\"S\":\"premium\"}," \
    "\"status\":{\"S\":\"" status "\"},\"examTitle\":{\"S\":\"Written Mock\"}," \
    "\"priceCents\":{\"N\":\"2900\"},\"sessions\":{\"N\":\"7\"}}}"
#define CANCELLED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\"," \
    "\"message\":\"Transaction cancelled\",\"CancellationReasons\":" \
    "[{\"Code\":\"ConditionalCheckFailed\"},{\"Code\":\"None\"}]}"
#define CHECK_FAILED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\"," \
    "\"message\":\"The conditional request failed\"}"
#define NEW_SESSION "{\"id\":\"cs_new\",\"url\":\"https://pay.example/cs_new\"," \
                    "\"expires_at\":9999999999}"
#define STRIPE_DOWN "{\"error\":{\"type\":\"api_error\",\"message\":\"down\"}}"

/* --- registration ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    struct stub_reply ddb[5];
    size_t nddb;
    struct stub_reply stripe[1];
    size_t nstripe;
    int rc;
    const char *reason;           /* err.reason, or NULL */
    size_t at;                    /* the DynamoDB request checked below */
    const char *has[5];
    const char *lacks;
    const char *stripe_has[3];    /* in the Stripe request */
} reg_cases[] = {
    {"free: the seat and its email in one transaction, under capacity and still open",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 200, "{}"}}, 2, {{NULL, 0, NULL}}, 0,
     APP_OK, NULL, 1,
     {"SET seatsTaken = seatsTaken + :one",
      "seatsTaken < #cap AND #st = :scheduled AND examDate > :closes",
      "\":closes\":{\"S\":\"2026-01-15T14:00:00Z\"}",
      "attribute_not_exists(registrationId) OR #st = :released",
      "\"template\":{\"S\":\"mock-registration\"}"}, "\"priceCents\"", {NULL, NULL, NULL}},
    {"premium: priced from the catalogue (a consistent read), held, its Checkout opened",
     {{GET, 200, EXAM("premium", "30", "3")}, {"mock-exam-premium", 200, CATALOGUE("2900")},
      {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 4, {{POST_SESSION, 200, NEW_SESSION}}, 1,
     APP_OK, NULL, 2,
     {"seatsTaken < #cap", "\"status\":{\"S\":\"pending\"}",
      "\"priceCents\":{\"N\":\"2900\"}", NULL, NULL}, "prodenthub-email-outbox",
     {"line_items[0][price_data][unit_amount]=2900", "metadata[campaignId]=mock-exam",
      "customer_email=sam%40example.com"}},
    {"exam full: 409 EXAM_FULL, nothing kept",
     {{GET, 200, EXAM("free", "20", "20")}, {TXN, 400, CANCELLED}, {GET, 200, "{}"},
      {GET, 200, EXAM("free", "20", "20")}}, 4, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "EXAM_FULL", 1, {"seatsTaken < #cap", NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}},
    {"already registered: 409 ALREADY_REGISTERED",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 400, CANCELLED},
      {GET, 200, REG("confirmed")}}, 3, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "ALREADY_REGISTERED", 2,
     {"\"registrationId\":{\"S\":\"reg_", NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}},
    {"neither full nor taken: closed, 422 REGISTRATION_CLOSED",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 400, CANCELLED}, {GET, 200, "{}"},
      {GET, 200, EXAM("free", "30", "3")}}, 4, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "REGISTRATION_CLOSED", 3, {NULL, NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}},
    {"Stripe failing after the seat was taken: the seat given back, 502",
     {{GET, 200, EXAM("premium", "30", "3")}, {"mock-exam-premium", 200, CATALOGUE("2900")},
      {TXN, 200, "{}"}, {TXN, 200, "{}"}}, 4, {{POST_SESSION, 500, STRIPE_DOWN}}, 1,
     APP_EUPSTREAM, NULL, 3,
     {"SET seatsTaken = seatsTaken - :one", "SET #st = :released, updatedAt = :now",
      "#st = :pending", "\"S\":\"2026-01-15T12:00:00Z\"", NULL}, NULL, {NULL, NULL, NULL}},
    {"no premium price in the catalogue: an error, never a free seat",
     {{GET, 200, EXAM("premium", "30", "3")}, {"mock-exam-premium", 200, "{}"}}, 2,
     {{NULL, 0, NULL}}, 0, APP_ECONFIG, NULL, 1, {"ConsistentRead", NULL, NULL, NULL, NULL},
     NULL, {NULL, NULL, NULL}},
    {"no such exam: 404",
     {{GET, 200, "{}"}}, 1, {{NULL, 0, NULL}}, 0, APP_ENOTFOUND, NULL, 0,
     {"written-1", NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}},
};

START_TEST(test_register)
{
    struct mock_register_input in = {
        "written-1", "sam@example.com", "Sam", NULL, NULL,
    };
    struct mock_registered out;
    struct stub_env e;
    const char *req;
    char rid[40];
    size_t i;
    int rc;

    stub_env_start(&e, reg_cases[_i].ddb, reg_cases[_i].nddb, reg_cases[_i].stripe,
                   reg_cases[_i].nstripe, NOW);
    rc = mock_register(&e.ctx, &in, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == reg_cases[_i].rc, "%s: rc %d (%s)", reg_cases[_i].name, rc,
                  e.err.msg);
    ck_assert_msg(e.ddb_stub.nseen == reg_cases[_i].nddb, "%s: %zu DynamoDB requests",
                  reg_cases[_i].name, e.ddb_stub.nseen);
    ck_assert_msg(e.stripe_stub.nseen == reg_cases[_i].nstripe, "%s: %zu Stripe requests",
                  reg_cases[_i].name, e.stripe_stub.nseen);
    if (reg_cases[_i].reason)
        ck_assert_msg(e.err.reason && strcmp(e.err.reason, reg_cases[_i].reason) == 0,
                      "%s: reason %s", reg_cases[_i].name, e.err.reason ? e.err.reason : "-");
    else
        ck_assert_ptr_null(e.err.reason);
    req = e.ddb_stub.seen[reg_cases[_i].at];
    for (i = 0; i < 5 && reg_cases[_i].has[i]; i++)
        ck_assert_msg(strstr(req, reg_cases[_i].has[i]), "%s: no %s in %s",
                      reg_cases[_i].name, reg_cases[_i].has[i], req);
    if (reg_cases[_i].lacks)
        ck_assert_msg(!strstr(req, reg_cases[_i].lacks), "%s: %s in %s", reg_cases[_i].name,
                      reg_cases[_i].lacks, req);
    for (i = 0; i < 3 && reg_cases[_i].stripe_has[i]; i++)
        ck_assert_msg(strstr(e.stripe_stub.seen[0], reg_cases[_i].stripe_has[i]),
                      "%s: no %s in %s", reg_cases[_i].name, reg_cases[_i].stripe_has[i],
                      e.stripe_stub.seen[0]);
    mock_registration_id("written-1", "sam@example.com", rid);
    if (rc == APP_OK || rc == APP_ECONFLICT || rc == APP_EUPSTREAM)
        ck_assert_str_eq(out.registration_id, rid);
    if (rc == APP_OK && out.premium) {
        ck_assert_int_eq(out.price_cents, 2900);
        ck_assert_str_eq(out.session.id, "cs_new");
        ck_assert_str_eq(out.session.url, "https://pay.example/cs_new");
    }
    if (rc == APP_OK)
        ck_assert_str_eq(out.exam_date, "2026-02-01T09:00:00Z");
    if (rc == APP_EUPSTREAM)       /* the seat released is the one taken */
        ck_assert_ptr_nonnull(strstr(req, rid));
    stub_env_free(&e);
}
END_TEST

/* --- the pay link ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    const char *id;
    struct stub_reply ddb[2];
    size_t nddb;
    struct stub_reply stripe[1];
    size_t nstripe;
    int rc;
} pay_cases[] = {
    {"a pending seat: its Checkout made and recorded", "reg_0123456789abcdef01234567",
     {{GET, 200, REG("pending")}, {UPDATE, 200, "{}"}}, 2, {{POST_SESSION, 200, NEW_SESSION}},
     1, APP_OK},
    {"a confirmed seat: 409, nothing asked of Stripe", "reg_0123456789abcdef01234567",
     {{GET, 200, REG("confirmed")}}, 1, {{NULL, 0, NULL}}, 0, APP_ECONFLICT},
    {"no such registration: 404", "reg_0123456789abcdef01234567",
     {{GET, 200, "{}"}}, 1, {{NULL, 0, NULL}}, 0, APP_ENOTFOUND},
    {"not a registration id: 404 without a read", "../etc", {{NULL, 0, NULL}}, 0,
     {{NULL, 0, NULL}}, 0, APP_ENOTFOUND},
};

START_TEST(test_pay)
{
    struct paylink_out out;
    struct stub_env e;
    int rc;

    stub_env_start(&e, pay_cases[_i].ddb, pay_cases[_i].nddb, pay_cases[_i].stripe,
                   pay_cases[_i].nstripe, NOW);
    rc = mock_pay(&e.ctx, pay_cases[_i].id, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == pay_cases[_i].rc, "%s: rc %d (%s)", pay_cases[_i].name, rc,
                  e.err.msg);
    ck_assert_uint_eq(e.ddb_stub.nseen, pay_cases[_i].nddb);
    ck_assert_uint_eq(e.stripe_stub.nseen, pay_cases[_i].nstripe);
    if (rc == APP_OK) {
        ck_assert_str_eq(out.id, "cs_new");
        /* The idempotency key follows the registration's attempt counter. */
        ck_assert_ptr_nonnull(strcasestr(e.stripe_stub.seen[0],
                                         "Idempotency-Key: reg_0123456789abcdef01234567-7"));
        ck_assert_ptr_nonnull(strstr(e.stripe_stub.seen[0], "unit_amount]=2900"));
    }
    stub_env_free(&e);
}
END_TEST

/* --- results ----------------------------------------------------------------------------- */

#define ROW(email, score, more) \
    "{\"email\":\"" email "\",\"totalScore\":" score ",\"passed\":true" more "}"

static const struct {
    const char *name;
    const char *rows;
    struct stub_reply ddb[4];
    size_t nddb;
    int rc;
    int imported;
    const char *refused;          /* the refused rows' indexes, e.g. "1,2" */
    const char *field;            /* err.field of a refused import */
    int nfields;                  /* members named in out.fields */
} res_cases[] = {
    {"an unknown member: the whole import refused by name, nothing read or written",
     "[" ROW("a@example.com", "50", "") "," ROW("b@example.com", "60", ",\"score\":60") "]",
     {{NULL, 0, NULL}}, 0, APP_EVALIDATION, 0, NULL, "results[1].score", 1},
    {"every unknown member named, in row order",
     "[" ROW("a@example.com", "50", ",\"Total\":50") "," ROW("b@example.com", "60", "") ","
     ROW("c@example.com", "70", ",\"pased\":true") "]",
     {{NULL, 0, NULL}}, 0, APP_EVALIDATION, 0, NULL, "results[0].Total", 2},
    {"a member name that is not text: the row named",
     "[" ROW("a@example.com", "50", ",\"\\u0007\":1") "]",
     {{NULL, 0, NULL}}, 0, APP_EVALIDATION, 0, NULL, "results[0]", 1},
    {"rows on their own: one imported, a bad score and a seat not confirmed refused",
     "[" ROW("a@example.com", "50", ",\"sections\":{\"Theory\":20}") ","
     ROW("b@example.com", "150", "") "," ROW("c@example.com", "70", "") "]",
     {{GET, 200, EXAM("free", "30", "3")}, {UPDATE, 200, "{}"}, {UPDATE, 400, CHECK_FAILED}},
     3, APP_OK, 1, "1,2", NULL, 0},
    {"DynamoDB failing: the import fails, for the caller to send again",
     "[" ROW("a@example.com", "50", "") "]",
     {{GET, 200, EXAM("free", "30", "3")}, {UPDATE, 500, "{}"}}, 2, APP_EUNAVAILABLE, 0,
     NULL, NULL, 0},
    {"no such exam: 404", "[" ROW("a@example.com", "50", "") "]",
     {{GET, 200, "{}"}}, 1, APP_ENOTFOUND, 0, NULL, NULL, 0},
};

START_TEST(test_results)
{
    struct json_object *rows = json_tokener_parse(res_cases[_i].rows);
    struct mock_imported out;
    struct stub_env e;
    char got[64] = "";
    size_t i, n = 0;
    int rc;

    ck_assert_ptr_nonnull(rows);
    stub_env_start(&e, res_cases[_i].ddb, res_cases[_i].nddb, NULL, 0, NOW);
    rc = mock_results_import(&e.ctx, "written-1", rows, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == res_cases[_i].rc, "%s: rc %d (%s)", res_cases[_i].name, rc,
                  e.err.msg);
    ck_assert_msg(e.ddb_stub.nseen == res_cases[_i].nddb, "%s: %zu requests",
                  res_cases[_i].name, e.ddb_stub.nseen);
    if (res_cases[_i].field) {
        ck_assert_str_eq(e.err.field, res_cases[_i].field);
        ck_assert_int_eq(json_object_object_length(out.fields), res_cases[_i].nfields);
        ck_assert_ptr_nonnull(json_object_object_get(out.fields, res_cases[_i].field));
    }
    if (rc == APP_OK) {
        ck_assert_int_eq(out.imported, res_cases[_i].imported);
        for (i = 0; i < json_object_array_length(out.refused); i++)
            n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%d", i ? "," : "",
                                  json_object_get_int(json_object_object_get(
                                      json_object_array_get_idx(out.refused, i), "index")));
        ck_assert_str_eq(got, res_cases[_i].refused);
        /* The result is written under its reserved word's name, on a confirmed seat. */
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[1], "\"#res\":\"result\""));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[1],
                                     "mockExamId = :exam AND #st = :confirmed"));
    }
    json_object_put(out.fields);
    json_object_put(out.refused);
    json_object_put(rows);
    stub_env_free(&e);
}
END_TEST

/* --- statistics -------------------------------------------------------------------------- */

#define SCORED(n, score, passed) \
    "{\"registrationId\":{\"S\":\"reg_0123456789abcdef0123456" n "\"}," \
    "\"mockExamId\":{\"S\":\"written-1\"},\"email\":{\"S\":\"c" n "@example.com\"}," \
    "\"firstName\":{\"S\":\"C" n "\"},\"status\":{\"S\":\"confirmed\"},\"result\":{\"M\":{" \
    "\"totalScore\":{\"N\":\"" score "\"},\"maxScore\":{\"N\":\"100\"}," \
    "\"passed\":{\"BOOL\":" passed "},\"sections\":{\"M\":{}}}}}"

static const struct {
    const char *name;
    struct stub_reply ddb[4];
    size_t nddb;
    int rc;
    const char *has;              /* in the statistics answered */
} stats_cases[] = {
    {"a cohort under the minimum: stored, not published, no email",
     {{GET, 200, EXAM("free", "30", "3")},
      {QUERY, 200, "{\"Items\":[" SCORED("1", "40", "false") "," SCORED("2", "80", "true")
       "],\"Count\":2}"}, {PUT, 200, "{}"}}, 3, APP_OK,
     "\"published\":false"},
    {"no result imported: 422",
     {{GET, 200, EXAM("free", "30", "3")}, {QUERY, 200, "{\"Items\":[],\"Count\":0}"}}, 2,
     APP_EUNPROCESSABLE, NULL},
};

START_TEST(test_stats)
{
    struct json_object *st = NULL;
    struct stub_env e;
    int rc;

    stub_env_start(&e, stats_cases[_i].ddb, stats_cases[_i].nddb, NULL, 0, NOW);
    rc = mock_stats_calculate(&e.ctx, "written-1", &st, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == stats_cases[_i].rc, "%s: rc %d (%s)", stats_cases[_i].name, rc,
                  e.err.msg);
    ck_assert_uint_eq(e.ddb_stub.nseen, stats_cases[_i].nddb);
    if (rc == APP_OK) {
        const char *js = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);

        ck_assert_msg(strstr(js, stats_cases[_i].has), "%s: %s", stats_cases[_i].name, js);
        ck_assert_ptr_nonnull(strstr(js, "\"mean\":60"));
        ck_assert_ptr_nonnull(strstr(js, "\"emailsQueued\":0"));
        ck_assert_ptr_nonnull(strstr(js, "\"minimumCohort\":5"));
        ck_assert_ptr_nonnull(strstr(js, "\"calculatedAt\":\"2026-01-15T12:00:00Z\""));
    } else {
        ck_assert_ptr_null(st);
    }
    if (st)
        json_object_put(st);
    stub_env_free(&e);
}
END_TEST

static Suite *
mock_suite(void)
{
    Suite *s = suite_create("campaign_mock");
    TCase *tc = tcase_create("mock");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_register, 0, sizeof(reg_cases) / sizeof(reg_cases[0]));
    tcase_add_loop_test(tc, test_pay, 0, sizeof(pay_cases) / sizeof(pay_cases[0]));
    tcase_add_loop_test(tc, test_results, 0, sizeof(res_cases) / sizeof(res_cases[0]));
    tcase_add_loop_test(tc, test_stats, 0, sizeof(stats_cases) / sizeof(stats_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(mock_suite)
