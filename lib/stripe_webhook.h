/*
 * Stripe webhook signatures: "Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]",
 * v1 = hex(HMAC-SHA256(secret, "<t>.<raw body>")).  Any v1 may match any of the configured
 * secrets (several during a rotation); the comparison is constant-time; the timestamp must
 * be within tolerance of now.  Checked over the exact raw bytes, before any parsing.
 */
#ifndef PH_STRIPE_WEBHOOK_H
#define PH_STRIPE_WEBHOOK_H

#include <stddef.h>
#include <time.h>

#include "errors.h"

/*
 * secrets: comma-separated whsec_... values.  APP_OK when the signature is good;
 * APP_EBADREQUEST otherwise, with the reason (no header, malformed, too old, no match) in err.
 */
int stripe_webhook_verify(const char *payload, size_t len, const char *header,
                          const char *secrets, long tolerance_s, time_t now,
                          struct app_error *err);

/*
 * The events we act on, each with its handler in handlers/webhook.c: the one list, which the
 * webhook dispatches on and prodenthubctl stripe-sync registers as the endpoint's
 * enabled_events (Stripe sends nothing else).  X(type, handler).
 */
#define STRIPE_WEBHOOK_EVENTS(X) \
    X("checkout.session.completed",               on_session_paid) \
    X("checkout.session.async_payment_succeeded", on_session_paid) \
    X("checkout.session.async_payment_failed",    on_session_unpaid) \
    X("checkout.session.expired",                 on_session_unpaid) \
    X("payment_intent.succeeded",                 on_pi_succeeded) \
    X("payment_intent.payment_failed",            on_pi_failed) \
    X("charge.refunded",                          on_charge_refunded) \
    X("charge.dispute.created",                   on_dispute) \
    X("charge.dispute.closed",                    on_dispute_closed) \
    X("charge.dispute.funds_withdrawn",           on_dispute_funds) \
    X("charge.dispute.funds_reinstated",          on_dispute_funds) \
    X("customer.subscription.created",            on_subscription) \
    X("customer.subscription.updated",            on_subscription) \
    X("customer.subscription.deleted",            on_subscription) \
    X("invoice.paid",                             on_subscription) \
    X("invoice.payment_failed",                   on_subscription)

/* The types of STRIPE_WEBHOOK_EVENTS, in its order, NULL-terminated. */
extern const char *const stripe_webhook_events[];

#endif
