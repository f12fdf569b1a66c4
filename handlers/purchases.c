/*
 * POST /v1/purchases/create {"planId", "email", "code"?, "name"?}
 * GET  /v1/purchases/{purchaseId}
 *
 * A purchase re-validates the coupon on the server, then reserves its use atomically: one
 * DynamoDB transaction raises the coupon's usageCount (condition: below usageLimit), the
 * buyer's counter (condition: below perUserLimit; a counter item keyed by coupon and email,
 * because a GSI read is eventually consistent and cannot enforce a limit), and writes the
 * redemption and the pending purchase.  Only then is a Stripe Checkout Session created,
 * with the purchase id as its idempotency key.  If Stripe fails, the same reservation is
 * released in one transaction and the client gets 502; nothing was charged.
 *
 * The price comes from the catalogue and the coupon rules (lib/coupon.h); the client never
 * sends an amount.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/coupon.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/reservation.h"
#include "../lib/stripe.h"
#include "handlers.h"
#include "lookup.h"

#define MIN_CHARGE_CENTS 50          /* Stripe's minimum charge in AUD */
#define SESSION_LIFETIME_S 3600

struct purchase {
    char id[40];
    char code[COUPON_CODE_MAX + 1];  /* "" without a coupon */
    const char *plan_id;
    const char *plan_name;
    const char *plan_family;         /* the catalogue's family, or NULL */
    const char *email;
    const char *name;
    long long original, discount, final;
    struct coupon coupon;
    struct json_object *metadata;    /* the caller's own metadata for Stripe, or NULL */
};

static void
add_s(struct json_object *item, const char *k, const char *v)
{
    if (v)
        json_object_object_add(item, k, ddb_av_s(v));
}

static void
as_reservation(const struct purchase *p, struct reservation *r)
{
    r->purchase_id = p->id;
    r->code = p->code;
    r->email = p->email;
    r->usage_limit = p->coupon.usage_limit;
    r->per_user_limit = p->coupon.per_user_limit;
}

/* Reserve: the coupon's use (if any), the redemption record and the pending purchase. */
static int
reserve(struct request *req, const struct purchase *p, const char *now)
{
    struct json_object *pur = json_object_new_object();
    struct reservation r;
    int rc;

    add_s(pur, "purchaseId", p->id);
    add_s(pur, "campaignId", "discount-purchase");
    add_s(pur, "email", p->email);
    add_s(pur, "name", p->name);
    add_s(pur, "planId", p->plan_id);
    add_s(pur, "planName", p->plan_name);
    if (p->code[0])
        add_s(pur, "couponCode", p->code);
    json_object_object_add(pur, "originalAmountCents", ddb_av_n(p->original));
    json_object_object_add(pur, "discountCents", ddb_av_n(p->discount));
    json_object_object_add(pur, "finalAmountCents", ddb_av_n(p->final));
    add_s(pur, "currency", "AUD");
    add_s(pur, "status", "pending");
    add_s(pur, "createdAt", now);
    add_s(pur, "updatedAt", now);
    as_reservation(p, &r);
    rc = reservation_take(req->worker->ddb, req->cfg, &r, pur, now, &req->err);
    json_object_put(pur);
    return rc;
}

static int
release(struct request *req, const struct purchase *p, const char *now)
{
    struct reservation r;

    as_reservation(p, &r);
    return reservation_release(req->worker->ddb, req->cfg, &r, "failed", now, &req->err);
}

/* The catalogue entry of plan_id, if it is sold at a fixed price. */
static int
load_plan(struct request *req, struct purchase *p, struct json_object **out)
{
    struct json_object *v;
    int rc;

    rc = catalogue_plan(req, p->plan_id, out);
    if (rc != APP_OK)
        return rc;
    if (!*out || !json_object_object_get_ex(*out, "pricing", &v) ||
        strcmp(json_object_get_string(v), "fixed") != 0) {
        struct json_object *d = json_object_new_object(), *f = json_object_new_object();

        json_object_object_add(f, "planId", json_object_new_string("is not a plan sold here"));
        json_object_object_add(d, "fields", f);
        reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
        return APP_EVALIDATION;
    }
    json_object_object_get_ex(*out, "amountCents", &v);
    p->original = json_object_get_int64(v);
    json_object_object_get_ex(*out, "name", &v);
    p->plan_name = json_object_get_string(v);
    p->plan_family = json_str(*out, "family");
    return APP_OK;
}

