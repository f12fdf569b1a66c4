/*
 * Discount purchases (campaign/purchase_create.c, purchase_quote.c) against stub DynamoDB and
 * Stripe (stub.h): a purchase priced from the catalogue item the stub returns, its coupon
 * refused for each reason, its reservation sent as one transaction and given back when
 * Stripe fails; and the coupon quote.  One case per row: the scripts, the answer, and what
 * must (and must not) have been sent.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../campaign/purchase.h"
#include "stub.h"
#include "unit.h"

#define NOW 1592222400              /* 2020-06-15T12:00:00Z: long past the real clock */

#define GET "DynamoDB_20120810.GetItem"
#define TXN "DynamoDB_20120810.TransactWriteItems"
#define UPDATE "DynamoDB_20120810.UpdateItem"
#define BATCH "DynamoDB_20120810.BatchGetItem"
#define POST_SESSION "POST /v1/checkout/sessions HTTP"

/* 23300 cents: a price no cache or seed holds, so the amount charged must be this item's. */
#define PLAN_OF(campaign, pricing, cents) \
    "{\"planId\":{\"S\":\"standard-3months\"},\"name\":{\"S\":\"Standard\"}," \
    "\"family\":{\"S\":\"standard\"},\"pricing\":{\"S\":\"" pricing "\"}," \
    "\"campaignId\":{\"S\":\"" campaign "\"}," \
    "\"amountCents\":{\"N\":\"" cents "\"},\"durationMonths\":{\"N\":\"3\"}," \
    "\"status\":{\"S\":\"active\"}}"
#define PLAN_ITEM(pricing, cents) PLAN_OF("discount-purchase", pricing, cents)
#define PLAN PLAN_ITEM("fixed", "23300")
/* SAVE20: 20% (23300 → 4660 off, 18640 to pay), 100 uses, one per buyer; valid in June 2020
 * only, so it applies only if the context's now (not the real clock) is asked. */
#define COUPON_ITEM(more) \
    "{\"couponCode\":{\"S\":\"SAVE20\"},\"type\":{\"S\":\"percentage\"}," \
    "\"value\":{\"N\":\"20\"},\"maxDiscountCents\":{\"N\":\"5000\"}," \
    "\"usageLimit\":{\"N\":\"100\"},\"perUserLimit\":{\"N\":\"1\"}," more "}"
#define WINDOW \
    "\"validFrom\":{\"S\":\"2020-06-01T00:00:00Z\"}," \
    "\"validUntil\":{\"S\":\"2020-07-01T00:00:00Z\"}"
#define COUPON COUPON_ITEM("\"usageCount\":{\"N\":\"3\"},\"status\":{\"S\":\"active\"}," WINDOW)
#define COUPON_INACTIVE_ITEM \
    COUPON_ITEM("\"usageCount\":{\"N\":\"3\"},\"status\":{\"S\":\"inactive\"}")
#define COUPON_USED_UP COUPON_ITEM("\"usageCount\":{\"N\":\"100\"},\"status\":{\"S\":\"active\"}")
#define COUPON_EXPIRED_ITEM \
    COUPON_ITEM("\"usageCount\":{\"N\":\"3\"},\"status\":{\"S\":\"active\"}," \
                "\"validUntil\":{\"S\":\"2020-06-10T00:00:00Z\"}")
#define COUPON_BAD \
    "{\"couponCode\":{\"S\":\"SAVE20\"},\"type\":{\"S\":\"bogof\"}," \
    "\"status\":{\"S\":\"active\"}}"
/* 23250 off: leaves 50 cents, Stripe's minimum; 23300 off leaves nothing. */
#define COUPON_FIXED(cents) \
    "{\"couponCode\":{\"S\":\"SAVE20\"},\"type\":{\"S\":\"fixed\"}," \
    "\"valueCents\":{\"N\":\"" cents "\"},\"status\":{\"S\":\"active\"}}"
#define USES(n) \
    "{\"usageId\":{\"S\":\"COUNTER#SAVE20#omar@example.com\"}," \
    "\"uses\":{\"N\":\"" n "\"}}"
