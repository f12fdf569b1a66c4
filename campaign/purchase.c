/*
 * Fulfilment of discount purchases (campaignId "discount-purchase"); states in
 * docs/PAYMENTS.md:
 *
 *   pending ──paid──▶ paid ──full refund──▶ refunded
 *      │                 (partial refunds are recorded, access stays)
 *      ├──expired / failed──▶ expired | failed ──late payment──▶ paid (reviewNeeded)
 *      └──paid after a full refund arrived first──▶ refunded (no access, no email)
 *
 * Each move is one transaction guarded by the state it leaves, carrying everything the move
 * implies: the access grant, the coupon redemption, the payment's row and the email.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/outbox.h"
#include "../lib/reservation.h"
#include "../lib/txn.h"
#include "../lib/metrics.h"
#include "campaign.h"
#include "purchase.h"

#define SOURCE "discount-purchase"

static int
load(const struct ctx *c, const char *pid, struct json_object **out, struct app_error *err)
{
    return record_load(c->ddb, c->cfg->tbl_discount_purchases, "purchaseId", pid,
                       "pur_", out, err);
}

/* The confirmation email, queued in the same transaction as the payment. */
static struct json_object *
confirmation(const struct ctx *c, struct json_object *p, const char *pid, time_t from,
             time_t until)
{
    struct json_object *vars = json_object_new_object(), *w;
    const char *cur = json_str(p, "currency"), *code = json_str(p, "couponCode");
    char d[48], cause[64], url[512];

    json_add_str(vars, "customerName", json_str(p, "name"));
    json_add_str(vars, "planName", json_str(p, "planName"));
    fmt_money_add(vars, "originalAmount", json_int(p, "originalAmountCents"), cur);
    fmt_money_add(vars, "discountAmount", json_int(p, "discountCents"), cur);
    fmt_money_add(vars, "finalAmount", json_int(p, "finalAmountCents"), cur);
    json_add_str(vars, "couponCode", code);
    fmt_date(from, d, sizeof(d));
    json_add_str(vars, "accessFrom", d);
    fmt_date(until, d, sizeof(d));
    json_add_str(vars, "accessUntil", d);
    snprintf(url, sizeof(url), "%s/login", c->cfg->frontend_url);
    json_add_str(vars, "loginUrl", url);
    json_add_str(vars, "purchaseId", pid);
    snprintf(cause, sizeof(cause), "%s#paid", pid);
    w = outbox_txn_mail(c->cfg, cause, "purchase-confirmation", json_str(p, "email"),
                        json_str(p, "name"), vars, from);
    return w;
}

static int
paid(const struct campaign *k, const struct ctx *c, const struct pay_event *pe, int attempt,
     struct app_error *err)
{
    const char *pid = json_str(pe->meta, "purchaseId"), *status, *email, *plan, *code;
    struct json_object *p = NULL, *items, *v, *b;
    struct payment_row pr;
    char ts[32], until[32], token[TXN_TOKEN_LEN];
    int rc, review, gone;
    time_t end;

