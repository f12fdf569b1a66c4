/*
 * Scholarship applications (campaign/scholarship.c) against stub DynamoDB and Stripe
 * (stub.h), with the real rules file: priced from the catalogue read in DynamoDB, the record
 * written (and no email before payment), then its own Checkout Session at our price;
 * the refusals; and a backend failing on the way.  One case per row.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../campaign/scholarship.h"
#include "stub.h"
#include "unit.h"

#define NOW 1768478400              /* 2026-01-15T12:00:00Z */

#define GET "DynamoDB_20120810.GetItem"
#define TXN "DynamoDB_20120810.TransactWriteItems"
#define UPDATE "DynamoDB_20120810.UpdateItem"
#define POST_SESSION "POST /v1/checkout/sessions HTTP"

#define CATALOGUE \
    "{\"Item\":{\"planId\":{\"S\":\"scholarship-3months\"},\"name\":{\"S\":\"Scholarship " \
    "Access\"},\"durationMonths\":{\"N\":\"3\"},\"status\":{\"S\":\"active\"}," \
    "\"amountCents\":{\"N\":\"12900\"}}}"
#define SESSION "{\"id\":\"cs_new\",\"url\":\"https://pay.example/cs_new\"," \
                "\"expires_at\":9999999999}"
#define CANCELLED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\"," \
    "\"message\":\"cancelled\",\"CancellationReasons\":[{\"Code\":\"ConditionalCheckFailed\"}," \
    "{\"Code\":\"None\"}]}"

/* Eligible: lower-middle income, hardship, a near pass, 25 hours: 50%, 6450 of 12900. */
#define ELIGIBLE "IN", 1, 55, 1, 25
/* Not: high income, nothing else. */
#define INELIGIBLE "AU", 0, -1, 0, 10

