/*
 * Pay links: a record's own Stripe Checkout Session, made when the link is opened and reused
 * while it is open, so a link sent by email never goes stale before it is used.  The session
 * (id, url, expiry, and a counter that keys the idempotency of the next one) is kept on the
 * record, under a map path such as "" (the record itself) or "members[2]." (a team share).
 * A record has at most one open session: before a new one is made, the previous one is
 * expired at Stripe (a session already paid stops it: 409, fulfilment has the payment).
 */
#ifndef PH_PAYLINK_H
#define PH_PAYLINK_H

#include <json-c/json.h>

struct request;

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

/* The open session's id and url (in the request's arena), made now if needed. */
int paylink_session(struct request *req, const struct paylink *pl, const char **sid,
                    const char **url);

/* 303 to the session's page with {"sessionId","checkoutUrl"}; or an error code. */
int paylink_reply(struct request *req, const struct paylink *pl);

#endif
