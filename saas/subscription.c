/*
 * A subscription's checkout (subscription.h): the user's Stripe Customer, kept on the
 * profile, then an embedded subscription Checkout Session.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/stripe.h"
#include "../lib/txn.h"
#include "saas.h"
#include "subscription.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
#define KEEP_ATTEMPTS 3
/* Where the embedded Checkout returns, under FRONTEND_URL (the seed's). */
#define RETURN_PATH "/dashboard?session_id={CHECKOUT_SESSION_ID}"

int
saas_user_id_ok(const char *id)
{
    size_t i, n = id ? strlen(id) : 0;

    if (n == 0 || n > SAAS_MAX_USER_ID)
        return 0;
    for (i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] > '~' || id[i] == '#')
            return 0;
    return 1;
}

struct json_object *
saas_row_key(const char *kind, const char *id, const char *sk)
{
    struct json_object *k = json_object_new_object();
    char pk[SAAS_MAX_USER_ID + SAAS_STRIPE_ID_MAX + 16];

    snprintf(pk, sizeof(pk), "%s%s", kind, id);
    json_object_object_add(k, "pk", ddb_av_s(pk));
    json_object_object_add(k, "sk", ddb_av_s(sk));
    return k;
}

void
saas_plan_of(const struct cfg *cfg, const char *price, char *out, size_t outlen)
{
    if (!price || !pricelist_find(cfg->stripe_subscription_prices, price, out, outlen))
        snprintf(out, outlen, "%s", price ? price : "");
}

/* 1 when s is an id Stripe gave us that we may keep and put in a key or a path. */
static int
stripe_id_ok(const char *s, const char *prefix)
{
    size_t n = s ? strlen(s) : 0;

    return n > strlen(prefix) && n <= SAAS_STRIPE_ID_MAX &&
           strncmp(s, prefix, strlen(prefix)) == 0 && strspn(s, ID_CHARS) == n;
}

/* The user's PROFILE: its customer (cus, "" when none) and email (into email, "" when
 * none).  No profile yet is APP_OK with both empty. */
static int
profile_read(const struct ctx *c, const char *user, char *cus, char *email, size_t emaillen,
             struct app_error *err)
{
    struct json_object *k = saas_row_key("USER#", user, "PROFILE"), *item = NULL, *p;
    const char *v;
    int rc;

    cus[0] = email[0] = '\0';
    rc = ddb_get_item(c->ddb, c->cfg->tbl_app, k, 1, &item, err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(err);
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    p = ddb_unmarshal_item(item);
    json_object_put(item);
    if (!p)
        return app_error_set(err, APP_EINTERNAL, "the profile of a user is malformed");
    v = json_str(p, "stripeCustomerId");
    if (stripe_id_ok(v, "cus_"))
        snprintf(cus, SAAS_STRIPE_ID_MAX + 1, "%s", v);
    v = json_str(p, "email");
    if (v)
        snprintf(email, emaillen, "%s", v);
    json_object_put(p);
    return APP_OK;
}

/* The user's Stripe Customer, made now: the same one for every call within Stripe's 24 hours
 * of idempotency, so concurrent checkouts agree on it. */
static int
customer_create(const struct ctx *c, const char *user, const char *email, char *cus,
                struct app_error *err)
{
    struct stripe_params *sp = stripe_params_new();
    struct json_object *got = NULL;
    char key[SAAS_MAX_USER_ID + 16];
    int rc;

