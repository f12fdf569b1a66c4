/*
 * POST /v1/checkout/create {"campaignId", ...that campaign's create fields..., "metadata"?}
 * POST /v1/checkout/verify {"sessionId"}
 *
 * create is the universal entry of every campaign (the registry, campaign/campaign.h): it
 * checks campaignId, then hands the request to that campaign's own create route, which reads
 * the rest (metadata included), prices it on the server, records it and opens its Checkout.
 * An amount or currency sent (the seed's frontend sends them) is never used: the reply says
 * so.
 *
 * verify asks Stripe for the session and reconciles it with the record it belongs to, for
 * any campaign: the payment status, the record's status, and whether the session is the one
 * the record names for the amount and currency we priced.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/routes.h"
#include "../fcgi/worker.h"
#include "../campaign/campaign.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/strparse.h"
#include "../lib/stripe.h"
#include "handlers.h"

static int
field_problem(struct request *req, const char *name, const char *why)
{
    struct json_object *d = json_object_new_object(), *f = json_object_new_object();

    json_object_object_add(f, name, json_object_new_string(why));
    json_object_object_add(d, "fields", f);
    reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
    return APP_EVALIDATION;
}

/* The campaign's answer will say that the amount fields sent were not used. */
static void
note_ignored(struct request *req, int amount, int currency)
{
    struct json_object *ign;

    if (!amount && !currency)
        return;
    ign = json_object_new_array();
    if (amount)
        json_object_array_add(ign, json_object_new_string("amount"));
    if (currency)
        json_object_array_add(ign, json_object_new_string("currency"));
    req->reply_extra = json_object_new_object();
    json_object_object_add(req->reply_extra, "ignoredFields", ign);
    json_object_object_add(req->reply_extra, "notice", json_object_new_string(
        "Amounts are computed by the server from our prices; the amount and currency sent "
        "were not used"));
}

int
checkout_create(struct request *req)
{
    struct json_object *cid, *amount, *currency;
    const struct campaign *k;
    const struct route *r;

    cid = field_known(req, NULL, "campaignId");
    if (!cid)
        return field_problem(req, "campaignId", "is required");
    k = campaign_find(json_object_is_type(cid, json_type_string) ?
                      json_object_get_string(cid) : NULL);
    if (!k)
        return field_problem(req, "campaignId", "is not a campaign (discount-purchase, "
                             "team-creation, scholarship-application, personalized-plan, "
                             "mock-exam)");
    r = route_named(k->create_route);
    if (!r)
        return app_error_set(&req->err, APP_EINTERNAL, "campaign %s: no route %s", k->id,
                             k->create_route);
    /* The seed's checkout takes amount and currency: accepted, never used. */
    amount = field_known(req, NULL, "amount");
    currency = field_known(req, NULL, "currency");
    note_ignored(req, amount ? 1 : 0, currency ? 1 : 0);
    return route_call(req, r);
}

static int
valid_session_id(const char *sid)
{
    size_t n = strlen(sid);

    return n > 3 && strncmp(sid, "cs_", 3) == 0 &&
           strspn(sid + 3, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
           == n - 3;
}

/* Our record's side of the session, added to d; APP_OK also when there is no record. */
static int
reconcile(struct request *req, struct json_object *session, struct json_object *d,
          const char *sid)
{
    struct json_object *meta = NULL, *rec = NULL;
    const struct campaign *kind;
    struct campaign_view v = {NULL, -1, NULL, NULL};
    const char *id, *cur;
    long long total;
    int rc;

    json_object_object_get_ex(session, "metadata", &meta);
    kind = campaign_find(json_str(meta, "campaignId"));
    id = kind ? json_str(meta, kind->key_name) : NULL;
    if (!kind || !id || !id_valid(id, kind->id_prefix))
        return APP_OK;
    json_add_str(d, "campaignId", kind->id);
    json_add_str(d, kind->key_name, id);
    json_add_str(d, "recordId", id);
    rc = campaign_load(kind, &req->ctx, id, &rec, &req->err);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(&req->err);
        json_object_object_add(d, "consistent", json_object_new_boolean(0));
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    kind->ops->view(kind, rec, meta, &v);
    total = json_int(session, "amount_total");
    cur = json_str(session, "currency");
    json_add_str(d, "recordStatus", v.status ? v.status : "unknown");
    json_object_object_add(d, "amountCents", json_object_new_int64(v.amount));
    if (strcmp(kind->id, "discount-purchase") == 0) {
        /* The names this route answered with before it served every campaign. */
        json_add_str(d, "purchaseStatus", v.status ? v.status : "unknown");
    }
    /* Consistent: the session is the one the record names, for the amount we priced. */
    json_object_object_add(d, "consistent", json_object_new_boolean(
        v.amount >= 0 && v.amount == total && v.session && strcmp(v.session, sid) == 0 &&
        (!cur || !v.currency || strcasecmp(cur, v.currency) == 0)));
    json_object_put(rec);
    return APP_OK;
}

int
checkout_verify(struct request *req)
{
    struct json_object *session = NULL, *d;
    const char *sid = NULL, *status;
    char path[128];
    int rc;

    field_string(req, "sessionId", 1, 100, FIELD_REQUIRED, &sid);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    if (!valid_session_id(sid))
        return field_problem(req, "sessionId", "is not a Checkout Session id");
    snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", sid);
    rc = stripe_get(req->worker->stripe, path, NULL, &session, &req->err);
    if (rc == APP_ENOTFOUND) {
        rc = app_error_set(&req->err, APP_ENOTFOUND, "no such checkout session");
        goto done;
    }
    if (rc != APP_OK)
        goto done;
    d = json_object_new_object();
    json_add_str(d, "sessionId", sid);
    status = json_str(session, "status");
    json_add_str(d, "status", status ? status : "unknown");
    status = json_str(session, "payment_status");
    json_add_str(d, "paymentStatus", status ? status : "unknown");
    json_object_object_add(d, "amountTotalCents",
                           json_object_new_int64(json_object_object_get_ex(
                               session, "amount_total", NULL) ?
                               json_int(session, "amount_total") : -1));
    rc = reconcile(req, session, d, sid);
    if (rc != APP_OK) {
        json_object_put(d);
        goto done;
    }
    rc = reply_json(req, 200, d);
done:
    if (session)
        json_object_put(session);
    return rc;
}
