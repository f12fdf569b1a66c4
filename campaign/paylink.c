/*
 * Pay links (see paylink.h): a record's own Checkout Session, on the campaign layer's context.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/stripe.h"
#include "../lib/txn.h"
#include "../lib/metrics.h"
#include "paylink.h"

#define SESSION_LIFETIME_S 3600
#define REUSE_MARGIN_S 120

static int
new_session(const struct ctx *c, const struct paylink *pl, long long n, struct json_object **out,
            struct app_error *err)
{
    struct stripe_params *sp = stripe_params_new();
    char key[160], field[96];
    size_t i;
    int rc;

    stripe_params_add(sp, "mode", "payment");
    stripe_params_add(sp, "line_items[0][price_data][currency]", "aud");
    stripe_params_add_long(sp, "line_items[0][price_data][unit_amount]", pl->amount_cents);
    if (pl->product_id && *pl->product_id)
        stripe_params_add(sp, "line_items[0][price_data][product]", pl->product_id);
    else
        stripe_params_add(sp, "line_items[0][price_data][product_data][name]",
                          pl->product_name);
    stripe_params_add(sp, "line_items[0][quantity]", "1");
    stripe_params_add(sp, "customer_email", pl->email);
    stripe_params_add(sp, "client_reference_id", pl->key);
    stripe_params_add(sp, "metadata[campaignId]", pl->campaign);
    stripe_params_add(sp, "payment_intent_data[metadata][campaignId]", pl->campaign);
    for (i = 0; i < 3 && pl->meta_keys[i]; i++) {
        snprintf(field, sizeof(field), "metadata[%s]", pl->meta_keys[i]);
        stripe_params_add(sp, field, pl->meta_vals[i]);
        snprintf(field, sizeof(field), "payment_intent_data[metadata][%s]", pl->meta_keys[i]);
        stripe_params_add(sp, field, pl->meta_vals[i]);
    }
    if (pl->extra_meta) {
        /* Checked by checkout_create: short keys of [A-Za-z0-9_], string values; ours win. */
        json_object_object_foreach(pl->extra_meta, mk, mv) {
            if (strcmp(mk, "campaignId") == 0 || strcmp(mk, pl->key_name) == 0 ||
                (pl->meta_keys[1] && strcmp(mk, pl->meta_keys[1]) == 0))
                continue;
            snprintf(field, sizeof(field), "metadata[%s]", mk);
            stripe_params_add(sp, field, json_object_get_string(mv));
        }
    }
    /* Stripe's clock, not ours (a test's clock offset must not reach Stripe). */
    stripe_params_add_long(sp, "expires_at", (long long)time(NULL) + SESSION_LIFETIME_S);
    stripe_params_add(sp, "success_url", pl->success_url);
    stripe_params_add(sp, "cancel_url", pl->cancel_url);
    /* One key per (record, attempt): a retried call gets the same session back. */
    snprintf(key, sizeof(key), "%s%s-%lld", pl->key, pl->path, n);
    rc = stripe_post(c->stripe, "/v1/checkout/sessions", sp, key, out, err);
    if (rc == APP_OK)
        metrics_inc_value(MF_CHECKOUTS_OPENED, pl->campaign, 0);
    stripe_params_free(sp);
    return rc;
}

/* Expire a session the record no longer uses, so at most one is open: APP_OK when it is
 * closed now (expired by us or before), 409 when it was paid meanwhile. */
static int
expire_previous(const struct ctx *c, const char *sid, struct app_error *err)
{
    struct json_object *got = NULL;
    char path[160], key[160];
    const char *st;
    int rc;

    snprintf(path, sizeof(path), "/v1/checkout/sessions/%s/expire", sid);
    snprintf(key, sizeof(key), "expire-%s", sid);
    rc = stripe_post(c->stripe, path, NULL, key, &got, err);
    if (got)
        json_object_put(got);
    if (rc == APP_OK)
        return APP_OK;
    if (rc == APP_EUNAVAILABLE || rc == APP_ETIMEOUT)
        return rc;
    /* Not open any more: expired already is fine, complete means paid. */
    app_error_clear(err);
    snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", sid);
    got = NULL;
    rc = stripe_get(c->stripe, path, NULL, &got, err);
    if (rc != APP_OK) {
        if (got)
            json_object_put(got);
        return rc;
    }
    st = json_str(got, "status");
    rc = st && strcmp(st, "complete") == 0 ?
         app_error_set(err, APP_ECONFLICT, "this has been paid already") : APP_OK;
    json_object_put(got);
    return rc;
}

