/*
 * The campaign layer: what each campaign does to its own records, below HTTP.  Functions here
 * take a context of clients and the time (lib/ctx.h) and an error slot, never a request, so
 * the handlers, the operator's tool and the unit tests call the same code.
 *
 * One registry (campaign/registry.c) lists the five campaigns: the record each keeps, the
 * route that creates it, how a Checkout Session is matched to it, and what Stripe's events do
 * to it (the ops below).  One-record campaigns (scholarship, personalized plan) share one
 * engine (campaign/record.c) and differ only by data and the variables of their email.
 *
 * Every fulfilment op returns APP_OK when the event is done with (applied, or nothing to do),
 * APP_ECONDITION when the record changed under it (the webhook runs it again), or an error:
 * the webhook then answers 503 and Stripe's retry does the work.  States: docs/PAYMENTS.md.
 */
#ifndef PH_CAMPAIGN_H
#define PH_CAMPAIGN_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "../lib/ctx.h"
#include "../lib/errors.h"
#include "../lib/payments.h"

struct cfg;
struct campaign;

/* A payment event of Stripe's, as fulfilment needs it. */
struct pay_event {
    const char *type;              /* Stripe's event type */
    struct json_object *meta;      /* metadata of the session or PaymentIntent */
    const char *payment_intent;    /* pi_...; NULL when none */
    const char *session;           /* cs_... of a checkout.session event; NULL otherwise */
    long long amount;              /* cents paid */
    const char *currency;
    const char *reason;            /* decline message (payment_failed), else NULL */
    time_t now;
};

/* What our record says of one Checkout Session of it (checkout/verify). */
struct campaign_view {
    const char *status;            /* the record's (or the team share's) status */
    long long amount;              /* cents we priced for this session; -1 unknown */
    const char *currency;
    const char *session;           /* the session the record names, or NULL */
};

struct campaign_ops {
    int (*paid)(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
                int attempt, struct app_error *err);
    /* The checkout ended without payment: status "expired" or "failed". */
    int (*unpaid)(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
                  const char *status, struct app_error *err);
    /* A declined attempt; the customer may still pay in the same session. */
    int (*declined)(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
                    struct app_error *err);
    /* Refunded so far: refunded cents of the payment (full when all of it). */
    int (*refunded)(const struct campaign *k, const struct ctx *c, const struct payment_row *p,
                    long long refunded, int full, struct app_error *err);
    int (*disputed)(const struct campaign *k, const struct ctx *c, const struct payment_row *p,
                    const char *dispute, const char *reason, struct app_error *err);
    /* A dispute closed in our favour (won, or an inquiry closed): the flag cleared. */
    int (*undisputed)(const struct campaign *k, const struct ctx *c,
                      const struct payment_row *p, const char *dispute, const char *status,
                      struct app_error *err);
    /* The record's side of a session with metadata meta (reads only; pointers into rec). */
    void (*view)(const struct campaign *k, struct json_object *rec, struct json_object *meta,
                 struct campaign_view *out);
};

struct campaign {
    const char *id;                /* metadata.campaignId; checkout/create's campaignId */
    const char *key_name;          /* the record's key, also in the session's metadata */
    const char *id_prefix;         /* of the record ids ("team_") */
    size_t table;                  /* offsetof(struct cfg, tbl_...) */
    const char *record_type;       /* in operations' alerts: "scholarship" */
    const char *create_route;      /* the route (fcgi/routes.c name) that creates a record */
    const char *price_key;         /* the record's price in cents (NULL: "priceCents") */
    const char *session_key;       /* its Checkout Session's id (NULL: "sessionId") */
    const struct campaign_ops *ops;
    /* One-record campaigns (campaign/record.c): the record's states, the catalogue product
     * and its name on the record, the email on payment and its own variables. */
    const char *payable_status;
    const char *paid_status;
    const char *product_key;
    const char *product_name_key;
    const char *paid_template;
    void (*paid_vars)(const struct ctx *c, struct json_object *rec, const struct pay_event *pe,
                      struct json_object *vars);
};

extern const struct campaign campaigns[];
extern const size_t campaigns_count;

/* The campaign named id, or NULL. */
const struct campaign *campaign_find(const char *id);
/* The campaign's table in cfg. */
const char *campaign_table(const struct campaign *k, const struct cfg *cfg);
/* The campaign's record id (plain, the caller puts it); APP_ENOTFOUND when there is none. */
int campaign_load(const struct campaign *k, const struct ctx *c, const char *id,
                  struct json_object **out, struct app_error *err);

/* The fulfilment of each campaign (registry.c names them). */
extern const struct campaign_ops purchase_ops;
extern const struct campaign_ops team_ops;
extern const struct campaign_ops one_record_ops;
extern const struct campaign_ops mock_ops;

