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

#include "../../campaign/campaign.h"
#include "../../campaign/mock.h"
#include "../../lib/ddbjson.h"
#include "../../lib/ids.h"
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
#define HOLDER "reg_0123456789abcdef01234567"
#define LEGACY "reg_96c17e2b4090fc9ac1c034f4"   /* reg_ + SHA-256("written-1\nsam@...") */
#define SEAT(status, more) \
    "{\"Item\":{\"registrationId\":{\"S\":\"" HOLDER "\"}," \
    "\"mockExamId\":{\"S\":\"written-1\"},\"email\":{\"S\":\"sam@example.com\"}," \
    "\"firstName\":{\"S\":\"Sam\"},\"tier\":{\"S\":\"premium\"}," \
    "\"status\":{\"S\":\"" status "\"},\"examTitle\":{\"S\":\"Written Mock\"}," \
    "\"examDate\":{\"S\":\"2026-02-01T09:00:00Z\"}," \
    "\"priceCents\":{\"N\":\"2900\"}" more "}}"
#define REG(status) SEAT(status, ",\"sessions\":{\"N\":\"7\"}")
#define GUARD_OF(rid) \
    "{\"Item\":{\"registrationId\":{\"S\":\"GUARD#written-1#x\"},\"holds\":{\"S\":\"" \
    rid "\"}}}"
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

/* Each of has (up to n, NULL-ended) is in req, and lacks (when not NULL) is not. */
static void
expect_in(const char *name, const char *req, const char *const *has, size_t n,
          const char *lacks)
{
    size_t i;

    for (i = 0; i < n && has[i]; i++)
        ck_assert_msg(strstr(req, has[i]), "%s: no %s in %s", name, has[i], req);
    if (lacks)
        ck_assert_msg(!strstr(req, lacks), "%s: %s in %s", name, lacks, req);
}

