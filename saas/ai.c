/*
 * AI generation and history (saas/ai.h): the quota, the Bedrock call, the session rows and
 * the history's sealed cursor.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/bedrock.h"
#include "../lib/buf.h"
#include "../lib/cfg.h"
#include "../lib/cursor.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "ai.h"
#include "saas.h"

#define QUOTA_REASON "AI_MONTHLY_REQUESTS"
/* A month's quota row is kept this long after the month ends (its "ttl"), then DynamoDB's TTL
 * deletes it: long enough to look into a month just ended, never forever. */
#define QUOTA_KEEP_S (35 * 86400)
#define SK_MAX 256                  /* bytes of a session's sk */
#define CURSOR_AAD "prodenthub ai-history cursor\n"

/* --- the user, the model, the month ------------------------------------------------------ */

static int
user_ok(const char *sub, struct app_error *err)
{
    if (!sub || !*sub || strlen(sub) > SAAS_MAX_USER_ID)
        return app_error_set(err, APP_EUNAUTHORIZED, "ai: no usable user id");
    return APP_OK;
}

/* want (NULL: the first) as one of AI_MODELS into out; APP_EVALIDATION when it is not. */
static int
model_pick(const struct cfg *cfg, const char *want, char out[BEDROCK_MODEL_MAX + 1],
           struct app_error *err)
{
    return bedrock_model_find(cfg->ai_models, want, out) == 0 ? APP_OK :
           app_error_field(err, "model", "is not one of the models this service offers");
}

time_t
ai_quota_month(time_t now, char month[8])
{
    struct tm tm;

    gmtime_r(&now, &tm);
    snprintf(month, 8, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u);
    tm.tm_mon += 1;
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = 0;
    return timegm(&tm);           /* normalises month 12 into January of the next year */
}

static struct json_object *
row_key(const char *sub, const char *sk)
{
    struct json_object *k = json_object_new_object();
    char pk[8 + SAAS_MAX_USER_ID];

    snprintf(pk, sizeof(pk), "USER#%s", sub);
    json_object_object_add(k, "pk", ddb_av_s(pk));
    json_object_object_add(k, "sk", ddb_av_s(sk));
    return k;
}

/* --- the quota ------------------------------------------------------------------------- */

/* One request of the month, if any is left: *used is the count with it.  The row expires
 * QUOTA_KEEP_S after the month (reset). */
static int
quota_take(const struct ctx *c, struct json_object *key, const char *sub, time_t reset,
           long long *used, struct app_error *err)
{
    struct json_object *names = json_object_new_object(), *values = json_object_new_object(),
                       *attrs = NULL, *plain = NULL;
    struct app_error e;
    char now[32], at[32];
    int rc;

    time_iso(c->now, now, sizeof(now));
    json_object_object_add(names, "#used", json_object_new_string("used"));
    json_object_object_add(names, "#uid", json_object_new_string("userId"));
    json_object_object_add(names, "#upd", json_object_new_string("updatedAt"));
    json_object_object_add(names, "#ttl", json_object_new_string("ttl"));
    json_object_object_add(values, ":one", ddb_av_n(1));
    json_object_object_add(values, ":limit", ddb_av_n(c->cfg->ai_monthly_requests));
    json_object_object_add(values, ":uid", ddb_av_s(sub));
    json_object_object_add(values, ":now", ddb_av_s(now));
    json_object_object_add(values, ":ttl", ddb_av_n((long long)reset + QUOTA_KEEP_S));
    app_error_clear(&e);
    rc = ddb_update_item(c->ddb, c->cfg->tbl_app, key, "ADD #used :one SET #uid = :uid, "
                         "#upd = :now, #ttl = :ttl",
                         "attribute_not_exists(#used) OR #used < :limit", names, values,
                         "UPDATED_NEW", &attrs, &e);
    if (rc == APP_ECONDITION) {
        time_iso(reset, at, sizeof(at));
        rc = app_error_reason(err, APP_EQUOTA, QUOTA_REASON, "The monthly quota of %ld AI "
                              "requests is spent; it starts again at %s",
                              c->cfg->ai_monthly_requests, at);
    } else if (rc != APP_OK) {
        app_error_set(err, rc, "ai: taking a request of the quota: %s", e.msg);
    } else {
        plain = attrs ? ddb_unmarshal_item(attrs) : NULL;
        *used = json_int(plain, "used");
    }
    if (plain)
        json_object_put(plain);
    if (attrs)
        json_object_put(attrs);
    json_object_put(names);
    json_object_put(values);
    return rc;
}