static const struct {
    const char *name;
    const char *country;
    long attempts, last_score;
    int hardship;
    long hours;
    int rules;                      /* the rules loaded */
    struct stub_reply ddb[3];
    size_t nddb;
    struct stub_reply stripe[1];
    size_t nstripe;
    int rc;
    const char *reason;             /* err.reason, or NULL */
    int percent;
    const char *session;            /* out's session id, or NULL when none is made */
    const char *txn[5];             /* in the transaction (NULL-ended; none: no transaction) */
    const char *form[4];            /* in the form sent to Stripe */
} cases[] = {
    {"applied: priced from the catalogue, the record written (no email), then Checkout",
     ELIGIBLE, 1, {{GET, 200, CATALOGUE}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, 50, "cs_new",
     {"\"priceCents\":{\"N\":\"6450\"}", "attribute_not_exists(scholarshipId)",
      "\"createdAt\":{\"S\":\"2026-01-15T12:00:00Z\"}", NULL, NULL},
     {"line_items[0][price_data][unit_amount]=6450", "metadata[scholarshipId]=sch_",
      "metadata[campaignId]=scholarship-application", "50%25+scholarship"}},
    {"not eligible: 422 NOT_ELIGIBLE with the calculation, nothing written",
     INELIGIBLE, 1, {{GET, 200, CATALOGUE}}, 1, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "NOT_ELIGIBLE", 0, NULL, {NULL}, {NULL}},
    {"the rules' plan is not in the catalogue: a configuration error, nothing written",
     ELIGIBLE, 1, {{GET, 200, "{}"}}, 1, {{NULL, 0, NULL}}, 0, APP_ECONFIG, NULL, 0, NULL,
     {NULL}, {NULL}},
    {"no rules loaded: 503, nothing asked", ELIGIBLE, 0, {{NULL, 0, NULL}}, 0,
     {{NULL, 0, NULL}}, 0, APP_EUNAVAILABLE, NULL, 0, NULL, {NULL}, {NULL}},
    {"DynamoDB down at the write: the error, and no Checkout",
     ELIGIBLE, 1, {{GET, 200, CATALOGUE}, {TXN, 500, "{}"}}, 2, {{NULL, 0, NULL}}, 0,
     APP_EUNAVAILABLE, NULL, 50, NULL, {"attribute_not_exists(scholarshipId)", NULL}, {NULL}},
    {"the id exists already: our fault, no Checkout",
     ELIGIBLE, 1, {{GET, 200, CATALOGUE}, {TXN, 400, CANCELLED}}, 2, {{NULL, 0, NULL}}, 0,
     APP_EINTERNAL, NULL, 50, NULL, {"attribute_not_exists(scholarshipId)", NULL}, {NULL}},
    {"Stripe down after the write: the application stands, without a session yet",
     ELIGIBLE, 1, {{GET, 200, CATALOGUE}, {TXN, 200, "{}"}}, 2,
     {{POST_SESSION, 500, "{\"error\":{\"type\":\"api_error\"}}"}}, 1, APP_OK, NULL, 50, "",
     {"attribute_not_exists(scholarshipId)", NULL}, {"unit_amount]=6450", NULL}},
};

START_TEST(test_apply)
{
    struct scholarship_application in;
    struct scholarship_applied out;
    struct stub_env e;
    const char *txn;
    char err[512];
    int rc;

    memset(&in, 0, sizeof(in));
    snprintf(in.circumstances.country, sizeof(in.circumstances.country), "%s",
             cases[_i].country);
    in.circumstances.attempts = cases[_i].attempts;
    in.circumstances.last_score = cases[_i].last_score;
    in.circumstances.hardship = cases[_i].hardship;
    in.circumstances.study_hours = cases[_i].hours;
    in.first_name = "Omar";
    in.last_name = "Haddad";
    in.email = "omar@example.com";
    stub_rules_env();
    stub_env_start(&e, cases[_i].ddb, cases[_i].nddb, cases[_i].stripe, cases[_i].nstripe, NOW);
    if (cases[_i].rules)
        ck_assert_msg(cfg_load_rules(&e.cfg, err, sizeof(err)) == 0, "%s", err);
    rc = scholarship_apply(&e.ctx, &in, &out, &e.err);
    stub_env_stop(&e);
    stub_env_expect(&e, cases[_i].name, rc, cases[_i].rc, cases[_i].reason, cases[_i].nddb,
                    cases[_i].nstripe);
    ck_assert_int_eq(out.res.percent, cases[_i].percent);
    if (cases[_i].nddb)             /* the price read consistently, never from a cache */
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], "\"ConsistentRead\":true"));
    txn = stub_expect_sent(&e.ddb_stub, cases[_i].name, TXN, cases[_i].txn, 5);
    /* Issue 12, item 11: an application emails nobody before it is paid. */
    ck_assert_msg(!txn || !strstr(txn, "prodenthub-email-outbox"), "%s: an email queued",
                  cases[_i].name);
    stub_expect_sent(&e.stripe_stub, cases[_i].name, POST_SESSION, cases[_i].form, 4);
    if (cases[_i].session) {
        ck_assert_str_eq(out.made.session.id, cases[_i].session);
        ck_assert_msg(strncmp(out.made.id, "sch_", 4) == 0, "id %s", out.made.id);
        ck_assert_msg(strstr(out.made.pay_url, out.made.id), "pay url %s", out.made.pay_url);
        ck_assert_ptr_nonnull(strstr(txn, out.made.id));
    }
    if (cases[_i].session && *cases[_i].session)   /* the session kept on the record */
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[2], "cs_new"));
    stub_env_free(&e);
}
END_TEST

/* The pay link of an application read back: its product named with the percentage while it
 * is submitted, 409 once paid. */
START_TEST(test_link)
{
    struct json_object *s = json_tokener_parse(
        "{\"scholarshipId\":\"sch_0123456789abcdef01234567\",\"status\":\"submitted\","
        "\"email\":\"omar@example.com\",\"planName\":\"Scholarship Access\",\"percent\":50,"
        "\"priceCents\":6450}");
    struct record_link link;
    struct stub_env e;

    stub_env_start(&e, NULL, 0, NULL, 0, NOW);
    ck_assert_int_eq(scholarship_link(&e.ctx, s, &link, &e.err), APP_OK);
    ck_assert_str_eq(link.pl.product_name, "Scholarship Access (50% scholarship)");
    ck_assert_int_eq(link.pl.amount_cents, 6450);
    ck_assert_str_eq(link.pl.key, "sch_0123456789abcdef01234567");
    ck_assert_str_eq(link.pl.unpaid_status, "submitted");
    ck_assert_ptr_nonnull(strstr(link.pl.success_url,
                                 "/scholarships/sch_0123456789abcdef01234567?paid=1"));
    json_object_object_add(s, "status", json_object_new_string("paid"));
    ck_assert_int_eq(scholarship_link(&e.ctx, s, &link, &e.err), APP_ECONFLICT);
    ck_assert_str_eq(e.err.msg, "This application is already paid");
    stub_env_stop(&e);
    stub_env_free(&e);
    json_object_put(s);
}
END_TEST

static Suite *
scholarship_suite(void)
{
    Suite *s = suite_create("campaign_scholarship");
    TCase *tc = tcase_create("apply");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_apply, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_link);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(scholarship_suite)
