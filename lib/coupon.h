/*
 * Coupon rules, as pure functions: no I/O, so every rule is unit-tested and the handlers
 * stay thin.  Money is integer cents.
 *
 * Rounding: a percentage discount is amount * percent / 100 rounded half up to the cent
 * (19900 at 15% → 2985), then capped at maxDiscountCents, and never more than the amount.
 * A fixed discount is valueCents, never more than the amount.
 *
 * Records come in two formats, read alike (docs/DATA.md, "Coupon records"): ours, with money
 * in cents (minPurchaseCents, maxDiscountCents, a fixed coupon's valueCents), and the
 * campaigns seed's, with money in dollars (minPurchase, maxDiscount, a fixed coupon's value).
 * Dollars become cents exactly (lib/money.h money_parse_decimal), never through a double.
 * A record that cannot be read fully is refused as a whole (COUPON_MISCONFIGURED), never
 * applied with a limit dropped.  applicablePlans names plan ids or plan families (the
 * catalogue's "family": basic, standard, full, premium).
 */
#ifndef PH_COUPON_H
#define PH_COUPON_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#define COUPON_CODE_MAX 32
#define COUPON_MAX_PLANS 16

enum coupon_type { COUPON_PERCENT = 1, COUPON_FIXED };

/* Why a coupon cannot be used; the slugs are part of the API (docs/API.md). */
enum coupon_reason {
    COUPON_OK = 0,
    COUPON_NOT_FOUND,
    COUPON_INACTIVE,
    COUPON_NOT_YET_VALID,
    COUPON_EXPIRED,
    COUPON_PLAN_NOT_APPLICABLE,
    COUPON_MIN_PURCHASE_NOT_MET,
    COUPON_USAGE_LIMIT_REACHED,
    COUPON_ALREADY_USED,
    COUPON_MISCONFIGURED,           /* the record cannot be read fully: never applied */
};

/* Room for the sentence coupon_from_item gives when it refuses a record. */
#define COUPON_WHY_MAX 200

struct coupon {
    char code[COUPON_CODE_MAX + 1];
    enum coupon_type type;
    long long value;                /* percent (1-100) or cents */
    long long min_purchase_cents;
    long long max_discount_cents;   /* 0: no cap */
    time_t valid_from;              /* 0: always */
    time_t valid_until;             /* 0: never ends */
    long long usage_limit;          /* 0: unlimited */
    long long usage_count;
    long long per_user_limit;       /* 0: unlimited */
    char plans[COUPON_MAX_PLANS][65];  /* applicable plan ids or families; none: every plan */
    size_t nplans;
    int active;
};

/*
 * Normalise a code as typed: trimmed, upper-cased; 3-32 of A-Z 0-9 - _.
 * Returns 0, or -1 when it cannot be a code.
 */
int coupon_normalize_code(const char *in, char *out, size_t outlen);

/*
 * Fill out from a plain coupon item (lib/ddbjson.h) in either format.  COUPON_OK, or
 * COUPON_MISCONFIGURED with why[whylen] set to a sentence naming the field and the fault
 * (for the log and prodenthubctl coupon-check, never for the client); out is then not to be
 * used.  Refused: no couponCode or type, an unknown type, a money field that is not a
 * number or has more than two decimals, a dollars field and its cents field both present
 * and disagreeing, a percentage value that is not a whole number in 1-100, a fixed coupon
 * without a value, a count that is not a whole number >= 0, a date that is not an ISO time
 * (or validFrom after validUntil), applicablePlans that is not an array of strings, names
 * something that is neither a family nor a plan id, or holds more than COUPON_MAX_PLANS.
 */
enum coupon_reason coupon_from_item(struct json_object *item, struct coupon *out, char *why,
                                    size_t whylen);

/* 1 if name is a plan family (basic, standard, full, premium), which applicablePlans may name
 * instead of plan ids. */
int coupon_family_known(const char *name);

/* The first rule c breaks for the plan plan_id of family plan_family (NULL: none) at
 * amount_cents, at now, for a buyer who has used it user_uses times; COUPON_OK when none. */
enum coupon_reason coupon_check(const struct coupon *c, const char *plan_id,
                                const char *plan_family, long long amount_cents, time_t now,
                                long long user_uses);

/* The discount in cents for amount_cents (the rounding rule above). */
long long coupon_discount(const struct coupon *c, long long amount_cents);

const char *coupon_reason_slug(enum coupon_reason r);
const char *coupon_reason_message(enum coupon_reason r);

#endif
