/*
 * SaaS subscriptions (saas/subscription.c, saas/subscription_events.c) against stub
 * DynamoDB and Stripe servers (stub.h): the checkout's customer, condition and session, and
 * what each Stripe event writes, under which condition.  One case per row.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../saas/subscription.h"
#include "stub.h"
#include "unit.h"

#define NOW 1768478400              /* 2026-01-15T12:00:00Z */
#define USER "3f8e2a10-5b7c-4d2e-9a1f-0c6b8d4e2f11"
#define PRICES "price_basic_monthly=basic, price_pro_monthly=pro, price_solo"

#define GET "DynamoDB_20120810.GetItem"
#define TXN "DynamoDB_20120810.TransactWriteItems"
#define UPDATE "DynamoDB_20120810.UpdateItem"
#define NO_ITEM "{}"
#define PROFILE_WITH(cus) \
    "{\"Item\":{\"pk\":{\"S\":\"USER#" USER "\"},\"sk\":{\"S\":\"PROFILE\"}," \
    "\"email\":{\"S\":\"ana@example.com\"},\"stripeCustomerId\":{\"S\":\"" cus "\"}}}"
#define SUBSCRIPTION_IS(st) \
    "{\"Item\":{\"pk\":{\"S\":\"USER#" USER "\"},\"sk\":{\"S\":\"SUBSCRIPTION\"}," \
    "\"status\":{\"S\":\"" st "\"}}}"
#define MAPPING "{\"Item\":{\"pk\":{\"S\":\"CUSTOMER#cus_9\"},\"sk\":{\"S\":\"USER\"}," \
    "\"userId\":{\"S\":\"" USER "\"}}}"
#define TXN_REFUSED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\"," \
    "\"message\":\"cancelled\",\"CancellationReasons\":[{\"Code\":\"ConditionalCheckFailed\"}," \
    "{\"Code\":\"None\"},{\"Code\":\"None\"}]}"
#define REFUSED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\"," \
    "\"message\":\"The conditional request failed\"}"

#define CLAIM_ID "chk_0123456789abcdef01234567"
#define LATER "4102444800"          /* 2100: an expiry far ahead of the real clock */
/* A profile with customer cus_kept and extra members, e.g. CLAIM(...) SID(...) STALE(...). */
#define PROFILE(extra) \
    "{\"Item\":{\"pk\":{\"S\":\"USER#" USER "\"},\"sk\":{\"S\":\"PROFILE\"}," \
    "\"email\":{\"S\":\"ana@example.com\"},\"stripeCustomerId\":{\"S\":\"cus_kept\"}" extra "}}"
#define CLAIM(price, exp) ",\"checkoutClaim\":{\"S\":\"" CLAIM_ID "\"},\"checkoutPriceId\":" \
    "{\"S\":\"" price "\"},\"checkoutExpiresAt\":{\"N\":\"" exp "\"}"
#define SID(s) ",\"checkoutSessionId\":{\"S\":\"" s "\"}"
#define STALE(s) ",\"checkoutStaleSessions\":{\"SS\":[\"" s "\"]}"

#define POST_CUSTOMER "POST /v1/customers HTTP"
#define POST_SESSION "POST /v1/checkout/sessions HTTP"
#define GET_SESSION(id) "GET /v1/checkout/sessions/" id " HTTP"
#define EXPIRE(id) "POST /v1/checkout/sessions/" id "/expire HTTP"
#define CUSTOMER(id) "{\"id\":\"" id "\",\"object\":\"customer\"}"
#define SESSION "{\"id\":\"cs_test_sub\",\"object\":\"checkout.session\",\"url\":null," \
    "\"status\":\"open\",\"client_secret\":\"cs_test_sub_secret_abc\"}"
#define SESSION_IS(id, st) "{\"id\":\"" id "\",\"object\":\"checkout.session\",\"status\":\"" \
    st "\",\"client_secret\":\"" id "_secret_abc\"}"
#define NOT_OPEN "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Only " \
    "Checkout Sessions with a status in [\\\"open\\\"] can be expired.\"}}"
#define IN_PROGRESS "{\"error\":{\"type\":\"idempotency_error\",\"code\":" \
    "\"idempotency_key_in_use\",\"message\":\"in progress\"}}"
#define STRIPE_DOWN "{\"error\":{\"type\":\"api_error\",\"message\":\"down\"}}"

#define NEW_CLAIM "checkoutClaim = :claim, checkoutPriceId = :price, checkoutExpiresAt = :exp " \
    "REMOVE checkoutSessionId"
