/*
 * lib/metrics: what workers count, summed over their slots, in the text format.  Each case
 * counts in a fresh area and lists lines the rendering must hold, and lines it must not.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "../../lib/metrics.h"
#include "unit.h"

static const char *
test_routes(size_t i)
{
    static const char *const r[] = { "/v1/health", "/v1/teams/{teamId}", "/v1/teams/{teamId}" };

    if (i == METRICS_ROUTE_NONE)
        return "none";
    return i < 3 ? r[i] : NULL;
}

static void
two_workers_one_route(void)
{
    metrics_attach(0);
    metrics_inc(MF_HTTP_REQUESTS, 0, metrics_code(200));
    metrics_inc(MF_HTTP_REQUESTS, 0, metrics_code(200));
    metrics_attach(1);
    metrics_inc(MF_HTTP_REQUESTS, 0, metrics_code(200));
    metrics_inc(MF_HTTP_REQUESTS, METRICS_ROUTE_NONE, metrics_code(404));
    metrics_inc(MF_HTTP_REQUESTS, 0, metrics_code(299));
}

static void
same_pattern_twice(void)
{
    metrics_attach(0);
    metrics_inc(MF_HTTP_REQUESTS, 1, metrics_code(201));
    metrics_inc(MF_HTTP_REQUESTS, 2, metrics_code(201));
}

static void
histogram(void)
{
    metrics_attach(0);
    metrics_observe(MF_HTTP_DURATION, 0, 0.003);
    metrics_observe(MF_HTTP_DURATION, 0, 0.2);
    metrics_attach(1);
    metrics_observe(MF_HTTP_DURATION, 0, 20);
}

static void
learnt_values(void)
{
    metrics_attach(0);
    metrics_inc_value(MF_COUPON_REDEMPTIONS, "SAVE10", 0);
    metrics_attach(1);
    metrics_inc_value(MF_COUPON_REDEMPTIONS, "SAVE10", 0);
    metrics_inc_value(MF_COUPON_REDEMPTIONS, "A\"B\\C\nD", 0);
    metrics_inc_value(MF_MOCK_REGISTRATIONS, "mock_1",
                      metrics_index(MF_MOCK_REGISTRATIONS, 1, "premium"));
}

/* 40 codes: the table keeps 31 and "other" takes the 9 after. */
static void
table_overflow(void)
{
    char code[16];
    int i;

    metrics_attach(0);
    for (i = 0; i < 40; i++) {
        snprintf(code, sizeof(code), "C%02d", i);
        metrics_inc_value(MF_COUPON_REDEMPTIONS, code, 0);
    }
    metrics_inc_value(MF_COUPON_REDEMPTIONS, "a value far too long to be a label value of ours", 0);
}

/* A successor in the slot carries on from its predecessor's totals. */
static void
successor(void)
{
    metrics_attach(2);
    metrics_add(MF_DDB_REQUESTS, metrics_index(MF_DDB_REQUESTS, 0, "GetItem"), 0, 5);
    metrics_restart();
    metrics_slot_used(2);
    metrics_attach(2);
    metrics_inc(MF_DDB_REQUESTS, metrics_index(MF_DDB_REQUESTS, 0, "GetItem"), 0);
    metrics_inc(MF_DDB_THROTTLES, metrics_index(MF_DDB_REQUESTS, 0, "ListTables"), 0);
}

static void
small_fixed_lists(void)
{
    metrics_attach(0);
    metrics_inc(MF_CACHE_HITS, 0, 0);
    metrics_observe(MF_SCHOLARSHIP_DISCOUNT, 0, 0.25);
    metrics_inc(MF_WEBHOOK_EVENTS, metrics_index(MF_WEBHOOK_EVENTS, 0, "invoice.paid"),
                metrics_index(MF_WEBHOOK_EVENTS, 1, "applied"));
    metrics_inc(MF_WEBHOOK_EVENTS, metrics_index(MF_WEBHOOK_EVENTS, 0, "ping"),
                metrics_index(MF_WEBHOOK_EVENTS, 1, "ignored"));
    /* out of range: nothing */
    metrics_inc(MF_HTTP_REQUESTS, METRICS_ROUTES, 0);
}