/* Remember the session on the record, if nobody made another meanwhile. */
static int
keep(const struct ctx *c, const struct paylink *pl, struct json_object *session, long long n,
     struct app_error *err)
{
    struct json_object *vals = json_object_new_object();
    const char *p = pl->path;
    char upd[400], cond[200];
    int rc;

    json_object_object_add(vals, ":sid", ddb_av_s(json_str(session, "id")));
    json_object_object_add(vals, ":url", ddb_av_s(json_str(session, "url")));
    json_object_object_add(vals, ":exp", ddb_av_n(json_int(session, "expires_at")));
    json_object_object_add(vals, ":n", ddb_av_n(n));
    json_object_object_add(vals, ":n1", ddb_av_n(n + 1));
    json_object_object_add(vals, ":unpaid", ddb_av_s(pl->unpaid_status));
    snprintf(upd, sizeof(upd), "SET %ssessionId = :sid, %ssessionUrl = :url, "
             "%ssessionExpiresAt = :exp, %ssessions = :n1", p, p, p, p);
    snprintf(cond, sizeof(cond), "%s#st = :unpaid AND (%ssessions = :n OR "
             "attribute_not_exists(%ssessions))", p, p, p);
    rc = txn_update_item(c->ddb, pl->table, ddb_key_s(pl->key_name, pl->key), upd, cond, vals,
                         err);
    /* ECONDITION: another request made a session meanwhile, or it got paid: this session is
     * still a way to pay, and a second payment is refunded by fulfilment. */
    return rc == APP_ECONDITION ? APP_OK : rc;
}

int
paylink_session(const struct ctx *c, const struct paylink *pl, struct paylink_out *out,
                struct app_error *err)
{
    struct json_object *session = NULL;
    long long n = json_int(pl->holder, "sessions");
    const char *sid = json_str(pl->holder, "sessionId"), *url = json_str(pl->holder,
                                                                          "sessionUrl");
    char old[PAYLINK_ID_MAX] = "";
    int rc;

    if (!c->ddb || !c->stripe)
        return app_error_set(err, APP_EUNAVAILABLE, "no backend clients");
    if (sid)
        snprintf(old, sizeof(old), "%s", sid);
    /* Stripe's clock, not ours. */
    if (url && sid && json_int(pl->holder, "sessionExpiresAt") > (long long)time(NULL) +
        REUSE_MARGIN_S) {
        snprintf(out->id, sizeof(out->id), "%s", sid);       /* still open: the same page */
        snprintf(out->url, sizeof(out->url), "%s", url);
        return APP_OK;
    }
    rc = new_session(c, pl, n, &session, err);
    if (rc != APP_OK) {
        if (session)
            json_object_put(session);
        if (rc == APP_EUNAVAILABLE || rc == APP_ETIMEOUT)
            return rc;
        err->code = APP_EUPSTREAM;          /* the wrapping shows: app_error_prefix */
        return app_error_prefix(err, "checkout session: ");
    }
    if (!json_str(session, "id") || !json_str(session, "url") ||
        strlen(json_str(session, "id")) >= sizeof(out->id) ||
        strlen(json_str(session, "url")) >= sizeof(out->url)) {
        json_object_put(session);
        return app_error_set(err, APP_EUPSTREAM, "checkout session without a usable url");
    }
    rc = keep(c, pl, session, n, err);
    snprintf(out->id, sizeof(out->id), "%s", json_str(session, "id"));
    snprintf(out->url, sizeof(out->url), "%s", json_str(session, "url"));
    json_object_put(session);
    /* The record names the new session now, so the old one's "expired" event is seen as a
     * replaced session, not as the end of the checkout. */
    if (rc == APP_OK && old[0] && strcmp(old, out->id) != 0) {
        rc = expire_previous(c, old, err);
        if (rc == APP_ECONFLICT) {
            struct app_error keep_err = *err;

            app_error_clear(err);
            expire_previous(c, out->id, err);
            *err = keep_err;
        }
    }
    return rc;
}
