#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "account.h"

static struct json_object *
user_key(const char *user_id, const char *sk)
{
    struct json_object *k = json_object_new_object();
    char pk[SAAS_MAX_USER_ID + 8];

    snprintf(pk, sizeof(pk), "USER#%s", user_id);
    json_object_object_add(k, "pk", ddb_av_s(pk));
    json_object_object_add(k, "sk", ddb_av_s(sk));
    return k;
}

static void
copy(char *dst, size_t n, struct json_object *o, const char *k)
{
    const char *v = json_str(o, k);

    snprintf(dst, n, "%s", v && strlen(v) < n ? v : "");
}

int
saas_subscription_get(const struct ctx *c, const char *user_id,
                      struct saas_subscription *out, struct app_error *err)
{
    struct json_object *row, *v;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(out->status, sizeof(out->status), "inactive");
    rc = ddb_read(c->ddb, c->cfg->tbl_app, user_key(user_id, "SUBSCRIPTION"), &row, err);
    if (rc != APP_OK || !row)
        return rc;
    if (json_str(row, "status") && *json_str(row, "status"))
        copy(out->status, sizeof(out->status), row, "status");
    copy(out->plan_id, sizeof(out->plan_id), row, "planId");
    copy(out->price_id, sizeof(out->price_id), row, "priceId");
    copy(out->period_start, sizeof(out->period_start), row, "currentPeriodStart");
    copy(out->period_end, sizeof(out->period_end), row, "currentPeriodEnd");
    copy(out->stripe_subscription_id, sizeof(out->stripe_subscription_id), row,
         "stripeSubscriptionId");
    copy(out->stripe_customer_id, sizeof(out->stripe_customer_id), row, "stripeCustomerId");
    if (json_object_object_get_ex(row, "cancelAtPeriodEnd", &v))
        out->cancel_at_period_end = json_object_get_boolean(v);
    json_object_put(row);
    return APP_OK;
}

int
saas_subscription_active(const struct saas_subscription *s)
{
    const struct saas_status *st = saas_status_find(s->status);

    return st && st->grants;
}

int
saas_require_active(const struct ctx *c, const char *user_id, struct app_error *err)
{
    struct saas_subscription s;
    int rc = saas_subscription_get(c, user_id, &s, err);

    if (rc != APP_OK)
        return rc;
    if (saas_subscription_active(&s))
        return APP_OK;
    /* The reason: the status, or "inactive" for one we do not know. */
    return app_error_reason(err, APP_ESUBSCRIPTION,
                            saas_status_find(s.status) ? s.status : "inactive",
                            "an active subscription is required");
}

int
saas_sign_in(const struct ctx *c, const char *user_id, const char *email,
             struct json_object **out, struct app_error *err)
{
    struct json_object *vals = json_object_new_object(), *attrs = NULL, *row, *user;
    struct json_object *key = user_key(user_id, "PROFILE");
    struct saas_subscription s;
    char ts[32];
    int rc;

    time_iso(c->now, ts, sizeof(ts));
    json_object_object_add(vals, ":id", ddb_av_s(user_id));
    json_object_object_add(vals, ":now", ddb_av_s(ts));
    if (*email)
        json_object_object_add(vals, ":email", ddb_av_s(email));
#define SIGN_IN_SET "SET id = if_not_exists(id, :id), createdAt = if_not_exists(createdAt, " \
                    ":now), updatedAt = :now, lastSignInAt = :now"
    /* The token's email replaces the one kept; a token without one leaves it. */
    rc = ddb_update_item(c->ddb, c->cfg->tbl_app, key,
                         *email ? SIGN_IN_SET ", email = :email" : SIGN_IN_SET,
                         NULL, NULL, vals, "ALL_NEW", &attrs, err);
#undef SIGN_IN_SET
    json_object_put(vals);
    json_object_put(key);
    if (rc != APP_OK)
        return rc;
    rc = saas_subscription_get(c, user_id, &s, err);
    if (rc != APP_OK) {
        json_object_put(attrs);
        return rc;
    }
    row = ddb_unmarshal_item(attrs);
    json_object_put(attrs);
    user = json_object_new_object();
    json_object_object_add(user, "id", json_object_new_string(user_id));
    json_object_object_add(user, "email", json_str(row, "email") ?
                           json_object_new_string(json_str(row, "email")) : NULL);
    json_object_object_add(user, "subscriptionStatus", json_object_new_string(s.status));
    json_add_str(user, "createdAt", json_str(row, "createdAt"));
    json_add_str(user, "updatedAt", json_str(row, "updatedAt"));
    json_object_put(row);
    *out = user;
    return APP_OK;
}
