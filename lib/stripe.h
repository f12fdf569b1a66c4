/*
 * The Stripe API over HTTPS: form-encoded requests, JSON answers, on one reused curl handle
 * per worker (keep-alive and TLS session reuse), as the official libraries talk to it.
 *
 * Every request carries "Authorization: Bearer STRIPE_SECRET_KEY" and the pinned
 * "Stripe-Version: STRIPE_API_VERSION"; every POST an Idempotency-Key, the same on each
 * retry, so Stripe replays its first answer instead of creating a second object.
 *
 * Retries follow the official libraries: network errors, 409 (lock timeout), 429 and 5xx
 * are tried again, up to STRIPE_MAX_ATTEMPTS attempts, unless the answer says
 * "Stripe-Should-Retry: false" (and "true" makes any answer retryable).  The pause before
 * retry n is full jitter, random in [0, min(2 s, 500 ms * 2^(n-1))] (stripe-python's
 * constants), at least Retry-After when that is at most 60 s.  Everything stays within the
 * whole-call budget STRIPE_TIMEOUT_MS: an attempt gets what is left of it, and a pause that
 * would not leave room for another attempt ends the call with the last answer's code.
 *
 * The codes, with err->msg "stripe: <type>/<code>: <message> (param X)":
 *   APP_ENOTFOUND       404 resource_missing (the object named by the path does not exist)
 *   APP_EUNPROCESSABLE  card_error (declined, expired, incorrect CVC...)
 *   APP_ECONFLICT       idempotency_error (the key was used with other parameters)
 *   APP_ETIMEOUT        no answer within STRIPE_TIMEOUT_MS
 *   APP_EUPSTREAM       everything else: network, 5xx, 429 and 409 after retries, 401/403
 *                       (our key), other 4xx (our request: a bug, logged at error level)
 *   APP_ECONFIG         STRIPE_SECRET_KEY is not set (or not a usable header value)
 *   APP_EINTERNAL       the caller's bug: no Idempotency-Key, a path that is not plain
 * Stripe's message may quote what we sent (an email address, say): it is for the log, never
 * for a client.  The secret key, the Authorization header and request bodies are never
 * logged; log lines carry the method, the path, the status, Stripe's Request-Id and the
 * error type/code.
 */
#ifndef PH_STRIPE_H
#define PH_STRIPE_H

#include <json-c/json.h>

#include "buf.h"
#include "errors.h"

struct cfg;
struct stripe;
struct stripe_params;               /* an ordered list of form fields */

/* One per worker; cfg must outlive it.  NULL on failure (logged). */
struct stripe *stripe_new(const struct cfg *cfg);
void stripe_free(struct stripe *s);

struct stripe_params *stripe_params_new(void);
void stripe_params_free(struct stripe_params *p);
/* How many fields p holds (0 for NULL). */
size_t stripe_params_count(const struct stripe_params *p);

/*
 * Add a field, in order; key is the full bracketed Stripe name, e.g.
 * "line_items[0][price_data][unit_amount]", "metadata[campaignId]" or "expand[]".  Key and
 * value are copied.  A NULL value adds nothing (as the official libraries skip None), so
 * optional fields need no test at the call site.
 */
void stripe_params_add(struct stripe_params *p, const char *key, const char *value);
void stripe_params_addf(struct stripe_params *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void stripe_params_add_long(struct stripe_params *p, const char *key, long long v);

/*
 * Append the fields to out as application/x-www-form-urlencoded, byte for byte as
 * stripe-python encodes them: letters, digits and "-._~" as they are, "[" and "]" kept
 * literal (the libraries undo their escaping), a space as "+", every other byte (UTF-8
 * included) as %XX in upper case.  p may be NULL (nothing).  APP_OK, or APP_ETOOLARGE past
 * out's ceiling.
 */
int stripe_params_encode(const struct stripe_params *p, struct buf *out);

/*
 * POST path (e.g. "/v1/checkout/sessions") with params p (may be NULL).  idempotency_key is
 * required (1 to 255 printable ASCII characters) and sent on every attempt of this call.
 * path must be plain: "/" then letters, digits, "_", "-" and "/" only, so an object id
 * taken from a client cannot reach another resource (validate ids before building paths).
 * On success (2xx) *out is the parsed object; on an error answer *out is the parsed error
 * body ({"error":{"type","code","message","param","decline_code"}}) when there is one,
 * NULL otherwise.  The caller puts *out either way.
 */
int stripe_post(struct stripe *s, const char *path, const struct stripe_params *p,
                const char *idempotency_key, struct json_object **out, struct app_error *err);

/* GET path with optional query params (e.g. "expand[]"); *out as for stripe_post. */
int stripe_get(struct stripe *s, const char *path, const struct stripe_params *query,
               struct json_object **out, struct app_error *err);

/* Attempts made by the last call (for tests and logs). */
int stripe_last_attempts(const struct stripe *s);

/* Stripe's Request-Id of the last answer ("req_..."), "" when there was none. */
const char *stripe_last_request_id(const struct stripe *s);

#endif