    if (email && *email)
        stripe_params_add(sp, "email", email);
    stripe_params_add(sp, "metadata[userId]", user);
    snprintf(key, sizeof(key), "customer-%s", user);
    rc = stripe_post(c->stripe, "/v1/customers", sp, key, &got, err);
    stripe_params_free(sp);
    if (rc == APP_OK && !stripe_id_ok(json_str(got, "id"), "cus_"))
        rc = app_error_set(err, APP_EUPSTREAM, "stripe: a customer without a usable id");
    if (rc == APP_OK)
        snprintf(cus, SAAS_STRIPE_ID_MAX + 1, "%s", json_str(got, "id"));
    if (got)
        json_object_put(got);
    return rc;
}

/* A TransactWriteItems ConditionCheck on the user's SUBSCRIPTION row: not active nor
 * trialing (no row at all is fine). */
static struct json_object *
not_subscribed_check(const struct ctx *c, const char *user)
{
    struct json_object *u = json_object_new_object(), *w = json_object_new_object();
    struct json_object *names = json_object_new_object(), *vals = json_object_new_object();

    json_object_object_add(u, "TableName", json_object_new_string(c->cfg->tbl_app));
    json_object_object_add(u, "Key", saas_row_key("USER#", user, "SUBSCRIPTION"));
    json_object_object_add(u, "ConditionExpression", json_object_new_string(
        "attribute_not_exists(#st) OR NOT (#st IN (:active, :trialing))"));
    json_object_object_add(names, "#st", json_object_new_string("status"));
    json_object_object_add(u, "ExpressionAttributeNames", names);
    json_object_object_add(vals, ":active", ddb_av_s("active"));
    json_object_object_add(vals, ":trialing", ddb_av_s("trialing"));
    json_object_object_add(u, "ExpressionAttributeValues", vals);
    json_object_object_add(w, "ConditionCheck", u);
    return w;
}

/*
 * One transaction: the user is not subscribed, the profile keeps customer cus (made if
 * missing: the frontend may not have called /v1/auth/session), and CUSTOMER#cus / USER names
 * the user.  Neither row may name another customer or user.
 */
static int
customer_keep(const struct ctx *c, const char *user, const char *email, const char *cus,
              struct app_error *err)
{
    struct json_object *items = json_object_new_array(), *v;
    char ts[32];

