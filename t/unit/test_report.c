#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../lib/report.h"
#include "unit.h"

START_TEST(test_dates)
{
    static const struct {
        const char *since, *until;
        int rc;
    } cases[] = {
        {"", "", 0}, {"2026-01-01", "", 0}, {"", "2026-01-01T00:00:00Z", 0},
        {"2026-1-01", "", -1}, {"yesterday", "", -1}, {"", "2026-01-01T00:00:00", -1},
        {"2026-01-01 00:00:00Z", "", -1},
    };
    struct report r;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(report_init(&r, cases[i].since, cases[i].until) == cases[i].rc,
                      "case %zu", i);
        report_free(&r);
    }
}
END_TEST

/* Items fed, then the figures expected: a table of cases. */
static const struct {
    enum report_source src;
    const char *item;
} items[] = {
    /* before the period: not counted */
    {REPORT_PURCHASES, "{\"createdAt\":\"2026-01-31T23:59:59Z\",\"paidAt\":\"2026-02-01\"}"},
    {REPORT_PURCHASES, "{\"createdAt\":\"2026-02-01T00:00:00Z\",\"paidAt\":\"x\"}"},
    {REPORT_PURCHASES, "{\"createdAt\":\"2026-02-03T00:00:00Z\","
                       "\"paymentFailedAt\":\"2026-02-03T00:01:00Z\"}"},
    {REPORT_PURCHASES, "{\"createdAt\":\"2026-02-04T00:00:00Z\"}"},
    /* the end is excluded */
    {REPORT_PURCHASES, "{\"createdAt\":\"2026-03-01T00:00:00Z\",\"paidAt\":\"x\"}"},
    {REPORT_TEAMS, "{\"createdAt\":\"2026-02-02T00:00:00Z\",\"activatedAt\":\"x\"}"},
    {REPORT_TEAMS, "{\"createdAt\":\"2026-02-02T00:00:00Z\",\"paidAt\":\"x\"}"},
    {REPORT_SCHOLARSHIPS, "{\"createdAt\":\"2026-02-02T00:00:00Z\",\"email\":\"a@x\","
                          "\"percent\":50,\"paidAt\":\"x\"}"},
    {REPORT_SCHOLARSHIPS, "{\"createdAt\":\"2026-02-02T00:00:00Z\",\"email\":\"b@x\","
                          "\"percent\":25}"},
    {REPORT_SCHOLARSHIPS, "{\"createdAt\":\"2026-02-02T00:00:00Z\",\"email\":\"c@x\","
                          "\"percent\":50}"},
    {REPORT_MOCK, "{\"registrationId\":\"reg_1\",\"mockExamId\":\"e1\",\"tier\":\"free\","
                  "\"status\":\"confirmed\",\"createdAt\":\"2026-02-05T00:00:00Z\"}"},
    {REPORT_MOCK, "{\"registrationId\":\"reg_2\",\"mockExamId\":\"e1\",\"tier\":\"premium\","
                  "\"status\":\"confirmed\",\"paidAt\":\"x\","
                  "\"createdAt\":\"2026-02-05T00:00:00Z\"}"},
    {REPORT_MOCK, "{\"registrationId\":\"reg_3\",\"mockExamId\":\"e1\",\"tier\":\"premium\","
                  "\"status\":\"released\",\"createdAt\":\"2026-02-05T00:00:00Z\"}"},
    {REPORT_MOCK, "{\"registrationId\":\"GUARD#e1#ab\",\"holds\":\"reg_1\"}"},
    {REPORT_PAYMENTS, "{\"paymentIntentId\":\"pi_1\",\"campaignId\":\"discount-purchase\","
                      "\"amountCents\":15920,\"paidAt\":\"2026-02-01T00:10:00Z\"}"},
    {REPORT_PAYMENTS, "{\"paymentIntentId\":\"pi_2\",\"campaignId\":\"discount-purchase\","
                      "\"amountCents\":1,\"amountRefundedCents\":1,"
                      "\"paidAt\":\"2026-02-02T00:10:00Z\"}"},
    /* an early refund row, no payment yet */
    {REPORT_PAYMENTS, "{\"paymentIntentId\":\"pi_3\",\"amountRefundedCents\":5}"},
    {REPORT_COUPON_USAGE, "{\"usageId\":\"pur_1\",\"purchaseId\":\"pur_1\","
                          "\"couponCode\":\"SAVE20\",\"status\":\"confirmed\","
                          "\"createdAt\":\"2026-02-01T00:00:00Z\"}"},
    {REPORT_COUPON_USAGE, "{\"usageId\":\"pur_2\",\"purchaseId\":\"pur_2\","
                          "\"couponCode\":\"SAVE20\",\"status\":\"reserved\","
                          "\"createdAt\":\"2026-02-01T00:00:00Z\"}"},
    /* a per-buyer counter: not a redemption */
    {REPORT_COUPON_USAGE, "{\"usageId\":\"COUNTER#SAVE20#a@x\",\"couponCode\":\"SAVE20\","
                          "\"uses\":1}"},
};