/* --- registration ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    struct stub_reply ddb[6];
    size_t nddb;
    struct stub_reply stripe[1];
    size_t nstripe;
    int rc;
    const char *reason;           /* err.reason, or NULL */
    size_t at;                    /* the DynamoDB request checked below */
    const char *has[7];
    const char *lacks;
    const char *stripe_has[3];    /* in the Stripe request */
} reg_cases[] = {
    {"free: the seat, the address's guard and the email in one transaction",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 200, "{}"}}, 2, {{NULL, 0, NULL}}, 0,
     APP_OK, NULL, 1,
     {"SET seatsTaken = seatsTaken + :one",
      "seatsTaken < #cap AND #st = :scheduled AND examDate > :closes",
      "\":closes\":{\"S\":\"2026-01-15T14:00:00Z\"}",
      "\"registrationId\":{\"S\":\"GUARD#written-1#"
      "cd25a6171969f2a3c6e35c7667e3908ef1bd2424241db04411a0eec454ca6c16\"}",
      "{\"ConditionCheck\":{\"TableName\":\"prodenthub-mock-registrations\",\"Key\":"
      "{\"registrationId\":{\"S\":\"" LEGACY "\"}}",
      "attribute_not_exists(registrationId) OR #st = :released",
      "\"template\":{\"S\":\"mock-registration\"}"}, "\"priceCents\"", {NULL, NULL, NULL}},
    {"issue 12 item 11: free: the email counted in the seat's transaction, under a limit",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 200, "{}"}}, 2, {{NULL, 0, NULL}}, 0,
     APP_OK, NULL, 1,
     {"\"outboxId\":{\"S\":\"limit#2026-01-15#sam@example.com\"}",
      "SET mailCount = if_not_exists(mailCount, :zero) + :one, #ttl = :ttl",
      "attribute_not_exists(mailCount) OR mailCount < :cap", "\":cap\":{\"N\":\"3\"}",
      "\":ttl\":{\"N\":\"1768608000\"}", NULL, NULL}, NULL, {NULL, NULL, NULL}},
    {"issue 12 item 11: free, the address had its emails of the day: 429, no seat",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 400, CANCELLED}, {GET, 200, "{}"},
      {GET, 200, "{}"}, {GET, 200, EXAM("free", "30", "3")},
      {"limit#2026-01-15#sam@example.com", 200, "{\"Item\":{\"mailCount\":{\"N\":\"3\"}}}"}},
     6, {{NULL, 0, NULL}}, 0, APP_ERATELIMIT, "TOO_MANY_EMAILS", 5,
     {"\"ConsistentRead\":true", NULL, NULL, NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}},
    {"premium: priced from the catalogue (a consistent read), held, its Checkout opened",
     {{GET, 200, EXAM("premium", "30", "3")}, {"mock-exam-premium", 200, CATALOGUE("2900")},
      {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 4, {{POST_SESSION, 200, NEW_SESSION}}, 1,
     APP_OK, NULL, 2,
     {"seatsTaken < #cap", "\"status\":{\"S\":\"pending\"}", "GUARD#written-1#",
      "\"priceCents\":{\"N\":\"2900\"}", "\"currency\":{\"S\":\"AUD\"}", NULL, NULL},
     "prodenthub-email-outbox",
     {"line_items[0][price_data][unit_amount]=2900", "metadata[campaignId]=mock-exam",
      "customer_email=sam%40example.com"}},
    {"exam full: 409 EXAM_FULL, nothing kept",
     {{GET, 200, EXAM("free", "20", "20")}, {TXN, 400, CANCELLED}, {GET, 200, "{}"},
      {GET, 200, "{}"}, {GET, 200, EXAM("free", "20", "20")}}, 5, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "EXAM_FULL", 3, {LEGACY, NULL, NULL, NULL, NULL, NULL, NULL}, NULL,
     {NULL, NULL, NULL}},
    {"issue 12 item 10: taken: 409 naming nothing, the confirmation to its address again",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 400, CANCELLED}, {GET, 200, GUARD_OF(HOLDER)},
      {GET, 200, SEAT("confirmed", "")}, {TXN, 200, "{}"}}, 5, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "ALREADY_REGISTERED", 4,
     {"\"outboxId\":{\"S\":\"" HOLDER "#resent#2026-01-15T12#mock-registration#"
      "sam@example.com\"}", "attribute_not_exists",
      "\"outboxId\":{\"S\":\"limit#2026-01-15#sam@example.com\"}", NULL, NULL, NULL, NULL},
     NULL, {NULL, NULL, NULL}},
    {"issue 12 item 10: taken, mailed again this hour already: 409 all the same",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 400, CANCELLED}, {GET, 200, GUARD_OF(HOLDER)},
      {GET, 200, SEAT("confirmed", "")}, {TXN, 400, CANCELLED}}, 5, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "ALREADY_REGISTERED", 3, {HOLDER, NULL, NULL, NULL, NULL, NULL, NULL},
     NULL, {NULL, NULL, NULL}},
    {"issue 12 item 10: taken by a seat waiting for payment: 409, nothing mailed",
     {{GET, 200, EXAM("premium", "30", "3")}, {"mock-exam-premium", 200, CATALOGUE("2900")},
      {TXN, 400, CANCELLED}, {GET, 200, GUARD_OF(HOLDER)}, {GET, 200, SEAT("pending", "")}},
     5, {{NULL, 0, NULL}}, 0, APP_ECONFLICT, "ALREADY_REGISTERED", 4,
     {HOLDER, NULL, NULL, NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}},
    {"issue 12 item 10: taken by an old-style registration: 409, mailed to it",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 400, CANCELLED}, {GET, 200, "{}"},
      {GET, 200, SEAT("confirmed", "")}, {TXN, 200, "{}"}}, 5, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "ALREADY_REGISTERED", 3, {LEGACY, NULL, NULL, NULL, NULL, NULL, NULL},
     NULL, {NULL, NULL, NULL}},
    {"neither full nor taken nor over its emails: closed, 422 REGISTRATION_CLOSED",
     {{GET, 200, EXAM("free", "30", "3")}, {TXN, 400, CANCELLED}, {GET, 200, "{}"},
      {GET, 200, "{}"}, {GET, 200, EXAM("free", "30", "3")}, {"limit#", 200, "{}"}}, 6,
     {{NULL, 0, NULL}}, 0,
     APP_EUNPROCESSABLE, "REGISTRATION_CLOSED", 4,
     {NULL, NULL, NULL, NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}},
    {"Stripe failing after the seat was taken: the seat and the guard given back, 502",
     {{GET, 200, EXAM("premium", "30", "3")}, {"mock-exam-premium", 200, CATALOGUE("2900")},
      {TXN, 200, "{}"}, {TXN, 200, "{}"}}, 4, {{POST_SESSION, 500, STRIPE_DOWN}}, 1,
     APP_EUPSTREAM, NULL, 3,
     {"SET seatsTaken = seatsTaken - :one", "SET #st = :released, updatedAt = :now",
      "\"ConditionExpression\":\"#st = :pending\"", "\"S\":\"2026-01-15T12:00:00Z\"",
      "{\"Delete\":{\"TableName\":\"prodenthub-mock-registrations\"",
      "attribute_not_exists(registrationId) OR holds = :rid", NULL}, NULL,
     {NULL, NULL, NULL}},
    {"no premium price in the catalogue: an error, never a free seat",
     {{GET, 200, EXAM("premium", "30", "3")}, {"mock-exam-premium", 200, "{}"}}, 2,
     {{NULL, 0, NULL}}, 0, APP_ECONFIG, NULL, 1,
     {"ConsistentRead", NULL, NULL, NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}},
    {"no such exam: 404",
     {{GET, 200, "{}"}}, 1, {{NULL, 0, NULL}}, 0, APP_ENOTFOUND, NULL, 0,
     {"written-1", NULL, NULL, NULL, NULL, NULL, NULL}, NULL, {NULL, NULL, NULL}},
};

