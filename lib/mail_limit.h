/*
 * Limits on the email that requests without a payment cause (docs/CAMPAIGNS.md, "Who the
 * service emails"): a free mock seat's confirmation, and a registration's email again to the
 * holder of a seat, are the only such email, so nobody can use the service to flood an
 * address.
 *
 * Per client address: MAIL_CLIENT_LIMIT such requests per MAIL_CLIENT_WINDOW_S, counted in
 * memcached (shared by every worker and node); while memcached is down the count is not kept
 * and requests pass (fail open, as every per-client limit of this service).  Per recipient:
 * MAIL_RECIPIENT_DAILY_LIMIT emails a UTC day, a counter in DynamoDB (the item
 * "limit#<day>#<address>" of the outbox table, gone with its ttl) raised in the transaction
 * that queues the email, under a condition, so it holds across workers and nodes, never
 * fails open, and counts only emails queued.
 */
#ifndef PH_MAIL_LIMIT_H
#define PH_MAIL_LIMIT_H

#include <json-c/json.h>

#include "errors.h"

struct ctx;

/* Count a request of c's client (c->client; none: not counted) that may email: APP_OK, or
 * APP_ERATELIMIT with reason TOO_MANY_REQUESTS. */
int mail_limit_client(const struct ctx *c, struct app_error *err);

/* The TransactWriteItems element that counts one more email to `to` today: its condition
 * fails, and the transaction with it, when `to` has had its emails of the day. */
struct json_object *mail_limit_txn(const struct ctx *c, const char *to);

/* After a refused transaction, whether the count was why: APP_ERATELIMIT with reason
 * TOO_MANY_EMAILS when `to` has had its emails of the day (read consistently), else APP_OK
 * (also when the count cannot be read: the caller explains the refusal otherwise). */
int mail_limit_reached(const struct ctx *c, const char *to, struct app_error *err);

#endif
