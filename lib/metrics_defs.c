/*
 * The metric families (lib/metrics.h): one row each.  Names follow Prometheus's conventions:
 * the prodenthub_ prefix, base units (seconds, ratios), _total added to counters by the
 * renderer.  docs/MONITORING.md (Metrics) describes each family; keep it in step.
 */
#include "config.h"

#include <stddef.h>

#include "metrics.h"
#include "stripe_webhook.h"

/* Seconds: Prometheus's default buckets. */
static const double latency_bounds[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* A scholarship's discount as a ratio of the price. */
static const double ratio_bounds[] = {
    0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
};

/* The DynamoDB operations the code calls; anything else is "other". */
static const char *const ddb_ops[] = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem", "TransactGetItems", "TransactWriteItems", "DescribeTable", "other", NULL,
};

/* Stripe's resources: the first segment of the path after /v1/. */
static const char *const stripe_resources[] = {
    "checkout", "payment_intents", "refunds", "charges", "customers", "subscriptions",
    "billing_portal", "invoices", "prices", "products", "events", "other", NULL,
};

/* The event types the webhook acts on (lib/stripe_webhook.h's one list); any other is
 * "other". */
#define EVENT_TYPE(type, handler) type,
static const char *const webhook_types[] = {
    STRIPE_WEBHOOK_EVENTS(EVENT_TYPE) "other", NULL,
};

/*
 * applied    acted on;        ignored    a type not acted on (or not ours);
 * duplicate  seen before;     busy       being processed by another request (503);
 * failed     not applied, Stripe retries (503);   refused  a bad signature or not an event.
 */
static const char *const webhook_outcomes[] = {
    "applied", "ignored", "duplicate", "busy", "failed", "refused", NULL,
};

static const char *const payment_outcomes[] = { "succeeded", "failed", NULL };
static const char *const mock_tiers[] = { "free", "premium", NULL };

const int metrics_codes[] = {
    200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 402, 403, 404, 405, 406, 409, 410,
    411, 413, 414, 415, 422, 429, 431, 500, 501, 502, 503, 504,
};
const size_t metrics_codes_count = sizeof(metrics_codes) / sizeof(metrics_codes[0]);

#define LIST(n, v) { n, MK_LIST, v, MT_CAMPAIGN }
#define TABLE(n, t) { n, MK_TABLE, NULL, t }
#define ROUTE { "route", MK_ROUTE, NULL, MT_CAMPAIGN }
#define CODE { "code", MK_CODE, NULL, MT_CAMPAIGN }
#define NB(a) (sizeof(a) / sizeof(a[0]))