START_TEST(test_register)
{
    struct mock_register_input in = {
        "written-1", "sam@example.com", "Sam", NULL, NULL,
    };
    struct mock_registered out;
    struct stub_env e;
    const char *req;
    int rc;

    stub_env_start(&e, reg_cases[_i].ddb, reg_cases[_i].nddb, reg_cases[_i].stripe,
                   reg_cases[_i].nstripe, NOW);
    rc = mock_register(&e.ctx, &in, &out, &e.err);
    stub_env_stop(&e);
    stub_env_expect(&e, reg_cases[_i].name, rc, reg_cases[_i].rc, reg_cases[_i].reason,
                    reg_cases[_i].nddb, reg_cases[_i].nstripe);
    if (!reg_cases[_i].reason)
        ck_assert_ptr_null(e.err.reason);
    req = e.ddb_stub.seen[reg_cases[_i].at];
    expect_in(reg_cases[_i].name, req, reg_cases[_i].has, 7, reg_cases[_i].lacks);
    if (reg_cases[_i].nstripe)
        expect_in(reg_cases[_i].name, e.stripe_stub.seen[0], reg_cases[_i].stripe_has, 3,
                  NULL);
    /* Issue 12, item 10: a seat's id is random, never the one derived from the email, and
     * a refusal names none (neither in out nor in its message). */
    if (rc == APP_OK || rc == APP_EUPSTREAM) {
        ck_assert(id_valid(out.registration_id, "reg_"));
        ck_assert_str_ne(out.registration_id, LEGACY);
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[rc == APP_OK ? reg_cases[_i].at : 2],
                                     out.registration_id));
    } else {
        ck_assert_str_eq(out.registration_id, "");
        ck_assert_ptr_null(strstr(e.err.msg, "reg_"));
    }
    if (rc == APP_OK && out.premium) {
        ck_assert_int_eq(out.price_cents, 2900);
        ck_assert_str_eq(out.session.id, "cs_new");
        ck_assert_str_eq(out.session.url, "https://pay.example/cs_new");
    }
    if (rc == APP_OK)
        ck_assert_str_eq(out.exam_date, "2026-02-01T09:00:00Z");
    if (rc == APP_EUPSTREAM)       /* the seat released is the one taken */
        ck_assert_ptr_nonnull(strstr(req, out.registration_id));
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

/* --- fulfilment (issue 12, items 6 and 3) ---------------------------------------------- */

#define EXTRA_ROW \
    "{\"Item\":{\"paymentIntentId\":{\"S\":\"pi_1\"},\"recordId\":{\"S\":\"" HOLDER "\"}," \
    "\"extraPayment\":{\"BOOL\":true},\"extraReason\":{\"S\":\"seat released\"}}}"
#define REFUNDED "{\"id\":\"re_1\",\"status\":\"succeeded\"}"
#define AUD ",\"currency\":{\"S\":\"AUD\"}"
#define NAMES_A AUD ",\"sessionId\":{\"S\":\"cs_a\"}"

enum { PAID, UNPAID };

