/*
 * The one-record engine (campaign/record.c) through the registry, against stub DynamoDB and
 * Stripe (stub.h): a scholarship paid, repeated, refunded, disputed and declined, and what
 * each writes.  One case per row: the DynamoDB script, the answer, and what the last request
 * must (and must not) hold.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../campaign/campaign.h"
#include "../../lib/ddbjson.h"
#include "stub.h"
#include "unit.h"

#define NOW 1768478400              /* 2026-01-15T12:00:00Z */

#define SCHOLARSHIP(status) \
    "{\"Item\":{\"scholarshipId\":{\"S\":\"sch_0123456789abcdef01234567\"}," \
    "\"status\":{\"S\":\"" status "\"},\"email\":{\"S\":\"omar@example.com\"}," \
    "\"firstName\":{\"S\":\"Omar\"},\"planId\":{\"S\":\"scholarship-3months\"}," \
    "\"planName\":{\"S\":\"Scholarship Access\"},\"percent\":{\"N\":\"50\"}," \
    "\"priceCents\":{\"N\":\"6450\"},\"currency\":{\"S\":\"AUD\"}}}"
#define SCHOLARSHIP_PAID_BY(pi) \
    "{\"Item\":{\"scholarshipId\":{\"S\":\"sch_0123456789abcdef01234567\"}," \
    "\"status\":{\"S\":\"paid\"},\"email\":{\"S\":\"omar@example.com\"}," \
    "\"stripePaymentIntentId\":{\"S\":\"" pi "\"},\"planId\":{\"S\":\"scholarship-3months\"}," \
    "\"priceCents\":{\"N\":\"6450\"},\"currency\":{\"S\":\"AUD\"}}}"
#define CATALOGUE \
    "{\"Item\":{\"planId\":{\"S\":\"scholarship-3months\"},\"durationMonths\":{\"N\":\"3\"}," \
    "\"status\":{\"S\":\"active\"},\"amountCents\":{\"N\":\"12900\"}}}"
#define PAYMENT_ROW \
    "{\"Item\":{\"paymentIntentId\":{\"S\":\"pi_1\"},\"campaignId\":{\"S\":" \
    "\"scholarship-application\"},\"recordId\":{\"S\":\"sch_0123456789abcdef01234567\"}," \
    "\"email\":{\"S\":\"omar@example.com\"},\"amountCents\":{\"N\":\"6450\"}," \
    "\"currency\":{\"S\":\"aud\"}}}"

#define GET "DynamoDB_20120810.GetItem"
#define TXN "DynamoDB_20120810.TransactWriteItems"

enum op { PAID, DECLINED, REFUNDED_FULL, REFUNDED_PART, DISPUTED };