/* The coupon as stored now (consistent read) and how often email has used it; a coupon
 * reason (NOT_FOUND, MISCONFIGURED) or an app error code. */
static int
load_coupon(struct request *req, struct purchase *p, long long *uses)
{
    struct json_object *k, *item = NULL, *plain, *v;
    char cid[400], why[COUPON_WHY_MAX];
    int rc;

    *uses = 0;
    k = ddb_key_s("couponCode", p->code);
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_coupons, k, 1, &item, &req->err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND)
        return COUPON_NOT_FOUND;
    if (rc != APP_OK)
        return rc;
    plain = ddb_unmarshal_item(item);
    json_object_put(item);
    rc = plain ? (int)coupon_from_item(plain, &p->coupon, why, sizeof(why)) :
         COUPON_MISCONFIGURED;
    if (rc != COUPON_OK) {
        coupon_log_misconfigured(req, p->code, plain ? why : "not an item DynamoDB could give");
        if (plain)
            json_object_put(plain);
        return COUPON_MISCONFIGURED;
    }
    json_object_put(plain);
    snprintf(cid, sizeof(cid), "COUNTER#%s#%s", p->code, p->email);
    k = ddb_key_s("usageId", cid);
    item = NULL;
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_coupon_usage, k, 1, &item, &req->err);
    json_object_put(k);
    if (rc == APP_OK && json_object_object_get_ex(item, "uses", &v) &&
        json_object_object_get_ex(v, "N", &v))
        *uses = strtoll(json_object_get_string(v), NULL, 10); /* checksrc: ok, DynamoDB N */
    if (item)
        json_object_put(item);
    return rc == APP_OK || rc == APP_ENOTFOUND ? APP_OK : rc;
}

static int
reply_coupon_refused(struct request *req, int code, enum coupon_reason r)
{
    struct json_object *d = json_object_new_object();

    json_object_object_add(d, "reason", json_object_new_string(coupon_reason_slug(r)));
    return reply_error(req, code, coupon_reason_message(r), d);
}

/* A Checkout Session for the purchase; out gets the session (id, url). */
static int
create_session(struct request *req, const struct purchase *p, struct json_object **out)
{
    struct stripe_params *sp = stripe_params_new();
    char url[1024], product[300];
    int rc;

    snprintf(product, sizeof(product), "%s%s%s", p->plan_name, p->code[0] ? " - coupon " : "",
             p->code);
    stripe_params_add(sp, "mode", "payment");
    stripe_params_add(sp, "line_items[0][price_data][currency]", "aud");
    stripe_params_add_long(sp, "line_items[0][price_data][unit_amount]", p->final);
    stripe_params_add(sp, "line_items[0][price_data][product_data][name]", product);
    stripe_params_add(sp, "line_items[0][quantity]", "1");
    stripe_params_add(sp, "customer_email", p->email);
    stripe_params_add(sp, "client_reference_id", p->id);
    stripe_params_add(sp, "metadata[campaignId]", "discount-purchase");
    stripe_params_add(sp, "metadata[purchaseId]", p->id);
    stripe_params_add(sp, "metadata[planId]", p->plan_id);
    if (p->code[0])
        stripe_params_add(sp, "metadata[couponCode]", p->code);
    if (p->metadata) {
        /* Checked by checkout_create: short keys of [A-Za-z0-9_], string values; ours win. */
        json_object_object_foreach(p->metadata, mk, mv) {
            char key[80];

            if (!strcmp(mk, "campaignId") || !strcmp(mk, "purchaseId") ||
                !strcmp(mk, "planId") || !strcmp(mk, "couponCode"))
                continue;
            snprintf(key, sizeof(key), "metadata[%s]", mk);
            stripe_params_add(sp, key, json_object_get_string(mv));
        }
    }
    stripe_params_add(sp, "payment_intent_data[metadata][purchaseId]", p->id);
    stripe_params_add(sp, "payment_intent_data[metadata][campaignId]", "discount-purchase");
    stripe_params_add_long(sp, "expires_at", (long long)time(NULL) + SESSION_LIFETIME_S);
    snprintf(url, sizeof(url), "%s/purchase/success?session_id={CHECKOUT_SESSION_ID}",
             req->cfg->frontend_url);
    stripe_params_add(sp, "success_url", url);
    snprintf(url, sizeof(url), "%s/purchase/cancelled?purchase_id=%s", req->cfg->frontend_url,
             p->id);
    stripe_params_add(sp, "cancel_url", url);
    rc = stripe_post(req->worker->stripe, "/v1/checkout/sessions", sp, p->id, out, &req->err);
    stripe_params_free(sp);
    return rc;
}

