/*
 * A signed-in user's account: the PROFILE row kept at sign-in, and the SUBSCRIPTION row
 * Stripe's events keep (saas/subscription_events.c), read here for the routes that need it.
 */
#ifndef PH_SAAS_ACCOUNT_H
#define PH_SAAS_ACCOUNT_H

#include <json-c/json.h>

#include "../lib/ctx.h"
#include "../lib/errors.h"
#include "saas.h"

/* The SUBSCRIPTION row as the routes see it; strings "" when absent. */
/* A status of the SUBSCRIPTION row (saas/status.c). */
struct saas_status {
    const char *name;
    int stripe;                 /* one of Stripe's (else ours: "inactive", no row) */
    int grants;                 /* the subscribed routes are open */
    int life;                   /* 0 starting, 1 live, 2 ended: ended is never left */
    const char *refusal;        /* a checkout's 409 reason while held; NULL: may buy */
    const char *message;
};

/* The status called name; NULL for one we do not know. */
const struct saas_status *saas_status_find(const char *name);

struct saas_subscription {
    char status[24];               /* Stripe's status; "inactive" when there is no row */
    char plan_id[64];
    char price_id[128];
    char period_start[32];         /* ISO 8601 */
    char period_end[32];
    int cancel_at_period_end;
    char stripe_subscription_id[128];
    char stripe_customer_id[128];
};

/* The user's subscription, read consistently.  APP_OK (status "inactive" without a row). */
int saas_subscription_get(const struct ctx *c, const char *user_id,
                          struct saas_subscription *out, struct app_error *err);

/* 1 when s grants the product: status active or trialing. */
int saas_subscription_active(const struct saas_subscription *s);

/* APP_OK when the user's subscription is active or trialing, else APP_ESUBSCRIPTION (reason
 * the status: "inactive", "past_due", "canceled", ...). */
int saas_require_active(const struct ctx *c, const char *user_id, struct app_error *err);

/*
 * Sign-in: create the user's PROFILE on the first call, refresh it on later ones (one
 * UpdateItem: concurrent first sign-ins make one profile with one createdAt).  email is
 * the token's ("" for an access token: the stored one is kept).  *out is the seed's User
 * model (id, email, subscriptionStatus, createdAt, updatedAt); the caller puts it.
 */
int saas_sign_in(const struct ctx *c, const char *user_id, const char *email,
                 struct json_object **out, struct app_error *err);

#endif
