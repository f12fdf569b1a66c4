#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../lib/reconcile.h"
#include "unit.h"

/*
 * prodenthubctl reconcile's comparison (lib/reconcile.c): a table of cases, each Stripe's
 * side, the payments rows and the grants as JSON, and the kinds of mismatch expected, in
 * order ("" for none).
 */

#define SINCE "2026-12-01T00:00:00Z"
#define UNTIL "2026-12-02T00:00:00Z"
#define PAID "2026-12-01T10:00:00Z"

/* One purchase paid 19900 AUD, recorded and granted. */
#define ST_OK "{\"pi_1\":{\"status\":\"succeeded\",\"amount\":19900,\"currency\":\"aud\"," \
              "\"refunded\":0,\"campaign\":\"discount-purchase\",\"session\":\"cs_1\"}}"
#define ROW(extra) "{\"pi_1\":{\"paymentIntentId\":\"pi_1\",\"campaignId\":" \
              "\"discount-purchase\",\"recordId\":\"pur_1\",\"email\":\"a@example.com\"," \
              "\"amountCents\":19900,\"currency\":\"aud\",\"paidAt\":\"" PAID "\"" extra "}}"
#define GRANT(status) "[{\"email\":\"A@example.com\",\"grantId\":\"pur_1\",\"source\":" \
              "\"discount-purchase\",\"productId\":\"full-6months\",\"status\":\"" status \
              "\",\"validFrom\":\"" PAID "\"}]"
#define TEAM_ROWS "{\"pi_1\":{\"campaignId\":\"team-creation\",\"recordId\":\"t1#0\"," \
              "\"email\":\"l@example.com\",\"amountCents\":100,\"currency\":\"aud\"," \
              "\"paidAt\":\"" PAID "\"},\"pi_2\":{\"campaignId\":\"team-creation\"," \
              "\"recordId\":\"t1#1\",\"email\":\"m@example.com\",\"amountCents\":100," \
              "\"currency\":\"aud\",\"paidAt\":\"" PAID "\"}}"
#define TEAM_ST "{\"pi_1\":{\"status\":\"succeeded\",\"amount\":100,\"currency\":\"aud\"," \
              "\"campaign\":\"team-creation\"},\"pi_2\":{\"status\":\"succeeded\"," \
              "\"amount\":100,\"currency\":\"aud\",\"campaign\":\"team-creation\"}}"
#define TEAM_GRANT(who) "[{\"email\":\"" who "\",\"grantId\":\"t1\",\"source\":" \
              "\"team-creation\",\"status\":\"active\",\"validFrom\":\"" PAID "\"}]"