/* Why the reservation's conditions failed, read back after the fact. */
static enum coupon_reason
why_refused(struct request *req, struct purchase *p)
{
    long long uses = 0;
    int rc = load_coupon(req, p, &uses);

    if (rc == COUPON_MISCONFIGURED)
        return COUPON_MISCONFIGURED;
    if (rc != APP_OK)
        return COUPON_USAGE_LIMIT_REACHED;
    if (!p->coupon.active)
        return COUPON_INACTIVE;
    if (p->coupon.per_user_limit && uses >= p->coupon.per_user_limit)
        return COUPON_ALREADY_USED;
    return COUPON_USAGE_LIMIT_REACHED;
}

int
purchases_create(struct request *req)
{
    struct json_object *plan = NULL, *session = NULL, *d, *v, *k, *values;
    const char *code_in = NULL, *session_id, *checkout_url;
    struct purchase p;
    enum coupon_reason r;
    char now[32];
    long long uses = 0;
    int rc;

    memset(&p, 0, sizeof(p));
    field_campaign(req, "discount-purchase");
    p.metadata = field_metadata(req);
    field_alias(req, "couponCode", NULL, "code");
    field_alias(req, "planType", NULL, "planId");
    field_string(req, "planId", 1, 64, FIELD_REQUIRED, &p.plan_id);
    field_email(req, "email", FIELD_REQUIRED, &p.email);
    field_string(req, "code", 1, 64, 0, &code_in);
    field_string(req, "name", 1, 200, 0, &p.name);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = load_plan(req, &p, &plan);
    if (rc != APP_OK)
        goto done;
    time_iso(time(NULL), now, sizeof(now));

    if (code_in) {
        if (coupon_normalize_code(code_in, p.code, sizeof(p.code)) != 0) {
            rc = reply_coupon_refused(req, APP_EUNPROCESSABLE, COUPON_NOT_FOUND);
            goto done;
        }
        rc = load_coupon(req, &p, &uses);
        if (rc > 0) {
            rc = reply_coupon_refused(req, APP_EUNPROCESSABLE, (enum coupon_reason)rc);
            goto done;
        }
        if (rc != APP_OK)
            goto done;
        r = coupon_check(&p.coupon, p.plan_id, p.plan_family, p.original, time(NULL), uses);
        if (r != COUPON_OK) {
            rc = reply_coupon_refused(req, r == COUPON_USAGE_LIMIT_REACHED ||
                                      r == COUPON_ALREADY_USED ? APP_ECONDITION :
                                      APP_EUNPROCESSABLE, r);
            goto done;
        }
        p.discount = coupon_discount(&p.coupon, p.original);
    }
    p.final = p.original - p.discount;
    if (p.final < MIN_CHARGE_CENTS) {
        d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("BELOW_MINIMUM_CHARGE"));
        rc = reply_error(req, APP_EUNPROCESSABLE, "The amount is below the minimum charge", d);
        goto done;
    }
    if (id_new(p.id, sizeof(p.id), "pur_") != 0) {
        rc = app_error_set(&req->err, APP_EINTERNAL, "no random bytes for an id");
        goto done;
    }

    rc = reserve(req, &p, now);
    if (rc == APP_ECONDITION) {
        app_error_clear(&req->err);
        rc = reply_coupon_refused(req, APP_ECONDITION, why_refused(req, &p));
        goto done;
    }
    if (rc != APP_OK)
        goto done;

    rc = create_session(req, &p, &session);
    if (rc != APP_OK || !json_object_object_get_ex(session, "id", &v) ||
        !json_object_object_get_ex(session, "url", &v)) {
        struct app_error keep = req->err;

        req_log(req, LL_ERROR, "checkout session for %s failed (%s); releasing the "
                "reservation", p.id, req->err.msg);
        app_error_clear(&req->err);
        if (release(req, &p, now) != APP_OK)
            req_log(req, LL_ERROR, "releasing %s failed: %s; the expiry sweep will", p.id,
                    req->err.msg);
        req->err = keep;
        d = json_object_new_object();
        json_object_object_add(d, "purchaseId", json_object_new_string(p.id));
        rc = reply_error(req, APP_EUPSTREAM,
                         "The payment provider is unavailable; nothing was charged", d);
        goto done;
    }
    json_object_object_get_ex(session, "id", &v);
    session_id = json_object_get_string(v);
    json_object_object_get_ex(session, "url", &v);
    checkout_url = json_object_get_string(v);

    k = ddb_key_s("purchaseId", p.id);
    values = json_object_new_object();
    json_object_object_add(values, ":sid", ddb_av_s(session_id));
    json_object_object_add(values, ":url", ddb_av_s(checkout_url));
    json_object_object_add(values, ":pending", ddb_av_s("pending"));
    {
        struct json_object *names = json_object_new_object();

        json_object_object_add(names, "#st", json_object_new_string("status"));
        rc = ddb_update_item(req->worker->ddb, req->cfg->tbl_discount_purchases, k,
                             "SET stripeSessionId = :sid, checkoutUrl = :url",
                             "#st = :pending", names, values, NULL, NULL, &req->err);
        json_object_put(names);
    }
    json_object_put(k);
    json_object_put(values);
    if (rc != APP_OK && rc != APP_ECONDITION)
        goto done;

    d = json_object_new_object();
    json_object_object_add(d, "purchaseId", json_object_new_string(p.id));
    json_object_object_add(d, "status", json_object_new_string("pending"));
    json_object_object_add(d, "sessionId", json_object_new_string(session_id));
    json_object_object_add(d, "checkoutUrl", json_object_new_string(checkout_url));
    json_object_object_add(d, "planId", json_object_new_string(p.plan_id));
    if (p.code[0])
        json_object_object_add(d, "code", json_object_new_string(p.code));
    json_object_object_add(d, "currency", json_object_new_string("AUD"));
    json_object_object_add(d, "originalAmountCents", json_object_new_int64(p.original));
    json_object_object_add(d, "discountCents", json_object_new_int64(p.discount));
    json_object_object_add(d, "finalAmountCents", json_object_new_int64(p.final));
    rc = reply_json(req, 201, d);