#define RECORD "SET checkoutSessionId = :sid"
#define RELEASE "REMOVE checkoutClaim, checkoutPriceId, checkoutExpiresAt\""
#define DROP_STALE "DELETE checkoutStaleSessions :s"

#define REFUSED_BY(st, why) \
    {st ": 409 " why ", no session", "price_pro_monthly", "ana@example.com", \
     {{GET, 200, PROFILE("")}, {TXN, 400, TXN_REFUSED}, {GET, 200, SUBSCRIPTION_IS(st)}}, 3, \
     {{NULL, 0, NULL}}, 0, APP_ECONFLICT, why, NULL, {{TXN, {"\"ConditionCheck\"", NULL}}}, \
     NULL}

struct want {                      /* a request sent to either stub, holding has[] */
    const char *what;
    const char *has[6];
};

static const struct {
    const char *name;
    const char *price;
    const char *email;
    struct stub_reply ddb[9];
    size_t nddb;
    struct stub_reply stripe[5];
    size_t nstripe;
    int rc;
    const char *reason;
    const char *answer;            /* the session answered (NULL: none) */
    struct want want[4];
    const char *frontend;          /* FRONTEND_URL, NULL: the default */
} checkout_cases[] = {
    {"a price off the list: 400 before anything is asked", "price_gold", "ana@example.com",
     {{NULL, 0, NULL}}, 0, {{NULL, 0, NULL}}, 0, APP_EVALIDATION, NULL, NULL, {{NULL, {NULL}}},
     NULL},
    {"a first checkout: the customer, a claim kept with it, the session, recorded",
     "price_pro_monthly", "ana@example.com",
     {{GET, 200, NO_ITEM}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_CUSTOMER, 200, CUSTOMER("cus_new")}, {POST_SESSION, 200, SESSION}}, 2,
     APP_OK, NULL, "cs_test_sub",
     {{POST_CUSTOMER, {"Idempotency-Key: customer-" USER, "email=ana%40example.com",
                       "metadata[userId]=" USER, NULL}},
      {TXN, {"\"ConditionCheck\"", "attribute_not_exists(#st) OR #st IN (:canceled, :expired, "
             ":inactive)", "(attribute_not_exists(stripeCustomerId) OR stripeCustomerId = :cus)"
             " AND attribute_not_exists(checkoutClaim)", NEW_CLAIM, "CUSTOMER#cus_new",
             "if_not_exists(email, :email)"}},
      {POST_SESSION, {"mode=subscription", "ui_mode=embedded", "return_url=https%3A%2F%2F"
                      "localhost%3A3000%2Fdashboard%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D",
                      "line_items[0][price]=price_pro_monthly&line_items[0][quantity]=1&"
                      "customer=cus_new&client_reference_id=" USER "&metadata[userId]=" USER,
                      "subscription_data[metadata][userId]=" USER "&subscription_data[metadata]"
                      "[planId]=pro&expires_at=", "Idempotency-Key: subscribe-" USER "-chk_"}},
      {RECORD, {"checkoutClaim = :claim AND (attribute_not_exists(checkoutSessionId) OR "
                "checkoutSessionId = :sid)", ":sid\":{\"S\":\"cs_test_sub\"}", NULL}}}, NULL},
    {"a token without an email: the profile's is used", "price_solo", "",
     {{GET, 200, "{\"Item\":{\"email\":{\"S\":\"bo@example.com\"}}}"}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}}, 3,
     {{POST_CUSTOMER, 200, CUSTOMER("cus_bo")}, {POST_SESSION, 200, SESSION}}, 2,
     APP_OK, NULL, "cs_test_sub",
     {{POST_CUSTOMER, {"email=bo%40example.com", NULL}}, {TXN, {"CUSTOMER#cus_bo", NULL}},
      {POST_SESSION, {"metadata[planId]=price_solo", NULL}}}, NULL},
    {"the profile has its customer: none made", "price_basic_monthly", "ana@example.com",
     {{GET, 200, PROFILE("")}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, "cs_test_sub",
     {{TXN, {"CUSTOMER#cus_kept", ":cus\":{\"S\":\"cus_kept\"}", NULL}},
      {POST_SESSION, {"customer=cus_kept", "metadata[planId]=basic", NULL}}}, NULL},
    REFUSED_BY("active", "ALREADY_SUBSCRIBED"),
    REFUSED_BY("trialing", "ALREADY_SUBSCRIBED"),
    REFUSED_BY("past_due", "SUBSCRIPTION_PAST_DUE"),
    REFUSED_BY("unpaid", "SUBSCRIPTION_UNPAID"),
    REFUSED_BY("incomplete", "SUBSCRIPTION_INCOMPLETE"),
    REFUSED_BY("paused", "SUBSCRIPTION_PAUSED"),
    REFUSED_BY("a_status_to_come", "ALREADY_SUBSCRIBED"),
    {"another checkout kept its customer first: that one is used",
     "price_pro_monthly", "ana@example.com",
     {{GET, 200, NO_ITEM}, {TXN, 400, TXN_REFUSED}, {GET, 200, SUBSCRIPTION_IS("canceled")},
      {GET, 200, PROFILE_WITH("cus_first")}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 6,
     {{POST_CUSTOMER, 200, CUSTOMER("cus_second")}, {POST_SESSION, 200, SESSION}}, 2,
     APP_OK, NULL, "cs_test_sub", {{TXN, {"CUSTOMER#cus_second", NULL}},
                                   {POST_SESSION, {"customer=cus_first", NULL}}}, NULL},
    {"a concurrent checkout claimed the same price first: its claim, key and expiry are used",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE("")}, {TXN, 400, TXN_REFUSED}, {GET, 200, NO_ITEM},
      {GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER))}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}}, 6, {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, "cs_test_sub",
     {{"stripeCustomerId = :cus) AND checkoutClaim = :old\"", {"\":old\":{\"S\":\"" CLAIM_ID,
                                                               NULL}},
      {POST_SESSION, {"expires_at=" LATER, "Idempotency-Key: subscribe-" USER "-" CLAIM_ID,
                      NULL}}}, NULL},
    {"the same price again while its session is open: that session, read again",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER) SID("cs_open"))}, {TXN, 200, "{}"}},
     2, {{GET_SESSION("cs_open"), 200, SESSION_IS("cs_open", "open")}}, 1, APP_OK, NULL,
     "cs_open", {{TXN, {"checkoutClaim = :old AND checkoutSessionId = :oldsid\"", NULL}}},
     NULL},
    {"its session was paid, its events not here yet: 409, nothing made",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER) SID("cs_paid"))}, {TXN, 200, "{}"}},
     2, {{GET_SESSION("cs_paid"), 200, SESSION_IS("cs_paid", "complete")}}, 1, APP_ECONFLICT,
     "CHECKOUT_ALREADY_PAID", NULL, {{NULL, {NULL}}}, NULL},
    {"its session expired early: a new claim, the old one closed",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER) SID("cs_gone"))}, {TXN, 200, "{}"},
      {GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER) SID("cs_gone"))}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}, {UPDATE, 400, REFUSED}}, 6,
     {{GET_SESSION("cs_gone"), 200, SESSION_IS("cs_gone", "expired")},
      {POST_SESSION, 200, SESSION}, {EXPIRE("cs_gone"), 400, NOT_OPEN},
      {GET_SESSION("cs_gone"), 200, SESSION_IS("cs_gone", "expired")}}, 4, APP_OK, NULL,
     "cs_test_sub", {{"ADD checkoutStaleSessions :stale", {NEW_CLAIM, "checkoutClaim = :old AND "
                      "checkoutSessionId = :oldsid", "{\"SS\":[\"cs_gone\"]}", NULL}},
                     {DROP_STALE, {"contains(checkoutStaleSessions, :sid)", NULL}}}, NULL},
    {"its session is about to expire: a new claim", "price_pro_monthly", "",
     {{GET, 200, PROFILE(CLAIM("price_pro_monthly", "1000") SID("cs_old"))}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}, {UPDATE, 200, "{}"}}, 4,
     {{POST_SESSION, 200, SESSION}, {EXPIRE("cs_old"), 200, SESSION_IS("cs_old", "expired")}},
     2, APP_OK, NULL, "cs_test_sub", {{TXN, {NEW_CLAIM, NULL}}}, NULL},
    {"another price while one is open: the new session recorded, then the old one expired",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE(CLAIM("price_basic_monthly", LATER) SID("cs_old"))}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}, {UPDATE, 200, "{}"}}, 4,
     {{POST_SESSION, 200, SESSION}, {EXPIRE("cs_old"), 200, SESSION_IS("cs_old", "expired")}},
     2, APP_OK, NULL, "cs_test_sub",
     {{TXN, {NEW_CLAIM " ADD checkoutStaleSessions :stale", NULL}},
      {EXPIRE("cs_old"), {"Idempotency-Key: expire-cs_old", NULL}},
      {DROP_STALE, {"{\"SS\":[\"cs_old\"]}", NULL}}}, NULL},
    {"another price while one is open, that one paid: 409 and the new one expired too",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE(CLAIM("price_basic_monthly", LATER) SID("cs_old"))}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}, {UPDATE, 400, REFUSED}}, 4,
     {{POST_SESSION, 200, SESSION}, {EXPIRE("cs_old"), 400, NOT_OPEN},
      {GET_SESSION("cs_old"), 200, SESSION_IS("cs_old", "complete")},
      {EXPIRE("cs_test_sub"), 200, SESSION_IS("cs_test_sub", "expired")}}, 4, APP_ECONFLICT,
     "CHECKOUT_ALREADY_PAID", NULL, {{DROP_STALE, {"cs_test_sub", NULL}}}, NULL},
    {"a replaced session still on the profile, paid: 409 before anything is made",
     "price_pro_monthly", "", {{GET, 200, PROFILE(STALE("cs_paid"))}}, 1,
     {{EXPIRE("cs_paid"), 400, NOT_OPEN},
      {GET_SESSION("cs_paid"), 200, SESSION_IS("cs_paid", "complete")}}, 2, APP_ECONFLICT,
     "CHECKOUT_ALREADY_PAID", NULL, {{NULL, {NULL}}}, NULL},
    {"a replaced session still on the profile, open: expired first, then the checkout",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE(STALE("cs_stale"))}, {UPDATE, 200, "{}"}, {TXN, 200, "{}"},
      {UPDATE, 200, "{}"}}, 4,
     {{EXPIRE("cs_stale"), 200, SESSION_IS("cs_stale", "expired")},
      {POST_SESSION, 200, SESSION}}, 2, APP_OK, NULL, "cs_test_sub",
     {{DROP_STALE, {"{\"SS\":[\"cs_stale\"]}", NULL}}}, NULL},
    {"the claim moved on before the session was recorded: it is closed, the profile read again",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE("")}, {TXN, 200, "{}"}, {UPDATE, 400, REFUSED}, {UPDATE, 400, REFUSED},
      {GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER) SID("cs_open"))}, {TXN, 200, "{}"}},
     6, {{POST_SESSION, 200, SESSION}, {EXPIRE("cs_test_sub"), 200, "{}"},
         {GET_SESSION("cs_open"), 200, SESSION_IS("cs_open", "open")}}, 3, APP_OK, NULL,
     "cs_open", {{NULL, {NULL}}}, NULL},
    {"the claim's session being made by another checkout: the profile read again",
     "price_pro_monthly", "",
     {{GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER))}, {TXN, 200, "{}"},
      {GET, 200, PROFILE(CLAIM("price_pro_monthly", LATER) SID("cs_open"))}, {TXN, 200, "{}"}},
     4, {{POST_SESSION, 409, IN_PROGRESS},
         {GET_SESSION("cs_open"), 200, SESSION_IS("cs_open", "open")}}, 2, APP_OK, NULL,
     "cs_open", {{NULL, {NULL}}}, NULL},
    {"FRONTEND_URL with a slash at its end: one slash before the path", "price_pro_monthly",
     "", {{GET, 200, PROFILE("")}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, "cs_test_sub",
     {{POST_SESSION, {"return_url=https%3A%2F%2Fapp.example%2Fdashboard%3Fsession_id", NULL}}},
     "https://app.example//"},
    {"Stripe down for the session: its code, and the claim given up", "price_pro_monthly", "",
     {{GET, 200, PROFILE("")}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 500, STRIPE_DOWN}}, 1, APP_EUPSTREAM, NULL, NULL,
     {{RELEASE, {"checkoutClaim = :claim AND attribute_not_exists(checkoutSessionId)", NULL}}},
     NULL},
    {"a session without a client secret is not answered", "price_pro_monthly", "",
     {{GET, 200, PROFILE("")}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, "{\"id\":\"cs_x\",\"url\":\"https://x\"}"}}, 1, APP_EUPSTREAM,
     NULL, NULL, {{RELEASE, {NULL}}}, NULL},
};