    time_iso(c->now, ts, sizeof(ts));
    json_object_array_add(items, not_subscribed_check(c, user));
    v = json_object_new_object();
    json_object_object_add(v, ":cus", ddb_av_s(cus));
    json_object_object_add(v, ":id", ddb_av_s(user));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    if (email && *email)
        json_object_object_add(v, ":email", ddb_av_s(email));
    json_object_array_add(items, txn_update(
        c->cfg->tbl_app, saas_row_key("USER#", user, "PROFILE"),
        email && *email ?
        "SET stripeCustomerId = :cus, id = if_not_exists(id, :id), "
        "email = if_not_exists(email, :email), createdAt = if_not_exists(createdAt, :now), "
        "updatedAt = :now" :
        "SET stripeCustomerId = :cus, id = if_not_exists(id, :id), "
        "createdAt = if_not_exists(createdAt, :now), updatedAt = :now",
        "attribute_not_exists(stripeCustomerId) OR stripeCustomerId = :cus", v));
    v = json_object_new_object();
    json_object_object_add(v, ":u", ddb_av_s(user));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_array_add(items, txn_update(
        c->cfg->tbl_app, saas_row_key("CUSTOMER#", cus, "USER"),
        "SET userId = :u, createdAt = if_not_exists(createdAt, :now)",
        "attribute_not_exists(userId) OR userId = :u", v));
    return txn_run(c->ddb, items, NULL, err);
}

/* Why customer_keep's transaction was refused: 409 when the user is subscribed; else
 * APP_ECONDITION with cus replaced by the customer the profile holds (another checkout's),
 * to try again with it. */
static int
keep_refused(const struct ctx *c, const char *user, char *cus, struct app_error *err)
{
    struct json_object *k = saas_row_key("USER#", user, "SUBSCRIPTION"), *item = NULL, *st;
    char stored[SAAS_STRIPE_ID_MAX + 1], email[8];
    const char *s = NULL;
    int rc;

    rc = ddb_get_item(c->ddb, c->cfg->tbl_app, k, 1, &item, err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND)
        app_error_clear(err);
    else if (rc != APP_OK)
        return rc;
    if (item && json_object_object_get_ex(item, "status", &st) &&
        json_object_object_get_ex(st, "S", &st))
        s = json_object_get_string(st);
    rc = s && (strcmp(s, "active") == 0 || strcmp(s, "trialing") == 0);
    if (item)
        json_object_put(item);
    if (rc)
        return app_error_reason(err, APP_ECONFLICT, "ALREADY_SUBSCRIBED",
                                "You already have an active subscription");
    rc = profile_read(c, user, stored, email, sizeof(email), err);
    if (rc != APP_OK)
        return rc;
    if (stored[0] && strcmp(stored, cus) != 0) {
        /* Another customer was kept first (Stripe's idempotency had expired): use it. */
        ctx_log(c, LL_WARN, "checkout: the profile keeps %s, not %s (left unused)", stored, cus);
        snprintf(cus, SAAS_STRIPE_ID_MAX + 1, "%s", stored);
    }
    return APP_ECONDITION;
}

static int
session_create(const struct ctx *c, const char *user, const char *price, const char *plan,
               const char *cus, struct saas_checkout *out, struct app_error *err)
{
    struct stripe_params *sp = stripe_params_new();
    struct json_object *got = NULL;
    char key[SAAS_MAX_USER_ID + 48], rnd[40];
    const char *id, *secret;
    size_t n;
    int rc;

    stripe_params_add(sp, "mode", "subscription");
    stripe_params_add(sp, "ui_mode", "embedded");
    n = strlen(c->cfg->frontend_url);
    while (n > 0 && c->cfg->frontend_url[n - 1] == '/')
        n--;                       /* the path brings its own slash */
    stripe_params_addf(sp, "return_url", "%.*s" RETURN_PATH, (int)n, c->cfg->frontend_url);
    stripe_params_add(sp, "line_items[0][price]", price);
    stripe_params_add(sp, "line_items[0][quantity]", "1");
    stripe_params_add(sp, "customer", cus);
    stripe_params_add(sp, "client_reference_id", user);
    stripe_params_add(sp, "metadata[userId]", user);
    stripe_params_add(sp, "metadata[priceId]", price);
    stripe_params_add(sp, "metadata[planId]", plan);
    stripe_params_add(sp, "subscription_data[metadata][userId]", user);
    stripe_params_add(sp, "subscription_data[metadata][planId]", plan);
    /* One key per checkout: the client's retries get the same session, and a checkout
     * started later a new one. */
    if (id_new(rnd, sizeof(rnd), "") != 0) {
        stripe_params_free(sp);
        return app_error_set(err, APP_EINTERNAL, "no random bytes");
    }
    snprintf(key, sizeof(key), "subscribe-%s-%s", user, rnd);
    rc = stripe_post(c->stripe, "/v1/checkout/sessions", sp, key, &got, err);
    stripe_params_free(sp);
    if (rc == APP_OK) {
        id = json_str(got, "id");
        secret = json_str(got, "client_secret");
        if (!id || !secret || strlen(id) >= sizeof(out->session_id) ||
            strlen(secret) >= sizeof(out->client_secret))
            rc = app_error_set(err, APP_EUPSTREAM, "stripe: a session without a client secret");
        else {
            snprintf(out->session_id, sizeof(out->session_id), "%s", id);
            snprintf(out->client_secret, sizeof(out->client_secret), "%s", secret);
        }
    }
    if (got)
        json_object_put(got);
    return rc;
}

int
saas_checkout(const struct ctx *c, const char *user, const char *email, const char *price,
              struct saas_checkout *out, struct app_error *err)
{
    char plan[PRICELIST_PLAN_MAX + 1], cus[SAAS_STRIPE_ID_MAX + 1], stored_email[256];
    int rc, i;

    memset(out, 0, sizeof(*out));
    if (!c->ddb || !c->stripe)
        return app_error_set(err, APP_EUNAVAILABLE, "no backend clients");
    if (!saas_user_id_ok(user))
        return app_error_set(err, APP_EUNAUTHORIZED, "a user id we cannot keep");
    if (!price || !pricelist_find(c->cfg->stripe_subscription_prices, price, plan,
                                  sizeof(plan)))
        return app_error_field(err, "priceId", "is not a plan on sale");
    rc = profile_read(c, user, cus, stored_email, sizeof(stored_email), err);
    if (rc != APP_OK)
        return rc;
    if (!email || !*email)
        email = stored_email;
    if (!cus[0]) {
        rc = customer_create(c, user, email, cus, err);
        if (rc != APP_OK)
            return rc;
    }
    for (i = 0, rc = APP_ECONDITION; i < KEEP_ATTEMPTS && rc == APP_ECONDITION; i++) {
        rc = customer_keep(c, user, email, cus, err);
        if (rc == APP_ECONDITION)
            rc = keep_refused(c, user, cus, err);
    }
    if (rc == APP_ECONDITION)
        return app_error_set(err, APP_EUNAVAILABLE, "checkout: the profile kept changing");
    if (rc != APP_OK)
        return rc;
    return session_create(c, user, price, plan, cus, out, err);
}