/* The request of a call that failed, given back (never below zero). */
static void
quota_give_back(const struct ctx *c, struct json_object *key)
{
    struct json_object *names = json_object_new_object(), *values = json_object_new_object();
    struct app_error e;
    int rc;

    json_object_object_add(names, "#used", json_object_new_string("used"));
    json_object_object_add(values, ":minus1", ddb_av_n(-1));
    json_object_object_add(values, ":zero", ddb_av_n(0));
    app_error_clear(&e);
    rc = ddb_update_item(c->ddb, c->cfg->tbl_app, key, "ADD #used :minus1", "#used > :zero",
                         names, values, NULL, NULL, &e);
    if (rc != APP_OK)
        ctx_log(c, LL_ERROR, "ai: the request of a failed call was not given back: %s", e.msg);
    json_object_put(names);
    json_object_put(values);
}

/* --- sessions -------------------------------------------------------------------------- */

static const char *const public_fields[] = {
    "id", "userId", "prompt", "response", "model", "tokensUsed", "inputTokens",
    "outputTokens", "stopReason", "createdAt", NULL,
};

/* The answered fields of a stored session (a plain item). */
static struct json_object *
public_session(struct json_object *item)
{
    struct json_object *o = json_object_new_object(), *v;
    size_t i;

    for (i = 0; public_fields[i]; i++)
        if (json_object_object_get_ex(item, public_fields[i], &v))
            json_object_object_add(o, public_fields[i], json_object_get(v));
    return o;
}

static int
session_store(const struct ctx *c, const char *sub, const char *prompt, const char *model,
              const struct bedrock_reply *r, struct json_object **out, struct app_error *err)
{
    struct json_object *item = json_object_new_object(), *av;
    char id[8 + ID_HEX], at[32], pk[8 + SAAS_MAX_USER_ID], sk[SK_MAX];
    int rc;

    if (id_new(id, sizeof(id), "ai_") != 0) {
        json_object_put(item);
        return app_error_set(err, APP_EINTERNAL, "ai: no random bytes for an id");
    }
    time_iso(c->now, at, sizeof(at));
    snprintf(pk, sizeof(pk), "USER#%s", sub);
    snprintf(sk, sizeof(sk), "AI#%s#%s", at, id);
    json_add_str(item, "pk", pk);
    json_add_str(item, "sk", sk);
    json_add_str(item, "type", "AI_SESSION");
    json_add_str(item, "id", id);
    json_add_str(item, "userId", sub);
    json_add_str(item, "prompt", prompt);
    json_add_str(item, "response", r->text);
    json_add_str(item, "model", model);
    json_object_object_add(item, "tokensUsed", json_object_new_int64(r->total_tokens));
    json_object_object_add(item, "inputTokens", json_object_new_int64(r->input_tokens));
    json_object_object_add(item, "outputTokens", json_object_new_int64(r->output_tokens));
    json_add_str(item, "stopReason", r->stop_reason);
    json_object_object_add(item, "latencyMs", json_object_new_int64(r->latency_ms));
    json_add_str(item, "createdAt", at);
    av = ddb_marshal_item(item);
    rc = ddb_put_item(c->ddb, c->cfg->tbl_app, av, "attribute_not_exists(pk)", NULL, NULL,
                      err);
    json_object_put(av);
    if (rc == APP_OK)
        *out = public_session(item);
    json_object_put(item);
    return rc;
}

int
ai_generate_session(const struct ctx *c, const char *sub, const struct ai_generate_input *in,
            struct ai_generated *out, struct app_error *err)
{
    struct bedrock_reply reply;
    struct json_object *key = NULL;
    char model[BEDROCK_MODEL_MAX + 1], month[8], sk[16];
    size_t plen = in->prompt ? strlen(in->prompt) : 0;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&reply, 0, sizeof(reply));
    out->reset_at = ai_quota_month(c->now, month);
    out->limit = c->cfg->ai_monthly_requests;
    rc = user_ok(sub, err);
    if (rc != APP_OK)
        return rc;
    if (plen == 0 || plen > (size_t)c->cfg->ai_max_prompt_bytes)
        return app_error_field(err, "prompt", "must have 1 to %ld bytes",
                               c->cfg->ai_max_prompt_bytes);
    rc = model_pick(c->cfg, in->model, model, err);
    if (rc != APP_OK)
        return rc;
    if (!c->bedrock)
        return app_error_set(err, APP_EUNAVAILABLE, "bedrock: no client");

    snprintf(sk, sizeof(sk), "QUOTA#%s", month);
    key = row_key(sub, sk);
    rc = quota_take(c, key, sub, out->reset_at, &out->used, err);
    if (rc != APP_OK)
        goto done;
    rc = bedrock_converse(c->bedrock, model, NULL, in->prompt, c->cfg->ai_max_tokens, &reply,
                          err);
    if (rc == APP_OK)
        rc = session_store(c, sub, in->prompt, model, &reply, &out->session, err);
    if (rc != APP_OK) {
        quota_give_back(c, key);
        out->used = out->used > 0 ? out->used - 1 : 0;
        goto done;
    }
    ctx_log(c, LL_INFO, "ai: session %s, model %s, tokens %lld in %lld out, %lld of %lld this "
            "month", json_str(out->session, "id"), model, reply.input_tokens,
            reply.output_tokens, out->used, out->limit);

