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

#define POST_CUSTOMER "POST /v1/customers HTTP"
#define POST_SESSION "POST /v1/checkout/sessions HTTP"
#define CUSTOMER(id) "{\"id\":\"" id "\",\"object\":\"customer\"}"
#define SESSION "{\"id\":\"cs_test_sub\",\"object\":\"checkout.session\",\"url\":null," \
    "\"client_secret\":\"cs_test_sub_secret_abc\"}"
#define STRIPE_DOWN "{\"error\":{\"type\":\"api_error\",\"message\":\"down\"}}"

static const struct {
    const char *name;
    const char *price;
    const char *email;
    struct stub_reply ddb[6];
    size_t nddb;
    struct stub_reply stripe[2];
    size_t nstripe;
    int rc;
    const char *reason;
    const char *customer[4];       /* POST /v1/customers holds these (none: not sent) */
    const char *txn[6];            /* the first TransactWriteItems holds these */
    const char *session[12];       /* POST /v1/checkout/sessions holds these */
    const char *frontend;          /* FRONTEND_URL, NULL: the default */
} checkout_cases[] = {
    {"a price off the list: 400 before anything is asked", "price_gold", "ana@example.com",
     {{NULL, 0, NULL}}, 0, {{NULL, 0, NULL}}, 0, APP_EVALIDATION, NULL,
     {NULL}, {NULL}, {NULL}, NULL},
    {"a first checkout: the customer made, kept with its mapping, then the session",
     "price_pro_monthly", "ana@example.com",
     {{GET, 200, NO_ITEM}, {TXN, 200, "{}"}}, 2,
     {{POST_CUSTOMER, 200, CUSTOMER("cus_new")}, {POST_SESSION, 200, SESSION}}, 2,
     APP_OK, NULL,
     {"Idempotency-Key: customer-" USER, "email=ana%40example.com",
      "metadata[userId]=" USER, NULL},
     {"\"ConditionCheck\"", "attribute_not_exists(#st) OR NOT (#st IN (:active, :trialing))",
      "attribute_not_exists(stripeCustomerId) OR stripeCustomerId = :cus",
      "CUSTOMER#cus_new", "attribute_not_exists(userId) OR userId = :u",
      "if_not_exists(email, :email)"},
     {"mode=subscription", "ui_mode=embedded",
      "return_url=https%3A%2F%2Flocalhost%3A3000%2Fdashboard%3Fsession_id%3D"
      "%7BCHECKOUT_SESSION_ID%7D", "line_items[0][price]=price_pro_monthly",
      "customer=cus_new", "client_reference_id=" USER, "metadata[userId]=" USER,
      "subscription_data[metadata][userId]=" USER, "metadata[planId]=pro",
      "Idempotency-Key: subscribe-" USER "-", NULL}, NULL},
    {"a token without an email: the profile's is used", "price_solo", "",
     {{GET, 200, "{\"Item\":{\"email\":{\"S\":\"bo@example.com\"}}}"}, {TXN, 200, "{}"}}, 2,
     {{POST_CUSTOMER, 200, CUSTOMER("cus_bo")}, {POST_SESSION, 200, SESSION}}, 2,
     APP_OK, NULL, {"email=bo%40example.com", NULL}, {"CUSTOMER#cus_bo", NULL},
     {"metadata[planId]=price_solo", NULL}, NULL},
    {"the profile has its customer: none made", "price_basic_monthly", "ana@example.com",
     {{GET, 200, PROFILE_WITH("cus_kept")}, {TXN, 200, "{}"}}, 2,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL,
     {NULL}, {"CUSTOMER#cus_kept", ":cus\":{\"S\":\"cus_kept\"}", NULL},
     {"customer=cus_kept", "metadata[planId]=basic", NULL}, NULL},
    {"subscribed already: 409 and no session", "price_pro_monthly", "ana@example.com",
     {{GET, 200, PROFILE_WITH("cus_kept")}, {TXN, 400, TXN_REFUSED},
      {GET, 200, SUBSCRIPTION_IS("active")}}, 3, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "ALREADY_SUBSCRIBED", {NULL}, {"\"ConditionCheck\"", NULL}, {NULL}, NULL},
    {"trialing counts as subscribed", "price_pro_monthly", "ana@example.com",
     {{GET, 200, PROFILE_WITH("cus_kept")}, {TXN, 400, TXN_REFUSED},
      {GET, 200, SUBSCRIPTION_IS("trialing")}}, 3, {{NULL, 0, NULL}}, 0,
     APP_ECONFLICT, "ALREADY_SUBSCRIBED", {NULL}, {"\"ConditionCheck\"", NULL}, {NULL}, NULL},
    {"another checkout kept its customer first: that one is used",
     "price_pro_monthly", "ana@example.com",
     {{GET, 200, NO_ITEM}, {TXN, 400, TXN_REFUSED}, {GET, 200, SUBSCRIPTION_IS("canceled")},
      {GET, 200, PROFILE_WITH("cus_first")}, {TXN, 200, "{}"}}, 5,
     {{POST_CUSTOMER, 200, CUSTOMER("cus_second")}, {POST_SESSION, 200, SESSION}}, 2,
     APP_OK, NULL, {"customer-" USER, NULL}, {"CUSTOMER#cus_second", NULL},
     {"customer=cus_first", NULL}, NULL},
    {"FRONTEND_URL with a slash at its end: one slash before the path", "price_pro_monthly",
     "", {{GET, 200, PROFILE_WITH("cus_kept")}, {TXN, 200, "{}"}}, 2,
     {{POST_SESSION, 200, SESSION}}, 1, APP_OK, NULL, {NULL}, {NULL},
     {"return_url=https%3A%2F%2Fapp.example%2Fdashboard%3Fsession_id", NULL},
     "https://app.example//"},
    {"Stripe down for the session: its code, nothing more", "price_pro_monthly", "",
     {{GET, 200, PROFILE_WITH("cus_kept")}, {TXN, 200, "{}"}}, 2,
     {{POST_SESSION, 500, STRIPE_DOWN}}, 1, APP_EUPSTREAM, NULL, {NULL}, {NULL, NULL},
     {"mode=subscription", NULL}, NULL},
    {"a session without a client secret is not answered", "price_pro_monthly", "",
     {{GET, 200, PROFILE_WITH("cus_kept")}, {TXN, 200, "{}"}}, 2,
     {{POST_SESSION, 200, "{\"id\":\"cs_x\",\"url\":\"https://x\"}"}}, 1, APP_EUPSTREAM,
     NULL, {NULL}, {NULL}, {"mode=subscription", NULL}, NULL},
};

