/*
 * Fulfilment: what a Stripe event does to our records.  webhook.c verifies, deduplicates and
 * routes each event; a campaign (one per metadata.campaignId) applies it to its own record
 * with conditional writes, so replays and reordering never move a record backwards.  The
 * state machines are in docs/PAYMENTS.md.
 *
 * Every function returns APP_OK when the event is done with (applied, or nothing to do),
 * APP_ECONDITION when the record changed under it (the caller runs it again), or an error:
 * the webhook then answers 503 and Stripe's retry does the work.
 */
#ifndef PH_FULFIL_H
#define PH_FULFIL_H

#include <time.h>

#include <json-c/json.h>

#include "../lib/outbox.h"

struct request;
struct cfg;
struct ddb;
struct app_error;

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

/* A payment's row (payments table), plain; NULL fields when unknown. */
struct payment_row {
    struct json_object *row;       /* the whole row, or NULL when there is none */
    const char *campaign;
    const char *record;
    long long refunded;            /* amountRefundedCents so far */
    int refunded_full;
    const char *dispute;
};

struct campaign {
    const char *id;                /* metadata.campaignId */
    int (*paid)(struct request *req, const struct pay_event *pe, int attempt);
    /* The checkout ended without payment: status "expired" or "failed". */
    int (*unpaid)(struct request *req, const struct pay_event *pe, const char *status);
    /* A declined attempt; the customer may still pay in the same session. */
    int (*declined)(struct request *req, const struct pay_event *pe);
    /* Refunded so far: refunded cents of amount (full when equal). */
    int (*refunded)(struct request *req, const struct payment_row *p, long long refunded,
                    int full, time_t now);
    int (*disputed)(struct request *req, const struct payment_row *p, const char *dispute,
                    const char *reason, time_t now);
};

extern const struct campaign campaign_discount_purchase;
extern const struct campaign campaign_team;
extern const struct campaign campaign_scholarship;
extern const struct campaign campaign_personal;
extern const struct campaign campaign_mock;

/* --- shared helpers (fulfil.c) ---------------------------------------------------------- */

/* TransactWriteItems elements.  key, item and vals are taken; "#st" stands for status and
 * "#ttl" for ttl, "#cap" for capacity (reserved words). */
struct json_object *txn_update(const char *table, struct json_object *key, const char *update,
                               const char *condition, struct json_object *vals);
struct json_object *txn_put(const char *table, struct json_object *item,
                            const char *condition);

/* The payment's row; APP_OK with p->row NULL when there is none.  p_free releases it. */
int payment_get(struct request *req, const char *pi, struct payment_row *p);
void payment_free(struct payment_row *p);

/* Link the payment to its record: a new row, or the early row of a refund or dispute that
 * arrived before the payment (then only if still unlinked). */
struct json_object *payment_link_txn(const struct cfg *cfg, const char *pi,
                                     const struct payment_row *early, const char *campaign,
                                     const char *record, const char *email, long long amount,
                                     const char *currency, const char *now);

/* Record refunded cents on the row; only forward (Stripe's amount_refunded grows). */
struct json_object *payment_refund_txn(const struct cfg *cfg, const char *pi,
                                       long long refunded, int full, const char *now);
struct json_object *payment_dispute_txn(const struct cfg *cfg, const char *pi,
                                        const char *dispute, const char *reason,
                                        const char *now);

struct json_object *grant_put_txn(const struct cfg *cfg, const char *email, const char *grant,
                                  const char *product, const char *from, const char *until,
                                  const char *source);
struct json_object *grant_revoke_txn(const struct cfg *cfg, const char *email,
                                     const char *grant, const char *reason, const char *now);

/* The ops alert for a dispute, when OPS_EMAIL is set (NULL otherwise). */
struct json_object *dispute_alert_txn(const struct cfg *cfg, const char *record_type,
                                      const char *record, const struct payment_row *p,
                                      const char *dispute, const char *reason, time_t now);

/* from + the catalogue plan's durationMonths (calendar months, UTC). */
time_t plan_until(struct request *req, const char *plan_id, time_t from);

/* A one-record campaign's refund and dispute: the record (table, key_name = the payment
 * row's recordId) goes paid_status → refunded with its grant revoked on a full refund, records a
 * partial one, or is flagged for a dispute (ops alerted); the payment row follows. */
int record_refunded(struct request *req, const char *table, const char *key_name,
                    const char *paid_status, const struct payment_row *pr, long long amount,
                    int full, time_t now);
int record_disputed(struct request *req, const char *table, const char *key_name,
                    const char *record_type, const struct payment_row *pr,
                    const char *dispute, const char *reason, time_t now);

/*
 * A one-record campaign's payment: the record (table, key_name = id) moves from_status →
 * to_status with paidAt, accessFrom/accessUntil (the plan's months) and the PaymentIntent, in
 * one transaction with the access grant, the payment's row and the email tmpl (vars taken,
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
int record_paid(struct request *req, const struct pay_event *pe, const struct record_pay *rp);

/* A declined attempt on a one-record campaign: the "payment failed, try again" email, once
 * per PaymentIntent, while the record is still payable_status. */
int record_declined(struct request *req, const struct pay_event *pe, struct json_object *rec,
                    const char *payable_status, const char *plan_name_key);

/* The record id (an id_new() id starting with prefix; prefix NULL: checked by the caller) of
 * table, plain (the caller puts it);
 * APP_ENOTFOUND when there is none or the id is malformed. */
int record_load(struct ddb *ddb, const char *table, const char *key_name, const char *id,
                const char *prefix, struct json_object **out, struct app_error *err);

/* For a route: the record named by the path parameter key_name, released with the request;
 * 404 "no such <what>" when there is none, 503 without a DynamoDB client. */
int record_lookup(struct request *req, const char *table, const char *key_name,
                  const char *prefix, const char *what, struct json_object **out);

/* Run items as one transaction (token may be NULL); items are released. */
int txn_run(struct request *req, struct json_object *items, const char *token);

#endif
