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
 * 4. The event goes to its handler below; payments go to the campaign named by the
 *    metadata's campaignId (campaign/campaign.h), refunds and disputes through the payments
 *    table.
 *    Unknown event types: 200, logged, ignored.  States and orders: docs/PAYMENTS.md.
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
#include "../lib/metrics.h"
#include "../lib/stripe_webhook.h"
#include "../lib/retention.h"
#include "../lib/txn.h"
#include "../campaign/campaign.h"
#include "../saas/subscription.h"
#include "handlers.h"

/* A claim's lease: nginx's fastcgi_read_timeout, so an attempt whose worker crashed or hung
 * is taken over by the first retry after Stripe saw it fail.  An attempt still running then
 * is harmless: effects are conditional on the record's state (3. above). */
#define CLAIM_S 30

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
    json_object_object_add(item, "ttl", ddb_av_n(retention_webhook_event_ttl(req->cfg, now)));
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

static const struct campaign *
campaign_of(struct json_object *meta)
{
    return campaign_find(json_str(meta, "campaignId"));
}

struct event {
    const char *type;
    struct json_object *obj;       /* data.object */
    long long created;
    time_t now;
    int attempt;
};

static int
pay_event(const struct event *ev, struct pay_event *pe, const char *pi, long long amount)
{
    memset(pe, 0, sizeof(*pe));
    pe->type = ev->type;
    json_object_object_get_ex(ev->obj, "metadata", &pe->meta);
    pe->payment_intent = pi;
    pe->amount = amount;
    pe->currency = json_str(ev->obj, "currency");
    pe->now = ev->now;
    return campaign_of(pe->meta) ? 1 : 0;
}

/* checkout.session.completed / async_payment_succeeded */
static int
on_session_paid(struct request *req, const struct event *ev)
{
    const char *paid = json_str(ev->obj, "payment_status"), *mode = json_str(ev->obj, "mode");
    const struct campaign *k;
    struct pay_event pe;
    int rc;

    if (mode && strcmp(mode, "subscription") == 0)
        return saas_subscription_event(&req->ctx, ev->type, ev->obj, ev->created, &req->err);
    if (!pay_event(ev, &pe, json_str(ev->obj, "payment_intent"), json_int(ev->obj, "amount_total")))
        return APP_OK;
    /* "unpaid": an async method is still processing; its own event follows. */
    if (!paid || (strcmp(paid, "paid") != 0 && strcmp(paid, "no_payment_required") != 0))
        return APP_OK;
    k = campaign_of(pe.meta);
    rc = k->ops->paid(k, &req->ctx, &pe, ev->attempt, &req->err);
    if (rc == APP_OK)
        metrics_inc_value(MF_CHECKOUTS_PAID, k->id, 0);
    return rc;
}

static int
on_session_unpaid(struct request *req, const struct event *ev)
{
    const char *mode = json_str(ev->obj, "mode");
    const struct campaign *k;
    struct pay_event pe;

    if (mode && strcmp(mode, "subscription") == 0)
        return saas_subscription_event(&req->ctx, ev->type, ev->obj, ev->created, &req->err);
    if (!pay_event(ev, &pe, json_str(ev->obj, "payment_intent"), 0))
        return APP_OK;
    pe.session = json_str(ev->obj, "id");
    k = campaign_of(pe.meta);
    return k->ops->unpaid(k, &req->ctx, &pe, strcmp(ev->type, "checkout.session.expired") == 0 ?
                          "expired" : "failed", &req->err);
}

static int
on_pi_succeeded(struct request *req, const struct event *ev)
{
    const struct campaign *k;
    struct pay_event pe;
    int rc;

    if (!pay_event(ev, &pe, json_str(ev->obj, "id"), json_int(ev->obj, "amount_received")))
        return APP_OK;
    k = campaign_of(pe.meta);
    rc = k->ops->paid(k, &req->ctx, &pe, ev->attempt, &req->err);
    if (rc == APP_OK)
        metrics_inc_value(MF_PAYMENTS, k->id, metrics_index(MF_PAYMENTS, 1, "succeeded"));
    return rc;
}

static int
on_pi_failed(struct request *req, const struct event *ev)
{
    struct json_object *err = NULL;
    const struct campaign *k;
    struct pay_event pe;
    int rc;

    if (!pay_event(ev, &pe, json_str(ev->obj, "id"), 0))
        return APP_OK;
    json_object_object_get_ex(ev->obj, "last_payment_error", &err);
    pe.reason = json_str(err, "message");
    k = campaign_of(pe.meta);
    rc = k->ops->declined(k, &req->ctx, &pe, &req->err);
    if (rc == APP_OK)
        metrics_inc_value(MF_PAYMENTS, k->id, metrics_index(MF_PAYMENTS, 1, "failed"));
    return rc;
}

