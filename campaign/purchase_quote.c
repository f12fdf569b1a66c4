/*
 * A coupon quoted (purchase.h), for POST /v1/coupons/validate, the route the benchmark
 * drives: one cache round trip for the client's count of wrong guesses, the plan and the
 * coupon; DynamoDB only on a miss (lib/cached.h), and for the buyer's use counter when an
 * email is given and the coupon limits uses per buyer.  Unknown codes are cached too.  Each
 * unknown code and each answer about the email's own uses spends one of the client's
 * COUPON_GUESS_LIMIT lookups per COUPON_GUESS_WINDOW_S (purchase.h; a memcached counter per
 * address; with the cache down the edge's general rate limit still holds).  Prices come from
 * the catalogue when a plan is named; an amount is taken only to preview a discount.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/catalogue.h"
#include "../lib/ddbjson.h"
#include "purchase.h"

#define CACHED_TEXT_MAX (64 * 1024)

enum { GUESS, PLAN, COUPON, NKEYS };

/* A catalogue key we could hold (the catalogue's ids); anything else is no plan at all. */
static int
plan_key_ok(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n <= 64 && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* The coupon does not apply: an answer, not an error.  A wrong code counts as a guess. */
static void
refuse(const struct ctx *c, const struct purchase_quote_input *in, struct purchase_quote *out,
       const char *code, enum coupon_reason r)
{
    if (r == COUPON_NOT_FOUND)
        purchase_lookup_spend(c, in->client);
    out->valid = 0;
    out->reason = r;
    snprintf(out->code, sizeof(out->code), "%s", code);
}

/* The plan's price and family, from the cached text (read and cached on a miss). */
static int
quote_plan(const struct ctx *c, const struct purchase_quote_input *in, int cached,
           struct buf *text, long long *amount, const char **family, struct json_object **plan,
           struct app_error *err)
{
    struct json_object *v;
    int rc = APP_OK;

    if (plan_key_ok(in->plan_id))
        rc = cached_item(c, "plan", c->cfg->tbl_catalogue, "planId", in->plan_id,
                         in->plan_shape, cached, text, err);
    else
        buf_reset(text);
    if (rc != APP_OK)
        return rc;
    if (text->len == 0)
        return app_error_field(err, "planId", "is not a plan we sell");
    *plan = json_tokener_parse(text->data);
    if (*plan && !catalogue_sells(*plan, PURCHASE_CAMPAIGN, "fixed"))
        return app_error_field(err, "planId", "is not a plan we sell");
    if (!*plan || !json_object_object_get_ex(*plan, "amountCents", &v))
        return app_error_set(err, APP_EINTERNAL, "plan %s has no price", in->plan_id);
    *amount = json_object_get_int64(v);
    *family = json_str(*plan, "family");
    return APP_OK;
}

int
purchase_quote(const struct ctx *c, const struct purchase_quote_input *in,
               struct purchase_quote *out, struct app_error *err)
{
    static const char *const ns[NKEYS] = {"guess", "plan", "coupon"};
    const char *keys[NKEYS], *family = NULL;
    char code[COUPON_CODE_MAX + 1], why[COUPON_WHY_MAX];
    struct json_object *plan = NULL, *item = NULL;
    long long amount = in->amount_cents, uses = 0;
    struct buf got[NKEYS];
    struct coupon cp;
    enum coupon_reason r;
    int rc = APP_OK, hit[NKEYS], code_ok, per_email = 0;
    size_t i;

    memset(out, 0, sizeof(*out));
    code_ok = coupon_normalize_code(in->code, code, sizeof(code)) == 0;
    keys[GUESS] = purchase_client(in->client);
    keys[PLAN] = in->plan_id && plan_key_ok(in->plan_id) ? in->plan_id : "-";
    keys[COUPON] = code_ok ? code : "-";
    for (i = 0; i < NKEYS; i++)
        buf_init(&got[i], CACHED_TEXT_MAX);
    cache_get_many(c->cache, NKEYS, ns, keys, got, hit);
    rc = purchase_lookups_left(c, hit[GUESS] ? got[GUESS].data : NULL, err);
    if (rc != APP_OK)
        goto done;
    if (in->plan_id) {
        rc = quote_plan(c, in, hit[PLAN], &got[PLAN], &amount, &family, &plan, err);
        if (rc != APP_OK)
            goto done;
    }
    if (!code_ok) {
        refuse(c, in, out, in->code, COUPON_NOT_FOUND);
        goto done;
    }
    rc = cached_item(c, "coupon", c->cfg->tbl_coupons, "couponCode", code, cached_whole_item,
                     hit[COUPON], &got[COUPON], err);
    if (rc != APP_OK)
        goto done;
    if (got[COUPON].len == 0) {
        refuse(c, in, out, code, COUPON_NOT_FOUND);
        goto done;
    }
    item = json_tokener_parse(got[COUPON].data);
    r = item ? coupon_from_item(item, &cp, why, sizeof(why)) : COUPON_MISCONFIGURED;
    if (r != COUPON_OK) {
        coupon_log_misconfigured(c, code, item ? why : "the cached record is not JSON");
        refuse(c, in, out, code, r);
        goto done;
    }
    if (in->email && cp.per_user_limit) {
        rc = purchase_coupon_uses_quoted(c, cp.code, in->email, &uses, err);
        if (rc != APP_OK)
            goto done;
        per_email = 1;
    }
    r = coupon_check(&cp, in->plan_id, family, amount, c->now, uses);
    if (per_email && (r == COUPON_OK || r == COUPON_ALREADY_USED))
        purchase_lookup_spend(c, in->client);   /* it says whether the email used it */
    if (r != COUPON_OK) {
        refuse(c, in, out, cp.code, r);
        goto done;
    }
    out->valid = 1;
    snprintf(out->code, sizeof(out->code), "%s", cp.code);
    out->original_cents = amount;
    out->discount_cents = coupon_discount(&cp, amount);
    out->final_cents = amount - out->discount_cents;
done:
    if (plan)
        json_object_put(plan);
    if (item)
        json_object_put(item);
    for (i = 0; i < NKEYS; i++)
        buf_free(&got[i]);
    return rc;
}
