/*
 * A purchase's reservation of a coupon use (docs/DATA.md).  Both calls are one DynamoDB
 * transaction each, so a reservation is never half taken or half given back.
 */
#ifndef PH_RESERVATION_H
#define PH_RESERVATION_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "errors.h"

struct cfg;
struct ddb;

struct reservation {
    const char *purchase_id;        /* "pur_<24 hex>" */
    const char *code;               /* normalised coupon code; "" for none */
    const char *email;
    long long usage_limit;          /* the coupon's limits (0: none) */
    long long per_user_limit;
};

/* The coupon-usage ids (usageId) of email's counter of code, and of email's holds. */
#define RESERVATION_ID_MAX 400
void reservation_counter_id(char *out, size_t n, const char *code, const char *email);
void reservation_holds_id(char *out, size_t n, const char *email);
/* How often the counter item (attribute-value JSON as read; NULL: none) says it was used. */
long long reservation_counter_uses(struct json_object *item);

/*
 * An email's open holds: at most COUPON_HOLDS_PER_EMAIL coupon reservations whose checkout
 * may still be paid, kept as the slots hold0, hold1... of the coupon-usage item
 * HOLDS#<email>, each the time (epoch seconds) its hold ends.  A slot is free when it is
 * missing or past, so a hold lasts no longer than its checkout whether or not anything
 * releases it.
 */
#define RESERVATION_HOLDS_MAX 20

struct reservation_hold {
    int slot;                       /* 0 .. COUPON_HOLDS_PER_EMAIL - 1 */
    time_t now;                     /* the slot is taken if free at now */
    time_t until;                   /* and held until then */
};

/* The slot of the holds item (attribute-value JSON as read; NULL: none) free at now: APP_OK
 * with *out, or APP_ECONDITION when all max are held. */
int reservation_hold_pick(struct json_object *item, long max, time_t now, int *out);
/* A slot of email's holds free at now (read consistently; the take's condition decides):
 * APP_OK with *out, or APP_ECONDITION when all max are held. */
int reservation_hold_slot(struct ddb *d, const struct cfg *cfg, const char *email, long max,
                          time_t now, int *out, struct app_error *err);

/* Give a hold back early (its checkout was never made); APP_ECONDITION when the slot was
 * taken by another hold since. */
int reservation_hold_end(struct ddb *d, const struct cfg *cfg, const char *email,
                         const struct reservation_hold *h, struct app_error *err);

/*
 * Take it: the coupon's usageCount and the buyer's counter raised under their limits, the
 * email's hold slot taken (hold; NULL: none), the redemption written, and purchase (an
 * attribute-value item, not consumed) put as new.  APP_ECONDITION when a limit, the
 * coupon's status, the hold slot or the purchase id stood in the way.
 */
int reservation_take(struct ddb *d, const struct cfg *cfg, const struct reservation *r,
                     const struct reservation_hold *hold, struct json_object *purchase,
                     const char *now, struct app_error *err);

/*
 * Give it back: counts lowered, redemption deleted, and the purchase moved from pending to
 * status ("failed", "expired").  APP_ECONDITION when the purchase is no longer pending
 * (paid meanwhile, or already released).
 */
int reservation_release(struct ddb *d, const struct cfg *cfg, const struct reservation *r,
                        const char *status, const char *now, struct app_error *err);

#endif
