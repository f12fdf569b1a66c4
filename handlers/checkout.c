/*
 * POST /v1/checkout/create {"campaignId", ...what is bought..., "metadata"?}
 * POST /v1/checkout/verify {"sessionId"}
 *
 * create is the universal entry of every campaign: it checks campaignId and the caller's
 * metadata, then runs that campaign's purchase flow (which prices it on the server and
 * records it before Stripe is called).  Campaigns whose resources are not built yet are
 * refused with 422 CAMPAIGN_NOT_AVAILABLE rather than half-served.
 *
 * verify asks Stripe for the session and reconciles it with our record: the client learns
 * the payment status and whether the amount Stripe holds is the amount we priced.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/stripe.h"
#include "handlers.h"

#define META_MAX_KEYS 20
#define META_KEY_MAX 40
#define META_VALUE_MAX 200

static const char *const campaigns[] = {
    "discount-purchase", "team-creation", "scholarship-application", "personalized-plan",
    "mock-exam", NULL,
};

/* Flat string metadata with short [A-Za-z0-9_] keys; why it is not, or NULL. */
static const char *
metadata_problem(struct json_object *m)
{
    if (!json_object_is_type(m, json_type_object))
        return "must be an object of strings";
    if (json_object_object_length(m) > META_MAX_KEYS)
        return "has too many keys (at most 20)";
    json_object_object_foreach(m, k, v) {
        size_t n = strlen(k), i;

        if (n == 0 || n > META_KEY_MAX)
            return "keys must be 1-40 characters";
        for (i = 0; i < n; i++) {
            if (!isalnum((unsigned char)k[i]) && k[i] != '_')
                return "keys may hold only letters, digits and _";
        }
        if (!json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) > META_VALUE_MAX)
            return "values must be strings of at most 200 characters";
    }
    return NULL;
}

static int
field_problem(struct request *req, const char *name, const char *why)
{
    struct json_object *d = json_object_new_object(), *f = json_object_new_object();

    json_object_object_add(f, name, json_object_new_string(why));
    json_object_object_add(d, "fields", f);
    reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
    return APP_EVALIDATION;
}

int
checkout_create(struct request *req)
{
    struct json_object *meta = NULL, *d;
    const char *campaign = NULL, *why;
    size_t i;

    field_string(req, "campaignId", 1, 64, FIELD_REQUIRED, &campaign);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    for (i = 0; campaigns[i] && strcmp(campaigns[i], campaign) != 0; i++)
        ;
    if (!campaigns[i])
        return field_problem(req, "campaignId", "is not a campaign");
    if (json_object_object_get_ex(req->json, "metadata", &meta)) {
        why = metadata_problem(meta);
        if (why)
            return field_problem(req, "metadata", why);
    }
    if (strcmp(campaign, "discount-purchase") == 0)
        return purchase_checkout(req, meta);
    d = json_object_new_object();
    json_object_object_add(d, "reason", json_object_new_string("CAMPAIGN_NOT_AVAILABLE"));
    json_object_object_add(d, "campaignId", json_object_new_string(campaign));
    return reply_error(req, APP_EUNPROCESSABLE, "This campaign cannot be bought here yet", d);
}

int
checkout_verify(struct request *req)
{
    struct json_object *session = NULL, *meta = NULL, *k, *item = NULL, *plain = NULL, *d, *v;
    const char *sid = NULL, *pid, *status;
    long long total = -1, ours = -1;
    char path[128];
    size_t n;
    int rc;

    field_string(req, "sessionId", 1, 100, FIELD_REQUIRED, &sid);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    n = strlen(sid);
    if (strncmp(sid, "cs_", 3) != 0 ||
        strspn(sid + 3, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
        n - 3)
        return field_problem(req, "sessionId", "is not a Checkout Session id");
    if (!req->worker || !req->worker->stripe || !req->worker->ddb)
        return app_error_set(&req->err, APP_EUNAVAILABLE, "no backend clients");
    snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", sid);
    rc = stripe_get(req->worker->stripe, path, NULL, &session, &req->err);
    if (rc == APP_ENOTFOUND) {
        rc = app_error_set(&req->err, APP_ENOTFOUND, "no such checkout session");
        goto done;
    }
    if (rc != APP_OK)
        goto done;
    json_object_object_get_ex(session, "metadata", &meta);
    pid = json_str(meta, "purchaseId");
    d = json_object_new_object();
    json_object_object_add(d, "sessionId", json_object_new_string(sid));
    status = json_str(session, "status");
    json_object_object_add(d, "status", json_object_new_string(status ? status : "unknown"));
    status = json_str(session, "payment_status");
    json_object_object_add(d, "paymentStatus",
                           json_object_new_string(status ? status : "unknown"));
    if (json_object_object_get_ex(session, "amount_total", &v))
        total = json_object_get_int64(v);
    json_object_object_add(d, "amountTotalCents", json_object_new_int64(total));
    if (pid && id_valid(pid, "pur_")) {
        k = json_object_new_object();
        json_object_object_add(k, "purchaseId", ddb_av_s(pid));
        rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_discount_purchases, k, 1, &item,
                          &req->err);
        json_object_put(k);
        if (rc != APP_OK && rc != APP_ENOTFOUND) {
            json_object_put(d);
            goto done;
        }
        plain = item ? ddb_unmarshal_item(item) : NULL;
        json_object_object_add(d, "purchaseId", json_object_new_string(pid));
        if (plain) {
            status = json_str(plain, "status");
            json_object_object_add(d, "purchaseStatus",
                                   json_object_new_string(status ? status : "unknown"));
            if (json_object_object_get_ex(plain, "finalAmountCents", &v))
                ours = json_object_get_int64(v);
            status = json_str(plain, "stripeSessionId");
            /* Consistent: the session is the one we recorded, for the amount we priced. */
            json_object_object_add(d, "consistent", json_object_new_boolean(
                ours == total && status && strcmp(status, sid) == 0));
        }
    }
    rc = reply_json(req, 200, d);
done:
    if (session)
        json_object_put(session);
    if (item)
        json_object_put(item);
    if (plain)
        json_object_put(plain);
    return rc;
}