done:
    bedrock_reply_free(&reply);
    if (key)
        json_object_put(key);
    return rc;
}

/* --- history --------------------------------------------------------------------------- */

/* An sk a cursor may carry: one of a session's, printable ASCII. */
static int
sk_ok(const char *sk, size_t n)
{
    size_t i;

    if (n < 4 || n >= SK_MAX || strncmp(sk, "AI#", 3) != 0)
        return 0;
    for (i = 0; i < n; i++)
        if (sk[i] < 0x21 || sk[i] > 0x7e)
            return 0;
    return 1;
}

/* The cursor after the row sk, for sub: sealed with OUTBOX_KEY, else plain (lib/cursor.h). */
static int
cursor_make(const struct cfg *cfg, const char *sub, const char *sk, struct buf *out)
{
    char aad[sizeof(CURSOR_AAD) + SAAS_MAX_USER_ID];

    if (!sk_ok(sk, strlen(sk)))
        return -1;
    snprintf(aad, sizeof(aad), "%s%s", CURSOR_AAD, sub);
    return cursor_seal(cfg->outbox_key, aad, sk, out);
}

/* The sk a cursor of sub's carries, into sk (SK_MAX); -1 when it is not one. */
static int
cursor_open(const struct cfg *cfg, const char *sub, const char *cursor, char *sk)
{
    char aad[sizeof(CURSOR_AAD) + SAAS_MAX_USER_ID];
    struct buf plain;
    int rc = -1;

    snprintf(aad, sizeof(aad), "%s%s", CURSOR_AAD, sub);
    buf_init(&plain, SK_MAX);
    if (cursor_unseal(cfg->outbox_key, aad, cursor, &plain) == 0 &&
        sk_ok(plain.data, plain.len)) {
        memcpy(sk, plain.data, plain.len + 1);
        rc = 0;
    }
    buf_free(&plain);
    return rc;
}

int
ai_list_sessions(const struct ctx *c, const char *sub, long limit, const char *cursor,
           struct json_object **out, struct app_error *err)
{
    struct json_object *q, *v, *items = NULL, *last = NULL, *list, *it, *lastk;
    char pk[8 + SAAS_MAX_USER_ID], sk[SK_MAX];
    struct buf next;
    size_t i;
    int rc;

    *out = NULL;
    rc = user_ok(sub, err);
    if (rc != APP_OK)
        return rc;
    if (limit < 1 || limit > AI_HISTORY_PAGE_MAX)
        return app_error_set(err, APP_EBADREQUEST, "limit must be from 1 to %d",
                             AI_HISTORY_PAGE_MAX);
    if (cursor && cursor_open(c->cfg, sub, cursor, sk) != 0)
        return app_error_set(err, APP_EBADREQUEST, "cursor is not one this API gave you");
    snprintf(pk, sizeof(pk), "USER#%s", sub);
    q = json_object_new_object();
    json_object_object_add(q, "TableName", json_object_new_string(c->cfg->tbl_app));
    json_object_object_add(q, "KeyConditionExpression",
                           json_object_new_string("pk = :pk AND begins_with(sk, :ai)"));
    v = json_object_new_object();
    json_object_object_add(v, ":pk", ddb_av_s(pk));
    json_object_object_add(v, ":ai", ddb_av_s("AI#"));
    json_object_object_add(q, "ExpressionAttributeValues", v);
    json_object_object_add(q, "ScanIndexForward", json_object_new_boolean(0));
    json_object_object_add(q, "ConsistentRead", json_object_new_boolean(1));  /* the newest */
    json_object_object_add(q, "Limit", json_object_new_int((int)limit));
    if (cursor)
        json_object_object_add(q, "ExclusiveStartKey", row_key(sub, sk));
    rc = ddb_query(c->ddb, q, &items, &last, err);
    json_object_put(q);
    if (rc != APP_OK)
        return rc;

    *out = json_object_new_object();
    list = json_object_new_array();
    for (i = 0; i < json_object_array_length(items); i++) {
        it = ddb_unmarshal_item(json_object_array_get_idx(items, i));
        if (!it)
            continue;
        json_object_array_add(list, public_session(it));
        json_object_put(it);
    }
    json_object_put(items);
    json_object_object_add(*out, "sessions", list);
    lastk = last ? ddb_unmarshal_item(last) : NULL;
    buf_init(&next, AI_CURSOR_MAX + 1);
    if (!last) {
        json_object_object_add(*out, "nextCursor", NULL);
    } else if (lastk && json_str(lastk, "sk") &&
               cursor_make(c->cfg, sub, json_str(lastk, "sk"), &next) == 0) {
        json_object_object_add(*out, "nextCursor", json_object_new_string(next.data));
    } else {
        rc = app_error_set(err, APP_EINTERNAL, "ai: no cursor for the row after a page");
        json_object_put(*out);
        *out = NULL;
    }
    buf_free(&next);
    if (lastk)
        json_object_put(lastk);
    if (last)
        json_object_put(last);
    return rc;
}