/* Ops any campaign may use: refunded and disputed on its record (k->paid_status, the
 * registry's key), and the view of a record holding status, currency, its price and its
 * session (k->price_key, k->session_key). */
int record_refunded_op(const struct campaign *k, const struct ctx *c,
                       const struct payment_row *pr, long long amount, int full,
                       struct app_error *err);
int record_disputed_op(const struct campaign *k, const struct ctx *c,
                       const struct payment_row *pr, const char *dispute, const char *reason,
                       struct app_error *err);
void record_view(const struct campaign *k, struct json_object *rec, struct json_object *meta,
                 struct campaign_view *out);
int record_unpaid_op(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
                     const char *status, struct app_error *err);
int record_undisputed_op(const struct campaign *k, const struct ctx *c,
                         const struct payment_row *pr, const char *dispute, const char *status,
                         struct app_error *err);

/* How a dispute ends (dispute.c): closed lost revokes the payment's access as a full refund
 * does, won clears the record's flag; funds withdrawn or reinstated are noted (net cents,
 * negative when withdrawn).  Either may arrive before the payment. */
int campaign_dispute_closed(const struct ctx *c, const char *pi, const char *dispute,
                            const char *status, long long amount, struct app_error *err);
int campaign_dispute_funds(const struct ctx *c, const char *pi, const char *dispute,
                           long long net, struct app_error *err);

/*
 * Payments a record does not need (extra.c): campaign_paid_matches says whether a payment
 * is exactly the record's price (cents > 0, currency); campaign_payment_unwanted records one
 * as extra (payments row, the record flagged at path, an operations alert) and refunds it in
 * full; campaign_refund asks Stripe for a full refund, once per PaymentIntent.
 */
struct extra_payment {
    const char *table, *key_name, *key;  /* the record */
    const char *path;              /* "" or "members[2]." (where the note goes) */
    const char *record;            /* the payments row's recordId */
    const char *email;
    long long expected;            /* the record's price, or 0 */
    const char *why;               /* "paid twice", "amount mismatch", ... */
};
int campaign_paid_matches(const struct pay_event *pe, long long cents, const char *currency);
int campaign_payment_unwanted(const struct campaign *k, const struct ctx *c,
                              const struct pay_event *pe, const struct extra_payment *x,
                              struct app_error *err);
/* The same for a record that is one item of the campaign's table (its price at k->price_key). */
int campaign_record_unwanted(const struct campaign *k, const struct ctx *c,
                             const struct pay_event *pe, struct json_object *rec,
                             const char *why, struct app_error *err);
int campaign_refund(const struct ctx *c, const char *pi, const char *why, struct app_error *err);

/* One-record campaigns' email variables (scholarship.c, personal.c). */
void scholarship_paid_vars(const struct ctx *c, struct json_object *rec,
                           const struct pay_event *pe, struct json_object *vars);
void personal_paid_vars(const struct ctx *c, struct json_object *rec,
                        const struct pay_event *pe, struct json_object *vars);

/* --- shared by the fulfilment of every campaign (record.c) ------------------------------ */

/* from + the catalogue product's durationMonths, read from DynamoDB (never the cache). */
int campaign_access_until(const struct ctx *c, const char *product, time_t from, time_t *out,
                          struct app_error *err);

/* A record (table, key_name = the payment row's recordId) refunded: paid_status → refunded
 * with its grant revoked on a full refund, or a partial refund recorded; the payment row
 * follows.  A dispute flags the record and alerts operations. */
int record_refunded(const struct ctx *c, const char *table, const char *key_name,
                    const char *paid_status, const struct payment_row *pr, long long amount,
                    int full, struct app_error *err);
int record_disputed(const struct ctx *c, const char *table, const char *key_name,
                    const char *record_type, const struct payment_row *pr,
                    const char *dispute, const char *reason, struct app_error *err);

/*
 * A record's payment: the record (table, key_name = id) moves from_status → to_status with
 * paidAt, accessFrom/accessUntil (the product's months) and the PaymentIntent, in one
 * transaction with the access grant, the payment's row and the email tmpl (vars taken,
 * accessFrom/accessUntil added).  A full refund recorded before the payment makes it
 * "refunded" instead, without access or email.  The caller checked the status as read.
 */
struct record_pay {
    const char *table, *key_name, *id;
    const char *from_status, *to_status;
    const char *email, *name;
    const char *plan_id;
    const char *campaign;
    const char *tmpl;
    struct json_object *vars;
    int attempt;
};
int record_paid(const struct ctx *c, const struct pay_event *pe, const struct record_pay *rp,
                struct app_error *err);

/* A declined attempt: the "payment failed, try again" email, once per PaymentIntent, while
 * the record is still payable_status. */
int record_declined(const struct ctx *c, const struct pay_event *pe, struct json_object *rec,
                    const char *payable_status, const char *plan_name_key,
                    struct app_error *err);

#endif