/*
 * Refunds and disputes name the payment, not our record: the payments row finds it.  If the
 * payment is not known yet (its event comes later), the row is started with what we learnt,
 * and the payment applies it when it lands.
 */
static int
early_note(struct request *req, struct json_object *item_vals, const char *pi,
           const char *update, const char *cond)
{
    struct json_object *items = json_object_new_array();

    json_object_array_add(items, txn_update(req->cfg->tbl_payments,
                                            ddb_key_s("paymentIntentId", pi), update, cond,
                                            item_vals));
    return txn_run(req->ctx.ddb, items, NULL, &req->err);
}

static int
on_charge_refunded(struct request *req, const struct event *ev)
{
    const char *pi = json_str(ev->obj, "payment_intent");
    long long amount = json_int(ev->obj, "amount"), refunded = json_int(ev->obj, "amount_refunded");
    const struct campaign *c;
    struct payment_row pr;
    struct json_object *v, *b, *r;
    int full, rc;
    char ts[32];

    r = NULL;
    full = json_object_object_get_ex(ev->obj, "refunded", &r) && json_object_get_boolean(r);
    full = full || (amount > 0 && refunded >= amount);
    if (!pi || refunded <= 0)
        return APP_OK;
    rc = payment_get(req->ctx.ddb, req->cfg, pi, &pr, &req->err);
    if (rc != APP_OK)
        return rc;
    if (pr.refunded >= refunded) {
        rc = APP_OK;                                  /* an older or repeated refund */
    } else if (pr.extra) {                            /* ours: the record keeps its own */
        time_iso(ev->now, ts, sizeof(ts));
        r = json_object_new_array();
        json_object_array_add(r, payment_refund_txn(req->cfg, pi, refunded, full, ts));
        rc = txn_run(req->ctx.ddb, r, NULL, &req->err);
    } else if (pr.record) {
        c = campaign_find(pr.campaign);
        rc = c ? c->ops->refunded(c, &req->ctx, &pr, refunded, full, &req->err) : APP_OK;
    } else {
        time_iso(ev->now, ts, sizeof(ts));
        v = json_object_new_object();
        json_object_object_add(v, ":r", ddb_av_n(refunded));
        b = json_object_new_object();
        json_object_object_add(b, "BOOL", json_object_new_boolean(full));
        json_object_object_add(v, ":full", b);
        json_object_object_add(v, ":now", ddb_av_s(ts));
        rc = early_note(req, v, pi, "SET amountRefundedCents = :r, refundedFull = :full, "
                        "updatedAt = :now", "attribute_not_exists(recordId) AND "
                        "(attribute_not_exists(amountRefundedCents) OR amountRefundedCents < :r)");
        /* ECONDITION: linked or noted meanwhile: run again */
    }
    payment_free(&pr);
    return rc;
}

static int
on_dispute(struct request *req, const struct event *ev)
{
    const char *pi = json_str(ev->obj, "payment_intent"), *id = json_str(ev->obj, "id");
    const char *reason = json_str(ev->obj, "reason");
    const struct campaign *c;
    struct payment_row pr;
    struct json_object *v;
    char ts[32];
    int rc;

    if (!pi || !id)
        return APP_OK;
    rc = payment_get(req->ctx.ddb, req->cfg, pi, &pr, &req->err);
    if (rc != APP_OK)
        return rc;
    req_log(req, LL_WARN, "dispute %s opened on %s (%s)", id, pi, reason ? reason : "?");
    if (pr.dispute) {
        rc = APP_OK;                                  /* known already */
    } else if (pr.record) {
        c = campaign_find(pr.campaign);
        rc = c ? c->ops->disputed(c, &req->ctx, &pr, id, reason, &req->err) : APP_OK;
    } else {
        time_iso(ev->now, ts, sizeof(ts));
        v = json_object_new_object();
        json_object_object_add(v, ":d", ddb_av_s(id));
        json_object_object_add(v, ":why", ddb_av_s(reason ? reason : ""));
        json_object_object_add(v, ":now", ddb_av_s(ts));
        rc = early_note(req, v, pi, "SET disputeId = :d, disputeReason = :why, updatedAt = :now",
                        "attribute_not_exists(recordId) AND attribute_not_exists(disputeId)");
        /* ECONDITION: linked meanwhile (run again) or noted by a concurrent delivery */
    }
    payment_free(&pr);
    return rc;
}