static const struct {
    const char *section, *key, *key2, *metric;
    long long want;
} figures[] = {
    {"checkouts", "discount-purchase", "", "opened", 3},
    {"checkouts", "discount-purchase", "", "paid", 1},
    {"checkouts", "team-creation", "", "opened", 2},
    {"checkouts", "team-creation", "", "paid", 1},
    {"checkouts", "scholarship-application", "", "opened", 3},
    {"checkouts", "scholarship-application", "", "paid", 1},
    {"checkouts", "mock-exam", "", "opened", 2},
    {"checkouts", "mock-exam", "", "paid", 1},
    {"payments", "declined", "", "count", 1},
    {"payments", "succeeded", "discount-purchase", "count", 2},
    {"payments", "succeeded", "discount-purchase", "cents", 15921},
    {"payments", "succeeded", "discount-purchase", "refundedCents", 1},
    {"coupons", "SAVE20", "", "confirmed", 1},
    {"coupons", "SAVE20", "", "reserved", 1},
    {"mock-registrations", "e1", "free", "confirmed", 1},
    {"mock-registrations", "e1", "premium", "confirmed", 1},
    {"mock-registrations", "e1", "premium", "unconfirmed", 1},
    {"scholarships", "50", "", "applied", 2},
    {"scholarships", "50", "", "paid", 1},
    {"scholarships", "25", "", "applied", 1},
    {"scholarships", "25", "", "paid", 0},
};

START_TEST(test_figures)
{
    struct report r;
    char *text = NULL;
    size_t i, n = 0;
    FILE *f;

    ck_assert_int_eq(report_init(&r, "2026-02-01", "2026-03-01"), 0);
    for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        struct json_object *o = json_tokener_parse(items[i].item);

        ck_assert_msg(o, "item %zu parses", i);
        report_add(&r, items[i].src, o);
        json_object_put(o);
    }
    for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
        ck_assert_msg(report_get(&r, figures[i].section, figures[i].key, figures[i].key2,
                                 figures[i].metric) == figures[i].want,
                      "figure %zu: %s %s %s %s = %lld", i, figures[i].section, figures[i].key,
                      figures[i].key2, figures[i].metric,
                      report_get(&r, figures[i].section, figures[i].key, figures[i].key2,
                                 figures[i].metric));
    f = open_memstream(&text, &n);
    report_print(&r, f, 1);
    fclose(f);
    ck_assert_msg(strstr(text, "checkouts,discount-purchase,,conversion,33.3%\n"), "%s", text);
    ck_assert(strstr(text, "payments,succeeded,discount-purchase,amount,159.21\n"));
    ck_assert(strstr(text, "payments,succeeded,discount-purchase,refunded,0.01\n"));
    ck_assert(strstr(text, "scholarships,,,averagePercent,41.7\n"));
    ck_assert(strstr(text, "mock-registrations,e1,premium,unconfirmed,1\n"));
    free(text);
    text = NULL;
    f = open_memstream(&text, &n);
    report_print(&r, f, 0);
    fclose(f);
    ck_assert(strstr(text, "Period: 2026-02-01 .. 2026-03-01"));
    ck_assert(strstr(text, "33.3%"));
    free(text);
    report_free(&r);
}
END_TEST

static Suite *
report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");

    tcase_add_test(tc, test_dates);
    tcase_add_test(tc, test_figures);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(report_suite)
