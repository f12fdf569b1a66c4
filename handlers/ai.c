/*
 * AI generation (docs/SAAS.md), for signed-in users:
 *
 *   POST /v1/ai/generate {"prompt", "model"?}    one Bedrock answer, stored; spends one
 *                                                request of the month's quota (429 when spent)
 *   GET  /v1/ai/history?limit=&cursor=           the user's sessions, newest first
 *
 * The user is the verified token's sub (R_AUTH); generation needs a subscription
 * (R_SUBSCRIBED).  The work is saas/ai.c's.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/jwt.h"
#include "../lib/strparse.h"
#include "../saas/ai.h"
#include "handlers.h"

#define MODEL_FIELD_MAX 256

/* 429 QUOTA_EXCEEDED with the reason, when the quota starts again, and Retry-After. */
static int
quota_spent(struct request *req, time_t reset_at)
{
    struct json_object *d = json_object_new_object();
    char at[32], secs[24];

    time_iso(reset_at, at, sizeof(at));
    if (req->err.reason)
        json_add_str(d, "reason", req->err.reason);
    json_add_str(d, "resetAt", at);
    snprintf(secs, sizeof(secs), "%lld",
             (long long)(reset_at > req->ctx.now ? reset_at - req->ctx.now : 0));
    req_add_header(req, "Retry-After", secs);
    return reply_error(req, APP_EQUOTA, req->err.msg[0] ? req->err.msg : NULL, d);
}

int
ai_generate(struct request *req)
{
    struct ai_generate_input in = {NULL, NULL};
    struct ai_generated out;
    struct json_object *q;
    char at[32];
    int rc;

    field_string(req, "prompt", 1, (size_t)req->cfg->ai_max_prompt_bytes,
                 FIELD_REQUIRED | FIELD_MULTILINE, &in.prompt);
    field_string(req, "model", 1, MODEL_FIELD_MAX, 0, &in.model);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = ai_generate_session(&req->ctx, req->user->sub, &in, &out, &req->err);
    if (rc == APP_EQUOTA)
        return quota_spent(req, out.reset_at);
    if (rc != APP_OK)
        return rc;
    q = json_object_new_object();
    json_object_object_add(q, "limit", json_object_new_int64(out.limit));
    json_object_object_add(q, "used", json_object_new_int64(out.used));
    time_iso(out.reset_at, at, sizeof(at));
    json_add_str(q, "resetAt", at);
    json_object_object_add(out.session, "quota", q);
    return reply_json(req, 201, out.session);
}

int
ai_history(struct request *req)
{
    const char *lim = req_query(req, "limit"), *cur = req_query(req, "cursor");
    struct json_object *page = NULL;
    long limit = AI_HISTORY_PAGE_DEFAULT;
    int rc;

    if (lim && str_to_long(lim, 1, AI_HISTORY_PAGE_MAX, &limit) != 0)
        return reply_error(req, APP_EBADREQUEST, "limit must be from 1 to 50", NULL);
    rc = ai_list_sessions(&req->ctx, req->user->sub, limit, cur, &page, &req->err);
    if (rc != APP_OK)
        return rc;
    return reply_json(req, 200, page);
}
