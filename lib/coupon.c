#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "coupon.h"
#include "ids.h"
#include "ddbjson.h"

static const struct {
    const char *slug;
    const char *message;
} reasons[] = {
    [COUPON_OK] = {"OK", "The coupon applies"},
    [COUPON_NOT_FOUND] = {"NOT_FOUND", "No such coupon"},
    [COUPON_INACTIVE] = {"INACTIVE", "This coupon is no longer active"},
    [COUPON_NOT_YET_VALID] = {"NOT_YET_VALID", "This coupon is not valid yet"},
    [COUPON_EXPIRED] = {"EXPIRED", "This coupon has expired"},
    [COUPON_PLAN_NOT_APPLICABLE] = {"PLAN_NOT_APPLICABLE",
                                    "This coupon does not apply to this plan"},
    [COUPON_MIN_PURCHASE_NOT_MET] = {"MIN_PURCHASE_NOT_MET",
                                     "The purchase is below this coupon's minimum"},
    [COUPON_USAGE_LIMIT_REACHED] = {"USAGE_LIMIT_REACHED", "This coupon has been used up"},
    [COUPON_ALREADY_USED] = {"ALREADY_USED", "You have already used this coupon"},
};

const char *
coupon_reason_slug(enum coupon_reason r)
{
    return (size_t)r < sizeof(reasons) / sizeof(reasons[0]) ? reasons[r].slug : "UNKNOWN";
}

const char *
coupon_reason_message(enum coupon_reason r)
{
    return (size_t)r < sizeof(reasons) / sizeof(reasons[0]) ? reasons[r].message : "";
}

int
coupon_normalize_code(const char *in, char *out, size_t outlen)
{
    size_t n = 0;

    while (isspace((unsigned char)*in))
        in++;
    for (; *in && !isspace((unsigned char)*in); in++) {
        unsigned char c = (unsigned char)toupper((unsigned char)*in);

        if (!isalnum(c) && c != '-' && c != '_')
            return -1;
        if (n + 1 >= outlen || n >= COUPON_CODE_MAX)
            return -1;
        out[n++] = (char)c;
    }
    while (isspace((unsigned char)*in))
        in++;
    out[n] = '\0';
    return *in || n < 3 ? -1 : 0;
}

static long long
get_ll(struct json_object *item, const char *key, long long def)
{
    struct json_object *v;

    if (!json_object_object_get_ex(item, key, &v) || !json_object_is_type(v, json_type_int))
        return def;
    return json_object_get_int64(v);
}

int
coupon_from_item(struct json_object *item, struct coupon *c)
{
    const char *code = json_str(item, "couponCode"), *type = json_str(item, "type");
    const char *status = json_str(item, "status"), *from, *until;
    struct json_object *plans;
    size_t i;

    memset(c, 0, sizeof(*c));
    if (!code || !type || coupon_normalize_code(code, c->code, sizeof(c->code)) != 0)
        return -1;
    if (strcmp(type, "percentage") == 0) {
        c->type = COUPON_PERCENT;
        c->value = get_ll(item, "value", -1);
        if (c->value < 1 || c->value > 100)
            return -1;
    } else if (strcmp(type, "fixed") == 0) {
        c->type = COUPON_FIXED;
        c->value = get_ll(item, "valueCents", -1);
        if (c->value < 1)
            return -1;
    } else {
        return -1;
    }
    c->min_purchase_cents = get_ll(item, "minPurchaseCents", 0);
    c->max_discount_cents = get_ll(item, "maxDiscountCents", 0);
    c->usage_limit = get_ll(item, "usageLimit", 0);
    c->usage_count = get_ll(item, "usageCount", 0);
    c->per_user_limit = get_ll(item, "perUserLimit", 0);
    if (c->min_purchase_cents < 0 || c->max_discount_cents < 0 || c->usage_limit < 0 ||
        c->usage_count < 0 || c->per_user_limit < 0)
        return -1;
    from = json_str(item, "validFrom");
    until = json_str(item, "validUntil");
    c->valid_from = from ? time_parse_iso(from) : 0;
    c->valid_until = until ? time_parse_iso(until) : 0;
    if ((from && !c->valid_from) || (until && !c->valid_until))
        return -1;
    if (json_object_object_get_ex(item, "applicablePlans", &plans) &&
        json_object_is_type(plans, json_type_array)) {
        for (i = 0; i < json_object_array_length(plans) && i < COUPON_MAX_PLANS; i++) {
            const char *p = json_object_get_string(json_object_array_get_idx(plans, i));

            snprintf(c->plans[c->nplans++], sizeof(c->plans[0]), "%s", p ? p : "");
        }
    }
    c->active = status && strcmp(status, "active") == 0;
    return 0;
}

static int
plan_applies(const struct coupon *c, const char *plan_id)
{
    size_t i;

    if (c->nplans == 0)
        return 1;
    if (!plan_id)
        return 0;
    for (i = 0; i < c->nplans; i++) {
        if (strcmp(c->plans[i], plan_id) == 0)
            return 1;
    }
    return 0;
}

enum coupon_reason
coupon_check(const struct coupon *c, const char *plan_id, long long amount_cents, time_t now,
             long long user_uses)
{
    if (!c->active)
        return COUPON_INACTIVE;
    if (c->valid_from && now < c->valid_from)
        return COUPON_NOT_YET_VALID;
    if (c->valid_until && now > c->valid_until)
        return COUPON_EXPIRED;
    if (!plan_applies(c, plan_id))
        return COUPON_PLAN_NOT_APPLICABLE;
    if (amount_cents < c->min_purchase_cents)
        return COUPON_MIN_PURCHASE_NOT_MET;
    if (c->usage_limit && c->usage_count >= c->usage_limit)
        return COUPON_USAGE_LIMIT_REACHED;
    if (c->per_user_limit && user_uses >= c->per_user_limit)
        return COUPON_ALREADY_USED;
    return COUPON_OK;
}

long long
coupon_discount(const struct coupon *c, long long amount_cents)
{
    long long d;

    if (amount_cents <= 0)
        return 0;
    if (c->type == COUPON_PERCENT) {
        /* Half up to the cent; amounts are at most a few million cents, so no overflow. */
        d = (amount_cents * c->value + 50) / 100;
        if (c->max_discount_cents && d > c->max_discount_cents)
            d = c->max_discount_cents;
    } else {
        d = c->value;
    }
    return d > amount_cents ? amount_cents : d;
}