static const struct {
    const char *name;
    int op;
    const char *session;          /* the event's Checkout Session (UNPAID) */
    long long amount;
    const char *currency;
    struct stub_reply ddb[8];
    size_t nddb;
    size_t refunds;               /* Stripe requests: the refund */
    int rc;
    const char *has[5];           /* in the last DynamoDB request */
    const char *lacks;
} ful_cases[] = {
    {"a held seat paid its price: confirmed, granted, mailed, its payment linked", PAID,
     NULL, 2900, "aud",
     {{GET, 200, SEAT("pending", AUD)}, {GET, 200, EXAM("premium", "30", "3")},
      {GET, 200, "{}"}, {TXN, 200, "{}"}}, 4, 0, APP_OK,
     {"\"ConditionExpression\":\"#st = :from\"", "\":from\":{\"S\":\"pending\"}",
      "\"grantId\":{\"S\":\"" HOLDER "\"}", "#confirmed#mock-registration#", "pi_1"},
     "seatsTaken"},
    {"an old-style seat without a currency is priced in AUD", PAID, NULL, 2900, "aud",
     {{GET, 200, SEAT("pending", "")}, {GET, 200, EXAM("premium", "30", "3")},
      {GET, 200, "{}"}, {TXN, 200, "{}"}}, 4, 0, APP_OK,
     {"\":confirmed\"", NULL, NULL, NULL, NULL}, "extraPayment"},
    {"issue 12 item 6: released, a seat free: taken again with the guard, under capacity",
     PAID, NULL, 2900, "aud",
     {{GET, 200, SEAT("released", AUD)}, {GET, 200, EXAM("premium", "30", "3")},
      {GET, 200, "{}"}, {TXN, 200, "{}"}}, 4, 0, APP_OK,
     {"seatsTaken < #cap AND #st = :scheduled AND examDate > :now",
      "\":from\":{\"S\":\"released\"}", "GUARD#written-1#", "#confirmed#mock-registration#",
      "\"grantId\""}, NULL},
    {"issue 12 item 6: released, no seat to take: refunded, recorded, flagged", PAID, NULL,
     2900, "aud",
     {{GET, 200, SEAT("released", AUD)}, {GET, 200, EXAM("premium", "30", "30")},
      {GET, 200, "{}"}, {TXN, 400, CANCELLED}, {GET, 200, SEAT("released", AUD)},
      {GET, 200, "{}"}, {GET, 200, "{}"}, {TXN, 200, "{}"}}, 8, 1, APP_OK,
     {"extraPayment = :x", "seat released", "reviewNeeded = :yes", NULL, NULL}, "grantId"},
    {"issue 12 item 6: released, then paid by this payment meanwhile: looked at again", PAID,
     NULL, 2900, "aud",
     {{GET, 200, SEAT("released", AUD)}, {GET, 200, EXAM("premium", "30", "3")},
      {GET, 200, "{}"}, {TXN, 400, CANCELLED},
      {GET, 200, SEAT("confirmed", AUD ",\"stripePaymentIntentId\":{\"S\":\"pi_1\"}")},
      {GET, 200, "{\"Item\":{\"paymentIntentId\":{\"S\":\"pi_1\"},\"recordId\":{\"S\":\""
       HOLDER "\"}}}"}}, 6, 0, APP_ECONDITION, {"pi_1", NULL, NULL, NULL, NULL}, NULL},
    {"issue 12 item 6: an extra payment seen again: its refund asked again, once recorded",
     PAID, NULL, 2900, "aud",
     {{GET, 200, SEAT("released", AUD)}, {GET, 200, EXAM("premium", "30", "3")},
      {GET, 200, EXTRA_ROW}, {GET, 200, EXTRA_ROW}}, 4, 1, APP_OK,
     {"pi_1", NULL, NULL, NULL, NULL}, NULL},
    {"issue 12 item 3: another amount: refunded, recorded, flagged, never confirmed", PAID,
     NULL, 100, "aud",
     {{GET, 200, SEAT("pending", AUD)}, {GET, 200, EXAM("premium", "30", "3")},
      {GET, 200, "{}"}, {GET, 200, "{}"}, {TXN, 200, "{}"}}, 5, 1, APP_OK,
     {"extraPayment = :x", "amount mismatch", "reviewNeeded = :yes", NULL, NULL},
     ":confirmed"},
    {"issue 12 item 3: another currency: the same", PAID, NULL, 2900, "usd",
     {{GET, 200, SEAT("pending", AUD)}, {GET, 200, EXAM("premium", "30", "3")},
      {GET, 200, "{}"}, {GET, 200, "{}"}, {TXN, 200, "{}"}}, 5, 1, APP_OK,
     {"amount mismatch", NULL, NULL, NULL, NULL}, ":confirmed"},
    {"a seat paid by another payment: this one refunded", PAID, NULL, 2900, "aud",
     {{GET, 200, SEAT("confirmed", AUD ",\"stripePaymentIntentId\":{\"S\":\"pi_0\"}")},
      {GET, 200, EXAM("premium", "30", "3")}, {GET, 200, "{}"}, {GET, 200, "{}"},
      {TXN, 200, "{}"}}, 5, 1, APP_OK, {"paid twice", NULL, NULL, NULL, NULL}, NULL},
    {"the same payment again: nothing", PAID, NULL, 2900, "aud",
     {{GET, 200, SEAT("confirmed", AUD ",\"stripePaymentIntentId\":{\"S\":\"pi_1\"}")},
      {GET, 200, EXAM("premium", "30", "3")}}, 2, 0, APP_OK,
     {NULL, NULL, NULL, NULL, NULL}, NULL},
    {"issue 12 item 6: the named session ends unpaid: released on that session's condition",
     UNPAID, "cs_a", 0, NULL,
     {{GET, 200, SEAT("pending", NAMES_A)}, {TXN, 200, "{}"}}, 2, 0, APP_OK,
     {"\"#st = :pending AND sessionId = :sid\"", "\":sid\":{\"S\":\"cs_a\"}",
      "seatsTaken - :one", "{\"Delete\":", "GUARD#written-1#"}, NULL},
    {"issue 12 item 6: an older session ends unpaid: the seat kept", UNPAID, "cs_old", 0,
     NULL, {{GET, 200, SEAT("pending", NAMES_A)}}, 1, 0, APP_OK,
     {NULL, NULL, NULL, NULL, NULL}, NULL},
    {"issue 12 item 6: a seat naming no session: kept", UNPAID, "cs_a", 0, NULL,
     {{GET, 200, SEAT("pending", AUD)}}, 1, 0, APP_OK, {NULL, NULL, NULL, NULL, NULL}, NULL},
    {"issue 12 item 6: a newer session named meanwhile: looked at again", UNPAID, "cs_a", 0,
     NULL, {{GET, 200, SEAT("pending", NAMES_A)}, {TXN, 400, CANCELLED}}, 2, 0,
     APP_ECONDITION, {"sessionId = :sid", NULL, NULL, NULL, NULL}, NULL},
    {"a confirmed seat's session ends: nothing", UNPAID, "cs_a", 0, NULL,
     {{GET, 200, SEAT("confirmed", NAMES_A)}}, 1, 0, APP_OK,
     {NULL, NULL, NULL, NULL, NULL}, NULL},
};