#define CANCELLED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\"," \
    "\"message\":\"Transaction cancelled\",\"CancellationReasons\":[{\"Code\":" \
    "\"ConditionalCheckFailed\"},{\"Code\":\"None\"},{\"Code\":\"None\"},{\"Code\":\"None\"}]}"
#define SESSION "{\"id\":\"cs_test_1\",\"url\":\"https://checkout.example/cs_test_1\"}"
/* The buyer's hold slots (issue 12 item 9), each the end of a hold: 100 s after NOW is still
 * held, 400 s before it is over. */
#define HELD "{\"N\":\"1592222500\"}"
#define OVER "{\"N\":\"1592222000\"}"
#define HOLDS(more) \
    "{\"usageId\":{\"S\":\"HOLDS#omar@example.com\"}," more "}"
/* The items above as GetItem answers one, and as BatchGetItem answers several, by table
 * (the default table names; "" for none). */
#define ITEM(item) "{\"Item\":" item "}"
#define GOT(plan, coupon, usage) \
    "{\"Responses\":{\"prodenthub-catalogue\":[" plan "],\"prodenthub-coupons\":[" \
    coupon "],\"prodenthub-coupon-usage\":[" usage "]},\"UnprocessedKeys\":{}}"
/* What a purchase reads of each table in its one batch, consistently. */
#define READ_PLAN \
    "\"prodenthub-catalogue\":{\"Keys\":[{\"planId\":{\"S\":\"standard-3months\"}}]," \
    "\"ConsistentRead\":true}"
#define READ_COUPON \
    "\"prodenthub-coupons\":{\"Keys\":[{\"couponCode\":{\"S\":\"SAVE20\"}}]," \
    "\"ConsistentRead\":true}"
#define READ_USAGE \
    "\"prodenthub-coupon-usage\":{\"Keys\":[{\"usageId\":{\"S\":" \
    "\"COUNTER#SAVE20#omar@example.com\"}},{\"usageId\":{\"S\":" \
    "\"HOLDS#omar@example.com\"}}],\"ConsistentRead\":true}"

