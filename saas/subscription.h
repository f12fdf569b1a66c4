/*
 * SaaS subscriptions with Stripe, below HTTP (saas/saas.h: the rows; docs/SAAS.md and
 * docs/PAYMENTS.md: the flows).
 *
 * Checkout (subscription.c): the signed-in user's Stripe Customer, made once (idempotency
 * key "customer-<user>", metadata.userId, the token's email) and kept on the PROFILE row with
 * the CUSTOMER#<cus> / USER row that leads Stripe's events back to the user; then an embedded
 * subscription Checkout Session for a price on sale (STRIPE_SUBSCRIPTION_PRICES), naming the
 * user in client_reference_id, metadata.userId and subscription_data.metadata.userId.  A
 * user whose subscription is active or trialing gets 409 (a condition in the same
 * transaction that keeps the customer, never a read then a write).
 *
 * Events (subscription_events.c): checkout.session.completed (subscription mode),
 * customer.subscription.created/updated/deleted, invoice.paid and invoice.payment_failed keep
 * the SUBSCRIPTION row.  Stripe delivers late, twice and out of order, so every write is
 * conditional on the row's eventCreated (the newest applied event's created time): an older
 * event changes nothing, and a canceled subscription never comes back.
 */
#ifndef PH_SAAS_SUBSCRIPTION_H
#define PH_SAAS_SUBSCRIPTION_H

#include <stddef.h>

#include <json-c/json.h>

#include "../lib/ctx.h"
#include "../lib/errors.h"
#include "../lib/pricelist.h"

struct cfg;

#define SAAS_SESSION_ID_MAX 256
#define SAAS_CLIENT_SECRET_MAX 512
#define SAAS_STRIPE_ID_MAX 128        /* cus_..., sub_..., price_... we keep */

struct saas_checkout {
    char session_id[SAAS_SESSION_ID_MAX];
    /* For the browser's embedded Checkout only: never stored, never logged. */
    char client_secret[SAAS_CLIENT_SECRET_MAX];
};

/*
 * An embedded Checkout Session for user_id (the token's sub; email: the token's, "" or NULL
 * when it has none) to subscribe to price_id.  APP_EVALIDATION (field priceId) for a price
 * not on sale; APP_ECONFLICT, reason ALREADY_SUBSCRIBED, while the user's subscription is
 * active or trialing; Stripe's and DynamoDB's codes otherwise.
 */
int saas_checkout(const struct ctx *c, const char *user_id, const char *email,
                  const char *price_id, struct saas_checkout *out, struct app_error *err);

/* The plan name of price (STRIPE_SUBSCRIPTION_PRICES) into out (PRICELIST_PLAN_MAX + 1
 * bytes at least); the price id itself when the list does not name it. */
void saas_plan_of(const struct cfg *cfg, const char *price, char *out, size_t outlen);

/*
 * A Stripe event for the subscription rows: type and data.object (obj), created the event's
 * own time.  APP_OK when it is done with: applied, older than the row, or naming no user we
 * know (logged); an error otherwise (the webhook answers 503 and Stripe retries).
 * saas_subscription_event_type says whether type is one of these events.
 */
int saas_subscription_event(const struct ctx *c, const char *type, struct json_object *obj,
                            long long created, struct app_error *err);
int saas_subscription_event_type(const char *type);

/* --- shared by subscription.c and subscription_events.c ---------------------------------- */

/* 1 when id may be a user id in our keys (1 to SAAS_MAX_USER_ID printable ASCII, no '#'). */
int saas_user_id_ok(const char *id);
/* The key {pk: kind + id, sk: sk} of the app table, e.g. ("USER#", sub, "SUBSCRIPTION"). */
struct json_object *saas_row_key(const char *kind, const char *id, const char *sk);

#endif