START_TEST(test_fulfil)
{
    const struct campaign *k = campaign_find(MOCK_CAMPAIGN);
    struct json_object *meta = json_tokener_parse(
        "{\"campaignId\":\"mock-exam\",\"registrationId\":\"" HOLDER "\"}");
    const struct stub_reply stripe[] = { {"/v1/refunds", 200, REFUNDED} };
    struct pay_event pe = {0};
    struct stub_env e;
    int rc;

    ck_assert_ptr_eq(k->ops, &mock_ops);
    pe.meta = meta;
    pe.payment_intent = "pi_1";
    pe.session = ful_cases[_i].session;
    pe.amount = ful_cases[_i].amount;
    pe.currency = ful_cases[_i].currency;
    pe.now = NOW;
    stub_env_start(&e, ful_cases[_i].ddb, ful_cases[_i].nddb, stripe, ful_cases[_i].refunds,
                   NOW);
    if (ful_cases[_i].op == PAID)
        rc = k->ops->paid(k, &e.ctx, &pe, 0, &e.err);
    else
        rc = k->ops->unpaid(k, &e.ctx, &pe, "expired", &e.err);
    stub_env_stop(&e);
    stub_env_expect(&e, ful_cases[_i].name, rc, ful_cases[_i].rc, NULL, ful_cases[_i].nddb,
                    ful_cases[_i].refunds);
    expect_in(ful_cases[_i].name, e.ddb_stub.seen[e.ddb_stub.nseen - 1], ful_cases[_i].has, 5,
              ful_cases[_i].lacks);
    if (ful_cases[_i].refunds)     /* the whole payment, once per PaymentIntent */
        ck_assert_ptr_nonnull(strcasestr(e.stripe_stub.seen[0],
                                         "Idempotency-Key: refund-pi_1"));
    stub_env_free(&e);
    json_object_put(meta);
}
END_TEST

