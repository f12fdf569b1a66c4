/*
 * A coupon quoted (purchase.h), for POST /v1/coupons/validate, the route the benchmark
 * drives: one cache round trip for the client's count of wrong guesses, the plan, the coupon
 * and, when an email is given, the buyer's use counter; what missed is read from DynamoDB
 * in one round trip (cached_items, lib/cached.h) and cached.  The counter is read with the
 * rest before the coupon says whether it limits uses per buyer, and is then unused if not.
 * Unknown codes are cached too.  Each unknown code and each answer about the email's own
 * uses spends one of the client's COUPON_GUESS_LIMIT lookups per COUPON_GUESS_WINDOW_S
 * (purchase.h; a memcached counter per address; with the cache down the edge's general
 * rate limit still holds).  Prices come from the catalogue when a plan is named; an amount
 * is taken only to preview a discount.
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

enum { GUESS, PLAN, COUPON, USES, NKEYS };

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

/*
 * What the cache did not have of the plan (when in names one), the coupon (when code is not
 * NULL) and the buyer's count (when u is not NULL), read in one round trip and cached;
 * got[] as cache_get_many filled it, hit[] whether it did.
 */
static int
read_missed(const struct ctx *c, const struct purchase_quote_input *in, const char *code,
            struct purchase_uses *u, struct buf *got, const int *hit, struct app_error *err)
{
    struct cached_read r[NKEYS];
    size_t n = 0;

    memset(r, 0, sizeof(r));
    if (in->plan_id) {
        r[n].ns = "plan";
        r[n].key = in->plan_id;
        r[n].table = c->cfg->tbl_catalogue;
        r[n].key_name = "planId";
        r[n].shape = in->plan_shape;
        r[n].cached = hit[PLAN];
        r[n++].out = &got[PLAN];
    }
    if (code) {
        r[n].ns = "coupon";
        r[n].key = code;
        r[n].table = c->cfg->tbl_coupons;
        r[n].key_name = "couponCode";
        r[n].shape = cached_whole_item;
        r[n].cached = hit[COUPON];
        r[n++].out = &got[COUPON];
    }
    if (u) {
        r[n] = u->read;
        r[n].cached = hit[USES];
        r[n++].out = &got[USES];
    }
    return cached_items(c, r, n, err);
}

static int
not_sold(struct app_error *err)
{
    return app_error_field(err, "planId", "is not a plan we sell");
}

/* The plan's price and family, from its text as cached (empty: none). */
static int
quote_plan(const struct purchase_quote_input *in, struct buf *text, long long *amount,
           const char **family, struct json_object **plan, struct app_error *err)
{
    struct json_object *v;

    if (text->len == 0)
        return not_sold(err);
    *plan = json_tokener_parse(text->data);
    if (*plan && !catalogue_sells(*plan, PURCHASE_CAMPAIGN, "fixed"))
        return not_sold(err);
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
    static const char *const ns[NKEYS] = {"guess", "plan", "coupon", "uses"};
    const char *keys[NKEYS], *family = NULL;
    char code[COUPON_CODE_MAX + 1], why[COUPON_WHY_MAX];
    struct json_object *plan = NULL, *item = NULL;
    long long amount = in->amount_cents, uses = 0, count;
    struct purchase_uses u;
    struct buf got[NKEYS];
    struct coupon cp;
    enum coupon_reason r;
    int rc = APP_OK, hit[NKEYS], code_ok, per_email = 0;
    size_t i, nkeys = USES;

    memset(out, 0, sizeof(*out));
    code_ok = coupon_normalize_code(in->code, code, sizeof(code)) == 0;
    keys[GUESS] = purchase_client(in->client);
    keys[PLAN] = in->plan_id && catalogue_id_ok(in->plan_id) ? in->plan_id : "-";
    keys[COUPON] = code_ok ? code : "-";
    if (code_ok && in->email) {
        purchase_uses_read(c, code, in->email, &u);
        keys[USES] = u.key;
        nkeys = NKEYS;
    }
    for (i = 0; i < NKEYS; i++)
        buf_init(&got[i], CACHED_TEXT_MAX);
    hit[USES] = 0;
    cache_get_many(c->cache, nkeys, ns, keys, got, hit);
    if (hit[USES] && purchase_uses_parse(got[USES].data, &count) != 0)
        hit[USES] = 0;                  /* not a count: read it again */
    rc = purchase_lookups_left(c, hit[GUESS] ? got[GUESS].data : NULL, err);
    if (rc == APP_OK && in->plan_id && !catalogue_id_ok(in->plan_id))
        rc = not_sold(err);             /* no plan of ours: nothing read */
    if (rc == APP_OK)
        rc = read_missed(c, in, code_ok ? code : NULL, nkeys == NKEYS ? &u : NULL, got, hit,
                         err);
    if (rc != APP_OK)
        goto done;
    if (in->plan_id) {
        rc = quote_plan(in, &got[PLAN], &amount, &family, &plan, err);
        if (rc != APP_OK)
            goto done;
    }
    if (!code_ok) {
        refuse(c, in, out, in->code, COUPON_NOT_FOUND);
        goto done;
    }
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
        if (purchase_uses_parse(got[USES].data, &uses) != 0) {
            rc = app_error_set(err, APP_EINTERNAL, "the use count of %s is not a number", code);
            goto done;
        }
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
