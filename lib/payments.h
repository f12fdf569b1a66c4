/*
 * The payments table and access grants.  A payment's row links a Stripe PaymentIntent to the
 * record it paid (campaign, record id), and keeps what happened to it later (refunds,
 * disputes), so events that arrive before the payment, or long after, find their record.
 * Access grants are what the main platform reads (GET /v1/access-grants).  Everything here
 * is a transaction element, written with the record's own change.
 */
#ifndef PH_PAYMENTS_H
#define PH_PAYMENTS_H

#include <time.h>

#include <json-c/json.h>

#include "errors.h"

struct cfg;
struct ddb;

/* A payment's row, plain; NULL fields when unknown. */
struct payment_row {
    struct json_object *row;       /* the whole row, or NULL when there is none */
    const char *campaign;
    const char *record;
    long long refunded;            /* amountRefundedCents so far */
    int refunded_full;
    const char *dispute;
    int extra;                     /* a payment the record did not need (refunded) */
};

/* The payment's row; APP_OK with p->row NULL when there is none.  payment_free releases. */
int payment_get(struct ddb *ddb, const struct cfg *cfg, const char *pi, struct payment_row *p,
                struct app_error *err);
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

#endif
