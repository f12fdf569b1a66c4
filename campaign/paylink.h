/*
 * Pay links: a record's own Stripe Checkout Session, made when the link is opened and reused
 * while it is open, so a link sent by email never goes stale before it is used.  The session
 * (id, url, expiry, and a counter that keys the idempotency of the next one) is kept on the
 * record, under a map path such as "" (the record itself) or "members[2]." (a team share).
 * A record has at most one open session: once a new one is recorded, the one it replaces is
 * expired at Stripe (if that one was paid meanwhile, the new one is expired too: 409, and
 * fulfilment has the payment).
 */
#ifndef PH_CAMPAIGN_PAYLINK_H
#define PH_CAMPAIGN_PAYLINK_H

#include <json-c/json.h>

#include "../lib/ctx.h"
#include "../lib/errors.h"

#define PAYLINK_ID_MAX 256
#define PAYLINK_URL_MAX 2048

struct paylink {
    const char *table;
    const char *key_name;          /* e.g. "teamId" */
    const char *key;               /* its value; also client_reference_id */
    const char *path;              /* "" or "members[2]." */
    struct json_object *holder;    /* the plain object at path (session fields are read here) */
    const char *unpaid_status;     /* holder's status while payable, e.g. "unpaid" */
    long long amount_cents;
    const char *product_id;        /* a Stripe product, or "" to name it inline */
    const char *product_name;
    const char *email;
    const char *campaign;          /* metadata campaignId */
    const char *meta_keys[3];      /* more metadata (and on the PaymentIntent), NULL-ended */
    const char *meta_vals[3];
    const char *success_url;
    const char *cancel_url;
    struct json_object *extra_meta; /* the caller's own metadata (checkout/create), or NULL */
};

struct paylink_out {
    char id[PAYLINK_ID_MAX];
    char url[PAYLINK_URL_MAX];
};

/* The record's open session (id and url into out), made now if needed. */
int paylink_session(const struct ctx *c, const struct paylink *pl, struct paylink_out *out,
                    struct app_error *err);

#endif
