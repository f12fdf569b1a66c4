/*
 * Personalized plans (campaign/personal.c) against stub S3, DynamoDB and Stripe (stub.h),
 * with the real cluster rules: the uploaded report checked with a HEAD, the cluster's product
 * priced from the catalogue read in DynamoDB, the record written once, then its own Checkout
 * Session at our price; the refusals; and a backend failing on the way.  One case per row.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../campaign/personal.h"
#include "../../lib/ids.h"
#include "../../lib/s3.h"
#include "stub.h"
#include "unit.h"

#define NOW 1768478400              /* 2026-01-15T12:00:00Z */
#define PLAN "ppl_0123456789abcdef01234567"

#define GET "DynamoDB_20120810.GetItem"
#define TXN "DynamoDB_20120810.TransactWriteItems"
#define UPDATE "DynamoDB_20120810.UpdateItem"
#define POST_SESSION "POST /v1/checkout/sessions HTTP"

#define PRODUCT \
    "{\"Item\":{\"planId\":{\"S\":\"cluster-x\"},\"name\":{\"S\":\"Focused Plan\"}," \
    "\"durationMonths\":{\"N\":\"3\"},\"status\":{\"S\":\"active\"}," \
    "\"amountCents\":{\"N\":\"19900\"}}}"
#define SESSION "{\"id\":\"cs_new\",\"url\":\"https://pay.example/cs_new\"," \
                "\"expires_at\":9999999999}"
#define CANCELLED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\"," \
    "\"message\":\"cancelled\",\"CancellationReasons\":[{\"Code\":\"ConditionalCheckFailed\"}]}"

#define SECTIONS \
    "[{\"name\":\"Endodontics\",\"category\":\"clinical\",\"correct\":20,\"answered\":40," \
    "\"total\":50},{\"name\":\"Pharmacology\",\"category\":\"theory\",\"correct\":35," \
    "\"answered\":45,\"total\":50}]"

#define PDF {200, 2048, "application/pdf"}

static const struct {
    const char *name;
    struct stub_object report;      /* what S3's HEAD answers */
    struct stub_reply ddb[3];
    size_t nddb;
    struct stub_reply stripe[1];
    size_t nstripe;
    int rc;
    const char *reason;             /* err.reason, or NULL */
    const char *session;            /* out's session id; NULL: not created */
    const char *txn[5];             /* in the transaction (NULL-ended; none: no transaction) */
} cases[] = {
    {"created: report checked, priced from the catalogue, written once, then Checkout", PDF,
     {{GET, 200, PRODUCT}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, "cs_new",
     {"\"priceCents\":{\"N\":\"19900\"}", "attribute_not_exists(planId)",
      "\"scoreReportKey\":{\"S\":\"score-reports/" PLAN "/report\"}",
      "\"createdAt\":{\"S\":\"2026-01-15T12:00:00Z\"}", "\"status\":{\"S\":\"pending\"}"}},
    {"no report uploaded: 422 REPORT_NOT_UPLOADED, nothing written",
     {404, 0, "application/xml"}, {{NULL, 0, NULL}}, 0, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "REPORT_NOT_UPLOADED", NULL, {NULL}},
    {"a report of another type: 422 REPORT_NOT_ACCEPTED, nothing written",
     {200, 2048, "text/html"}, {{NULL, 0, NULL}}, 0, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "REPORT_NOT_ACCEPTED", NULL, {NULL}},
    {"a report over the size limit: 422 REPORT_NOT_ACCEPTED, nothing written",
     {200, 10485761, "application/pdf"}, {{NULL, 0, NULL}}, 0, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "REPORT_NOT_ACCEPTED", NULL, {NULL}},
    {"S3 down: 503, nothing written", {503, 0, "application/xml"}, {{NULL, 0, NULL}}, 0,
     {{NULL, 0, NULL}}, 0, APP_EUNAVAILABLE, NULL, NULL, {NULL}},
    {"the cluster's product is not in the catalogue: a configuration error, nothing written",
     PDF, {{GET, 200, "{}"}}, 1, {{NULL, 0, NULL}}, 0, APP_ECONFIG, NULL, NULL, {NULL}},
    {"the plan exists already: 409, no Checkout", PDF,
     {{GET, 200, PRODUCT}, {TXN, 400, CANCELLED}}, 2, {{NULL, 0, NULL}}, 0, APP_ECONFLICT,
     NULL, NULL, {"attribute_not_exists(planId)", NULL}},
    {"DynamoDB down at the write: the error, and no Checkout", PDF,
     {{GET, 200, PRODUCT}, {TXN, 500, "{}"}}, 2, {{NULL, 0, NULL}}, 0, APP_EUNAVAILABLE,
     NULL, NULL, {"attribute_not_exists(planId)", NULL}},
    {"Stripe down after the write: the plan stands, without a session yet", PDF,
     {{GET, 200, PRODUCT}, {TXN, 200, "{}"}}, 2,
     {{POST_SESSION, 500, "{\"error\":{\"type\":\"api_error\"}}"}}, 1, APP_OK, NULL, "",
     {"attribute_not_exists(planId)", NULL}},
};

/* The stubs, the rules, and S3 on its stub (started first: the configuration reads it). */
static void
start(struct stub_env *e, struct stub *s3, const struct stub_object *report,
      const struct stub_reply *ddb, size_t nddb, const struct stub_reply *stripe,
      size_t nstripe)
{
    char err[512];

    stub_s3_start(s3, report);
    stub_rules_env();
    stub_env_start(e, ddb, nddb, stripe, nstripe, NOW);
    ck_assert_msg(cfg_load_rules(&e->cfg, err, sizeof(err)) == 0, "%s", err);
    e->ctx.s3 = s3_new(&e->cfg, e->creds);
    ck_assert_ptr_nonnull(e->ctx.s3);
}

static void
stop(struct stub_env *e, struct stub *s3)
{
    s3_free(e->ctx.s3);
    stub_env_stop(e);
    stub_stop(s3);
}

START_TEST(test_create)
{
    struct json_object *sections = json_tokener_parse(SECTIONS);
    struct personal_plan_created out;
    struct personal_plan_input in;
    struct cluster_result res;
    struct stub_env e;
    struct stub s3;
    const char *form;
    char want[64];
    int rc;

    start(&e, &s3, &cases[_i].report, cases[_i].ddb, cases[_i].nddb, cases[_i].stripe,
          cases[_i].nstripe);
    ck_assert_int_eq(personal_plan_assess(&e.ctx, sections, &res, &e.err), APP_OK);
    memset(&in, 0, sizeof(in));
    in.plan_id = PLAN;
    in.email = "ana@example.com";
    in.first_name = "Ana";
    in.sections = sections;
    in.assessment = &res;
    rc = personal_plan_create(&e.ctx, &in, &out, &e.err);
    stop(&e, &s3);
    stub_env_expect(&e, cases[_i].name, rc, cases[_i].rc, cases[_i].reason, cases[_i].nddb,
                    cases[_i].nstripe);
    ck_assert_uint_eq(s3.nseen, 1);             /* the report checked, under our key */
    ck_assert_ptr_nonnull(strstr(s3.seen[0], "HEAD /prodenthub-score-reports/score-reports/"
                                 PLAN "/report HTTP"));
    if (cases[_i].nddb) {           /* the cluster's product, read consistently */
        snprintf(want, sizeof(want), "{\"S\":\"%s\"}", res.plan_id);
        ck_assert_msg(strstr(e.ddb_stub.seen[0], want), "%s", e.ddb_stub.seen[0]);
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], "\"ConsistentRead\":true"));
    }
    stub_expect_sent(&e.ddb_stub, cases[_i].name, TXN, cases[_i].txn, 5);
    if (e.stripe_stub.nseen) {      /* our price, our plan, its cluster */
        form = stub_body(e.stripe_stub.seen[0]);
        snprintf(want, sizeof(want), "metadata[cluster]=%d", res.cluster);
        ck_assert_msg(strstr(form, "line_items[0][price_data][unit_amount]=19900") &&
                      strstr(form, "metadata[planId]=" PLAN) && strstr(form, want) &&
                      strstr(form, "metadata[campaignId]=personalized-plan"), "%s", form);
    }
    if (cases[_i].session) {
        ck_assert_str_eq(out.made.session.id, cases[_i].session);
        ck_assert_int_eq(out.price_cents, 19900);
        ck_assert_str_eq(out.made.pay_url,
                         "https://localhost:8443/v1/personalized-plans/" PLAN "/pay");
    }
    if (cases[_i].session && *cases[_i].session)   /* the session kept on the record */
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[2], "cs_new"));
    stub_free(&s3);
    stub_env_free(&e);
    json_object_put(sections);
}
END_TEST