static const struct {
    const char *name;
    enum op op;
    struct stub_reply script[4];
    size_t nscript;
    int rc;
    size_t requests;            /* DynamoDB requests made */
    const char *has[4];         /* in the last request */
    const char *lacks;
} cases[] = {
    {"paid: record, grant, payment row and email in one transaction", PAID,
     {{GET, 200, SCHOLARSHIP("submitted")}, {GET, 200, "{}"}, {GET, 200, CATALOGUE},
      {TXN, 200, "{}"}}, 4, APP_OK, 4,
     {"2026-04-15T12:00:00Z", "scholarship-approved", "\"grantId\":{\"S\":\"sch_", "pi_1"},
     NULL},
    {"the same payment twice: the second finds it paid and writes nothing", PAID,
     {{GET, 200, SCHOLARSHIP_PAID_BY("pi_1")}}, 1, APP_OK, 1, {GET, NULL, NULL, NULL}, TXN},
    {"paid for a product missing from the catalogue: an error, never zero months", PAID,
     {{GET, 200, SCHOLARSHIP("submitted")}, {GET, 200, "{}"}, {GET, 200, "{}"}}, 3,
     APP_ECONFIG, 3, {GET, NULL, NULL, NULL}, TXN},
    {"issue 12 item 8: a product without durationMonths: an error, never zero months", PAID,
     {{GET, 200, SCHOLARSHIP("submitted")}, {GET, 200, "{}"},
      {GET, 200, "{\"Item\":{\"planId\":{\"S\":\"scholarship-3months\"},"
                 "\"status\":{\"S\":\"active\"},\"amountCents\":{\"N\":\"12900\"}}}"}},
     3, APP_ECONFIG, 3, {GET, NULL, NULL, NULL}, TXN},
    {"issue 12 item 8: the catalogue unreadable: the event fails, to be retried", PAID,
     {{GET, 200, SCHOLARSHIP("submitted")}, {GET, 200, "{}"},
      {GET, 400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ValidationException\","
                 "\"message\":\"no\"}"}},
     3, APP_EINTERNAL, 3, {GET, NULL, NULL, NULL}, TXN},
    {"a record that is not ours: nothing to do", PAID,
     {{GET, 200, "{}"}}, 1, APP_OK, 1, {GET, NULL, NULL, NULL}, TXN},
    {"declined: one retry email keyed by the PaymentIntent", DECLINED,
     {{GET, 200, SCHOLARSHIP("submitted")}, {TXN, 200, "{}"}}, 2, APP_OK, 2,
     {"payment-failed", "pi_1#declined", "omar@example.com", NULL}, NULL},
    {"refunded in full: revoked, the row follows", REFUNDED_FULL,
     {{TXN, 200, "{}"}}, 1, APP_OK, 1,
     {":refunded", "revokeReason", "refundedFull", NULL}, NULL},
    {"refunded in part: recorded, access stays", REFUNDED_PART,
     {{TXN, 200, "{}"}}, 1, APP_OK, 1, {"amountRefundedCents = :r", NULL, NULL, NULL},
     "revokeReason"},
    {"disputed: flagged for review", DISPUTED,
     {{TXN, 200, "{}"}}, 1, APP_OK, 1, {"reviewNeeded = :yes", "dp_1", NULL, NULL}, NULL},
};

START_TEST(test_one_record)
{
    const struct campaign *k = campaign_find("scholarship-application");
    struct json_object *meta = json_tokener_parse(
        "{\"campaignId\":\"scholarship-application\","
        "\"scholarshipId\":\"sch_0123456789abcdef01234567\"}");
    struct json_object *row = json_tokener_parse(PAYMENT_ROW), *plain;
    struct pay_event pe = {0};
    struct payment_row pr = {0};
    struct stub_env e;
    const char *last;
    size_t i;
    int rc = -1;

    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_eq(k->ops, &one_record_ops);
    pe.meta = meta;
    pe.payment_intent = "pi_1";
    pe.amount = 6450;
    pe.currency = "aud";
    pe.reason = "Your card was declined.";
    pe.now = NOW;
    plain = ddb_unmarshal_item(json_object_object_get(row, "Item"));
    pr.row = plain;
    pr.campaign = json_str(plain, "campaignId");
    pr.record = json_str(plain, "recordId");
    stub_env_start(&e, cases[_i].script, cases[_i].nscript, NULL, 0, NOW);
    switch (cases[_i].op) {
    case PAID:
        rc = k->ops->paid(k, &e.ctx, &pe, 0, &e.err);
        break;
    case DECLINED:
        rc = k->ops->declined(k, &e.ctx, &pe, &e.err);
        break;
    case REFUNDED_FULL:
        rc = k->ops->refunded(k, &e.ctx, &pr, 6450, 1, &e.err);
        break;
    case REFUNDED_PART:
        rc = k->ops->refunded(k, &e.ctx, &pr, 1000, 0, &e.err);
        break;
    case DISPUTED:
        rc = k->ops->disputed(k, &e.ctx, &pr, "dp_1", "fraudulent", &e.err);
        break;
    }
    stub_env_stop(&e);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s)", cases[_i].name, rc, e.err.msg);
    ck_assert_msg(e.ddb_stub.nseen == cases[_i].requests, "%s: %zu requests",
                  cases[_i].name, e.ddb_stub.nseen);
    ck_assert_uint_eq(e.stripe_stub.nseen, 0);
    last = e.ddb_stub.seen[e.ddb_stub.nseen - 1];
    for (i = 0; i < 4 && cases[_i].has[i]; i++)
        ck_assert_msg(strstr(last, cases[_i].has[i]), "%s: no %s in %s", cases[_i].name,
                      cases[_i].has[i], last);
    if (cases[_i].lacks)
        ck_assert_msg(!strstr(last, cases[_i].lacks), "%s: %s in %s", cases[_i].name,
                      cases[_i].lacks, last);
    stub_env_free(&e);
    json_object_put(plain);
    json_object_put(row);
    json_object_put(meta);
}
END_TEST

