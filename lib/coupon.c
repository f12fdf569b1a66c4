#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coupon.h"
#include "ddbjson.h"
#include "ids.h"
#include "money.h"

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
    [COUPON_MISCONFIGURED] = {"MISCONFIGURED",
                              "This coupon cannot be used at the moment; please contact us"},
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

/* Plan families a coupon's applicablePlans may name (the catalogue's "family"). */
static const char *const families[] = {"basic", "standard", "full", "premium", NULL};

int
coupon_family_known(const char *name)
{
    size_t i;

    for (i = 0; families[i]; i++) {
        if (strcmp(families[i], name) == 0)
            return 1;
    }
    return 0;
}

/* Every plan id has a hyphen (basic-1month, cluster-1): a name without one is a family. */
static int
plan_id_form(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 64 && strchr(s, '-') &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int refuse(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Say why the record is refused (control characters of the record's text made '?', as the
 * sentence goes to logs); returns -1 for the caller to pass up. */
static int
refuse(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    char *p;

    if (why && whylen) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        for (p = why; *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        }
    }
    return -1;
}

/* The member key of item: 1 present (*v set, maybe json null), 0 absent. */
static int
member(struct json_object *item, const char *key, struct json_object **v)
{
    *v = NULL;
    return json_object_object_get_ex(item, key, v);
}

/* A whole number >= 0 (usageLimit, valueCents...); *out = def when absent. */
static int
count_field(struct json_object *item, const char *key, long long def, long long max,
            long long *out, char *why, size_t whylen)
{
    struct json_object *v;

    *out = def;
    if (!member(item, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
        json_object_get_int64(v) > max)
        return refuse(why, whylen, "%s is %.40s, not a whole number in 0-%lld", key,
                      v ? json_object_get_string(v) : "null", max);
    *out = json_object_get_int64(v);
    return 0;
}

/* A dollars field: a whole number, or a decimal with at most two decimals, as cents. */
static int
dollars_field(struct json_object *item, const char *key, long long *out, int *present,
              char *why, size_t whylen)
{
    struct json_object *v;

    *present = member(item, key, &v);
    if (!*present)
        return 0;
    if (json_object_is_type(v, json_type_int) &&
        money_dollars_to_cents(json_object_get_int64(v), out) == 0)
        return 0;
    if (json_object_is_type(v, json_type_double) &&
        money_parse_decimal(json_object_get_string(v), out) == 0)
        return 0;
    return refuse(why, whylen, "%s is %.40s, not an amount in dollars with at most two "
                  "decimals", key, v ? json_object_get_string(v) : "null");
}

/*
 * A money field as cents, from key_cents (cents) or key (dollars); when both are present they
 * must agree.  *present says whether either was there (*out = 0 when neither).
 */
static int
money_field(struct json_object *item, const char *key, const char *key_cents, long long *out,
            int *present, char *why, size_t whylen)
{
    long long dollars = 0;
    int have_d, have_c;

    *out = 0;
    if (dollars_field(item, key, &dollars, &have_d, why, whylen) != 0)
        return -1;
    have_c = json_object_object_get_ex(item, key_cents, NULL);
    if (count_field(item, key_cents, 0, MONEY_MAX_CENTS, out, why, whylen) != 0)
        return -1;
    if (have_d && have_c && dollars != *out)
        return refuse(why, whylen, "%s (%lld cents) and %s (%lld) disagree", key, dollars,
                      key_cents, *out);
    if (have_d)
        *out = dollars;
    *present = have_d || have_c;
    return 0;
}

/* An ISO time (0 when absent). */
static int
time_field(struct json_object *item, const char *key, time_t *out, char *why, size_t whylen)
{
    struct json_object *v;

    *out = 0;
    if (!member(item, key, &v))
        return 0;
    if (json_object_is_type(v, json_type_string))
        *out = time_parse_iso(json_object_get_string(v));
    if (!*out)
        return refuse(why, whylen, "%s is %.40s, not a time like 2025-12-31T23:59:59Z", key,
                      v ? json_object_get_string(v) : "null");
    return 0;
}

static int
plans_field(struct json_object *item, struct coupon *c, char *why, size_t whylen)
{
    struct json_object *plans;
    size_t i, n;

    if (!member(item, "applicablePlans", &plans))
        return 0;
    if (!json_object_is_type(plans, json_type_array))
        return refuse(why, whylen, "applicablePlans is not an array");
    n = json_object_array_length(plans);
    if (n > COUPON_MAX_PLANS)
        return refuse(why, whylen, "applicablePlans names %zu plans, more than %d", n,
                      COUPON_MAX_PLANS);
    for (i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(plans, i);
        const char *p = json_object_get_string(e);

        if (!json_object_is_type(e, json_type_string))
            return refuse(why, whylen, "applicablePlans[%zu] is not a string", i);
        if (!coupon_family_known(p) && !plan_id_form(p))
            return refuse(why, whylen, "applicablePlans[%zu] '%.64s' is neither a plan family "
                          "(basic, standard, full, premium) nor a plan id", i, p);
        snprintf(c->plans[c->nplans++], sizeof(c->plans[0]), "%s", p);
    }
    return 0;
}

/* The type and value: a whole percent in 1-100, or a fixed amount (cents or dollars). */
static int
value_field(struct json_object *item, struct coupon *c, const char *type, char *why,
            size_t whylen)
{
    struct json_object *v;
    int present;

    if (strcmp(type, "percentage") == 0) {
        c->type = COUPON_PERCENT;
        if (json_object_object_get_ex(item, "valueCents", NULL))
            return refuse(why, whylen, "a percentage coupon has valueCents");
        if (!member(item, "value", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) < 1 || json_object_get_int64(v) > 100)
            return refuse(why, whylen, "value is %.40s, not a whole percentage in 1-100",
                          v ? json_object_get_string(v) : "missing");
        c->value = json_object_get_int64(v);
        return 0;
    }
    if (strcmp(type, "fixed") == 0) {
        c->type = COUPON_FIXED;
        if (money_field(item, "value", "valueCents", &c->value, &present, why, whylen) != 0)
            return -1;
        if (!present || c->value < 1)
            return refuse(why, whylen, "a fixed coupon needs value (dollars) or valueCents "
                          "of at least one cent");
        return 0;
    }
    return refuse(why, whylen, "type '%.32s' is neither percentage nor fixed", type);
}

enum coupon_reason
coupon_from_item(struct json_object *item, struct coupon *c, char *why, size_t whylen)
{
    const char *code = json_str(item, "couponCode"), *type = json_str(item, "type");
    struct json_object *st;
    int present;

    memset(c, 0, sizeof(*c));
    if (why && whylen)
        why[0] = '\0';
    if (!code || coupon_normalize_code(code, c->code, sizeof(c->code)) != 0) {
        refuse(why, whylen, "couponCode is missing or not a code");
        return COUPON_MISCONFIGURED;
    }
    if (!type) {
        refuse(why, whylen, "type is missing");
        return COUPON_MISCONFIGURED;
    }
    if (value_field(item, c, type, why, whylen) != 0 ||
        money_field(item, "minPurchase", "minPurchaseCents", &c->min_purchase_cents, &present,
                    why, whylen) != 0 ||
        money_field(item, "maxDiscount", "maxDiscountCents", &c->max_discount_cents, &present,
                    why, whylen) != 0 ||
        count_field(item, "usageLimit", 0, LLONG_MAX, &c->usage_limit, why, whylen) != 0 ||
        count_field(item, "usageCount", 0, LLONG_MAX, &c->usage_count, why, whylen) != 0 ||
        count_field(item, "perUserLimit", 0, LLONG_MAX, &c->per_user_limit, why, whylen) != 0 ||
        time_field(item, "validFrom", &c->valid_from, why, whylen) != 0 ||
        time_field(item, "validUntil", &c->valid_until, why, whylen) != 0 ||
        plans_field(item, c, why, whylen) != 0)
        return COUPON_MISCONFIGURED;
    if (c->valid_from && c->valid_until && c->valid_from > c->valid_until) {
        refuse(why, whylen, "validFrom is after validUntil");
        return COUPON_MISCONFIGURED;
    }
    if (member(item, "status", &st) && !json_object_is_type(st, json_type_string)) {
        refuse(why, whylen, "status is not a string");
        return COUPON_MISCONFIGURED;
    }
    c->active = st && strcmp(json_object_get_string(st), "active") == 0;
    return COUPON_OK;
}

static int
plan_applies(const struct coupon *c, const char *plan_id, const char *family)
{
    size_t i;

    if (c->nplans == 0)
        return 1;
    for (i = 0; i < c->nplans; i++) {
        if ((plan_id && strcmp(c->plans[i], plan_id) == 0) ||
            (family && *family && strcmp(c->plans[i], family) == 0))
            return 1;
    }
    return 0;
}

enum coupon_reason
coupon_check(const struct coupon *c, const char *plan_id, const char *plan_family,
             long long amount_cents, time_t now, long long user_uses)
{
    if (!c->active)
        return COUPON_INACTIVE;
    if (c->valid_from && now < c->valid_from)
        return COUPON_NOT_YET_VALID;
    if (c->valid_until && now > c->valid_until)
        return COUPON_EXPIRED;
    if (!plan_applies(c, plan_id, plan_family))
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
