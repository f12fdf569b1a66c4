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

#endif
