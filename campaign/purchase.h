/*
 * Discount purchases (campaignId "discount-purchase"): a plan of the catalogue bought at a
 * fixed price, with or without a coupon.  Fulfilment is in purchase.c (the registry's
 * purchase_ops); this is the buying side.
 *
 * purchase_create re-validates the coupon on the server, then reserves its use atomically
 * (lib/reservation.h: the coupon's usageCount and the buyer's counter raised under their
 * limits, the redemption and the pending purchase written, in one transaction).  Only then is
 * a Stripe Checkout Session created, with the purchase id as its idempotency key.  If Stripe
 * fails, the same reservation is released in one transaction; nothing was charged.  The price
 * is the catalogue's (read from DynamoDB) less the coupon's discount (lib/coupon.h); the
 * client never sends an amount.
 *
 * purchase_quote says whether a coupon applies and the amounts, for POST /v1/coupons/validate:
 * advisory, so it reads the plan and the coupon through the cache, in one round trip with the
 * client's count of wrong guesses.  Nothing it says decides a usage limit for good; the
 * reservation's conditional write does.
 */
#ifndef PH_CAMPAIGN_PURCHASE_H
#define PH_CAMPAIGN_PURCHASE_H

#include <json-c/json.h>

#include "../lib/cached.h"
#include "../lib/coupon.h"
#include "../lib/ctx.h"
#include "../lib/errors.h"

#define PURCHASE_CAMPAIGN "discount-purchase"
#define PURCHASE_MIN_CHARGE_CENTS 50        /* Stripe's minimum charge in AUD */
#define PURCHASE_ID_MAX 40
#define PURCHASE_SESSION_MAX 256
#define PURCHASE_URL_MAX 2048
#define PURCHASE_CODE_TYPED_MAX 64          /* the longest code field a client may send */

/* A purchase as its create route parsed it (borrowed pointers). */
struct purchase_input {
    const char *plan_id;
    const char *email;
    const char *name;                       /* NULL: none */
    const char *code;                       /* the coupon code as typed; NULL: none */
    struct json_object *metadata;           /* the caller's own metadata for Stripe, or NULL */
};

struct purchase_created {
    char id[PURCHASE_ID_MAX];
    char code[COUPON_CODE_MAX + 1];         /* normalised; "" without a coupon */
    long long original_cents, discount_cents, final_cents;
    char session_id[PURCHASE_SESSION_MAX];
    char checkout_url[PURCHASE_URL_MAX];
    int session_failed;                     /* the 502: Stripe failed, the reservation of the
                                             * purchase id was given back */
};

/*
 * Price, reserve and open the Checkout Session of a purchase.  Refusals: planId not a
 * fixed-price plan of the catalogue (400, field planId); a coupon that does not apply (422,
 * or 409 when a usage limit stands in the way; the reason in err, lib/coupon.h's slugs);
 * BELOW_MINIMUM_CHARGE (422).  Stripe failing: APP_EUPSTREAM with out->session_failed set.
 */
int purchase_create(const struct ctx *c, const struct purchase_input *in,
                    struct purchase_created *out, struct app_error *err);

/* A coupon quote as its route parsed it (borrowed pointers). */
struct purchase_quote_input {
    const char *client;                     /* the client's address (its guesses are counted) */
    const char *code;                       /* as typed */
    const char *plan_id;                    /* NULL: amount_cents is the price */
    long long amount_cents;
    const char *email;                      /* NULL: the per-buyer limit is not looked at */
    /* The text the cache's "plan" namespace holds, shared with GET /v1/plans/{planId}: the
     * quote reads amountCents and family from it and fills it alike on a miss. */
    cached_shape_fn plan_shape;
};

struct purchase_quote {
    int valid;
    enum coupon_reason reason;              /* when not valid */
    char code[PURCHASE_CODE_TYPED_MAX + 1]; /* the coupon's code, or the code as typed */
    long long original_cents, discount_cents, final_cents;
};

/*
 * Quote code for the plan (or the amount).  A coupon that does not apply is an answer
 * (out->valid 0, out->reason), not an error.  Errors: too many wrong guesses from the client
 * (429); planId not a plan we sell (400, field planId).
 */
int purchase_quote(const struct ctx *c, const struct purchase_quote_input *in,
                   struct purchase_quote *out, struct app_error *err);

/* --- the coupon as both read it (purchase_coupon.c) ------------------------------------ */

/* How often email has used code (the counter the reservation keeps), read consistently. */
int purchase_coupon_uses(const struct ctx *c, const char *code, const char *email,
                         long long *out, struct app_error *err);

/* Log that coupon code is misconfigured (why: coupon_from_item's sentence), once per worker
 * for each code and fault, not once per request. */
void coupon_log_misconfigured(const struct ctx *c, const char *code, const char *why);

#endif
