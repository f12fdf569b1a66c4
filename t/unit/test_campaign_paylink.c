/*
 * Pay links (campaign/paylink.c) against stub DynamoDB and Stripe (stub.h): a record has at
 * most one open Checkout Session.  One case per row: what the record holds, the scripts, and
 * what must have been asked of Stripe.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../campaign/paylink.h"
#include "stub.h"
#include "unit.h"

#define POST_SESSION "POST /v1/checkout/sessions HTTP"
#define NEW_SESSION "{\"id\":\"cs_new\",\"url\":\"https://pay.example/cs_new\"," \
                    "\"expires_at\":9999999999}"
#define UPDATE "DynamoDB_20120810.UpdateItem"

static const struct {
    const char *name;
    const char *holder;               /* the record's session fields */
    long long expires_in;             /* seconds from now of the held session; 0: none */
    struct stub_reply stripe[4];
    size_t nstripe;
    struct stub_reply ddb[1];
    size_t nddb;
    int rc;
    const char *id;                   /* the session answered */
    const char *expired;              /* the session expired at Stripe, or NULL */
} cases[] = {
    {"the open session is reused: nothing asked of anyone",
     "{\"status\":\"unpaid\",\"sessionId\":\"cs_old\",\"sessionUrl\":\"https://pay/cs_old\","
     "\"sessions\":1}", 3000, {{NULL, 0, NULL}}, 0,
     {{NULL, 0, NULL}}, 0, APP_OK, "cs_old", NULL},
    {"no session yet: one made and recorded, none expired",
     "{\"status\":\"unpaid\",\"sessions\":0}", 0,
     {{POST_SESSION, 200, NEW_SESSION}}, 1, {{UPDATE, 200, "{}"}}, 1, APP_OK, "cs_new", NULL},
    {"about to expire: a new one recorded, then the old one expired at Stripe",
     "{\"status\":\"unpaid\",\"sessionId\":\"cs_old\",\"sessionUrl\":\"https://pay/cs_old\","
     "\"sessions\":1}", 60,
     {{POST_SESSION, 200, NEW_SESSION}, {"/cs_old/expire", 200, "{\"id\":\"cs_old\"}"}}, 2,
     {{UPDATE, 200, "{}"}}, 1, APP_OK, "cs_new", "/v1/checkout/sessions/cs_old/expire"},
    {"the old one was paid meanwhile: 409, and the new one is expired too",
     "{\"status\":\"unpaid\",\"sessionId\":\"cs_old\",\"sessionUrl\":\"https://pay/cs_old\","
     "\"sessions\":1}", 60,
     {{POST_SESSION, 200, NEW_SESSION},
      {"/cs_old/expire", 400, "{\"error\":{\"type\":\"invalid_request_error\"}}"},
      {"GET /v1/checkout/sessions/cs_old", 200, "{\"id\":\"cs_old\",\"status\":\"complete\"}"},
      {"/cs_new/expire", 200, "{\"id\":\"cs_new\"}"}},
     4, {{UPDATE, 200, "{}"}}, 1, APP_ECONFLICT, NULL, NULL},
};

START_TEST(test_one_open_session)
{
    struct json_object *holder;
    struct paylink_out out;
    struct paylink pl;
    struct stub_env e;
    time_t now = time(NULL);
    int rc;

    holder = json_tokener_parse(cases[_i].holder);
    ck_assert_ptr_nonnull(holder);
    if (cases[_i].expires_in)
        json_object_object_add(holder, "sessionExpiresAt",
                               json_object_new_int64((int64_t)now + cases[_i].expires_in));
    memset(&pl, 0, sizeof(pl));
    pl.table = "prodenthub-scholarships";
    pl.key_name = "scholarshipId";
    pl.key = "sch_0123456789abcdef01234567";
    pl.path = "";
    pl.holder = holder;
    pl.unpaid_status = "unpaid";
    pl.amount_cents = 6450;
    pl.product_name = "Scholarship";
    pl.email = "omar@example.com";
    pl.campaign = "scholarship-application";
    pl.success_url = "https://app.example/ok";
    pl.cancel_url = "https://app.example/cancel";
    stub_env_start(&e, cases[_i].ddb, cases[_i].nddb, cases[_i].stripe, cases[_i].nstripe, now);
    memset(&out, 0, sizeof(out));
    rc = paylink_session(&e.ctx, &pl, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s)", cases[_i].name, rc, e.err.msg);
    ck_assert_msg(e.stripe_stub.nseen == cases[_i].nstripe, "%s: %zu Stripe calls",
                  cases[_i].name, e.stripe_stub.nseen);
    ck_assert_uint_eq(e.ddb_stub.nseen, cases[_i].nddb);
    if (cases[_i].id)
        ck_assert_str_eq(out.id, cases[_i].id);
    if (cases[_i].expired)
        ck_assert_msg(strstr(e.stripe_stub.seen[e.stripe_stub.nseen - 1], cases[_i].expired),
                      "%s: last Stripe call %s", cases[_i].name,
                      e.stripe_stub.seen[e.stripe_stub.nseen - 1]);
    if (cases[_i].rc == APP_ECONFLICT)          /* the new session is expired too */
        ck_assert_ptr_nonnull(strstr(e.stripe_stub.seen[e.stripe_stub.nseen - 1],
                                     "/v1/checkout/sessions/cs_new/expire"));
    stub_env_free(&e);
    json_object_put(holder);
}
END_TEST

static Suite *
paylink_suite(void)
{
    Suite *s = suite_create("campaign_paylink");
    TCase *tc = tcase_create("one_open_session");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_one_open_session, 0, sizeof(cases) / sizeof(cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(paylink_suite)