/* The request of either stub holding what (DynamoDB's first), or NULL. */
static const char *
sent_to_either(const struct stub_env *e, const char *what)
{
    const char *got = stub_sent(&e->ddb_stub, what);

    return got ? got : stub_sent(&e->stripe_stub, what);
}

START_TEST(test_checkout)
{
    struct saas_checkout out;
    struct stub_env e;
    const struct want *w;
    const char *sent;
    size_t i, j;
    int rc;

    setenv("STRIPE_SUBSCRIPTION_PRICES", PRICES, 1);
    if (checkout_cases[_i].frontend)
        setenv("FRONTEND_URL", checkout_cases[_i].frontend, 1);
    else
        unsetenv("FRONTEND_URL");
    stub_env_start(&e, checkout_cases[_i].ddb, checkout_cases[_i].nddb,
                   checkout_cases[_i].stripe, checkout_cases[_i].nstripe, NOW);
    rc = saas_checkout(&e.ctx, USER, checkout_cases[_i].email, checkout_cases[_i].price, &out,
                       &e.err);
    stub_env_stop(&e);
    stub_env_expect(&e, checkout_cases[_i].name, rc, checkout_cases[_i].rc,
                    checkout_cases[_i].reason, checkout_cases[_i].nddb,
                    checkout_cases[_i].nstripe);
    for (i = 0; i < 4 && checkout_cases[_i].want[i].what; i++) {
        w = &checkout_cases[_i].want[i];
        sent = sent_to_either(&e, w->what);
        ck_assert_msg(sent, "%s: no %s sent", checkout_cases[_i].name, w->what);
        for (j = 0; j < 6 && w->has[j]; j++)
            ck_assert_msg(strstr(sent, w->has[j]), "%s: no %s in %s", checkout_cases[_i].name,
                          w->has[j], sent);
    }
    for (i = 0; i < e.stripe_stub.nseen; i++) {
        /* the user's email never goes into a session, nor a secret anywhere */
        if (strstr(e.stripe_stub.seen[i], POST_SESSION))
            ck_assert_ptr_null(strstr(stub_body(e.stripe_stub.seen[i]), "example.com"));
    }
    for (i = 0; i < e.ddb_stub.nseen; i++)
        ck_assert_ptr_null(strstr(e.ddb_stub.seen[i], "_secret_"));
    if (checkout_cases[_i].answer) {
        ck_assert_str_eq(out.session_id, checkout_cases[_i].answer);
        ck_assert_ptr_nonnull(strstr(out.client_secret, "_secret_abc"));
        ck_assert_int_eq(strncmp(out.client_secret, out.session_id, strlen(out.session_id)), 0);
    } else {
        ck_assert_str_eq(out.session_id, "");
        ck_assert_str_eq(out.client_secret, "");
    }
    if (rc == APP_EVALIDATION)
        ck_assert_str_eq(e.err.field, "priceId");
    stub_env_free(&e);
}
END_TEST

