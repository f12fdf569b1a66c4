/*
 * The SaaS layer: signed-in users, their subscriptions, AI generation and uploads, below
 * HTTP.  As in the campaign layer (campaign/campaign.h), functions here take a context of
 * clients and the time (lib/ctx.h), the user's id and an error slot, never a request.
 *
 * The user is the Cognito token's "sub", verified by the dispatcher (R_AUTH routes,
 * lib/jwt.h); nothing here trusts an id from a body or a query.
 *
 * One table, the seed's DATABASE_TABLE_NAME (cfg->tbl_app, sql/tables/app.json), keys pk/sk:
 *   USER#<sub>      PROFILE             id, email, createdAt, updatedAt, stripeCustomerId,
 *                                       the open checkout (checkoutClaim, checkoutPriceId,
 *                                       checkoutExpiresAt, checkoutSessionId,
 *                                       checkoutStaleSessions: subscription.h)
 *   USER#<sub>      SUBSCRIPTION        the subscription Stripe's events keep (status, ...)
 *   USER#<sub>      QUOTA#<yyyy-mm>     AI requests used in that calendar month (UTC);
 *                                       ttl (the table's TTL) 35 days after the month
 *   USER#<sub>      AI#<iso time>#<id>  one AI session (prompt, response, model, tokens)
 *   CUSTOMER#<cus>  USER                the user a Stripe customer belongs to
 * docs/SAAS.md describes the flows.
 */
#ifndef PH_SAAS_H
#define PH_SAAS_H

#define SAAS_MAX_USER_ID 128       /* a sub longer than this is refused (bytes) */

#endif
