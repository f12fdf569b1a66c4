/*
 * The signed-in user's subscription (saas/subscription.h, docs/SAAS.md):
 *
 *   POST /v1/stripe/checkout        {"priceId"}: an embedded Checkout Session for a plan on
 *                                   sale; {clientSecret, sessionId}
 *   GET  /v1/subscription/status    the user's subscription as Stripe's events left it
 *
 * The dispatcher has verified the token (R_AUTH): req->user is the user.
 */
#include "config.h"

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../lib/ddbjson.h"
#include "../lib/jwt.h"
#include "../saas/account.h"
#include "../saas/subscription.h"
#include "handlers.h"

int
saas_billing_checkout(struct request *req)
{
    struct saas_checkout out;
    struct json_object *d;
    const char *price = NULL;
    int rc;

    field_string(req, "priceId", 1, PRICELIST_ID_MAX, FIELD_REQUIRED, &price);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = saas_checkout(&req->ctx, req->user->sub, req->user->email, price, &out, &req->err);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    json_add_str(d, "clientSecret", out.client_secret);
    json_add_str(d, "sessionId", out.session_id);
    return reply_json(req, 200, d);
}

/* s's member as a string, or null when the row has none. */
static struct json_object *
str_or_null(const char *s)
{
    return *s ? json_object_new_string(s) : NULL;
}

int
saas_billing_status(struct request *req)
{
    struct saas_subscription s;
    struct json_object *d;
    int rc;

    rc = saas_subscription_get(&req->ctx, req->user->sub, &s, &req->err);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    json_add_str(d, "status", s.status);
    json_object_object_add(d, "plan", str_or_null(s.plan_id));
    json_object_object_add(d, "planId", str_or_null(s.plan_id));
    json_object_object_add(d, "priceId", str_or_null(s.price_id));
    json_object_object_add(d, "currentPeriodStart", str_or_null(s.period_start));
    json_object_object_add(d, "currentPeriodEnd", str_or_null(s.period_end));
    json_object_object_add(d, "cancelAtPeriodEnd",
                           json_object_new_boolean(s.cancel_at_period_end));
    json_object_object_add(d, "stripeSubscriptionId", str_or_null(s.stripe_subscription_id));
    return reply_json(req, 200, d);
}