    if (!id_valid(pid, "pur_"))
        return APP_OK;
    rc = load(c, pid, &p, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;     /* not ours: nothing to do */
    status = json_str(p, "status");
    email = json_str(p, "email");
    plan = json_str(p, "planId");
    code = json_str(p, "couponCode");
    if (!status || !email || !plan || !strcmp(status, "paid") || !strcmp(status, "refunded")) {
        /* A repeat, or another payment of a purchase paid already: that one goes back. */
        rc = status && pe->payment_intent && json_str(p, "stripePaymentIntentId") &&
             strcmp(json_str(p, "stripePaymentIntentId"), pe->payment_intent) != 0 ?
             campaign_record_unwanted(k, c, pe, p, "paid twice", err) : APP_OK;
        json_object_put(p);
        return rc;
    }
    rc = payment_get(c->ddb, c->cfg, pe->payment_intent, &pr, err);
    if (rc != APP_OK) {
        json_object_put(p);
        return rc;
    }
    if (pr.record) {                                  /* linked already: a repeat */
        if (strcmp(pr.record, pid) != 0)
            ctx_log(c, LL_ERROR, "payment %s belongs to %s, not %s", pe->payment_intent,
                    pr.record, pid);
        payment_free(&pr);
        json_object_put(p);
        return APP_OK;
    }
    if (pe->payment_intent && !campaign_paid_matches(pe, json_int(p, "finalAmountCents"),
                                                     json_str(p, "currency"))) {
        payment_free(&pr);
        rc = campaign_record_unwanted(k, c, pe, p, "amount mismatch", err);
        json_object_put(p);
        return rc;
    }
    gone = pr.refunded_full;                          /* refunded before we heard it paid */
    review = strcmp(status, "pending") != 0 || pr.dispute;
    if (strcmp(status, "pending") != 0)
        ctx_log(c, LL_ERROR, "purchase %s was %s when its payment arrived; %s and flagging "
                "it for review", pid, status, gone ? "recording it" : "granting access");
    rc = campaign_access_until(c, plan, pe->now, &end, err);
    if (rc != APP_OK) {
        payment_free(&pr);
        json_object_put(p);
        return rc;
    }
    time_iso(pe->now, ts, sizeof(ts));
    time_iso(end, until, sizeof(until));

    items = json_object_new_array();
    v = json_object_new_object();
    json_object_object_add(v, ":was", ddb_av_s(status));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(v, ":pi", ddb_av_s(pe->payment_intent ? pe->payment_intent : ""));
    json_object_object_add(v, ":review", ddb_av_s(review ? "yes" : "no"));
    if (gone) {
        json_object_object_add(v, ":st", ddb_av_s("refunded"));
        json_object_object_add(v, ":r", ddb_av_n(pr.refunded));
        json_object_array_add(items, txn_update(
            c->cfg->tbl_discount_purchases, ddb_key_s("purchaseId", pid),
            "SET #st = :st, paidAt = :now, refundedAt = :now, updatedAt = :now, "
            "stripePaymentIntentId = :pi, amountRefundedCents = :r, reviewNeeded = :review",
            "#st = :was", v));
    } else {
        json_object_object_add(v, ":st", ddb_av_s("paid"));
        b = json_object_new_object();
        json_object_object_add(b, "BOOL", json_object_new_boolean(pr.dispute ? 1 : 0));
        json_object_object_add(v, ":disputed", b);
        json_object_array_add(items, txn_update(
            c->cfg->tbl_discount_purchases, ddb_key_s("purchaseId", pid),
            "SET #st = :st, paidAt = :now, updatedAt = :now, stripePaymentIntentId = :pi, "
            "reviewNeeded = :review, disputed = :disputed", "#st = :was", v));
        json_object_array_add(items, grant_put_txn(c->cfg, email, pid, plan, ts, until,
                                                   SOURCE));
        json_object_array_add(items, confirmation(c, p, pid, pe->now, end));
    }
    if (code && strcmp(status, "pending") == 0) {
        v = json_object_new_object();
        json_object_object_add(v, ":confirmed", ddb_av_s("confirmed"));
        json_object_array_add(items, txn_update(c->cfg->tbl_coupon_usage,
                                                ddb_key_s("usageId", pid),
                                                "SET #st = :confirmed", NULL, v));
    }
    if (pe->payment_intent)
        json_object_array_add(items, payment_link_txn(c->cfg, pe->payment_intent, &pr,
                                                      SOURCE, pid, email, pe->amount,
                                                      pe->currency, ts));
    txn_token(token, pid, pe->payment_intent, attempt);
    rc = txn_run(c->ddb, items, token, err);
    if (rc == APP_OK && code && strcmp(status, "pending") == 0)
        metrics_inc_value(MF_COUPON_REDEMPTIONS, code, 0);
    payment_free(&pr);
    json_object_put(p);
    return rc;
}

/* An unpaid end (expired, failed): give the reservation back, if still pending. */
static int
unpaid(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
       const char *status, struct app_error *err)
{
    const char *pid = json_str(pe->meta, "purchaseId"), *code;
    struct json_object *p = NULL;
    struct reservation r;
    char ts[32];
    int rc;

    if (!id_valid(pid, "pur_"))
        return APP_OK;
    rc = load(c, pid, &p, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    code = json_str(p, "couponCode");
    r.purchase_id = pid;
    r.code = code ? code : "";
    r.email = json_str(p, "email");
    r.usage_limit = 0;
    r.per_user_limit = 0;
    time_iso(pe->now, ts, sizeof(ts));
    rc = r.email ? reservation_release(c->ddb, c->cfg, &r, status, ts, err) :
         APP_OK;
    if (rc == APP_OK && r.email)
        purchase_coupon_uses_changed(c, r.code, r.email);
    json_object_put(p);
    if (rc == APP_ECONDITION) {
        app_error_clear(err);
        return APP_OK;       /* no longer pending: paid or released already */
    }
    return rc;
}

/* A declined attempt: noted on the purchase, and one "try again" email per PaymentIntent. */
static int
declined(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
         struct app_error *err)
{
    const char *pid = json_str(pe->meta, "purchaseId"), *url;
    struct json_object *p = NULL, *items, *v, *vars;
    char ts[32], cause[96], amount[48], plans[512];
    int rc;

    if (!id_valid(pid, "pur_") || !pe->payment_intent)
        return APP_OK;
    rc = load(c, pid, &p, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    if (!json_str(p, "status") || strcmp(json_str(p, "status"), "pending") != 0 ||
        !json_str(p, "email")) {
        json_object_put(p);
        return APP_OK;       /* paid meanwhile, or over: nothing to retry */
    }
    time_iso(pe->now, ts, sizeof(ts));
    items = json_object_new_array();
    v = json_object_new_object();
    json_object_object_add(v, ":pending", ddb_av_s("pending"));
    json_object_object_add(v, ":why", ddb_av_s(pe->reason ? pe->reason : ""));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_array_add(items, txn_update(c->cfg->tbl_discount_purchases,
                                            ddb_key_s("purchaseId", pid),
                                            "SET lastPaymentError = :why, paymentFailedAt = "
                                            ":now, updatedAt = :now", "#st = :pending", v));
    vars = json_object_new_object();
    json_add_str(vars, "customerName", json_str(p, "name"));
    json_add_str(vars, "planName", json_str(p, "planName"));
    fmt_money(json_int(p, "finalAmountCents"), json_str(p, "currency"), amount, sizeof(amount));
    json_add_str(vars, "amount", amount);
    json_add_str(vars, "reason", pe->reason);
    url = json_str(p, "checkoutUrl");
    snprintf(plans, sizeof(plans), "%s/plans", c->cfg->frontend_url);
    json_add_str(vars, "retryUrl", url ? url : plans);
    snprintf(cause, sizeof(cause), "%s#declined", pe->payment_intent);
    json_object_array_add(items, outbox_txn_mail(c->cfg, cause, "payment-failed",
                                                 json_str(p, "email"), json_str(p, "name"), vars,
                                                 pe->now));
    rc = txn_run(c->ddb, items, NULL, err);
    json_object_put(p);
    /* A second decline of the same PaymentIntent finds its email queued: done. */
    return rc == APP_ECONDITION ? APP_OK : rc;
}

const struct campaign_ops purchase_ops = {
    paid, unpaid, declined, record_refunded_op, record_disputed_op, record_undisputed_op,
    record_view,
};
