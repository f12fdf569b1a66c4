/*
 * SaaS subscriptions with Stripe, below HTTP (saas/saas.h: the rows; docs/SAAS.md and
 * docs/PAYMENTS.md: the flows).
 *
 * Checkout (subscription.c): the signed-in user's Stripe Customer, made once (idempotency
 * key "customer-<user>", metadata.userId, the token's email) and kept on the PROFILE row with
 * the CUSTOMER#<cus> / USER row that leads Stripe's events back to the user; then an embedded
 * subscription Checkout Session for a price on sale (STRIPE_SUBSCRIPTION_PRICES), naming the
 * user in client_reference_id, metadata.userId and subscription_data.metadata.userId.  A
 * user whose subscription is live (active, trialing, past_due, unpaid, incomplete, paused)
 * gets 409 (a condition in the same transaction that keeps the customer, never a read then a
 * write).
 *
 * One open session per user (subscription_session.c): the PROFILE records the checkout in
 * progress (a claim, its price and expiry, then its session), written by that transaction's
 * conditions; concurrent checkouts of one price share the claim and so, through Stripe's
 * idempotency, one session.  A checkout of another price replaces the claim; the session it
 * replaced is expired at Stripe once the new one is recorded (409 CHECKOUT_ALREADY_PAID when
 * it was paid, and the new one is expired too).
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
 * when it has none) to subscribe to price_id: the user's open one for that price when there
 * is one.  APP_EVALIDATION (field priceId) for a price not on sale; APP_ECONFLICT with reason
 * ALREADY_SUBSCRIBED (active, trialing), SUBSCRIPTION_PAST_DUE, SUBSCRIPTION_UNPAID,
 * SUBSCRIPTION_INCOMPLETE or SUBSCRIPTION_PAUSED for a live subscription, and
 * CHECKOUT_ALREADY_PAID when a session of the user was paid and its events are still to
 * come; Stripe's and DynamoDB's codes otherwise.
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

/*
 * The checkout in progress, as the user's PROFILE records it ("" and 0 when none):
 *   checkoutClaim           a random id ("chk_..."); the session's idempotency key is made
 *                           of it, so every checkout of one claim gets the same session
 *   checkoutPriceId         the price claimed
 *   checkoutExpiresAt       the session's expires_at (Stripe's clock, epoch seconds)
 *   checkoutSessionId       the session, once made (its client secret is never stored)
 *   checkoutStaleSessions   sessions a new claim replaced, until Stripe has them closed
 */
#define SAAS_CLAIM_MAX 40
#define SAAS_STALE_MAX 4               /* stale sessions looked at per checkout */

struct saas_open_checkout {
    char claim[SAAS_CLAIM_MAX];
    char price[SAAS_STRIPE_ID_MAX + 1];
    long long expires_at;
    char session[SAAS_SESSION_ID_MAX];
    char stale[SAAS_STALE_MAX][SAAS_SESSION_ID_MAX];
    size_t nstale;                     /* read into stale */
    size_t stale_total;                /* on the profile: more than nstale when too many */
};

/* What profile (a plain item, or NULL) records of the open checkout, into out. */
void saas_open_checkout_of(struct json_object *profile, struct saas_open_checkout *out);

/*
 * The Stripe side of a checkout (subscription_session.c).  saas_session_create makes (or,
 * for the same claim, gets again) the embedded session of claim, expiring at expires_at.
 * saas_session_get reads an open session's client secret again: APP_OK when it is open,
 * APP_ECONFLICT (CHECKOUT_ALREADY_PAID) when it is complete, APP_ENOTFOUND when it expired.
 * saas_session_record writes the session on the profile if the claim is still the
 * profile's (APP_ECONDITION otherwise).  saas_session_release drops a claim whose session
 * could not be made.  saas_sessions_close expires sessions at Stripe and takes each closed
 * one off checkoutStaleSessions: APP_ECONFLICT (CHECKOUT_ALREADY_PAID) when one was paid.
 */
int saas_session_create(const struct ctx *c, const char *user, const char *price,
                        const char *cus, const char *claim, long long expires_at,
                        struct saas_checkout *out, struct app_error *err);
int saas_session_get(const struct ctx *c, const char *sid, struct saas_checkout *out,
                     struct app_error *err);
int saas_session_record(const struct ctx *c, const char *user, const char *claim,
                        const char *sid, struct app_error *err);
void saas_session_release(const struct ctx *c, const char *user, const char *claim);
int saas_sessions_close(const struct ctx *c, const char *user, const char *const *sids,
                        size_t n, struct app_error *err);

/* A subscription session of user completed or expired (Stripe's event): the profile's open
 * checkout is cleared if it still names sid, and sid leaves checkoutStaleSessions. */
int saas_session_closed(const struct ctx *c, const char *user, const char *sid,
                        struct app_error *err);

/* 1 when s is an id Stripe gave us (prefix, then [A-Za-z0-9_], at most SAAS_STRIPE_ID_MAX)
 * that we may keep and put in a key or a path. */
int saas_stripe_id_ok(const char *s, const char *prefix);
/* 1 when id may be a user id in our keys (1 to SAAS_MAX_USER_ID printable ASCII, no '#'). */
int saas_user_id_ok(const char *id);
/* The key {pk: kind + id, sk: sk} of the app table, e.g. ("USER#", sub, "SUBSCRIPTION"). */
struct json_object *saas_row_key(const char *kind, const char *id, const char *sk);

#endif