static const struct {
    const char *name;
    const char *code;               /* as typed, or NULL */
    const char *metadata;           /* the caller's, or NULL */
    struct stub_reply ddb[10];
    size_t nddb;
    struct stub_reply stripe[1];
    size_t nstripe;
    int rc;
    const char *reason;             /* err's reason slug, or NULL */
    const char *field;              /* err's field, or NULL */
    long long final;                /* cents to pay, when rc is APP_OK */
    size_t at;                      /* the DynamoDB request has[] and lacks look at */
    const char *has[4];
    const char *lacks;
    const char *stripe_has[3];      /* in the Stripe request, when there is one */
    const char *stripe_lacks;
} create_cases[] = {
    {"no coupon: the catalogue's price, reserved, then the session recorded", NULL,
     "{\"ref\":\"nl-7\",\"purchaseId\":\"pur_forged\"}",
     {{GET, 200, ITEM(PLAN)}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, NULL, 23300, 1,
     {"\"finalAmountCents\":{\"N\":\"23300\"}", "attribute_not_exists(purchaseId)",
      "\"status\":{\"S\":\"pending\"}", "2020-06-15T12:00:00Z"}, "couponCode",
     {"unit_amount]=23300", "metadata[ref]=nl-7", "customer_email=omar%40example.com"},
     "pur_forged"},
    {"a coupon: its use, the buyer's counter and the redemption in the same transaction",
     " save20 ", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, NULL, 18640, 1,
     {"usageCount < :limit", "COUNTER#SAVE20#omar@example.com", "\"S\":\"reserved\"",
      "\"discountCents\":{\"N\":\"4660\"}"}, NULL,
     {"unit_amount]=18640", "metadata[couponCode]=SAVE20", "Standard+-+coupon+SAVE20"},
     NULL},
    {"a coupon: plan, coupon, counter and holds in one consistent read", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, NULL, 18640, 0,
     {READ_PLAN, READ_COUPON, READ_USAGE, NULL}, NULL, {NULL, NULL, NULL}, NULL},
    {"the catalogue is read consistently, the session recorded while pending", NULL, NULL,
     {{GET, 200, ITEM(PLAN)}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, NULL, 23300, 0,
     {"\"ConsistentRead\":true", "standard-3months", NULL, NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"no such plan: 400 on planId, nothing reserved", NULL, NULL,
     {{GET, 200, "{}"}}, 1, {{NULL, 0, NULL}}, 0, APP_EVALIDATION, NULL, "planId", 0, 0,
     {NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}, NULL},
    {"no such plan, with a coupon: 400 on planId, nothing reserved", "SAVE20", NULL,
     {{BATCH, 200, GOT("", COUPON, "")}}, 1, {{NULL, 0, NULL}}, 0, APP_EVALIDATION, NULL,
     "planId", 0, 0, {NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}, NULL},
    {"issue 12 item 1: another campaign's fixed-price product: 400 on planId", NULL, NULL,
     {{GET, 200, ITEM(PLAN_OF("personalized-plan", "fixed", "23300"))}}, 1,
     {{NULL, 0, NULL}}, 0, APP_EVALIDATION, NULL, "planId", 0, 0, {NULL, NULL, NULL, NULL},
     NULL, {NULL, NULL, NULL}, NULL},
    {"a plan not sold at a fixed price: 400 on planId", NULL, NULL,
     {{GET, 200, ITEM(PLAN_ITEM("scholarship", "23300"))}}, 1, {{NULL, 0, NULL}}, 0,
     APP_EVALIDATION, NULL, "planId", 0, 0, {NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"a code that cannot be one: 422 NOT_FOUND, never looked up", "no!", NULL,
     {{GET, 200, ITEM(PLAN)}}, 1, {{NULL, 0, NULL}}, 0, APP_EUNPROCESSABLE, "NOT_FOUND", NULL,
     0, 0, {NULL, NULL, NULL, NULL}, "prodenthub-coupons", {NULL, NULL, NULL}, NULL},
    {"no such coupon: 422 NOT_FOUND", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, "", "")}}, 1, {{NULL, 0, NULL}}, 0, APP_EUNPROCESSABLE,
     "NOT_FOUND", NULL, 0, 0, {READ_COUPON, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL},
     NULL},
    {"a coupon record that cannot be read: 422 MISCONFIGURED", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON_BAD, "")}}, 1, {{NULL, 0, NULL}}, 0, APP_EUNPROCESSABLE,
     "MISCONFIGURED", NULL, 0, 0, {NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}, NULL},
    {"an inactive coupon: 422 INACTIVE", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON_INACTIVE_ITEM, "")}}, 1, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "INACTIVE", NULL, 0, 0, {NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"an expired coupon (by the context's clock): 422 EXPIRED", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON_EXPIRED_ITEM, "")}}, 1, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "EXPIRED", NULL, 0, 0, {NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"a coupon used up: 409 USAGE_LIMIT_REACHED", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON_USED_UP, "")}}, 1, {{NULL, 0, NULL}}, 0, APP_ECONDITION,
     "USAGE_LIMIT_REACHED", NULL, 0, 0, {NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL},
     NULL},
    {"the buyer used it already: 409 ALREADY_USED", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, USES("1"))}}, 1, {{NULL, 0, NULL}}, 0, APP_ECONDITION,
     "ALREADY_USED", NULL, 0, 0, {READ_USAGE, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL},
     NULL},
    {"the last use taken meanwhile: the transaction refused, 409 read back", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}, {TXN, 400, CANCELLED},
      {BATCH, 200, GOT("", COUPON_USED_UP, "")}}, 3, {{NULL, 0, NULL}}, 0, APP_ECONDITION,
     "USAGE_LIMIT_REACHED", NULL, 0, 2, {READ_COUPON, READ_USAGE, NULL, NULL},
     "prodenthub-catalogue", {NULL, NULL, NULL}, NULL},
    {"the buyer's use taken meanwhile: 409 ALREADY_USED read back", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}, {TXN, 400, CANCELLED},
      {BATCH, 200, GOT("", COUPON, USES("1"))}}, 3, {{NULL, 0, NULL}}, 0, APP_ECONDITION,
     "ALREADY_USED", NULL, 0, 1, {"uses < :limit", NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"issue 12 item 9: the email's free hold slot taken with the use, until the hold ends",
     "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, HOLDS("\"hold0\":" HELD ",\"hold1\":" OVER))},
      {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, NULL, 18640, 1,
     {"SET hold1 = :until", "attribute_not_exists(hold1) OR hold1 <= :now",
      "\":until\":{\"N\":\"1592224260\"}", "\":now\":{\"N\":\"1592222400\"}"},
     "hold0", {"expires_at=", NULL, NULL}, NULL},
    {"issue 12 item 9: every hold slot of the email held: 409, nothing reserved", "SAVE20",
     NULL,
     {{BATCH, 200, GOT(PLAN, COUPON,
                       HOLDS("\"hold0\":" HELD ",\"hold1\":" HELD ",\"hold2\":" HELD))}},
     1, {{NULL, 0, NULL}}, 0, APP_ECONDITION, "TOO_MANY_OPEN_CHECKOUTS", NULL, 0, 0,
     {READ_USAGE, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}, NULL},
    {"issue 12 item 9: the slot taken meanwhile: read again, tried once more, sold", "SAVE20",
     NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}, {TXN, 400, CANCELLED},
      {BATCH, 200, GOT("", COUPON, HOLDS("\"hold0\":" HELD))}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}}, 5,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, NULL, 18640, 3,
     {"SET hold1 = :until", NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}, NULL},
    {"a discount down to Stripe's minimum: still sold", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON_FIXED("23250"), "")}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, NULL, 50, 1,
     {"\"finalAmountCents\":{\"N\":\"50\"}", NULL, NULL, NULL}, NULL,
     {"unit_amount]=50&", NULL, NULL}, NULL},
    {"below the minimum charge: 422 BELOW_MINIMUM_CHARGE, nothing reserved", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON_FIXED("23300"), "")}}, 1, {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "BELOW_MINIMUM_CHARGE", NULL, 0, 0, {NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"DynamoDB failing to read: its error, nothing reserved", "SAVE20", NULL,
     {{BATCH, 500, "{\"__type\":\"InternalServerError\"}"}}, 1, {{NULL, 0, NULL}}, 0,
     APP_EUNAVAILABLE, NULL, NULL, 0, 0, {NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"Stripe failing: 502, and the reservation given back in one transaction", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}, {TXN, 200, "{}"}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}}, 4,
     {{POST_SESSION, 500, "{\"error\":{\"type\":\"api_error\",\"message\":\"down\"}}"}}, 1,
     APP_EUPSTREAM, NULL, NULL, 0, 2,
     {"\"Delete\"", "usageCount = usageCount - :one", "\"S\":\"failed\"", "#st = :pending"},
     NULL, {"unit_amount]=18640", NULL, NULL}, NULL},
    {"issue 12 item 9: Stripe failing: the email's hold slot given back too", "SAVE20", NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}, {TXN, 200, "{}"}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}}, 4,
     {{POST_SESSION, 500, "{\"error\":{\"type\":\"api_error\",\"message\":\"down\"}}"}}, 1,
     APP_EUPSTREAM, NULL, NULL, 0, 3,
     {"REMOVE hold0", "hold0 = :until", "HOLDS#omar@example.com", NULL}, NULL,
     {NULL, NULL, NULL}, NULL},
    {"Stripe answering without a url: 502, released", NULL, NULL,
     {{GET, 200, ITEM(PLAN)}, {TXN, 200, "{}"}, {TXN, 200, "{}"}}, 3,
     {{POST_SESSION, 200, "{\"id\":\"cs_test_1\"}"}}, 1, APP_EUPSTREAM, NULL, NULL, 0, 2,
     {"\"S\":\"failed\"", "#st = :pending", NULL, NULL}, "\"Delete\"",
     {NULL, NULL, NULL}, NULL},
};

