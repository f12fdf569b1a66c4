/*
 * POST /v1/purchases/create {"planId", "email", "code"?, "name"?}
 * GET  /v1/purchases/{purchaseId}
 *
 * The purchase itself (price, coupon reservation, Checkout Session) is the campaign's
 * (campaign/purchase.h); this file reads the fields and answers.  The client never sends an
 * amount.
 */
#include "config.h"

#include <string.h>

#include "../campaign/purchase.h"
#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "handlers.h"

int
purchases_create(struct request *req)
{
    struct purchase_input in;
    struct purchase_created out;
    struct json_object *d;
    int rc;

    memset(&in, 0, sizeof(in));
    in.client = req_env(req, "REMOTE_ADDR");        /* as nginx saw it (after real_ip) */
    field_campaign(req, PURCHASE_CAMPAIGN);
    in.metadata = field_metadata(req);
    field_alias(req, "couponCode", NULL, "code");
    field_alias(req, "planType", NULL, "planId");
    field_string(req, "planId", 1, 64, FIELD_REQUIRED, &in.plan_id);
    field_email(req, "email", FIELD_REQUIRED, &in.email);
    field_string(req, "code", 1, 64, 0, &in.code);
    field_string(req, "name", 1, 200, 0, &in.name);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = purchase_create(&req->ctx, &in, &out, &req->err);
    if (rc == APP_EUPSTREAM && out.session_failed) {
        d = json_object_new_object();
        json_object_object_add(d, "purchaseId", json_object_new_string(out.id));
        return reply_error(req, APP_EUPSTREAM,
                           "The payment provider is unavailable; nothing was charged", d);
    }
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    json_object_object_add(d, "purchaseId", json_object_new_string(out.id));
    json_object_object_add(d, "status", json_object_new_string("pending"));
    json_object_object_add(d, "sessionId", json_object_new_string(out.session_id));
    json_object_object_add(d, "checkoutUrl", json_object_new_string(out.checkout_url));
    json_object_object_add(d, "expiresAt", json_object_new_string(out.expires_at));
    json_object_object_add(d, "planId", json_object_new_string(in.plan_id));
    if (out.code[0])
        json_object_object_add(d, "code", json_object_new_string(out.code));
    json_object_object_add(d, "currency", json_object_new_string("AUD"));
    json_object_object_add(d, "originalAmountCents", json_object_new_int64(out.original_cents));
    json_object_object_add(d, "discountCents", json_object_new_int64(out.discount_cents));
    json_object_object_add(d, "finalAmountCents", json_object_new_int64(out.final_cents));
    return reply_json(req, 201, d);
}

/* The fields of a purchase its buyer may see again; never the email or the name. */
static const char *const purchase_public[] = {
    "purchaseId", "status", "planId", "planName", "couponCode", "currency",
    "originalAmountCents", "discountCents", "finalAmountCents", "createdAt", "updatedAt",
    "checkoutUrl", "expiresAt", NULL,
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
