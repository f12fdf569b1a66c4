/*
 * The subscription prices on sale (STRIPE_SUBSCRIPTION_PRICES): a comma-separated list of
 * Stripe price ids, each optionally naming its plan, e.g.
 *
 *     price_basic_monthly=basic, price_pro_monthly=pro, price_1PqZ8x2eZvKYlo2C
 *
 * A price id is 1 to PRICELIST_ID_MAX letters, digits and "_"; a plan name 1 to
 * PRICELIST_PLAN_MAX letters, digits, "_", "-" and "."; a price without a name is its own
 * plan name.  White space around entries, ids and names is ignored; an empty list sells
 * nothing.
 */
#ifndef PH_PRICELIST_H
#define PH_PRICELIST_H

#include <stddef.h>

struct cfg;

#define PRICELIST_ID_MAX 100
#define PRICELIST_PLAN_MAX 64

/* 0 when list is well-formed (no empty entry, no price twice), else -1 with why set. */
int pricelist_check(const char *list, const char **why);
/* The same for c's STRIPE_SUBSCRIPTION_PRICES, a message naming it in err (cfg_load). */
int pricelist_cfg_check(const struct cfg *c, char *err, size_t errlen);

/* 1 when price is on list, with its plan name in out (at least PRICELIST_PLAN_MAX + 1
 * bytes; the price id itself when the entry names none, cut to fit); 0 when it is not, or
 * when the list is malformed. */
int pricelist_find(const char *list, const char *price, char *out, size_t outlen);

#endif