#define SUB(status, extra) \
    "{\"id\":\"sub_1\",\"object\":\"subscription\",\"customer\":\"cus_9\",\"status\":\"" \
    status "\",\"current_period_start\":1768478400,\"current_period_end\":1771156800," \
    "\"cancel_at_period_end\":false,\"items\":{\"object\":\"list\",\"data\":[{\"id\":\"si_1\"," \
    "\"price\":{\"id\":\"price_pro_monthly\",\"recurring\":{\"interval\":\"month\"}}}]}" extra "}"
#define META ",\"metadata\":{\"userId\":\"" USER "\"}"
#define INVOICE(extra) \
    "{\"id\":\"in_1\",\"object\":\"invoice\",\"customer\":\"cus_9\",\"subscription\":\"sub_1\"," \
    "\"billing_reason\":\"subscription_cycle\",\"subscription_details\":{\"metadata\":" \
    "{\"userId\":\"" USER "\"}},\"lines\":{\"data\":[{\"type\":\"invoiceitem\",\"period\":" \
    "{\"start\":1,\"end\":2}},{\"type\":\"subscription\",\"period\":{\"start\":1771156800," \
    "\"end\":1773576000}}]}" extra "}"
#define SESSION_DONE(paid, extra) \
    "{\"id\":\"cs_1\",\"object\":\"checkout.session\",\"mode\":\"subscription\"," \
    "\"created\":1768478300,\"customer\":\"cus_9\",\"subscription\":\"sub_1\"," \
    "\"payment_status\":\"" paid "\",\"client_reference_id\":\"" USER "\"," \
    "\"metadata\":{\"userId\":\"" USER "\",\"priceId\":\"price_pro_monthly\"}" extra "}"
