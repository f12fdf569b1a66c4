/*
 * POST /v1/webhook/stripe (and /v1/stripe/webhook): where payments become access.
 *
 * 1. The signature is checked over the raw body before anything is parsed (400 if bad).
 * 2. The event id is claimed with a conditional write (webhook-events): a duplicate of a
 *    finished event is acknowledged with 200 and changes nothing; one being processed
 *    elsewhere gets 503, so Stripe retries it later; a claim older than CLAIM_S (a crashed
 *    attempt) may be taken over.
 * 3. The effects are applied with conditional writes on the record's state, so a late or
 *    repeated event never moves a record backwards.  If applying fails, the claim is
 *    dropped and the answer is 503: Stripe's retry does the work once.
 *
 * Discount purchases: checkout.session.completed (paid) / async_payment_succeeded → the
 * purchase is paid, its coupon redemption confirmed, access granted; expired /
 * async_payment_failed → the reservation is released.  Other events: 200, logged, ignored.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/reservation.h"
#include "../lib/stripe_webhook.h"
#include "handlers.h"
#include "lookup.h"

#define CLAIM_S 60
#define EVENT_KEEP_S (30 * 86400)

/* Claim the event: 1 claimed, 0 already done, -1 being processed elsewhere, <-1 error. */
static int
claim(struct request *req, const char *id, const char *type, time_t now)
{
    struct json_object *item = json_object_new_object(), *names = json_object_new_object();
    struct json_object *vals = json_object_new_object(), *got = NULL, *k, *st;
    char ts[32];
    int rc;

    time_iso(now, ts, sizeof(ts));
    json_object_object_add(item, "eventId", ddb_av_s(id));
    json_object_object_add(item, "type", ddb_av_s(type));
    json_object_object_add(item, "status", ddb_av_s("processing"));
    json_object_object_add(item, "lockedUntil", ddb_av_n((long long)now + CLAIM_S));
    json_object_object_add(item, "receivedAt", ddb_av_s(ts));
    json_object_object_add(item, "ttl", ddb_av_n((long long)now + EVENT_KEEP_S));
    json_object_object_add(names, "#st", json_object_new_string("status"));
    json_object_object_add(vals, ":processing", ddb_av_s("processing"));
    json_object_object_add(vals, ":now", ddb_av_n((long long)now));
    rc = ddb_put_item(req->worker->ddb, req->cfg->tbl_webhook_events, item,
                      "attribute_not_exists(eventId) OR "
                      "(#st = :processing AND lockedUntil < :now)", names, vals, &req->err);
    json_object_put(item);
    json_object_put(names);
    json_object_put(vals);
    if (rc == APP_OK)
        return 1;
    if (rc != APP_ECONDITION)
        return rc < -1 ? rc : APP_EINTERNAL;
    app_error_clear(&req->err);
    k = ddb_key_s("eventId", id);
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_webhook_events, k, 1, &got, &req->err);
    json_object_put(k);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? -1 : rc;
    rc = json_object_object_get_ex(got, "status", &st) &&
         json_object_object_get_ex(st, "S", &st) &&
         strcmp(json_object_get_string(st), "done") == 0 ? 0 : -1;
    json_object_put(got);
    return rc;
}

static void
finish(struct request *req, const char *id, int done)
{
    struct json_object *k = ddb_key_s("eventId", id), *names = json_object_new_object();
    struct json_object *vals = json_object_new_object();
    struct app_error e;

    app_error_clear(&e);
    json_object_object_add(names, "#st", json_object_new_string("status"));
    json_object_object_add(vals, ":processing", ddb_av_s("processing"));
    if (done) {
        json_object_object_add(vals, ":done", ddb_av_s("done"));
        ddb_update_item(req->worker->ddb, req->cfg->tbl_webhook_events, k, "SET #st = :done",
                        "#st = :processing", names, vals, NULL, NULL, &e);
    } else {
        /* Let Stripe's retry claim it again at once. */
        ddb_delete_item(req->worker->ddb, req->cfg->tbl_webhook_events, k, "#st = :processing",
                        names, vals, &e);
    }
    json_object_put(k);
    json_object_put(names);
    json_object_put(vals);
}

/* The purchase of a session's metadata, as a plain object (caller puts), or NULL. */
static int
load_purchase(struct request *req, const char *pid, struct json_object **out)
{
    struct json_object *k = ddb_key_s("purchaseId", pid), *item = NULL;
    int rc;

    *out = NULL;
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_discount_purchases, k, 1, &item,
                      &req->err);
    json_object_put(k);
    if (rc != APP_OK)
        return rc;
    *out = ddb_unmarshal_item(item);
    json_object_put(item);
    return *out ? APP_OK : app_error_set(&req->err, APP_EINTERNAL, "purchase %s malformed", pid);
}