START_TEST(test_checkout)
{
    struct saas_checkout out;
    struct stub_env e;
    const char *sent;
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
    stub_expect_sent(&e.stripe_stub, checkout_cases[_i].name, POST_CUSTOMER,
                     checkout_cases[_i].customer, 4);
    if (checkout_cases[_i].txn[0])
        stub_expect_sent(&e.ddb_stub, checkout_cases[_i].name, TXN, checkout_cases[_i].txn, 6);
    sent = stub_expect_sent(&e.stripe_stub, checkout_cases[_i].name, POST_SESSION,
                            checkout_cases[_i].session, 12);
    if (sent)                      /* the user's email never goes into a session */
        ck_assert_ptr_null(strstr(stub_body(sent), "example.com"));
    if (rc == APP_OK) {
        ck_assert_str_eq(out.session_id, "cs_test_sub");
        ck_assert_str_eq(out.client_secret, "cs_test_sub_secret_abc");
    } else {
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
#define ROW_KEY "\"pk\":{\"S\":\"USER#" USER "\"},\"sk\":{\"S\":\"SUBSCRIPTION\"}"
#define NEWEST "(attribute_not_exists(eventCreated) OR eventCreated < :c"
#define NO_RETURN "AND NOT (stripeSubscriptionId = :sub AND #st IN (:canceled, :expired))"

static const struct {
    const char *name;
    const char *type;
    const char *obj;
    struct stub_reply ddb[3];
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
     "checkout.session.completed", SESSION_DONE("paid", ""), {{UPDATE, 200, "{}"}}, 1, UPDATE,
     {"SET checkoutCompletedAt = :now", "\"ConditionExpression\":\"stripeSubscriptionId = :sub\"",
      "if_not_exists(priceId, :price)", NULL}, "#st"},
    {"checkout completed first: active, as of the session's creation, over another one",
     "checkout.session.completed", SESSION_DONE("paid", ""),
     {{UPDATE, 400, REFUSED}, {UPDATE, 200, "{}"}}, 2, "#st = :st",
     {":st\":{\"S\":\"active\"}", ":c\":{\"N\":\"1768478300\"}", "checkoutCompletedAt = :now",
      "(attribute_not_exists(stripeSubscriptionId) OR stripeSubscriptionId <> :sub)", NULL},
     NULL},
    {"checkout completed, async payment processing: incomplete",
     "checkout.session.completed", SESSION_DONE("unpaid", ""),
     {{UPDATE, 400, REFUSED}, {UPDATE, 200, "{}"}}, 2, "#st = :st",
     {":st\":{\"S\":\"incomplete\"}", NULL}, NULL},
    {"checkout completed after a newer state: acknowledged after three tries",
     "checkout.session.completed", SESSION_DONE("paid", ""),
     {{UPDATE, 400, REFUSED}, {UPDATE, 400, REFUSED}, {UPDATE, 400, REFUSED}}, 3, NULL,
     {NULL}, NULL},
    {"a payment-mode session is not ours", "checkout.session.completed",
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
