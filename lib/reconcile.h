/*
 * Reconciliation of Stripe's payments with our records (prodenthubctl reconcile): the pure
 * comparison, on plain JSON gathered by the command, so that every rule is tested on its own.
 *
 * stripe: {"pi_...": {"status": "succeeded" | other | "missing" (Stripe has no such
 *          PaymentIntent), "amount": cents received, "currency": "aud", "refunded": cents
 *          refunded (succeeded and pending refunds), "campaign": metadata.campaignId (absent:
 *          not a payment of ours, e.g. a subscription's invoice), "session": "cs_..."}}: every
 *          PaymentIntent of the period, and those the payments rows of the period name.
 * rows:   {"pi_...": the payments row, plain}: the whole payments table.
 * grants: [the access-grants items, plain]: the whole table.
 * since, until: the period, ISO-8601 UTC ("2026-12-03T10:00:00Z"), compared with the rows'
 *          paidAt and the grants' validFrom.
 *
 * The mismatches, each {"kind", "paymentIntent", "session", "campaign", "record", "email",
 * "detail"} (only the members that apply):
 *   paid_not_recorded      Stripe has a succeeded payment of ours with no record of it
 *                          (the webhook never came, or failed): paid but not granted
 *   amount_differs         the row's amountCents or currency is not what Stripe received
 *   refund_differs         Stripe refunded another sum than the row's amountRefundedCents
 *                          (a refund not recorded, or recorded without Stripe)
 *   payment_not_in_stripe  a row of the period whose PaymentIntent Stripe does not have, or
 *                          has not succeeded
 *   grant_without_payment  an active grant of the period with no payments row for it
 *   grant_after_refund     an active grant whose payments are all refunded in full, lost in
 *                          a dispute or refunded as extra
 *   paid_not_granted       a payment kept (not refunded, not extra) with no active grant; a
 *                          team share only once the team has a grant (it is complete)
 */
#ifndef PH_RECONCILE_H
#define PH_RECONCILE_H

#include <json-c/json.h>

/* A new array of the mismatches (empty when there are none), in a stable order. */
struct json_object *reconcile_compare(struct json_object *stripe, struct json_object *rows,
                                      struct json_object *grants, const char *since,
                                      const char *until);

#endif
