/*
 * AI generation with Amazon Bedrock, and each user's history of it (docs/SAAS.md).
 *
 * A generation spends one request of the user's monthly quota (AI_MONTHLY_REQUESTS per
 * calendar month, UTC) before Bedrock is called: one conditional UpdateItem on
 * USER#<sub> / QUOTA#<yyyy-mm>, "ADD used 1 if used < limit", so concurrent requests can
 * never spend more than the limit.  A call that fails (Bedrock, or storing its session)
 * gives the request back ("ADD used -1 if used > 0").  The session is stored as
 * USER#<sub> / AI#<createdAt>#<id> and answered.
 *
 * The history is one Query of the user's partition (sk begins_with "AI#", newest first).
 * Its cursor is the last row's sk alone, sealed with OUTBOX_KEY (lib/seal.h) and bound to
 * the user; the partition always comes from sub.  Without OUTBOX_KEY (outside production)
 * the cursor is the plain sk, which can still only move within the caller's own rows.
 */
#ifndef PH_SAAS_AI_H
#define PH_SAAS_AI_H

#include <time.h>

#include <json-c/json.h>

#include "../lib/ctx.h"
#include "../lib/cursor.h"
#include "../lib/errors.h"

#define AI_HISTORY_PAGE_DEFAULT 20
#define AI_HISTORY_PAGE_MAX 50
#define AI_CURSOR_MAX CURSOR_MAX   /* characters of a history cursor (lib/cursor.h) */

struct ai_generate_input {
    const char *prompt;            /* 1 to AI_MAX_PROMPT_BYTES bytes */
    const char *model;             /* one of AI_MODELS; NULL: the first of them */
};

struct ai_generated {
    struct json_object *session;   /* the session as answered (the caller's) */
    long long used;                /* requests of the month spent, this one included */
    long long limit;               /* AI_MONTHLY_REQUESTS */
    time_t reset_at;               /* when the quota starts again: set whatever the result */
};

/*
 * Generate an answer to in->prompt for the user sub and store the session.  Returns APP_OK
 * (out->session set); APP_EVALIDATION naming "prompt" or "model"; APP_EQUOTA (reason
 * "monthly_requests") when the month's requests are spent; Bedrock's codes (lib/bedrock.h:
 * APP_EUPSTREAM, APP_ETIMEOUT, APP_EUNAVAILABLE) or DynamoDB's.  After a failure the quota
 * is as it was.
 */
int ai_generate_session(const struct ctx *c, const char *sub, const struct ai_generate_input *in,
                struct ai_generated *out, struct app_error *err);

/*
 * One page of the user's sessions, newest first: *out is {"sessions": [...], "nextCursor":
 * string or null} (the caller's).  limit in 1..AI_HISTORY_PAGE_MAX; cursor NULL for the
 * first page.  APP_EBADREQUEST for a cursor this API did not give this user.
 */
int ai_list_sessions(const struct ctx *c, const char *sub, long limit, const char *cursor,
               struct json_object **out, struct app_error *err);

/* The calendar month (UTC) of now as "yyyy-mm" into month (8 bytes), and its end: the first
 * second of the next month. */
time_t ai_quota_month(time_t now, char month[8]);

#endif
