/*
 * SaaS subscriptions from Stripe events (the SaaS seed's SUBSCRIPTION item in the app
 * table).  The row is USER#<userId> / SUBSCRIPTION when Stripe's objects name the user
 * (subscription metadata.userId, or the Checkout Session's client_reference_id), else
 * CUSTOMER#<customerId> / SUBSCRIPTION.
 *
 * Stripe's subscription events carry the whole subscription, so the newest event wins: a row
 * is only overwritten by an event created at the same second or later, and a cancellation
 * is never undone by an event of the same second.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../campaign/campaign.h"
#include "../lib/txn.h"
#include "subscriptions.h"

static int
owner_key(struct json_object *meta, const char *user, const char *customer, char *pk,
          size_t n)
{
    const char *u = user ? user : json_str(meta, "userId");

    if (u && *u && strlen(u) <= 128)
        snprintf(pk, n, "USER#%s", u);
    else if (customer && *customer && strlen(customer) <= 128)
        snprintf(pk, n, "CUSTOMER#%s", customer);
    else
        return -1;
    return 0;
}

static struct json_object *
key(const char *pk)
{
    struct json_object *k = json_object_new_object();

    json_object_object_add(k, "pk", ddb_av_s(pk));
    json_object_object_add(k, "sk", ddb_av_s("SUBSCRIPTION"));
    return k;
}

int
subscription_event(struct request *req, const char *type, struct json_object *sub,
                   long long created, time_t now)
{
    struct json_object *meta = NULL, *items, *v, *b, *price = NULL, *x;
    const char *id = json_str(sub, "id"), *status = json_str(sub, "status");
    char pk[160], ts[32], end[32] = "";
    int cancel = 0, rc;

    json_object_object_get_ex(sub, "metadata", &meta);
    if (!id || !status ||
        owner_key(meta, NULL, json_str(sub, "customer"), pk, sizeof(pk)) != 0) {
        req_log(req, LL_WARN, "subscription event %s without a subscription or owner", type);
        return APP_OK;
    }
    if (strcmp(type, "customer.subscription.deleted") == 0)
        status = "canceled";
    if (json_object_object_get_ex(sub, "current_period_end", &v) &&
        json_object_is_type(v, json_type_int))
        time_iso((time_t)json_object_get_int64(v), end, sizeof(end));
    if (json_object_object_get_ex(sub, "cancel_at_period_end", &v))
        cancel = json_object_get_boolean(v);
    /* items.data[0].price.id: the plan subscribed to */
    if (json_object_object_get_ex(sub, "items", &x) && json_object_object_get_ex(x, "data", &x)
        && json_object_array_length(x) > 0)
        json_object_object_get_ex(json_object_array_get_idx(x, 0), "price", &price);
    time_iso(now, ts, sizeof(ts));
    v = json_object_new_object();
    json_object_object_add(v, ":sub", ddb_av_s(id));
    json_object_object_add(v, ":cus", ddb_av_s(json_str(sub, "customer") ?
                                               json_str(sub, "customer") : ""));
    json_object_object_add(v, ":st", ddb_av_s(status));
    json_object_object_add(v, ":price", ddb_av_s(json_str(price, "id") ?
                                                 json_str(price, "id") : ""));
    json_object_object_add(v, ":end", ddb_av_s(end));
    b = json_object_new_object();
    json_object_object_add(b, "BOOL", json_object_new_boolean(cancel));
    json_object_object_add(v, ":cancel", b);
    json_object_object_add(v, ":c", ddb_av_n(created));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(v, ":canceled", ddb_av_s("canceled"));
    items = json_object_new_array();
    json_object_array_add(items, txn_update(
        req->cfg->tbl_app, key(pk),
        "SET stripeSubscriptionId = :sub, stripeCustomerId = :cus, #st = :st, "
        "priceId = :price, currentPeriodEnd = :end, cancelAtPeriodEnd = :cancel, "
        "eventCreated = :c, updatedAt = :now",
        "attribute_not_exists(eventCreated) OR eventCreated < :c OR "
        "(eventCreated = :c AND #st <> :canceled)", v));
    rc = txn_run(req->ctx.ddb, items, NULL, &req->err);
    return rc == APP_ECONDITION ? APP_OK : rc;     /* a newer event was there first */
}

int
subscription_checkout(struct request *req, struct json_object *session, time_t now)
{
    struct json_object *meta = NULL, *items, *v;
    const char *sub = json_str(session, "subscription");
    char pk[160], ts[32];

    json_object_object_get_ex(session, "metadata", &meta);
    if (!sub || owner_key(meta, json_str(session, "client_reference_id"),
                          json_str(session, "customer"), pk, sizeof(pk)) != 0)
        return APP_OK;
    time_iso(now, ts, sizeof(ts));
    v = json_object_new_object();
    json_object_object_add(v, ":sub", ddb_av_s(sub));
    json_object_object_add(v, ":cus", ddb_av_s(json_str(session, "customer") ?
                                               json_str(session, "customer") : ""));
    json_object_object_add(v, ":active", ddb_av_s("active"));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    items = json_object_new_array();
    /* The subscription events own the status; this only fills it in if they are late. */
    json_object_array_add(items, txn_update(
        req->cfg->tbl_app, key(pk),
        "SET stripeSubscriptionId = if_not_exists(stripeSubscriptionId, :sub), "
        "stripeCustomerId = :cus, #st = if_not_exists(#st, :active), checkoutCompletedAt = "
        ":now, updatedAt = :now", NULL, v));
    return txn_run(req->ctx.ddb, items, NULL, &req->err);
}