static long long
plan_months(struct request *req, const char *plan_id)
{
    struct json_object *plan, *v;
    struct buf b;
    long long m = 0;
    int hit;

    buf_init(&b, 16 * 1024);
    if (lookup_item(req, "plan", req->cfg->tbl_catalogue, "planId", plan_id,
                    plan_public_shape, &b, &hit) == APP_OK && b.len) {
        plan = json_tokener_parse(b.data);
        if (plan && json_object_object_get_ex(plan, "durationMonths", &v))
            m = json_object_get_int64(v);
        if (plan)
            json_object_put(plan);
    }
    buf_free(&b);
    return m;
}

/* pending → paid, redemption confirmed, access granted: one transaction. */
static int
purchase_paid(struct request *req, struct json_object *session, const char *pid, time_t now)
{
    struct json_object *p = NULL, *items, *w, *u, *vals, *names, *grant;
    const char *status, *email, *plan, *code, *pi = json_str(session, "payment_intent");
    char ts[32], until[32], token[40];
    struct tm tm;
    time_t end;
    int rc;

    rc = load_purchase(req, pid, &p);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;   /* not ours: nothing to do */
    status = json_str(p, "status");
    email = json_str(p, "email");
    plan = json_str(p, "planId");
    code = json_str(p, "couponCode");
    if (!status || !email || !plan || strcmp(status, "paid") == 0) {
        json_object_put(p);
        return APP_OK;                               /* already paid: a repeat */
    }
    if (strcmp(status, "pending") != 0)
        req_log(req, LL_ERROR, "purchase %s was %s when its payment arrived; granting access "
                "and flagging it for review", pid, status);
    time_iso(now, ts, sizeof(ts));
    gmtime_r(&now, &tm);
    tm.tm_mon += (int)plan_months(req, plan);
    end = timegm(&tm);
    time_iso(end, until, sizeof(until));

    items = json_object_new_array();
    u = json_object_new_object();
    json_object_object_add(u, "TableName",
                           json_object_new_string(req->cfg->tbl_discount_purchases));
    json_object_object_add(u, "Key", ddb_key_s("purchaseId", pid));
    json_object_object_add(u, "UpdateExpression", json_object_new_string(
        "SET #st = :paid, paidAt = :now, updatedAt = :now, stripePaymentIntentId = :pi, "
        "reviewNeeded = :review"));
    json_object_object_add(u, "ConditionExpression", json_object_new_string("#st = :was"));
    names = json_object_new_object();
    json_object_object_add(names, "#st", json_object_new_string("status"));
    json_object_object_add(u, "ExpressionAttributeNames", names);
    vals = json_object_new_object();
    json_object_object_add(vals, ":paid", ddb_av_s("paid"));
    json_object_object_add(vals, ":now", ddb_av_s(ts));
    json_object_object_add(vals, ":pi", ddb_av_s(pi ? pi : ""));
    json_object_object_add(vals, ":was", ddb_av_s(status));
    json_object_object_add(vals, ":review", ddb_av_s(strcmp(status, "pending") ? "yes" : "no"));
    json_object_object_add(u, "ExpressionAttributeValues", vals);
    w = json_object_new_object();
    json_object_object_add(w, "Update", u);
    json_object_array_add(items, w);

    grant = json_object_new_object();
    json_object_object_add(grant, "email", ddb_av_s(email));
    json_object_object_add(grant, "grantId", ddb_av_s(pid));
    json_object_object_add(grant, "productId", ddb_av_s(plan));
    json_object_object_add(grant, "validFrom", ddb_av_s(ts));
    json_object_object_add(grant, "validUntil", ddb_av_s(until));
    json_object_object_add(grant, "source", ddb_av_s("discount-purchase"));
    json_object_object_add(grant, "status", ddb_av_s("active"));
    u = json_object_new_object();
    json_object_object_add(u, "TableName", json_object_new_string(req->cfg->tbl_access_grants));
    json_object_object_add(u, "Item", grant);
    w = json_object_new_object();
    json_object_object_add(w, "Put", u);
    json_object_array_add(items, w);

    if (code && strcmp(status, "pending") == 0) {
        u = json_object_new_object();
        json_object_object_add(u, "TableName",
                               json_object_new_string(req->cfg->tbl_coupon_usage));
        json_object_object_add(u, "Key", ddb_key_s("usageId", pid));
        json_object_object_add(u, "UpdateExpression",
                               json_object_new_string("SET #st = :confirmed"));
        names = json_object_new_object();
        json_object_object_add(names, "#st", json_object_new_string("status"));
        json_object_object_add(u, "ExpressionAttributeNames", names);
        vals = json_object_new_object();
        json_object_object_add(vals, ":confirmed", ddb_av_s("confirmed"));
        json_object_object_add(u, "ExpressionAttributeValues", vals);
        w = json_object_new_object();
        json_object_object_add(w, "Update", u);
        json_object_array_add(items, w);
    }
    snprintf(token, sizeof(token), "paid-%s", pid + 4);
    rc = ddb_transact_write(req->worker->ddb, items, token, &req->err);
    json_object_put(items);
    json_object_put(p);
    if (rc == APP_ECONDITION) {
        app_error_clear(&req->err);
        return APP_OK;       /* the state moved on meanwhile (paid by a concurrent delivery) */
    }
    return rc;
}