static const struct {
    const char *name, *stripe, *rows, *grants, *want;
} cases[] = {
    { "clean", ST_OK, ROW(""), GRANT("active"), "" },
    { "nothing at all", "{}", "{}", "[]", "" },
    { "paid, webhook never came", ST_OK, "{}", "[]", "paid_not_recorded" },
    { "an early refund row only", ST_OK,
      "{\"pi_1\":{\"paymentIntentId\":\"pi_1\",\"amountRefundedCents\":0}}", "[]",
      "paid_not_recorded" },
    { "not a payment of ours",
      "{\"pi_9\":{\"status\":\"succeeded\",\"amount\":1900,\"currency\":\"aud\"}}", "{}", "[]",
      "" },
    { "a payment not succeeded is not a payment",
      "{\"pi_9\":{\"status\":\"requires_payment_method\",\"campaign\":\"mock-exam\"}}", "{}",
      "[]", "" },
    { "amount differs", ST_OK, "{\"pi_1\":{\"campaignId\":\"discount-purchase\","
      "\"recordId\":\"pur_1\",\"email\":\"a@example.com\",\"amountCents\":100,"
      "\"currency\":\"aud\",\"paidAt\":\"" PAID "\"}}", GRANT("active"), "amount_differs" },
    { "currency differs only in case", ST_OK, "{\"pi_1\":{\"campaignId\":"
      "\"discount-purchase\",\"recordId\":\"pur_1\",\"email\":\"a@example.com\","
      "\"amountCents\":19900,\"currency\":\"AUD\",\"paidAt\":\"" PAID "\"}}", GRANT("active"),
      "" },
    { "refund in Stripe not recorded",
      "{\"pi_1\":{\"status\":\"succeeded\",\"amount\":19900,\"currency\":\"aud\","
      "\"refunded\":500,\"campaign\":\"discount-purchase\"}}", ROW(""), GRANT("active"),
      "refund_differs" },
    { "partial refund recorded", "{\"pi_1\":{\"status\":\"succeeded\",\"amount\":19900,"
      "\"currency\":\"aud\",\"refunded\":500,\"campaign\":\"discount-purchase\"}}",
      ROW(",\"amountRefundedCents\":500"), GRANT("active"), "" },
    { "lost dispute: refunded by the bank, not by a refund", ST_OK,
      ROW(",\"amountRefundedCents\":19900,\"disputeStatus\":\"lost\""), GRANT("revoked"), "" },
    { "full refund recorded, grant revoked", "{\"pi_1\":{\"status\":\"succeeded\","
      "\"amount\":19900,\"currency\":\"aud\",\"refunded\":19900,\"campaign\":"
      "\"discount-purchase\"}}", ROW(",\"amountRefundedCents\":19900,\"refundedFull\":true"),
      GRANT("revoked"), "" },
    { "full refund recorded, grant still active", "{\"pi_1\":{\"status\":\"succeeded\","
      "\"amount\":19900,\"currency\":\"aud\",\"refunded\":19900,\"campaign\":"
      "\"discount-purchase\"}}", ROW(",\"amountRefundedCents\":19900,\"refundedFull\":true"),
      GRANT("active"), "grant_after_refund" },
    { "recorded, Stripe has no such payment", "{\"pi_1\":{\"status\":\"missing\"}}",
      ROW(""), GRANT("active"), "payment_not_in_stripe" },
    { "recorded, never looked up", "{}", ROW(""), GRANT("active"), "payment_not_in_stripe" },
    { "a row before the period is not ours to check", "{}",
      "{\"pi_1\":{\"campaignId\":\"discount-purchase\",\"recordId\":\"pur_1\","
      "\"email\":\"a@example.com\",\"paidAt\":\"2026-11-01T00:00:00Z\"}}", "[]", "" },
    { "grant without payment", "{}", "{}", GRANT("active"), "grant_without_payment" },
    { "a revoked grant without payment", "{}", "{}", GRANT("revoked"), "" },
    { "paid, no grant", ST_OK, ROW(""), "[]", "paid_not_granted" },
    { "extra payment: no grant expected", ST_OK, ROW(",\"extraPayment\":true"), "[]", "" },
    { "team, two shares, not complete: no grants yet", TEAM_ST, TEAM_ROWS, "[]", "" },
    { "team complete but one member without grant", TEAM_ST, TEAM_ROWS,
      TEAM_GRANT("l@example.com"), "paid_not_granted" },
    { "team grant for someone who paid nothing", TEAM_ST, TEAM_ROWS,
      "[{\"email\":\"l@example.com\",\"grantId\":\"t1\",\"source\":\"team-creation\","
      "\"status\":\"active\",\"validFrom\":\"" PAID "\"},{\"email\":\"m@example.com\","
      "\"grantId\":\"t1\",\"source\":\"team-creation\",\"status\":\"active\",\"validFrom\":"
      "\"" PAID "\"},{\"email\":\"x@example.com\",\"grantId\":\"t1\",\"source\":"
      "\"team-creation\",\"status\":\"active\",\"validFrom\":\"" PAID "\"}]",
      "grant_without_payment" },
    { "two mismatches in order", "{\"pi_1\":{\"status\":\"succeeded\",\"amount\":1,"
      "\"currency\":\"aud\",\"refunded\":0,\"campaign\":\"discount-purchase\"}}", ROW(""), "[]",
      "amount_differs paid_not_granted" },
};

START_TEST(test_case)
{
    struct json_object *st = json_tokener_parse(cases[_i].stripe);
    struct json_object *rows = json_tokener_parse(cases[_i].rows);
    struct json_object *grants = json_tokener_parse(cases[_i].grants);
    struct json_object *got;
    char kinds[256] = "";
    size_t i;

    ck_assert_msg(st && rows && grants, "%s: bad JSON in the case", cases[_i].name);
    got = reconcile_compare(st, rows, grants, SINCE, UNTIL);
    for (i = 0; i < json_object_array_length(got); i++) {
        struct json_object *m = json_object_array_get_idx(got, i), *k;

        ck_assert(json_object_object_get_ex(m, "kind", &k));
        snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%s",
                 *kinds ? " " : "", json_object_get_string(k));
        ck_assert(json_object_object_get_ex(m, "detail", NULL));
    }
    ck_assert_msg(strcmp(kinds, cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
                  cases[_i].name, kinds, cases[_i].want);
    json_object_put(got);
    json_object_put(st);
    json_object_put(rows);
    json_object_put(grants);
}
END_TEST

static Suite *
reconcile_suite(void)
{
    Suite *s = suite_create("reconcile");
    TCase *tc = tcase_create("compare");

    tcase_add_loop_test(tc, test_case, 0, sizeof(cases) / sizeof(cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(reconcile_suite)
