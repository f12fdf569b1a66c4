/*
 * Limits on the email that requests without a payment cause (docs/CAMPAIGNS.md, "Who the
 * service emails"): a free mock registration's confirmation is the only such email, so
 * nobody can use the service to flood an address.
 *
 * Per client address: MAIL_CLIENT_LIMIT such requests per MAIL_CLIENT_WINDOW_S, counted in
 * memcached (shared by every worker and node); while memcached is down the count is not
 * kept and requests pass (fail open, as every per-client limit of this service).  Per
 * recipient: MAIL_RECIPIENT_DAILY_LIMIT emails a UTC day, a conditional counter in DynamoDB
 * (an item "limit#<day>#<address>" of the outbox table, gone with its ttl), so it holds
 * across workers and nodes and never fails open.
 */
#ifndef PH_MAIL_LIMIT_H
#define PH_MAIL_LIMIT_H

#include "errors.h"

struct ctx;

/*
 * Count one email to `to` caused by the request of c (its client, c->client, NULL: no
 * client limit): APP_OK, or APP_ERATELIMIT with reason TOO_MANY_REQUESTS (this client) or
 * TOO_MANY_EMAILS (this recipient, today).  Counted before the email is queued: a request
 * that fails afterwards still counts.
 */
int mail_limit_take(const struct ctx *c, const char *to, struct app_error *err);

#endif