/* An unpaid end (expired, failed): give the reservation back, if still pending. */
static int
purchase_unpaid(struct request *req, const char *pid, const char *status, time_t now)
{
    struct json_object *p = NULL;
    struct reservation r;
    const char *code;
    char ts[32];
    int rc;

    rc = load_purchase(req, pid, &p);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    code = json_str(p, "couponCode");
    r.purchase_id = pid;
    r.code = code ? code : "";
    r.email = json_str(p, "email");
    r.usage_limit = 0;
    r.per_user_limit = 0;
    time_iso(now, ts, sizeof(ts));
    rc = r.email ? reservation_release(req->worker->ddb, req->cfg, &r, status, ts, &req->err) :
         APP_OK;
    json_object_put(p);
    if (rc == APP_ECONDITION) {
        app_error_clear(&req->err);
        return APP_OK;       /* no longer pending: paid or released already */
    }
    return rc;
}

static int
apply(struct request *req, const char *type, struct json_object *obj, time_t now)
{
    struct json_object *meta = NULL;
    const char *campaign, *pid, *paid;

    json_object_object_get_ex(obj, "metadata", &meta);
    campaign = json_str(meta, "campaignId");
    pid = json_str(meta, "purchaseId");
    if (!campaign || strcmp(campaign, "discount-purchase") != 0 || !id_valid(pid, "pur_"))
        return APP_OK;
    paid = json_str(obj, "payment_status");
    if ((strcmp(type, "checkout.session.completed") == 0 && paid && strcmp(paid, "paid") == 0)
        || strcmp(type, "checkout.session.async_payment_succeeded") == 0)
        return purchase_paid(req, obj, pid, now);
    if (strcmp(type, "checkout.session.expired") == 0)
        return purchase_unpaid(req, pid, "expired", now);
    if (strcmp(type, "checkout.session.async_payment_failed") == 0)
        return purchase_unpaid(req, pid, "failed", now);
    return APP_OK;
}

int
webhook_stripe(struct request *req)
{
    struct json_object *ev, *data = NULL, *obj = NULL, *d;
    const char *id, *type;
    time_t now = time(NULL);
    int rc, c;

    rc = stripe_webhook_verify(req->body, req->body_len, req_env(req, "HTTP_STRIPE_SIGNATURE"),
                               req->cfg->stripe_webhook_secret,
                               req->cfg->stripe_webhook_tolerance_s, now, &req->err);
    if (rc != APP_OK) {
        req_log(req, LL_WARN, "webhook refused: %s", req->err.msg);
        d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string(req->err.msg));
        return reply_error(req, APP_EBADREQUEST, "Invalid webhook signature", d);
    }
    ev = json_tokener_parse(req->body);
    id = json_str(ev, "id");
    type = json_str(ev, "type");
    if (!ev || !id || !type || !json_object_object_get_ex(ev, "data", &data) ||
        !json_object_object_get_ex(data, "object", &obj)) {
        if (ev)
            json_object_put(ev);
        return app_error_set(&req->err, APP_EBADREQUEST, "not a Stripe event");
    }
    if (!req->worker || !req->worker->ddb) {
        json_object_put(ev);
        return app_error_set(&req->err, APP_EUNAVAILABLE, "dynamodb: no client");
    }
    c = claim(req, id, type, now);
    if (c == -1) {
        app_error_set(&req->err, APP_EUNAVAILABLE, "event %s is being processed", id);
        json_object_put(ev);
        return APP_EUNAVAILABLE;
    }
    if (c == 0) {
        json_object_put(ev);
        d = json_object_new_object();
        json_object_object_add(d, "received", json_object_new_boolean(1));
        json_object_object_add(d, "duplicate", json_object_new_boolean(1));
        return reply_json(req, 200, d);
    }
    if (c < 0) {
        json_object_put(ev);
        return c;
    }
    rc = apply(req, type, obj, now);
    finish(req, id, rc == APP_OK);
    if (rc != APP_OK)
        req_log(req, LL_ERROR, "webhook %s (%s) failed, Stripe will retry: %s", id, type,
                req->err.msg);
    else
        req_log(req, LL_INFO, "webhook %s %s applied", id, type);
    json_object_put(ev);      /* id and type point into it: used up to here */
    if (rc != APP_OK)
        return app_error_set(&req->err, APP_EUNAVAILABLE, "could not apply the event");
    d = json_object_new_object();
    json_object_object_add(d, "received", json_object_new_boolean(1));
    return reply_json(req, 200, d);
}
