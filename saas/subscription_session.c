/*
 * The Stripe side of a subscription checkout (subscription.h): the embedded session of a
 * claim, read again while it is open, recorded on the profile, and the sessions a new claim
 * replaced expired at Stripe.  Stripe's events close the profile's open checkout here too.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/stripe.h"
#include "../lib/txn.h"
#include "saas.h"
#include "subscription.h"

/* Where the embedded Checkout returns, under FRONTEND_URL (the seed's). */
#define RETURN_PATH "/dashboard?session_id={CHECKOUT_SESSION_ID}"
#define PAID_REASON "CHECKOUT_ALREADY_PAID"
#define PAID_MESSAGE "A checkout of yours has been paid; your subscription is on its way"

/* The stale sessions of profile, into out. */
static void
stale_of(struct json_object *profile, struct saas_open_checkout *out)
{
    struct json_object *set = NULL, *v;
    const char *s;
    size_t i, n;

    if (!profile || !json_object_object_get_ex(profile, "checkoutStaleSessions", &set) ||
        !json_object_is_type(set, json_type_array))
        return;
    n = json_object_array_length(set);
    for (i = 0; i < n; i++) {
        v = json_object_array_get_idx(set, i);
        s = json_object_get_string(v);
        if (!saas_stripe_id_ok(s, "cs_"))
            continue;
        out->stale_total++;
        if (out->nstale < SAAS_STALE_MAX)
            snprintf(out->stale[out->nstale++], SAAS_SESSION_ID_MAX, "%s", s);
    }
}

void
saas_open_checkout_of(struct json_object *profile, struct saas_open_checkout *out)
{
    const char *s;

    memset(out, 0, sizeof(*out));
    stale_of(profile, out);
    s = json_str(profile, "checkoutClaim");
    if (!s || strlen(s) >= sizeof(out->claim) || !saas_stripe_id_ok(s, "chk_"))
        return;                    /* no claim: nothing else counts */
    snprintf(out->claim, sizeof(out->claim), "%s", s);
    s = json_str(profile, "checkoutPriceId");
    if (saas_stripe_id_ok(s, ""))          /* a price id: [A-Za-z0-9_] */
        snprintf(out->price, sizeof(out->price), "%s", s);
    out->expires_at = json_int(profile, "checkoutExpiresAt");
    s = json_str(profile, "checkoutSessionId");
    if (saas_stripe_id_ok(s, "cs_"))
        snprintf(out->session, sizeof(out->session), "%s", s);
}

int
saas_session_create(const struct ctx *c, const char *user, const char *price,
                    const char *cus, const char *claim, long long expires_at,
                    struct saas_checkout *out, struct app_error *err)
{
    struct stripe_params *sp = stripe_params_new();
    struct json_object *got = NULL;
    char key[SAAS_MAX_USER_ID + SAAS_CLAIM_MAX + 16], plan[PRICELIST_PLAN_MAX + 1];
    const char *id, *secret;
    size_t n;
    int rc;