#define MAXL 12
static const struct {
    const char *name;
    void (*count)(void);
    const char *has[MAXL];
    const char *lacks[MAXL];
} cases[] = {
    { "two workers, one route", two_workers_one_route, {
        "# TYPE prodenthub_http_requests_total counter\n",
        "\nprodenthub_http_requests_total{route=\"/v1/health\",code=\"200\"} 3\n",
        "\nprodenthub_http_requests_total{route=\"none\",code=\"404\"} 1\n",
        "\nprodenthub_http_requests_total{route=\"/v1/health\",code=\"other\"} 1\n",
        "\nprodenthub_build_info{version=\"" PACKAGE_VERSION "\"} 1\n",
        "\nprodenthub_worker_restarts_total 0\n" },
      { "code=\"201\"", "prodenthub_http_request_duration_seconds_bucket{" } },
    { "one pattern, two routes: one series", same_pattern_twice, {
        "\nprodenthub_http_requests_total{route=\"/v1/teams/{teamId}\",code=\"201\"} 2\n" },
      { "code=\"201\"} 1\n" } },
    { "histogram", histogram, {
        "# TYPE prodenthub_http_request_duration_seconds histogram\n",
        "\nprodenthub_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.005\"} 1\n",
        "\nprodenthub_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.1\"} 1\n",
        "\nprodenthub_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.25\"} 2\n",
        "\nprodenthub_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"10\"} 2\n",
        "\nprodenthub_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"+Inf\"} 3\n",
        "\nprodenthub_http_request_duration_seconds_sum{route=\"/v1/health\"} 20.203000\n",
        "\nprodenthub_http_request_duration_seconds_count{route=\"/v1/health\"} 3\n" },
      { "route=\"none\"" } },
    { "values learnt at run time", learnt_values, {
        "\nprodenthub_coupon_redemptions_total{coupon=\"SAVE10\"} 2\n",
        "\nprodenthub_coupon_redemptions_total{coupon=\"A\\\"B\\\\C\\nD\"} 1\n",
        "\nprodenthub_mock_exam_registrations_total{exam=\"mock_1\",tier=\"premium\"} 1\n" },
      { "tier=\"free\"", "coupon=\"other\"" } },
    { "a full table counts the rest as other", table_overflow, {
        "\nprodenthub_coupon_redemptions_total{coupon=\"C00\"} 1\n",
        "\nprodenthub_coupon_redemptions_total{coupon=\"C30\"} 1\n",
        "\nprodenthub_coupon_redemptions_total{coupon=\"other\"} 10\n" },
      { "coupon=\"C31\"", "far too long" } },
    { "a successor carries on; restarts", successor, {
        "\nprodenthub_dynamodb_requests_total{operation=\"GetItem\"} 6\n",
        "\nprodenthub_dynamodb_requests_total{operation=\"Query\"} 0\n",
        "\nprodenthub_dynamodb_throttles_total{operation=\"other\"} 1\n",
        "\nprodenthub_worker_restarts_total 1\n" },
      { NULL } },
    { "families without labels, fixed lists", small_fixed_lists, {
        "\nprodenthub_cache_hits_total 1\n",
        "\nprodenthub_cache_misses_total 0\n",
        "\nprodenthub_scholarship_discount_ratio_bucket{le=\"0.2\"} 0\n",
        "\nprodenthub_scholarship_discount_ratio_bucket{le=\"0.3\"} 1\n",
        "\nprodenthub_scholarship_discount_ratio_sum 0.250000\n",
        "\nprodenthub_webhook_events_total{type=\"invoice.paid\",outcome=\"applied\"} 1\n",
        "\nprodenthub_webhook_events_total{type=\"other\",outcome=\"ignored\"} 1\n",
        "\nprodenthub_stripe_failures_total{resource=\"checkout\"} 0\n" },
      { "prodenthub_http_requests_total{", "outcome=\"refused\"" } },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

START_TEST(test_render)
{
    struct buf out;
    size_t k;

    ck_assert_int_eq(metrics_create(4), 0);
    metrics_set_routes(test_routes);
    metrics_slot_used(0);
    metrics_slot_used(1);
    cases[_i].count();
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(metrics_render(&out), APP_OK);
    for (k = 0; k < MAXL && cases[_i].has[k]; k++)
        ck_assert_msg(strstr(out.data, cases[_i].has[k]), "%s: lacks %s in:\n%s",
                      cases[_i].name, cases[_i].has[k], out.data);
    for (k = 0; k < MAXL && cases[_i].lacks[k]; k++)
        ck_assert_msg(!strstr(out.data, cases[_i].lacks[k]), "%s: has %s", cases[_i].name,
                      cases[_i].lacks[k]);
    buf_free(&out);
    metrics_destroy();
}
END_TEST

/* Without an area (prodenthubctl) the hooks do nothing and only the build is told. */
START_TEST(test_no_area)
{
    struct buf out;

    metrics_attach(0);
    metrics_inc(MF_HTTP_REQUESTS, 0, 0);
    metrics_inc_value(MF_COUPON_REDEMPTIONS, "X", 0);
    metrics_observe(MF_HTTP_DURATION, 0, 1);
    metrics_restart();
    buf_init(&out, 4096);
    ck_assert_int_eq(metrics_render(&out), APP_OK);
    ck_assert_ptr_nonnull(strstr(out.data, "prodenthub_build_info{"));
    ck_assert_ptr_null(strstr(out.data, "_total"));
    buf_free(&out);
}
END_TEST

/* Every family's name keeps to the conventions promtool checks. */
START_TEST(test_names)
{
    size_t f, k;

    for (f = 0; f < MF_COUNT; f++) {
        const char *n = metrics_defs[f].name;

        /* the renderer folds repeated values with arrays of METRICS_ROUTES */
        for (k = 0; k < metrics_defs[f].nlabels; k++)
            ck_assert_msg(metrics_label_size(&metrics_defs[f].labels[k]) <= METRICS_ROUTES,
                          "%s", n);
        ck_assert_msg(strncmp(n, "prodenthub_", 11) == 0, "%s", n);
        ck_assert_msg(!strstr(n, "_total"), "%s", n);
        ck_assert_msg(metrics_defs[f].type != MT_TYPE_HISTOGRAM || metrics_defs[f].nbounds > 0,
                      "%s", n);
    }
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");

    tcase_add_loop_test(tc, test_render, 0, (int)NCASES);
    tcase_add_test(tc, test_no_area);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(metrics_suite)