START_TEST(test_create)
{
    struct purchase_input in;
    struct purchase_created out;
    struct json_object *meta = NULL;
    struct stub_env e;
    const char *seen;
    size_t i;
    int rc;

    memset(&in, 0, sizeof(in));
    in.plan_id = "standard-3months";
    in.email = "omar@example.com";
    in.name = "Omar";
    in.code = create_cases[_i].code;
    if (create_cases[_i].metadata) {
        meta = json_tokener_parse(create_cases[_i].metadata);
        ck_assert_ptr_nonnull(meta);
        in.metadata = meta;
    }
    stub_env_start(&e, create_cases[_i].ddb, create_cases[_i].nddb, create_cases[_i].stripe,
                   create_cases[_i].nstripe, NOW);
    rc = purchase_create(&e.ctx, &in, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == create_cases[_i].rc, "%s: rc %d (%s)", create_cases[_i].name, rc,
                  e.err.msg);
    ck_assert_msg(e.ddb_stub.nseen == create_cases[_i].nddb, "%s: %zu DynamoDB requests",
                  create_cases[_i].name, e.ddb_stub.nseen);
    ck_assert_msg(e.stripe_stub.nseen == create_cases[_i].nstripe, "%s: %zu Stripe requests",
                  create_cases[_i].name, e.stripe_stub.nseen);
    if (create_cases[_i].reason)
        ck_assert_str_eq(e.err.reason ? e.err.reason : "(none)", create_cases[_i].reason);
    else
        ck_assert_ptr_null(e.err.reason);
    if (create_cases[_i].field)
        ck_assert_str_eq(e.err.field, create_cases[_i].field);
    if (rc == APP_OK) {
        ck_assert_int_eq(out.final_cents, create_cases[_i].final);
        ck_assert_int_eq(out.original_cents, 23300);
        ck_assert_int_eq(out.original_cents - out.discount_cents, out.final_cents);
        ck_assert_str_eq(out.session_id, "cs_test_1");
        ck_assert_str_eq(out.checkout_url, "https://checkout.example/cs_test_1");
        ck_assert_int_eq(strncmp(out.id, "pur_", 4), 0);
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[e.ddb_stub.nseen - 1], out.id));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[e.ddb_stub.nseen - 1], "cs_test_1"));
    }
    ck_assert_int_eq(out.session_failed, rc == APP_EUPSTREAM);
    seen = e.ddb_stub.seen[create_cases[_i].at];
    for (i = 0; i < 4 && create_cases[_i].has[i]; i++)
        ck_assert_msg(strstr(seen, create_cases[_i].has[i]), "%s: no %s in %s",
                      create_cases[_i].name, create_cases[_i].has[i], seen);
    if (create_cases[_i].lacks)
        ck_assert_msg(!strstr(seen, create_cases[_i].lacks), "%s: %s in %s",
                      create_cases[_i].name, create_cases[_i].lacks, seen);
    if (create_cases[_i].nstripe) {
        seen = stub_body(e.stripe_stub.seen[0]);
        ck_assert_ptr_nonnull(strstr(e.stripe_stub.seen[0], "Idempotency-Key: pur_"));
        for (i = 0; i < 3 && create_cases[_i].stripe_has[i]; i++)
            ck_assert_msg(strstr(seen, create_cases[_i].stripe_has[i]), "%s: no %s in %s",
                          create_cases[_i].name, create_cases[_i].stripe_has[i], seen);
        if (create_cases[_i].stripe_lacks)
            ck_assert_msg(!strstr(seen, create_cases[_i].stripe_lacks), "%s: %s in %s",
                          create_cases[_i].name, create_cases[_i].stripe_lacks, seen);
    }
    stub_env_free(&e);
    if (meta)
        json_object_put(meta);
}
END_TEST

