/*
 * The statuses a subscription row can hold (saas/subscription.h): Stripe's, and ours for no
 * row.  One table says of each whether it grants the subscribed routes, where it stands in a
 * subscription's life (events of the same second never take a row back), and why a checkout
 * is refused while the user holds it.
 */
#include "config.h"

#include <string.h>

#include "account.h"

static const struct saas_status statuses[] = {
    /* name                 Stripe's grants life refusal */
    {"inactive",            0, 0, 2, NULL, NULL},
    {"incomplete",          1, 0, 0, "SUBSCRIPTION_INCOMPLETE",
     "Your subscription's first payment is not complete yet"},
    {"incomplete_expired",  1, 0, 2, NULL, NULL},
    {"trialing",            1, 1, 1, "ALREADY_SUBSCRIBED",
     "You already have an active subscription"},
    {"active",              1, 1, 1, "ALREADY_SUBSCRIBED",
     "You already have an active subscription"},
    {"past_due",            1, 0, 1, "SUBSCRIPTION_PAST_DUE",
     "Your subscription's last payment failed: update its payment method instead"},
    {"canceled",            1, 0, 2, NULL, NULL},
    {"unpaid",              1, 0, 1, "SUBSCRIPTION_UNPAID",
     "Your subscription is unpaid: update its payment method instead"},
    {"paused",              1, 0, 1, "SUBSCRIPTION_PAUSED",
     "Your subscription is paused: resume it instead"},
};

const struct saas_status *
saas_status_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcmp(name, statuses[i].name) == 0)
            return &statuses[i];
    }
    return NULL;
}