/* Issue 12, items 3 and 5: a payment the record does not need is recorded and refunded. */
static const struct {
    const char *name;
    const char *record;
    long long amount;
    const char *why;
} extras[] = {
    {"issue 12 item 5: a second payment of a paid scholarship", SCHOLARSHIP_PAID_BY("pi_0"),
     6450, "paid twice"},
    {"issue 12 item 3: an amount other than the record's price", SCHOLARSHIP("submitted"),
     100, "amount mismatch"},
};

START_TEST(test_one_record_extra)
{
    const struct campaign *k = campaign_find("scholarship-application");
    struct json_object *meta = json_tokener_parse(
        "{\"campaignId\":\"scholarship-application\","
        "\"scholarshipId\":\"sch_0123456789abcdef01234567\"}");
    const struct stub_reply ddb[] = {
        {GET, 200, extras[_i].record}, {GET, 200, "{}"}, {TXN, 200, "{}"},
    };
    const struct stub_reply stripe[] = {
        {"/v1/refunds", 200, "{\"id\":\"re_1\",\"status\":\"succeeded\"}"},
    };
    struct pay_event pe = {0};
    struct stub_env e;
    const char *txn, *refund;
    int rc;

    pe.meta = meta;
    pe.payment_intent = "pi_1";
    pe.amount = extras[_i].amount;
    pe.currency = "aud";
    pe.now = NOW;
    stub_env_start(&e, ddb, 3, stripe, 1, NOW);
    rc = k->ops->paid(k, &e.ctx, &pe, 0, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == APP_OK, "%s: rc %d (%s)", extras[_i].name, rc, e.err.msg);
    ck_assert_uint_eq(e.ddb_stub.nseen, 3);
    txn = e.ddb_stub.seen[2];
    /* The payment's row, marked extra; the record flagged; never paid or granted. */
    ck_assert_msg(strstr(txn, "extraPayment = :x") && strstr(txn, extras[_i].why) &&
                  strstr(txn, "extraPayments") && !strstr(txn, "grantId") &&
                  !strstr(txn, "accessUntil"), "%s: %s", extras[_i].name, txn);
    ck_assert_uint_eq(e.stripe_stub.nseen, 1);
    refund = e.stripe_stub.seen[0];
    ck_assert(strstr(refund, "payment_intent=pi_1") && strstr(refund, "Idempotency-Key: "
                                                                      "refund-pi_1"));
    stub_env_free(&e);
    json_object_put(meta);
}
END_TEST

/* The registry: every row names its route, table and ops; ids are unique. */
START_TEST(test_registry)
{
    size_t i, j;

    ck_assert_uint_eq(campaigns_count, 5);
    for (i = 0; i < campaigns_count; i++) {
        ck_assert_ptr_nonnull(campaigns[i].ops);
        ck_assert_ptr_nonnull(campaigns[i].create_route);
        ck_assert_ptr_eq(campaign_find(campaigns[i].id), &campaigns[i]);
        if (campaigns[i].ops == &one_record_ops)
            ck_assert_ptr_nonnull(campaigns[i].paid_vars);
        for (j = 0; j < i; j++)
            ck_assert_str_ne(campaigns[i].id, campaigns[j].id);
    }
    ck_assert_ptr_null(campaign_find("black-friday"));
    ck_assert_ptr_null(campaign_find(NULL));
}
END_TEST

static Suite *
record_suite(void)
{
    Suite *s = suite_create("campaign_record");
    TCase *tc = tcase_create("one_record");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_one_record, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_loop_test(tc, test_one_record_extra, 0, sizeof(extras) / sizeof(extras[0]));
    tcase_add_test(tc, test_registry);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(record_suite)
