/*
 * A purchase's reservation of a coupon use (docs/DATA.md).  Both calls are one DynamoDB
 * transaction each, so a reservation is never half taken or half given back.
 */
#ifndef PH_RESERVATION_H
#define PH_RESERVATION_H

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

/*
 * Take it: the coupon's usageCount and the buyer's counter raised under their limits, the
 * redemption written, and purchase (an attribute-value item, not consumed) put as new.
 * APP_ECONDITION when a limit, the coupon's status or the purchase id stood in the way.
 */
int reservation_take(struct ddb *d, const struct cfg *cfg, const struct reservation *r,
                     struct json_object *purchase, const char *now, struct app_error *err);

/*
 * Give it back: counts lowered, redemption deleted, and the purchase moved from pending to
 * status ("failed", "expired").  APP_ECONDITION when the purchase is no longer pending
 * (paid meanwhile, or already released).
 */
int reservation_release(struct ddb *d, const struct cfg *cfg, const struct reservation *r,
                        const char *status, const char *now, struct app_error *err);

#endif