done:
    if (plan)
        json_object_put(plan);
    if (session)
        json_object_put(session);
    return rc;
}

/* The fields of a purchase its buyer may see again; never the email or the name. */
static const char *const purchase_public[] = {
    "purchaseId", "status", "planId", "planName", "couponCode", "currency",
    "originalAmountCents", "discountCents", "finalAmountCents", "createdAt", "updatedAt",
    "checkoutUrl", NULL,
};

int
purchases_get(struct request *req)
{
    const char *id = req_path_param(req, "purchaseId");
    struct json_object *k, *item = NULL, *plain, *out, *v;
    size_t i;
    int rc;

    if (!id_valid(id, "pur_"))
        return app_error_set(&req->err, APP_ENOTFOUND, "no such purchase");
    k = ddb_key_s("purchaseId", id);
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_discount_purchases, k, 1, &item,
                      &req->err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such purchase");
    if (rc != APP_OK)
        return rc;
    plain = ddb_unmarshal_item(item);
    json_object_put(item);
    if (!plain)
        return app_error_set(&req->err, APP_EINTERNAL, "purchase %s is malformed", id);
    out = json_object_new_object();
    for (i = 0; purchase_public[i]; i++) {
        if (json_object_object_get_ex(plain, purchase_public[i], &v))
            json_object_object_add(out, purchase_public[i], json_object_get(v));
    }
    json_object_put(plain);
    return reply_json(req, 200, out);
}