#define SESSION_GONE(extra) \
    "{\"id\":\"cs_1\",\"object\":\"checkout.session\",\"mode\":\"subscription\"," \
    "\"status\":\"expired\",\"customer\":\"cus_9\",\"metadata\":{}" extra "}"
#define CLOSE_IT "REMOVE checkoutClaim"
#define CLOSED {CLOSE_IT, 200, "{}"}
#define ROW_KEY "\"pk\":{\"S\":\"USER#" USER "\"},\"sk\":{\"S\":\"SUBSCRIPTION\"}"
#define NEWEST "(attribute_not_exists(eventCreated) OR eventCreated < :c"
#define NO_RETURN "AND NOT (stripeSubscriptionId = :sub AND #st IN (:canceled, :expired))"

static const struct {
    const char *name;
    const char *type;
    const char *obj;
    struct stub_reply ddb[5];
    size_t nddb;
    const char *what;              /* the DynamoDB request holding want (NULL: none) */
    const char *want[8];
    const char *not_sent;          /* in no request (NULL: no check) */
} event_cases[] = {
    {"updated: the whole state, newest wins (ties too), an ended one never comes back",
     "customer.subscription.updated", SUB("active", META), {{UPDATE, 200, "{}"}}, 1, UPDATE,
     {ROW_KEY, ":st\":{\"S\":\"active\"}", "priceId = :price, planId = :plan",
      ":plan\":{\"S\":\"pro\"}", ":ps\":{\"S\":\"2026-01-15T12:00:00Z\"}",
      ":pe\":{\"S\":\"2026-02-15T12:00:00Z\"}",
      NEWEST " OR eventCreated = :c) " NO_RETURN,
      ":cancel\":{\"BOOL\":false}"}, NULL},
    {"deleted: canceled; of the same second, only over its own or another ended one",
     "customer.subscription.deleted", SUB("canceled", META), {{UPDATE, 200, "{}"}}, 1, UPDATE,
     {":st\":{\"S\":\"canceled\"}", NEWEST " OR (eventCreated = :c AND (stripeSubscriptionId"
      " = :sub OR #st IN (:canceled, :expired))))\"", NULL}, NO_RETURN},
    {"deleted names the subscription's last status: canceled all the same",
     "customer.subscription.deleted", SUB("past_due", META), {{UPDATE, 200, "{}"}}, 1, UPDATE,
     {":st\":{\"S\":\"canceled\"}", NULL}, NULL},
    {"created incomplete: of the same second, only over itself or another ended one",
     "customer.subscription.created", SUB("incomplete", META), {{UPDATE, 200, "{}"}}, 1,
     UPDATE, {NEWEST " OR (eventCreated = :c AND (#st = :incomplete OR (stripeSubscriptionId"
      " <> :sub AND #st IN (:canceled, :expired))))) " NO_RETURN, NULL},
     NULL},
    {"an older event: the condition refuses it, acknowledged",
     "customer.subscription.updated", SUB("past_due", META), {{UPDATE, 400, REFUSED}}, 1,
     UPDATE, {":st\":{\"S\":\"past_due\"}", NULL}, NULL},
    {"no metadata: the customer's mapping names the user",
     "customer.subscription.updated", SUB("active", ""),
     {{GET, 200, MAPPING}, {UPDATE, 200, "{}"}}, 2, UPDATE, {ROW_KEY, NULL}, NULL},
    {"no metadata, no mapping: logged and acknowledged, nothing written",
     "customer.subscription.updated", SUB("active", ""), {{GET, 200, NO_ITEM}}, 1, GET,
     {"CUSTOMER#cus_9", "\"USER\"", NULL}, "UpdateItem"},
    {"a status Stripe does not have: ignored", "customer.subscription.updated",
     SUB("mystery", META), {{NULL, 0, NULL}}, 0, NULL, {NULL}, NULL},
    {"invoice.paid: the subscription line's period, active, on the row's own subscription",
     "invoice.paid", INVOICE(",\"amount_paid\":4900"), {{UPDATE, 200, "{}"}}, 1, UPDATE,
     {ROW_KEY, ":ps\":{\"S\":\"2026-02-15T12:00:00Z\"}", ":pe\":{\"S\":\"2026-03-15T12:00:00Z\"}",
      "#st = :active", "stripeSubscriptionId = :sub AND eventCreated <= :c AND "
      "NOT (#st IN (:canceled, :expired))", NULL}, NULL},
    {"invoice.paid of nothing (a trial): the period only", "invoice.paid",
     INVOICE(",\"amount_paid\":0"), {{UPDATE, 200, "{}"}}, 1, UPDATE,
     {"currentPeriodEnd = :pe", NULL}, ":active"},
    {"invoice.payment_failed: past_due, only from a live state not newer",
     "invoice.payment_failed", INVOICE(""), {{UPDATE, 400, REFUSED}}, 1, UPDATE,
     {"#st = :past_due", "stripeSubscriptionId = :sub AND eventCreated <= :c AND "
      "#st IN (:active, :trialing, :past_due)", NULL}, "currentPeriod"},
    {"an invoice of no subscription: nothing", "invoice.paid",
     "{\"id\":\"in_2\",\"object\":\"invoice\",\"customer\":\"cus_9\",\"subscription\":null}",
     {{NULL, 0, NULL}}, 0, NULL, {NULL}, NULL},
    {"checkout completed, the row has its subscription: linked only",
     "checkout.session.completed", SESSION_DONE("paid", ""), {{UPDATE, 200, "{}"}, CLOSED}, 2,
     UPDATE, {"SET checkoutCompletedAt = :now", "\"ConditionExpression\":\"stripeSubscriptionId"
      " = :sub\"", "if_not_exists(priceId, :price)", NULL}, "#st"},
    {"checkout completed first: active, as of the session's creation, over another one",
     "checkout.session.completed", SESSION_DONE("paid", ""),
     {{UPDATE, 400, REFUSED}, {UPDATE, 200, "{}"}, CLOSED}, 3, "#st = :st",
     {":st\":{\"S\":\"active\"}", ":c\":{\"N\":\"1768478300\"}", "checkoutCompletedAt = :now",
      "(attribute_not_exists(stripeSubscriptionId) OR stripeSubscriptionId <> :sub)", NULL},
     NULL},
    {"checkout completed, async payment processing: incomplete",
     "checkout.session.completed", SESSION_DONE("unpaid", ""),
     {{UPDATE, 400, REFUSED}, {UPDATE, 200, "{}"}, CLOSED}, 3, "#st = :st",
     {":st\":{\"S\":\"incomplete\"}", NULL}, NULL},
    {"checkout completed after a newer state: acknowledged after three tries",
     "checkout.session.completed", SESSION_DONE("paid", ""),
     {{UPDATE, 400, REFUSED}, {UPDATE, 400, REFUSED}, {UPDATE, 400, REFUSED}, CLOSED}, 4, NULL,
     {NULL}, NULL},
    {"checkout completed: then the profile's open checkout, if it is this session, cleared",
     "checkout.session.completed", SESSION_DONE("paid", ""), {{UPDATE, 200, "{}"}, CLOSED}, 2,
     CLOSE_IT, {"\"sk\":{\"S\":\"PROFILE\"}", "REMOVE checkoutClaim, checkoutPriceId, "
      "checkoutExpiresAt, checkoutSessionId DELETE checkoutStaleSessions :s",
      "\"ConditionExpression\":\"checkoutSessionId = :sid\"", ":sid\":{\"S\":\"cs_1\"}",
      ":s\":{\"SS\":[\"cs_1\"]}", NULL}, NULL},
    {"a subscription session expired, the profile names another: off the stale ones only",
     "checkout.session.expired", SESSION_GONE(",\"client_reference_id\":\"" USER "\""),
     {{UPDATE, 400, REFUSED}, {UPDATE, 400, REFUSED}}, 2, "contains(",
     {"DELETE checkoutStaleSessions :s\"", "contains(checkoutStaleSessions, :sid)",
      "PROFILE", NULL}, "SUBSCRIPTION"},
    {"a subscription session expired, no user in it: the customer's mapping names the user",
     "checkout.session.expired", SESSION_GONE(""),
     {{GET, 200, MAPPING}, CLOSED}, 2, CLOSE_IT, {"USER#" USER, NULL}, NULL},
    {"a payment-mode session is not ours", "checkout.session.completed",
     "{\"id\":\"cs_2\",\"mode\":\"payment\",\"metadata\":{\"userId\":\"u\"}}",
     {{NULL, 0, NULL}}, 0, NULL, {NULL}, NULL},
    {"nor is its expiry", "checkout.session.expired",
     "{\"id\":\"cs_2\",\"mode\":\"payment\",\"metadata\":{\"userId\":\"u\"}}",
     {{NULL, 0, NULL}}, 0, NULL, {NULL}, NULL},
};