/* The quote, without a cache (every lookup misses and reads DynamoDB, in one round trip:
 * the plan and the coupon eventually consistent, the buyer's counter consistently): what it
 * answers and what it reads. */
#define QUOTE_READ_USES \
    "\"prodenthub-coupon-usage\":{\"Keys\":[{\"usageId\":{\"S\":" \
    "\"COUNTER#SAVE20#omar@example.com\"}}],\"ConsistentRead\":true}"
static const struct {
    const char *name;
    const char *code;
    const char *plan_id;            /* or NULL: amount */
    long long amount;
    const char *email;
    struct stub_reply ddb[3];
    size_t nddb;
    int rc;
    const char *field;
    int valid;
    const char *reason;             /* the answer's reason slug when not valid */
    const char *code_out;
    long long final;
    const char *has;                /* in the first DynamoDB request */
    const char *lacks;              /* in every DynamoDB request */
} quote_cases[] = {
    {"valid for the plan: plan and coupon in one read", "save20", "standard-3months", 0, NULL,
     {{BATCH, 200, GOT(PLAN, COUPON, "")}}, 1, APP_OK, NULL, 1, NULL, "SAVE20", 18640,
     "\"prodenthub-catalogue\":{\"Keys\":[{\"planId\":{\"S\":\"standard-3months\"}}]}",
     "ConsistentRead"},
    {"valid for an amount: no plan read", "SAVE20", NULL, 10000, NULL,
     {{GET, 200, ITEM(COUPON)}}, 1, APP_OK, NULL, 1, NULL, "SAVE20", 8000, NULL, "planId"},
    {"a buyer under the per-buyer limit: the counter read with the coupon", "SAVE20", NULL,
     10000, "omar@example.com", {{BATCH, 200, GOT("", COUPON, USES("0"))}}, 1, APP_OK, NULL,
     1, NULL, "SAVE20", 8000, QUOTE_READ_USES,
     "\"prodenthub-coupons\":{\"Keys\":[{\"couponCode\":{\"S\":\"SAVE20\"}}],"
     "\"ConsistentRead\""},
    {"a buyer who used it: ALREADY_USED", "SAVE20", NULL, 10000, "omar@example.com",
     {{BATCH, 200, GOT("", COUPON, USES("1"))}}, 1, APP_OK, NULL, 0, "ALREADY_USED",
     "SAVE20", 0, NULL, NULL},
    {"a buyer never counted: valid", "SAVE20", NULL, 10000, "omar@example.com",
     {{BATCH, 200, GOT("", COUPON, "")}}, 1, APP_OK, NULL, 1, NULL, "SAVE20", 8000, NULL,
     NULL},
    {"a buyer and no per-buyer limit: the count read with the coupon, unused", "SAVE20",
     NULL, 10000, "omar@example.com", {{BATCH, 200, GOT("", COUPON_FIXED("1000"), USES("7"))}},
     1, APP_OK, NULL, 1, NULL, "SAVE20", 9000, QUOTE_READ_USES, NULL},
    {"plan, coupon and a buyer: all three in one read", "SAVE20", "standard-3months", 0,
     "omar@example.com", {{BATCH, 200, GOT(PLAN, COUPON, USES("0"))}}, 1, APP_OK, NULL, 1,
     NULL, "SAVE20", 18640, QUOTE_READ_USES, NULL},
    {"no such coupon, for a buyer: NOT_FOUND", "nope20", NULL, 10000, "omar@example.com",
     {{BATCH, 200, GOT("", "", "")}}, 1, APP_OK, NULL, 0, "NOT_FOUND", "NOPE20", 0, NULL,
     NULL},
    {"DynamoDB failing to read: its error", "SAVE20", "standard-3months", 0, NULL,
     {{BATCH, 500, "{\"__type\":\"InternalServerError\"}"}}, 1, APP_EUNAVAILABLE, NULL, 0,
     NULL, NULL, 0, NULL, NULL},
    {"unknown plan: 400 on planId", "SAVE20", "no-such-plan", 0, NULL,
     {{BATCH, 200, GOT("", COUPON, "")}}, 1, APP_EVALIDATION, "planId", 0, NULL, NULL, 0,
     NULL, NULL},
    {"a plan id that cannot be one: 400, nothing read", "SAVE20", "Bad Plan", 0, NULL,
     {{NULL, 0, NULL}}, 0, APP_EVALIDATION, "planId", 0, NULL, NULL, 0, NULL, NULL},
    {"a code that cannot be one: NOT_FOUND as typed, never looked up", "no!", NULL, 10000,
     "omar@example.com", {{NULL, 0, NULL}}, 0, APP_OK, NULL, 0, "NOT_FOUND", "no!", 0, NULL,
     NULL},
    {"no such coupon: NOT_FOUND", "nope20", NULL, 10000, NULL,
     {{GET, 200, "{}"}}, 1, APP_OK, NULL, 0, "NOT_FOUND", "NOPE20", 0, NULL, NULL},
    {"a coupon record that cannot be read: MISCONFIGURED", "SAVE20", NULL, 10000, NULL,
     {{GET, 200, ITEM(COUPON_BAD)}}, 1, APP_OK, NULL, 0, "MISCONFIGURED", "SAVE20", 0, NULL,
     NULL},
    {"inactive: INACTIVE", "SAVE20", NULL, 10000, NULL,
     {{GET, 200, ITEM(COUPON_INACTIVE_ITEM)}}, 1, APP_OK, NULL, 0, "INACTIVE", "SAVE20", 0,
     NULL, NULL},
    {"expired by the context's clock: EXPIRED", "SAVE20", NULL, 10000, NULL,
     {{GET, 200, ITEM(COUPON_EXPIRED_ITEM)}}, 1, APP_OK, NULL, 0, "EXPIRED", "SAVE20", 0,
     NULL, NULL},
    {"used up: USAGE_LIMIT_REACHED", "SAVE20", NULL, 10000, NULL,
     {{GET, 200, ITEM(COUPON_USED_UP)}}, 1, APP_OK, NULL, 0, "USAGE_LIMIT_REACHED", "SAVE20",
     0, NULL, NULL},
};