/* --- results ----------------------------------------------------------------------------- */

#define ROW(email, score, more) \
    "{\"email\":\"" email "\",\"totalScore\":" score ",\"passed\":true" more "}"

static const struct {
    const char *name;
    const char *rows;
    struct stub_reply ddb[5];
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
     {{GET, 200, EXAM("free", "30", "3")}, {GET, 200, GUARD_OF(HOLDER)}, {UPDATE, 200, "{}"},
      {GET, 200, "{}"}, {UPDATE, 400, CHECK_FAILED}},
     5, APP_OK, 1, "1,2", NULL, 0},
    {"DynamoDB failing: the import fails, for the caller to send again",
     "[" ROW("a@example.com", "50", "") "]",
     {{GET, 200, EXAM("free", "30", "3")}, {GET, 200, "{}"}, {UPDATE, 500, "{}"}}, 3,
     APP_EUNAVAILABLE, 0, NULL, NULL, 0},
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
        /* The result is written under its reserved word's name, on a confirmed seat: the
         * one the address's guard names, else the old-style id of the address. */
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[2], "\"#res\":\"result\""));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[2],
                                     "mockExamId = :exam AND #st = :confirmed"));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[1], "GUARD#written-1#"));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[2], HOLDER));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[4], "reg_"));
        ck_assert_ptr_null(strstr(e.ddb_stub.seen[4], HOLDER));
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

#define FIVE SCORED("1", "40", "false") "," SCORED("2", "80", "true") "," \
    SCORED("3", "55", "false") "," SCORED("4", "61", "true") "," SCORED("5", "70", "true")
#define TEN FIVE "," SCORED("6", "12", "false") "," SCORED("7", "99", "true") "," \
    SCORED("8", "66", "true") "," SCORED("9", "47", "false") "," SCORED("a", "58", "false")
#define COHORT(items, n) "{\"Items\":[" items "],\"Count\":" #n "}"
/* The published snapshot number seq of count results. */
#define SNAPSHOT(seq, count) \
    "{\"Item\":{\"mockExamId\":{\"S\":\"written-1\"},\"snapshot\":{\"N\":\"" seq "\"}," \
    "\"published\":{\"BOOL\":true},\"count\":{\"N\":\"" count "\"},\"mean\":{\"N\":\"61\"}," \
    "\"histogram\":{\"L\":[]},\"sections\":{\"M\":{}}," \
    "\"calculatedAt\":{\"S\":\"2026-01-14T12:00:00Z\"}}}"
#define MAILS5 {TXN, 200, "{}"}, {TXN, 200, "{}"}, {TXN, 200, "{}"}, {TXN, 200, "{}"}, \
    {TXN, 200, "{}"}

