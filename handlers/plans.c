/*
 * GET /v1/plans/{planId}: one product of the catalogue (name, price in cents, currency,
 * duration; family and plan type where it has them), as the frontends show it.  The family is
 * what a coupon's applicablePlans may name instead of plan ids (lib/coupon.h).  Read through
 * the cache (handlers/lookup.h): a hit never touches DynamoDB; an unknown id is cached too
 * (briefly), so guessing ids does not reach DynamoDB.
 */
#include "config.h"

#include <string.h>

#include "../fcgi/request.h"
#include "../lib/cfg.h"
#include "../lib/money.h"
#include "handlers.h"
#include "lookup.h"

/* The fields a client may see; the rest (Stripe ids, notes) stays inside. */
static const char *const public_fields[] = {
    "planId", "name", "amountCents", "currency", "durationMonths", "campaignId", "pricing",
    "family", "planType", NULL,
};

int
plan_public_shape(struct json_object *plain, struct buf *out)
{
    struct json_object *pub, *v;
    size_t i;
    int rc;

    if (!json_object_object_get_ex(plain, "status", &v) ||
        strcmp(json_object_get_string(v), "active") != 0)
        return APP_OK;                          /* inactive: as if there were none */
    pub = json_object_new_object();
    for (i = 0; public_fields[i]; i++) {
        if (json_object_object_get_ex(plain, public_fields[i], &v))
            json_object_object_add(pub, public_fields[i], json_object_get(v));
    }
    money_add_decimals(pub);
    rc = buf_puts(out, json_object_to_json_string_ext(pub, JSON_C_TO_STRING_PLAIN));
    json_object_put(pub);
    return rc;
}

int
plan_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    return n > 0 && n <= 64 && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int
plans_get(struct request *req)
{
    const char *id = req_path_param(req, "planId");
    struct buf data;
    int rc, hit = 0;

    if (!plan_id_valid(id))
        return app_error_set(&req->err, APP_ENOTFOUND, "no such plan");
    buf_init(&data, 16 * 1024);
    rc = lookup_item(req, "plan", req->cfg->tbl_catalogue, "planId", id, plan_public_shape,
                     &data, &hit);
    if (rc != APP_OK)
        goto done;
    req_add_header(req, "X-Cache", hit ? "hit" : "miss");
    if (data.len == 0)
        rc = app_error_set(&req->err, APP_ENOTFOUND, "no such plan");
    else
        rc = reply_json_raw(req, 200, data.data);
done:
    buf_free(&data);
    return rc;
}