START_TEST(test_quote)
{
    struct purchase_quote_input in;
    struct purchase_quote out;
    struct stub_env e;
    size_t i;
    int rc;

    memset(&in, 0, sizeof(in));
    in.client = "192.0.2.7";
    in.code = quote_cases[_i].code;
    in.plan_id = quote_cases[_i].plan_id;
    in.amount_cents = quote_cases[_i].amount;
    in.email = quote_cases[_i].email;
    in.plan_shape = cached_whole_item;
    stub_env_start(&e, quote_cases[_i].ddb, quote_cases[_i].nddb, NULL, 0, NOW);
    rc = purchase_quote(&e.ctx, &in, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == quote_cases[_i].rc, "%s: rc %d (%s)", quote_cases[_i].name, rc,
                  e.err.msg);
    ck_assert_msg(e.ddb_stub.nseen == quote_cases[_i].nddb, "%s: %zu DynamoDB requests",
                  quote_cases[_i].name, e.ddb_stub.nseen);
    ck_assert_uint_eq(e.stripe_stub.nseen, 0);
    if (quote_cases[_i].has)
        ck_assert_msg(e.ddb_stub.nseen && strstr(e.ddb_stub.seen[0], quote_cases[_i].has),
                      "%s: no %s in %s", quote_cases[_i].name, quote_cases[_i].has,
                      e.ddb_stub.nseen ? e.ddb_stub.seen[0] : "(nothing)");
    for (i = 0; quote_cases[_i].lacks && i < e.ddb_stub.nseen; i++)
        ck_assert_msg(!strstr(e.ddb_stub.seen[i], quote_cases[_i].lacks), "%s: %s in %s",
                      quote_cases[_i].name, quote_cases[_i].lacks, e.ddb_stub.seen[i]);
    if (rc != APP_OK) {
        if (quote_cases[_i].field)
            ck_assert_str_eq(e.err.field, quote_cases[_i].field);
        stub_env_free(&e);
        return;
    }
    ck_assert_int_eq(out.valid, quote_cases[_i].valid);
    ck_assert_str_eq(out.code, quote_cases[_i].code_out);
    if (out.valid) {
        ck_assert_int_eq(out.final_cents, quote_cases[_i].final);
        ck_assert_int_eq(out.original_cents - out.discount_cents, out.final_cents);
    } else {
        ck_assert_str_eq(coupon_reason_slug(out.reason), quote_cases[_i].reason);
    }
    stub_env_free(&e);
}
END_TEST

static Suite *
purchase_suite(void)
{
    Suite *s = suite_create("campaign_purchase");
    TCase *tc = tcase_create("create");
    TCase *tq = tcase_create("quote");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_create, 0, sizeof(create_cases) / sizeof(create_cases[0]));
    suite_add_tcase(s, tc);
    tcase_set_timeout(tq, 60);
    tcase_add_loop_test(tq, test_quote, 0, sizeof(quote_cases) / sizeof(quote_cases[0]));
    suite_add_tcase(s, tq);
    return s;
}

UNIT_MAIN(purchase_suite)
