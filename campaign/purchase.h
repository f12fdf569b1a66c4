/*
 * Discount purchases (campaignId "discount-purchase"): a plan of the catalogue bought at a
 * fixed price, with or without a coupon.  Fulfilment is in purchase.c (the registry's
 * purchase_ops); this is the buying side.
 *
 * purchase_create re-validates the coupon on the server (the plan, the coupon, the buyer's
 * counter and the email's holds read consistently in one round trip), then reserves its use
 * atomically (lib/reservation.h: the coupon's usageCount and the buyer's counter raised under
 * their limits, one of the email's hold slots taken, the redemption and the pending purchase
 * written, in one transaction).  Only then is a Stripe Checkout Session created, with the
 * purchase id as its idempotency key.  If Stripe fails, the same reservation is released in
 * one transaction; nothing was charged.  The price is the catalogue's (read from DynamoDB)
 * less the coupon's discount (lib/coupon.h); the client never sends an amount.
 *
 * A reservation is a hold on a coupon use that nobody has paid for, so holds are bounded
 * (docs/PAYMENTS.md, "Coupon holds"): the session, and with it the hold, lasts
 * PURCHASE_HOLD_S (the webhook's checkout.session.expired, or prodenthubctl
 * sweep-checkouts, gives the use back); a client address may start COUPON_HOLDS_PER_CLIENT
 * holds per PURCHASE_HOLD_S (a memcached counter: a rate limit, open when memcached is
 * down); an email may have COUPON_HOLDS_PER_EMAIL open at once (a DynamoDB condition: a
 * business limit, always enforced).
 *
 * purchase_quote says whether a coupon applies and the amounts, for POST /v1/coupons/validate:
 * advisory, so it reads the plan, the coupon and the buyer's count through the cache, in one
 * round trip with the client's count of lookups, and what missed in one DynamoDB round
 * trip.  Nothing it says decides a usage limit for good; the reservation's conditional write
 * does.
 *
 * Every route that takes a code spends the client's lookup budget (COUPON_GUESS_LIMIT per
 * COUPON_GUESS_WINDOW_S, memcached) on each unknown code and on each answer about an email's
 * own uses (ALREADY_USED, or valid for that email), so neither codes nor who used them can
 * be looked up in bulk.
 */
#ifndef PH_CAMPAIGN_PURCHASE_H
#define PH_CAMPAIGN_PURCHASE_H

#include <json-c/json.h>

#include "../lib/cached.h"
#include "../lib/coupon.h"
#include "../lib/ctx.h"
#include "../lib/errors.h"
#include "../lib/reservation.h"

#define PURCHASE_CAMPAIGN "discount-purchase"
#define PURCHASE_MIN_CHARGE_CENTS 50        /* Stripe's minimum charge in AUD */
#define PURCHASE_ID_MAX 40
#define PURCHASE_SESSION_MAX 256
#define PURCHASE_URL_MAX 2048
#define PURCHASE_CODE_TYPED_MAX 64          /* the longest code field a client may send */
/* How long a Checkout Session (and the coupon use it holds) lives: Stripe's shortest, 30
 * minutes from its own creation, and a minute for the request's way there and retries. */
#define PURCHASE_HOLD_S (30 * 60 + 60)

/* A purchase as its create route parsed it (borrowed pointers). */
struct purchase_input {
    const char *client;                     /* the client's address (its budgets); NULL: none */
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
    char expires_at[32];                    /* ISO: when the session, and its hold, ends */
    int session_failed;                     /* the 502: Stripe failed, the reservation of the
                                             * purchase id was given back */
};

/*
 * Price, reserve and open the Checkout Session of a purchase.  Refusals: planId not a
 * fixed-price plan of the catalogue (400, field planId); a coupon that does not apply (422,
 * or 409 when a usage limit stands in the way; the reason in err, lib/coupon.h's slugs);
 * 409 TOO_MANY_OPEN_CHECKOUTS (the email's holds); 429 when the client's lookups or holds
 * are spent; BELOW_MINIMUM_CHARGE (422).  Stripe failing: APP_EUPSTREAM with
 * out->session_failed set.
 */
int purchase_create(const struct ctx *c, const struct purchase_input *in,
                    struct purchase_created *out, struct app_error *err);

/* A coupon quote as its route parsed it (borrowed pointers). */
struct purchase_quote_input {
    const char *client;                     /* the client's address (its lookups are counted);
                                             * NULL: none */
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
 * (out->valid 0, out->reason), not an error.  Errors: the client's lookups spent (429);
 * planId not a plan we sell (400, field planId).
 */
int purchase_quote(const struct ctx *c, const struct purchase_quote_input *in,
                   struct purchase_quote *out, struct app_error *err);

/* --- the coupon as both read it (purchase_coupon.c) ------------------------------------ */

/*
 * The buyer's count of a code, for a quote, which is advisory (the reservation's transaction
 * enforces the limit): a read of cached_items (lib/cached.h; its cached and out are the
 * caller's to set) from the cache's "uses" namespace (for PURCHASE_USES_TTL_S, dropped
 * whenever a reservation changes the counter), else the counter read consistently.  The
 * cached text is the count (purchase_uses_parse; -1 when it is not one).
 */
#define PURCHASE_USES_TTL_S 60
struct purchase_uses {
    char key[RESERVATION_ID_MAX];
    char id[RESERVATION_ID_MAX];
    struct cached_read read;
};
void purchase_uses_read(const struct ctx *c, const char *code, const char *email,
                        struct purchase_uses *out);
int purchase_uses_parse(const char *text, long long *out);
/* The counter of email for code changed: the cached count goes. */
void purchase_coupon_uses_changed(const struct ctx *c, const char *code, const char *email);

/* The client's lookup budget: APP_ERATELIMIT when count (the client's entry in the cache's
 * "guess" namespace as read; NULL: none) has reached COUPON_GUESS_LIMIT. */
int purchase_lookups_left(const struct ctx *c, const char *count, struct app_error *err);
/* One lookup (an unknown code, an answer about an email's uses) spent by client. */
void purchase_lookup_spend(const struct ctx *c, const char *client);
/* The client's key in the cache ("unknown" when nginx gave no address). */
const char *purchase_client(const char *client);

/* Log that coupon code is misconfigured (why: coupon_from_item's sentence), once per worker
 * for each code and fault, not once per request. */
void coupon_log_misconfigured(const struct ctx *c, const char *code, const char *why);

#endif
