/*
 * POST /v1/coupons/validate {"code", "planId" | "amountCents", "email"?}
 *
 * Says whether a coupon applies, and if so the amounts in cents; if not, the machine reason
 * (lib/coupon.h).  The quote is the campaign's (campaign/purchase.h purchase_quote: the
 * catalogue's price when a plan is named, the cache, the client's lookup budget); this file
 * reads the fields and answers.
 */
#include "config.h"

#include <string.h>

#include "../campaign/purchase.h"
#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "handlers.h"
#include "lookup.h"

int
coupons_validate(struct request *req)
{
    struct purchase_quote_input in;
    struct purchase_quote out;
    struct json_object *d;
    int rc, have_amount;

    memset(&in, 0, sizeof(in));
    field_alias(req, "couponCode", NULL, "code");
    field_alias(req, "planType", NULL, "planId");
    field_string(req, "code", 1, 64, FIELD_REQUIRED, &in.code);
    field_string(req, "planId", 1, 64, 0, &in.plan_id);
    have_amount = field_int(req, "amountCents", 0, 100000000, 0, &in.amount_cents);
    field_email(req, "email", 0, &in.email);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    if (!in.plan_id && !have_amount)
        return app_error_field(&req->err, "planId", "planId or amountCents is required");
    in.client = req_env(req, "REMOTE_ADDR");        /* as nginx saw it (after real_ip) */
    in.plan_shape = plan_public_shape;
    rc = purchase_quote(&req->ctx, &in, &out, &req->err);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    json_object_object_add(d, "valid", json_object_new_boolean(out.valid));
    json_object_object_add(d, "code", json_object_new_string(out.code));
    if (!out.valid) {
        json_object_object_add(d, "reason", json_object_new_string(
                                   coupon_reason_slug(out.reason)));
        json_object_object_add(d, "message", json_object_new_string(
                                   coupon_reason_message(out.reason)));
        return reply_json(req, 200, d);
    }
    if (in.plan_id)
        json_object_object_add(d, "planId", json_object_new_string(in.plan_id));
    json_object_object_add(d, "currency", json_object_new_string("AUD"));
    json_object_object_add(d, "originalAmountCents", json_object_new_int64(out.original_cents));
    json_object_object_add(d, "discountCents", json_object_new_int64(out.discount_cents));
    json_object_object_add(d, "finalAmountCents", json_object_new_int64(out.final_cents));
    return reply_json(req, 200, d);
}