/* An invalid report is refused with the field at fault, as the route's fields say it. */
START_TEST(test_assess_refused)
{
    struct json_object *sections = json_tokener_parse(
        "[{\"name\":\"Endodontics\",\"category\":\"clinical\",\"correct\":41,\"answered\":40,"
        "\"total\":50}]");
    struct cluster_result res;
    struct stub_env e;
    char err[512];

    stub_rules_env();
    stub_env_start(&e, NULL, 0, NULL, 0, NOW);
    ck_assert_int_eq(personal_plan_assess(&e.ctx, sections, &res, &e.err), APP_EUNAVAILABLE);
    app_error_clear(&e.err);
    ck_assert_msg(cfg_load_rules(&e.cfg, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(personal_plan_assess(&e.ctx, sections, &res, &e.err), APP_EVALIDATION);
    ck_assert_str_eq(e.err.field, "sections[0].correct");
    ck_assert_str_eq(e.err.msg, "must not exceed answered");
    stub_env_stop(&e);
    stub_env_free(&e);
    json_object_put(sections);
}
END_TEST

/* The upload: a new plan id, its report's key in a presigned PUT that expires from now. */
START_TEST(test_upload_url)
{
    struct personal_presigned up;
    struct stub_object none = {404, 0, "application/xml"};
    struct stub_env e;
    struct stub s3;
    char key[96];

    start(&e, &s3, &none, NULL, 0, NULL, 0);
    ck_assert_int_eq(personal_upload_url(&e.ctx, "application/pdf", 2048, &up, &e.err),
                     APP_OK);
    stop(&e, &s3);
    ck_assert_int_eq(id_valid(up.plan_id, "ppl_"), 1);
    snprintf(key, sizeof(key), "/score-reports/%s/report?", up.plan_id);
    ck_assert_msg(strstr(up.url, key), "%s", up.url);
    ck_assert_ptr_nonnull(strstr(up.url, "X-Amz-Date=20260115T120000Z"));
    ck_assert_str_eq(up.expires_at, "2026-01-15T12:10:00Z");
    ck_assert_uint_eq(s3.nseen, 0);             /* presigning asks nobody */
    stub_free(&s3);
    stub_env_free(&e);
}
END_TEST

static Suite *
personal_suite(void)
{
    Suite *s = suite_create("campaign_personal");
    TCase *tc = tcase_create("create");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_create, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_assess_refused);
    tcase_add_test(tc, test_upload_url);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(personal_suite)