START_TEST(test_events)
{
    struct json_object *obj = json_tokener_parse(event_cases[_i].obj);
    struct stub_env e;
    size_t i;
    int rc;

    ck_assert_ptr_nonnull(obj);
    setenv("STRIPE_SUBSCRIPTION_PRICES", PRICES, 1);
    stub_env_start(&e, event_cases[_i].ddb, event_cases[_i].nddb, NULL, 0, NOW);
    rc = saas_subscription_event(&e.ctx, event_cases[_i].type, obj, 1768478460, &e.err);
    stub_env_stop(&e);
    stub_env_expect(&e, event_cases[_i].name, rc, APP_OK, NULL, event_cases[_i].nddb, 0);
    if (event_cases[_i].what)
        stub_expect_sent(&e.ddb_stub, event_cases[_i].name, event_cases[_i].what,
                         event_cases[_i].want, 8);
    for (i = 0; event_cases[_i].not_sent && i < e.ddb_stub.nseen; i++)
        ck_assert_msg(!strstr(e.ddb_stub.seen[i], event_cases[_i].not_sent), "%s: %s sent",
                      event_cases[_i].name, event_cases[_i].not_sent);
    stub_env_free(&e);
    json_object_put(obj);
}
END_TEST

/* DynamoDB failing is the webhook's 503 (Stripe retries), never an acknowledgement. */
START_TEST(test_event_store_down)
{
    static const struct stub_reply down[] = {
        {UPDATE, 500, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\"}"},
    };
    struct json_object *obj = json_tokener_parse(SUB("active", META));
    struct stub_env e;
    int rc;

    stub_env_start(&e, down, 1, NULL, 0, NOW);
    rc = saas_subscription_event(&e.ctx, "customer.subscription.updated", obj, 1, &e.err);
    stub_env_stop(&e);
    ck_assert_int_ne(rc, APP_OK);
    ck_assert_int_ne(rc, APP_ECONDITION);
    stub_env_free(&e);
    json_object_put(obj);
}
END_TEST