    saas_plan_of(c->cfg, price, plan, sizeof(plan));
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
    stripe_params_add_long(sp, "expires_at", expires_at);
    /* One key per claim: every checkout of the claim, and Stripe's retries, get the same
     * session (the parameters are the claim's, so they agree). */
    snprintf(key, sizeof(key), "subscribe-%s-%s", user, claim);
    rc = stripe_post(c->stripe, "/v1/checkout/sessions", sp, key, &got, err);
    stripe_params_free(sp);
    if (rc == APP_OK) {
        id = json_str(got, "id");
        secret = json_str(got, "client_secret");
        if (!saas_stripe_id_ok(id, "cs_") || !secret ||
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

/* GET the session sid: its status into st ("" when it has none) and, when it is open, its id
 * and client secret into out (if out is not NULL). */
static int
session_read(const struct ctx *c, const char *sid, char st[16], struct saas_checkout *out,
             struct app_error *err)
{
    struct json_object *got = NULL;
    char path[SAAS_SESSION_ID_MAX + 32];
    const char *s, *secret;
    int rc;

    st[0] = '\0';
    if (!saas_stripe_id_ok(sid, "cs_"))
        return app_error_set(err, APP_EINTERNAL, "checkout: a session id we cannot use");
    snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", sid);
    rc = stripe_get(c->stripe, path, NULL, &got, err);
    if (rc == APP_OK) {
        s = json_str(got, "status");
        snprintf(st, 16, "%s", s && strlen(s) < 16 ? s : "");
        secret = json_str(got, "client_secret");
        if (out && strcmp(st, "open") == 0) {
            if (!secret || strlen(secret) >= sizeof(out->client_secret))
                rc = app_error_set(err, APP_EUPSTREAM, "stripe: an open session without a "
                                   "client secret");
            else {
                snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
                snprintf(out->client_secret, sizeof(out->client_secret), "%s", secret);
            }
        }
    }
    if (got)
        json_object_put(got);
    return rc;
}

int
saas_session_get(const struct ctx *c, const char *sid, struct saas_checkout *out,
                 struct app_error *err)
{
    char st[16];
    int rc = session_read(c, sid, st, out, err);

    if (rc != APP_OK)
        return rc;
    if (strcmp(st, "open") == 0)
        return APP_OK;
    if (strcmp(st, "complete") == 0)
        return app_error_reason(err, APP_ECONFLICT, PAID_REASON, PAID_MESSAGE);
    return app_error_set(err, APP_ENOTFOUND, "checkout: session %s is %s", sid,
                         st[0] ? st : "of no status");
}

/* Close sid at Stripe: APP_OK when it is closed now (expired by us or before, or unknown),
 * APP_ECONFLICT when it was paid. */
static int
session_close(const struct ctx *c, const char *sid, struct app_error *err)
{
    struct json_object *got = NULL;
    char path[SAAS_SESSION_ID_MAX + 32], key[SAAS_SESSION_ID_MAX + 16], st[16];
    int rc;

    if (!saas_stripe_id_ok(sid, "cs_"))
        return APP_OK;             /* never a session of ours */
    snprintf(path, sizeof(path), "/v1/checkout/sessions/%s/expire", sid);
    snprintf(key, sizeof(key), "expire-%s", sid);
    rc = stripe_post(c->stripe, path, NULL, key, &got, err);
    if (got)
        json_object_put(got);
    if (rc == APP_OK || rc == APP_EUNAVAILABLE || rc == APP_ETIMEOUT)
        return rc;
    /* Not open any more: expired already is fine, complete means paid. */
    app_error_clear(err);
    rc = session_read(c, sid, st, NULL, err);
    if (rc == APP_ENOTFOUND) {
        ctx_log(c, LL_WARN, "checkout: session %s is unknown to Stripe: nothing to close", sid);
        app_error_clear(err);
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    if (strcmp(st, "complete") == 0)
        return app_error_reason(err, APP_ECONFLICT, PAID_REASON, PAID_MESSAGE);
    if (strcmp(st, "expired") != 0)
        return app_error_set(err, APP_EUPSTREAM, "stripe: session %s is %s after expire", sid,
                             st[0] ? st : "of no status");
    return APP_OK;
}

/* {"SS": [sid]} */
static struct json_object *
one_set(const char *sid)
{
    struct json_object *a = json_object_new_array(), *v = json_object_new_object();

    json_object_array_add(a, json_object_new_string(sid));
    json_object_object_add(v, "SS", a);
    return v;
}

/* sid off the profile's checkoutStaleSessions (nothing when it is not there). */
static int
stale_drop(const struct ctx *c, const char *user, const char *sid, struct app_error *err)
{
    struct json_object *v = json_object_new_object();
    int rc;

    json_object_object_add(v, ":s", one_set(sid));
    json_object_object_add(v, ":sid", ddb_av_s(sid));
    rc = txn_update_item(c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "PROFILE"),
                         "DELETE checkoutStaleSessions :s",
                         "contains(checkoutStaleSessions, :sid)", v, err);
    return rc == APP_ECONDITION ? APP_OK : rc;
}

int
saas_sessions_close(const struct ctx *c, const char *user, const char *const *sids, size_t n,
                    struct app_error *err)
{
    struct app_error first;
    int rc, out = APP_OK;
    size_t i;

    app_error_clear(&first);
    for (i = 0; i < n; i++) {
        rc = session_close(c, sids[i], err);
        if (rc == APP_OK)
            rc = stale_drop(c, user, sids[i], err);
        else if (rc == APP_ECONFLICT)  /* paid: it stays stale until its events come */
            ctx_log(c, LL_WARN, "checkout: replaced session %s of user %s was paid", sids[i],
                    user);
        /* A paid session wins over any other failure; else the first failure is told. */
        if (rc != APP_OK && (out == APP_OK || (rc == APP_ECONFLICT && out != APP_ECONFLICT))) {
            out = rc;
            first = *err;
        }
        app_error_clear(err);
    }
    *err = first;
    return out;
}

int
saas_session_record(const struct ctx *c, const char *user, const char *claim, const char *sid,
                    struct app_error *err)
{
    struct json_object *v = json_object_new_object();

    json_object_object_add(v, ":claim", ddb_av_s(claim));
    json_object_object_add(v, ":sid", ddb_av_s(sid));
    return txn_update_item(c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "PROFILE"),
                           "SET checkoutSessionId = :sid",
                           "checkoutClaim = :claim AND (attribute_not_exists(checkoutSessionId) "
                           "OR checkoutSessionId = :sid)", v, err);
}

void
saas_session_release(const struct ctx *c, const char *user, const char *claim)
{
    struct json_object *v = json_object_new_object();
    struct app_error e;
    int rc;

    app_error_clear(&e);
    json_object_object_add(v, ":claim", ddb_av_s(claim));
    rc = txn_update_item(c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "PROFILE"),
                         "REMOVE checkoutClaim, checkoutPriceId, checkoutExpiresAt",
                         "checkoutClaim = :claim AND attribute_not_exists(checkoutSessionId)",
                         v, &e);
    if (rc != APP_OK && rc != APP_ECONDITION)
        ctx_log(c, LL_WARN, "checkout: the claim of user %s was not released: %s", user, e.msg);
}

int
saas_session_closed(const struct ctx *c, const char *user, const char *sid,
                    struct app_error *err)
{
    struct json_object *v = json_object_new_object();
    int rc;

    if (!saas_stripe_id_ok(sid, "cs_"))
        return APP_OK;
    json_object_object_add(v, ":s", one_set(sid));
    json_object_object_add(v, ":sid", ddb_av_s(sid));
    rc = txn_update_item(c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "PROFILE"),
                         "REMOVE checkoutClaim, checkoutPriceId, checkoutExpiresAt, "
                         "checkoutSessionId DELETE checkoutStaleSessions :s",
                         "checkoutSessionId = :sid", v, err);
    if (rc == APP_ECONDITION)      /* the profile names another session, or none */
        rc = stale_drop(c, user, sid, err);
    if (rc == APP_OK)
        ctx_log(c, LL_INFO, "checkout: session %s of user %s is closed", sid, user);
    return rc;
}