const struct metrics_def metrics_defs[MF_COUNT] = {
    [MF_HTTP_REQUESTS] = {
        "prodenthub_http_requests", "Requests answered by the pool, by route pattern and "
        "status code.", MT_TYPE_COUNTER, 2, { ROUTE, CODE }, NULL, 0, 0, 0 },
    [MF_HTTP_DURATION] = {
        "prodenthub_http_request_duration_seconds", "Time from the request's start in the "
        "worker to its answer, by route pattern.", MT_TYPE_HISTOGRAM, 1, { ROUTE },
        latency_bounds, NB(latency_bounds), 1e6, 0 },
    [MF_DDB_REQUESTS] = {
        "prodenthub_dynamodb_requests", "DynamoDB calls, by operation (each call once, "
        "however many attempts).", MT_TYPE_COUNTER, 1, { LIST("operation", ddb_ops) },
        NULL, 0, 0, 1 },
    [MF_DDB_RETRIES] = {
        "prodenthub_dynamodb_retries", "DynamoDB attempts after a call's first, by "
        "operation.", MT_TYPE_COUNTER, 1, { LIST("operation", ddb_ops) }, NULL, 0, 0, 1 },
    [MF_DDB_THROTTLES] = {
        "prodenthub_dynamodb_throttles", "DynamoDB answers ProvisionedThroughputExceeded, "
        "Throttling or RequestLimitExceeded, by operation.", MT_TYPE_COUNTER, 1,
        { LIST("operation", ddb_ops) }, NULL, 0, 0, 1 },
    [MF_DDB_ERRORS] = {
        "prodenthub_dynamodb_errors", "DynamoDB calls that failed (a condition that did not "
        "hold is not a failure), by operation.", MT_TYPE_COUNTER, 1,
        { LIST("operation", ddb_ops) }, NULL, 0, 0, 1 },
    [MF_STRIPE_REQUESTS] = {
        "prodenthub_stripe_requests", "Stripe API calls, by resource.", MT_TYPE_COUNTER, 1,
        { LIST("resource", stripe_resources) }, NULL, 0, 0, 1 },
    [MF_STRIPE_RETRIES] = {
        "prodenthub_stripe_retries", "Stripe attempts after a call's first, by resource.",
        MT_TYPE_COUNTER, 1, { LIST("resource", stripe_resources) }, NULL, 0, 0, 1 },
    [MF_STRIPE_FAILURES] = {
        "prodenthub_stripe_failures", "Stripe calls that failed (an error answer, a card "
        "declined included, or no answer), by resource.", MT_TYPE_COUNTER, 1,
        { LIST("resource", stripe_resources) }, NULL, 0, 0, 1 },
    [MF_WEBHOOK_EVENTS] = {
        "prodenthub_webhook_events", "Stripe webhook deliveries, by event type and "
        "outcome.", MT_TYPE_COUNTER, 2,
        { LIST("type", webhook_types), LIST("outcome", webhook_outcomes) }, NULL, 0, 0, 0 },
    [MF_CACHE_HITS] = {
        "prodenthub_cache_hits", "memcached lookups that found the key.", MT_TYPE_COUNTER,
        0, { ROUTE }, NULL, 0, 0, 1 },
    [MF_CACHE_MISSES] = {
        "prodenthub_cache_misses", "memcached lookups that did not (memcached down "
        "included).", MT_TYPE_COUNTER, 0, { ROUTE }, NULL, 0, 0, 1 },
    [MF_CHECKOUTS_OPENED] = {
        "prodenthub_checkouts_opened", "Stripe Checkout Sessions opened, by campaign.",
        MT_TYPE_COUNTER, 1, { TABLE("campaign", MT_CAMPAIGN) }, NULL, 0, 0, 0 },
    [MF_CHECKOUTS_PAID] = {
        "prodenthub_checkouts_paid", "Checkout Sessions completed paid, by campaign.",
        MT_TYPE_COUNTER, 1, { TABLE("campaign", MT_CAMPAIGN) }, NULL, 0, 0, 0 },
    [MF_PAYMENTS] = {
        "prodenthub_payments", "PaymentIntents that succeeded or were declined, by "
        "campaign.", MT_TYPE_COUNTER, 2,
        { TABLE("campaign", MT_CAMPAIGN), LIST("outcome", payment_outcomes) }, NULL, 0, 0, 0 },
    [MF_COUPON_REDEMPTIONS] = {
        "prodenthub_coupon_redemptions", "Coupon uses confirmed by a payment, by coupon "
        "code.", MT_TYPE_COUNTER, 1, { TABLE("coupon", MT_COUPON) }, NULL, 0, 0, 0 },
    [MF_MOCK_REGISTRATIONS] = {
        "prodenthub_mock_exam_registrations", "Mock exam seats taken, by exam and tier.",
        MT_TYPE_COUNTER, 2, { TABLE("exam", MT_EXAM), LIST("tier", mock_tiers) }, NULL, 0,
        0, 0 },
    [MF_SCHOLARSHIP_DISCOUNT] = {
        "prodenthub_scholarship_discount_ratio", "Scholarships granted, by the discount as "
        "a ratio of the price.", MT_TYPE_HISTOGRAM, 0, { ROUTE }, ratio_bounds,
        NB(ratio_bounds), 1e4, 0 },
};