static int
on_dispute_closed(struct request *req, const struct event *ev)
{
    const char *pi = json_str(ev->obj, "payment_intent"), *id = json_str(ev->obj, "id");
    const char *status = json_str(ev->obj, "status");

    if (!pi || !id || !status)
        return APP_OK;
    return campaign_dispute_closed(&req->ctx, pi, id, status, json_int(ev->obj, "amount"),
                                   &req->err);
}

/* Funds withdrawn or reinstated: the dispute's balance transactions, summed. */
static int
on_dispute_funds(struct request *req, const struct event *ev)
{
    const char *pi = json_str(ev->obj, "payment_intent"), *id = json_str(ev->obj, "id");
    struct json_object *txns;
    long long net = 0;
    size_t i;

    if (!pi || !id || !json_object_object_get_ex(ev->obj, "balance_transactions", &txns) ||
        !json_object_is_type(txns, json_type_array))
        return APP_OK;
    for (i = 0; i < json_object_array_length(txns); i++)
        net += json_int(json_object_array_get_idx(txns, i), "amount");
    return campaign_dispute_funds(&req->ctx, pi, id, net, &req->err);
}

/* SaaS subscriptions and their invoices (saas/subscription.h). */
static int
on_subscription(struct request *req, const struct event *ev)
{
    return saas_subscription_event(&req->ctx, ev->type, ev->obj, ev->created, &req->err);
}

static const struct {
    const char *type;
    int (*fn)(struct request *req, const struct event *ev);
} handlers[] = {
#define HANDLER(type, fn) { type, fn },
    STRIPE_WEBHOOK_EVENTS(HANDLER)
};

#define ATTEMPTS 3

static int
acted_on(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if (strcmp(handlers[i].type, type) == 0)
            return 1;
    }
    return 0;
}

/* Apply the event; when a record moved under us (a concurrent event), look again. */
static int
apply(struct request *req, const char *type, struct json_object *obj, long long created,
      time_t now)
{
    struct event ev = { type, obj, created, now, 0 };
    size_t i;
    int rc;

    for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if (strcmp(handlers[i].type, type) == 0)
            break;
    if (i == sizeof(handlers) / sizeof(handlers[0])) {
        req_log(req, LL_INFO, "webhook: %s is not an event we act on", type);
        return APP_OK;
    }
    for (ev.attempt = 0; ev.attempt < ATTEMPTS; ev.attempt++) {
        rc = handlers[i].fn(req, &ev);
        if (rc != APP_ECONDITION)
            return rc;
        app_error_clear(&req->err);
    }
    return app_error_set(&req->err, APP_EUNAVAILABLE, "%s: the record kept changing", type);
}

/* Count a delivery (lib/metrics.h): its type ("other" when not one we act on) and what
 * became of it. */
static void
count_event(const char *type, const char *outcome)
{
    metrics_inc(MF_WEBHOOK_EVENTS, metrics_index(MF_WEBHOOK_EVENTS, 0, type),
                metrics_index(MF_WEBHOOK_EVENTS, 1, outcome));
}

int
webhook_stripe(struct request *req)
{
    struct json_object *ev, *data = NULL, *obj = NULL, *d;
    const char *id, *type;
    time_t now = req->ctx.now;
    int rc, c;

    rc = stripe_webhook_verify(req->body, req->body_len, req_env(req, "HTTP_STRIPE_SIGNATURE"),
                               req->cfg->stripe_webhook_secret,
                               req->cfg->stripe_webhook_tolerance_s, now, &req->err);
    if (rc != APP_OK) {
        req_log(req, LL_WARN, "webhook refused: %s", req->err.msg);
        count_event(NULL, "refused");
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
        count_event(NULL, "refused");
        return app_error_set(&req->err, APP_EBADREQUEST, "not a Stripe event");
    }
    c = claim(req, id, type, now);
    if (c == -1) {
        count_event(type, "busy");
        app_error_set(&req->err, APP_EUNAVAILABLE, "event %s is being processed", id);
        json_object_put(ev);
        return APP_EUNAVAILABLE;
    }
    if (c == 0) {
        count_event(type, "duplicate");
        json_object_put(ev);
        d = json_object_new_object();
        json_object_object_add(d, "received", json_object_new_boolean(1));
        json_object_object_add(d, "duplicate", json_object_new_boolean(1));
        return reply_json(req, 200, d);
    }
    if (c < 0) {
        count_event(type, "failed");
        json_object_put(ev);
        return c;
    }
    rc = apply(req, type, obj, json_int(ev, "created"), now);
    finish(req, id, rc == APP_OK);
    if (rc != APP_OK)
        count_event(type, "failed");
    else if (!acted_on(type))
        count_event(type, "ignored");
    else
        count_event(type, "applied");
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