static const struct {
    const char *list;
    int ok;
    const char *price;
    const char *plan;              /* NULL: not on the list */
} price_cases[] = {
    {"", 1, "price_basic", NULL},
    {"price_basic", 1, "price_basic", "price_basic"},
    {"price_basic=basic,price_pro=pro", 1, "price_pro", "pro"},
    {" price_basic = basic , price_pro ", 1, "price_pro", "price_pro"},
    {"price_basic=basic", 1, "price_bas", NULL},
    {"price_basic=basic", 1, "price_basic=basic", NULL},
    {"price_a=team-plan.v2", 1, "price_a", "team-plan.v2"},
    {"price_basic,", 0, "price_basic", NULL},
    {"price_basic,,price_pro", 0, "price_pro", NULL},
    {"price_basic=", 0, "price_basic", NULL},
    {"price basic", 0, "price", NULL},
    {"price_a,price_b,price_a", 0, "price_b", NULL},
    {"price_a=x y", 0, "price_a", NULL},
    {"price-a", 0, "price-a", NULL},
};

START_TEST(test_price_list)
{
    const char *why = NULL;
    char plan[PRICELIST_PLAN_MAX + 1] = "";
    int found;

    ck_assert_msg((pricelist_check(price_cases[_i].list, &why) == 0) == price_cases[_i].ok,
                  "'%s': %s", price_cases[_i].list, why ? why : "accepted");
    ck_assert(price_cases[_i].ok || why);
    found = pricelist_find(price_cases[_i].list, price_cases[_i].price, plan, sizeof(plan));
    ck_assert_int_eq(found, !!price_cases[_i].plan);
    if (found)
        ck_assert_str_eq(plan, price_cases[_i].plan);
}
END_TEST

static Suite *
saas_subscription_suite(void)
{
    Suite *s = suite_create("saas_subscription");
    TCase *tc = tcase_create("checkout");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_checkout, 0, sizeof(checkout_cases) / sizeof(checkout_cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("events");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_events, 0, sizeof(event_cases) / sizeof(event_cases[0]));
    tcase_add_test(tc, test_event_store_down);
    suite_add_tcase(s, tc);
    tc = tcase_create("price_list");
    tcase_add_loop_test(tc, test_price_list, 0, sizeof(price_cases) / sizeof(price_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(saas_subscription_suite)