static const struct {
    const char *name;
    struct stub_reply ddb[20];
    size_t nddb;
    int rc;
    const char *has[5];           /* in the statistics answered */
    const char *put_has;          /* in the PutItem sent, or NULL: none sent */
    int withheld;                 /* 1: the emails have the mean, neither median nor pass rate */
} stats_cases[] = {
    {"a cohort under the minimum: not published, no figures, no email",
     {{GET, 200, EXAM("free", "30", "3")},
      {QUERY, 200, COHORT(SCORED("1", "40", "false") "," SCORED("2", "80", "true"), 2)},
      {GET, 200, "{}"}, {PUT, 200, "{}"}}, 4, APP_OK,
     {"\"published\":false", "\"outcome\":\"unpublished\"", "\"emailsQueued\":0",
      "\"minimumCohort\":5", "\"resultCount\":2"},
     "attribute_not_exists(mockExamId)", 0},
    {"issue 12 item 12: five results, the minimum: no order statistics, one band",
     {{GET, 200, EXAM("free", "30", "5")}, {QUERY, 200, COHORT(FIVE, 5)}, {GET, 200, "{}"},
      {PUT, 200, "{}"}, MAILS5}, 9, APP_OK,
     {"\"snapshot\":1,\"published\":true,\"count\":5,\"mean\":61,"
      "\"histogram\":[{\"from\":0,\"to\":100,\"count\":5}],\"orderStatisticsFrom\":20,"
      "\"median\":null,\"stddev\":null,\"min\":null,\"max\":null,\"p10\":null,\"p25\":null,"
      "\"p50\":null,\"p75\":null,\"p90\":null,\"passRate\":null,\"sections\":{}",
      "\"outcome\":\"published\"", "\"emailsQueued\":5", NULL},
     "attribute_not_exists(mockExamId)", 1},
    {"issue 12 item 12: one new result after a snapshot of five: the snapshot is kept",
     {{GET, 200, EXAM("free", "30", "6")},
      {QUERY, 200, COHORT(FIVE "," SCORED("6", "12", "false"), 6)},
      {GET, 200, SNAPSHOT("1", "5")}, MAILS5, {TXN, 200, "{}"}}, 9, APP_OK,
     {"\"outcome\":\"kept\"", "\"snapshot\":1", "\"count\":5", "\"newResults\":1",
      "\"resultCount\":6"},
     NULL, 0},
    {"five new after a snapshot of five: snapshot 2, written only over snapshot 1",
     {{GET, 200, EXAM("free", "30", "10")}, {QUERY, 200, COHORT(TEN, 10)},
      {GET, 200, SNAPSHOT("1", "5")}, {PUT, 200, "{}"}, MAILS5, MAILS5}, 14, APP_OK,
     {"\"outcome\":\"published\"", "\"snapshot\":2", "\"count\":10",
      "\"histogram\":[{\"from\":0,\"to\":59,\"count\":5},{\"from\":60,\"to\":100,\"count\":5}]",
      "\"newResults\":5"},
     "\"ConditionExpression\":\"#sn = :sn\"", 0},
    {"a run that lost the race decides again on what the other wrote",
     {{GET, 200, EXAM("free", "30", "5")}, {QUERY, 200, COHORT(FIVE, 5)}, {GET, 200, "{}"},
      {PUT, 400, CHECK_FAILED}, {GET, 200, SNAPSHOT("1", "5")}, MAILS5}, 10, APP_OK,
     {"\"outcome\":\"kept\"", "\"snapshot\":1", "\"newResults\":0", NULL, NULL},
     "attribute_not_exists(mockExamId)", 0},
    {"no result imported: 422",
     {{GET, 200, EXAM("free", "30", "3")}, {QUERY, 200, "{\"Items\":[],\"Count\":0}"}}, 2,
     APP_EUNPROCESSABLE, {NULL}, NULL, 0},
};

START_TEST(test_stats)
{
    struct json_object *st = NULL;
    const char *js, *put, *mail;
    struct stub_env e;
    size_t i;
    int rc;

    stub_env_start(&e, stats_cases[_i].ddb, stats_cases[_i].nddb, NULL, 0, NOW);
    rc = mock_stats_calculate(&e.ctx, "written-1", &st, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == stats_cases[_i].rc, "%s: rc %d (%s)", stats_cases[_i].name, rc,
                  e.err.msg);
    ck_assert_uint_eq(e.ddb_stub.nseen, stats_cases[_i].nddb);
    put = stub_sent(&e.ddb_stub, PUT);
    if (stats_cases[_i].put_has)
        ck_assert_msg(put && strstr(put, stats_cases[_i].put_has), "%s: %s",
                      stats_cases[_i].name, put ? put : "no PutItem");
    else
        ck_assert_msg(!put, "%s: a snapshot was written", stats_cases[_i].name);
    mail = stub_sent(&e.ddb_stub, "mock-results");
    if (stats_cases[_i].withheld)
        ck_assert_msg(mail && strstr(mail, "cohortMean\\\":\\\"61\\\"") &&
                      !strstr(mail, "cohortMedian") && !strstr(mail, "passRate"), "%s",
                      mail ? mail : "no email");
    if (rc == APP_OK) {
        js = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
        for (i = 0; i < 5 && stats_cases[_i].has[i]; i++)
            ck_assert_msg(strstr(js, stats_cases[_i].has[i]), "%s: no %s in %s",
                          stats_cases[_i].name, stats_cases[_i].has[i], js);
        ck_assert_ptr_nonnull(strstr(js, "\"minimumCohort\":5"));
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
    tcase_add_loop_test(tc, test_fulfil, 0, sizeof(ful_cases) / sizeof(ful_cases[0]));
    tcase_add_loop_test(tc, test_results, 0, sizeof(res_cases) / sizeof(res_cases[0]));
    tcase_add_loop_test(tc, test_stats, 0, sizeof(stats_cases) / sizeof(stats_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(mock_suite)
