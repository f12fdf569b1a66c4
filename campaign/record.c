/*
 * What every campaign's fulfilment shares (campaign.h): payment, refund, dispute and decline
 * of a record, and the one-record engine: scholarships and personalized plans are one record
 * each, told apart by the data of their registry row, created and paid the same way
 * (record.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/catalogue.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/mail_limit.h"
#include "../lib/outbox.h"
#include "../lib/retention.h"
#include "../lib/txn.h"
#include "campaign.h"
#include "record.h"
#include "team.h"

int
campaign_access_until(const struct ctx *c, const char *product, time_t from, time_t *out,
                      struct app_error *err)
{
    struct json_object *plan = NULL;
    int rc = catalogue_load(c->ddb, c->cfg, product, &plan, err);
    long long months;

    if (rc == APP_ENOTFOUND)
        return app_error_set(err, APP_ECONFIG, "product %s is not in the catalogue",
                             product ? product : "(none)");
    if (rc != APP_OK)
        return rc;
    months = json_int(plan, "durationMonths");
    json_object_put(plan);
    if (months < 1)                 /* never a grant that ends as it starts */
        return app_error_set(err, APP_ECONFIG, "product %s has no durationMonths", product);
    *out = catalogue_add_months(from, months);
    return APP_OK;
}

int
record_refunded(const struct ctx *c, const char *table, const char *key_name,
                const char *paid_status, const struct payment_row *pr, long long amount,
                int full, struct app_error *err)
{
    time_t now = c->now;
    const char *email = json_str(pr->row, "email"), *pi = json_str(pr->row, "paymentIntentId");
    struct json_object *items = json_object_new_array(), *v;
    char ts[32];

    time_iso(now, ts, sizeof(ts));
    v = json_object_new_object();
    json_object_object_add(v, ":r", ddb_av_n(amount));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    if (full) {
        json_object_object_add(v, ":paid", ddb_av_s(paid_status));
        json_object_object_add(v, ":refunded", ddb_av_s("refunded"));
        json_object_array_add(items, txn_update(
            table, ddb_key_s(key_name, pr->record),
            "SET #st = :refunded, refundedAt = :now, updatedAt = :now, "
            "amountRefundedCents = :r", "#st = :paid", v));
        if (email)
            json_object_array_add(items, grant_revoke_txn(c->cfg, email, pr->record,
                                                          "refund", ts));
    } else {
        json_object_array_add(items, txn_update(
            table, ddb_key_s(key_name, pr->record),
            "SET amountRefundedCents = :r, updatedAt = :now",
            "attribute_not_exists(amountRefundedCents) OR amountRefundedCents < :r", v));
    }
    json_object_array_add(items, payment_refund_txn(c->cfg, pi, amount, full, ts));
    return txn_run(c->ddb, items, NULL, err);
}

int
record_disputed(const struct ctx *c, const char *table, const char *key_name,
                const char *record_type, const struct payment_row *pr, const char *dispute,
                const char *reason, struct app_error *err)
{
    time_t now = c->now;
    struct json_object *items = json_object_new_array(), *v, *b, *alert;
    const char *pi = json_str(pr->row, "paymentIntentId");
    char ts[32], cond[80];

    time_iso(now, ts, sizeof(ts));
    v = json_object_new_object();
    b = json_object_new_object();
    json_object_object_add(b, "BOOL", json_object_new_boolean(1));
    json_object_object_add(v, ":t", b);
    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":yes", ddb_av_s("yes"));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    snprintf(cond, sizeof(cond), "attribute_exists(%s)", key_name);
    json_object_array_add(items, txn_update(
        table, ddb_key_s(key_name, pr->record),
        "SET disputed = :t, disputeId = :d, reviewNeeded = :yes, updatedAt = :now", cond, v));
    json_object_array_add(items, payment_dispute_txn(c->cfg, pi, dispute, reason, ts));
    alert = dispute_alert_txn(c->cfg, record_type, pr->record, pr, dispute, reason, now);
    if (alert)
        json_object_array_add(items, alert);
    return txn_run(c->ddb, items, NULL, err);
}

int
record_paid(const struct ctx *c, const struct pay_event *pe, const struct record_pay *rp,
            struct app_error *err)
{
    struct json_object *items, *v;
    char ts[32], until[32], day[48], cause[96], token[TXN_TOKEN_LEN];
    struct payment_row pr;
    time_t end;
    int rc;

    rc = payment_get(c->ddb, c->cfg, pe->payment_intent, &pr, err);
    if (rc != APP_OK || pr.record) {                /* linked already: a repeat */
        payment_free(&pr);
        json_object_put(rp->vars);
        return rc;
    }
    rc = campaign_access_until(c, rp->plan_id, pe->now, &end, err);
    if (rc != APP_OK) {
        payment_free(&pr);
        json_object_put(rp->vars);
        return rc;
    }
    time_iso(pe->now, ts, sizeof(ts));
    time_iso(end, until, sizeof(until));
    items = json_object_new_array();
    v = json_object_new_object();
    json_object_object_add(v, ":from", ddb_av_s(rp->from_status));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(v, ":until", ddb_av_s(until));
    json_object_object_add(v, ":pi", ddb_av_s(pe->payment_intent));
    if (pr.refunded_full) {                         /* refunded before we heard it paid */
        json_object_object_add(v, ":st", ddb_av_s("refunded"));
        json_object_array_add(items, txn_update(
            rp->table, ddb_key_s(rp->key_name, rp->id),
            "SET #st = :st, paidAt = :now, refundedAt = :now, stripePaymentIntentId = :pi, "
            "updatedAt = :now", "#st = :from", v));
        json_object_put(rp->vars);
    } else {
        json_object_object_add(v, ":st", ddb_av_s(rp->to_status));
        if (pr.dispute)             /* a dispute was opened before we heard it paid */
            json_object_object_add(v, ":d", ddb_av_s(pr.dispute));
        json_object_array_add(items, txn_update(
            rp->table, ddb_key_s(rp->key_name, rp->id),
            pr.dispute ? "SET #st = :st, paidAt = :now, accessFrom = :now, accessUntil = "
            ":until, stripePaymentIntentId = :pi, updatedAt = :now, disputeId = :d, "
            "reviewNeeded = :d" :
            "SET #st = :st, paidAt = :now, accessFrom = :now, accessUntil = :until, "
            "stripePaymentIntentId = :pi, updatedAt = :now", "#st = :from", v));
        json_object_array_add(items, grant_put_txn(c->cfg, rp->email, rp->id, rp->plan_id,
                                                   ts, until, rp->campaign));
        fmt_date(pe->now, day, sizeof(day));
        json_object_object_add(rp->vars, "accessFrom", json_object_new_string(day));
        fmt_date(end, day, sizeof(day));
        json_object_object_add(rp->vars, "accessUntil", json_object_new_string(day));
        snprintf(cause, sizeof(cause), "%s#paid", rp->id);
        json_object_array_add(items, outbox_txn_mail(c->cfg, cause, rp->tmpl, rp->email, rp->name,
                                                     rp->vars, pe->now));
    }
    json_object_array_add(items, payment_link_txn(c->cfg, pe->payment_intent, &pr,
                                                  rp->campaign, rp->id, rp->email,
                                                  pe->amount, pe->currency, ts));
    txn_token(token, rp->id, pe->payment_intent, rp->attempt);
    rc = txn_run(c->ddb, items, token, err);
    payment_free(&pr);
    return rc;
}

int
record_declined(const struct ctx *c, const struct pay_event *pe, struct json_object *rec,
                const char *payable_status, const char *plan_name_key,
                struct app_error *err)
{
    struct json_object *vars, *items, *v;
    char cause[96], amount[48];
    int rc;

    if (!pe->payment_intent || !json_str(rec, "status") || !json_str(rec, "email") ||
        strcmp(json_str(rec, "status"), payable_status) != 0)
        return APP_OK;                            /* paid meanwhile, or over */
    vars = json_object_new_object();
    json_object_object_add(vars, "customerName", json_object_new_string(
        json_str(rec, "firstName") ? json_str(rec, "firstName") : ""));
    json_object_object_add(vars, "planName", json_object_new_string(
        json_str(rec, plan_name_key) ? json_str(rec, plan_name_key) : ""));
    fmt_money(json_object_object_get_ex(rec, "priceCents", &v) ? json_object_get_int64(v) : 0,
              "aud", amount, sizeof(amount));
    json_object_object_add(vars, "amount", json_object_new_string(amount));
    json_object_object_add(vars, "reason", json_object_new_string(pe->reason ? pe->reason :
                                                                  ""));
    json_object_object_add(vars, "retryUrl", json_object_new_string(
        json_str(rec, "sessionUrl") ? json_str(rec, "sessionUrl") : c->cfg->frontend_url));
    snprintf(cause, sizeof(cause), "%s#declined", pe->payment_intent);
    items = json_object_new_array();
    json_object_array_add(items, outbox_txn_mail(c->cfg, cause, "payment-failed",
                                                 json_str(rec, "email"), json_str(rec, "firstName"),
                                                 vars, pe->now));
    /* Counted as any email a request without a payment causes (lib/mail_limit.h). */
    json_object_array_add(items, mail_limit_txn(c, json_str(rec, "email")));
    rc = txn_run(c->ddb, items, NULL, err);
    /* Queued already for this payment, or the address has had its emails of the day. */
    return rc == APP_ECONDITION ? APP_OK : rc;
}


/* --- the one-record engine ---------------------------------------------------------------- */

static int
one_paid(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
         int attempt, struct app_error *err)
{
    struct json_object *rec = NULL, *vars;
    struct record_pay rp;
    const char *st, *pi, *why;
    int rc;

    if (!pe->payment_intent)
        return APP_OK;
    rc = campaign_load(k, c, json_str(pe->meta, k->key_name), &rec, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    st = json_str(rec, "status");
    pi = json_str(rec, "stripePaymentIntentId");
    if (pi && strcmp(pi, pe->payment_intent) == 0) {
        json_object_put(rec);
        return APP_OK;                                /* paid already: a repeat */
    }
    /* Paid by another payment, no longer payable, or not our price: that one goes back. */
    why = !st || !json_str(rec, "email") ? NULL :
          strcmp(st, k->payable_status) != 0 ? (pi ? "paid twice" : "not payable any more") :
          !campaign_paid_matches(pe, json_int(rec, "priceCents"), json_str(rec, "currency")) ?
          "amount mismatch" : NULL;
    if (why || !st || !json_str(rec, "email") || strcmp(st, k->payable_status) != 0) {
        rc = why ? campaign_record_unwanted(k, c, pe, rec, why, err) : APP_OK;
        json_object_put(rec);
        return rc;
    }
    vars = json_object_new_object();
    k->paid_vars(c, rec, pe, vars);
    memset(&rp, 0, sizeof(rp));
    rp.table = campaign_table(k, c->cfg);
    rp.key_name = k->key_name;
    rp.id = json_str(rec, k->key_name);
    rp.from_status = k->payable_status;
    rp.to_status = k->paid_status;
    rp.email = json_str(rec, "email");
    rp.name = json_str(rec, "firstName");
    rp.plan_id = json_str(rec, k->product_key);
    rp.campaign = k->id;
    rp.tmpl = k->paid_template;
    rp.vars = vars;
    rp.attempt = attempt;
    rc = record_paid(c, pe, &rp, err);
    json_object_put(rec);
    return rc;
}

/* A pay-link campaign's session ended unpaid: nothing to do, the link makes a new one. */
int
record_unpaid_op(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
                 const char *status, struct app_error *err)
{
    (void)k;
    (void)c;
    (void)pe;
    (void)status;
    (void)err;
    return APP_OK;    /* the session ended unpaid: the pay link makes a new one */
}

static int
one_declined(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
             struct app_error *err)
{
    struct json_object *rec = NULL;
    int rc;

    rc = campaign_load(k, c, json_str(pe->meta, k->key_name), &rec, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    rc = record_declined(c, pe, rec, k->payable_status, k->product_name_key, err);
    json_object_put(rec);
    return rc;
}

int
record_refunded_op(const struct campaign *k, const struct ctx *c, const struct payment_row *pr,
                   long long amount, int full, struct app_error *err)
{
    return record_refunded(c, campaign_table(k, c->cfg), k->key_name, k->paid_status, pr,
                           amount, full, err);
}

int
record_disputed_op(const struct campaign *k, const struct ctx *c, const struct payment_row *pr,
                   const char *dispute, const char *reason, struct app_error *err)
{
    return record_disputed(c, campaign_table(k, c->cfg), k->key_name, k->record_type, pr,
                           dispute, reason, err);
}

void
record_view(const struct campaign *k, struct json_object *rec, struct json_object *meta,
            struct campaign_view *out)
{
    const char *price = k->price_key ? k->price_key : "priceCents";

    (void)meta;
    out->status = json_str(rec, "status");
    out->amount = json_object_object_get_ex(rec, price, NULL) ? json_int(rec, price) : -1;
    out->currency = json_str(rec, "currency");
    out->session = json_str(rec, k->session_key ? k->session_key : "sessionId");
}

const struct campaign_ops one_record_ops = {
    one_paid, record_unpaid_op, one_declined, record_refunded_op, record_disputed_op,
    record_undisputed_op, record_view,
};


/* --- creating a one-record campaign's record (record.h) ------------------------------------ */

void
record_made_init(struct record_made *out, const struct ctx *c, const char *path,
                 const char *id)
{
    char token[40];

    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->pay_url, sizeof(out->pay_url), "%s/%s/%s/pay", c->cfg->api_base_url, path,
             id);
    if (id_new(token, sizeof(token), "") != 0)
        return;                    /* no view_hash: record_create refuses */
    token_hash(token, out->view_hash);
    snprintf(out->view_url, sizeof(out->view_url), "%s/%s/%s?token=%s", c->cfg->api_base_url,
             path, id, token);
}

static void
copy_fields(struct json_object *to, struct json_object *from, const char *const *fields)
{
    struct json_object *v;
    size_t i;

    for (i = 0; fields[i]; i++)
        if (json_object_object_get_ex(from, fields[i], &v))
            json_object_object_add(to, fields[i], json_object_get(v));
}

struct json_object *
record_view_json(struct json_object *rec, const char *token, const char *const *public_fields,
                 const char *const *owner_fields, int *owner)
{
    struct json_object *d = json_object_new_object();

    *owner = token_ok(token, json_str(rec, "viewTokenHash"));
    copy_fields(d, rec, public_fields);
    if (*owner)
        copy_fields(d, rec, owner_fields);
    json_add_str(d, "viewer", *owner ? "owner" : "public");
    return d;
}

struct json_object *
record_new(const struct campaign *k, const struct record_made *made, const char *email,
           const char *first, const char *last, const char *now)
{
    struct json_object *o = json_object_new_object();

    json_add_str(o, k->key_name, made->id);
    json_add_str(o, "campaignId", k->id);
    json_add_str(o, "email", email);
    json_add_str(o, "firstName", first);
    if (last)
        json_add_str(o, "lastName", last);
    json_add_str(o, "viewTokenHash", made->view_hash);
    json_add_str(o, "status", k->payable_status);
    json_add_str(o, "createdAt", now);
    json_add_str(o, "updatedAt", now);
    return o;
}

int
record_paylink(const struct campaign *k, const struct ctx *c, struct json_object *rec,
               const char *page, const char *paid_msg, struct record_link *out,
               struct app_error *err)
{
    const char *id = json_str(rec, k->key_name), *st = json_str(rec, "status");

    memset(out, 0, sizeof(*out));
    if (!st || strcmp(st, k->payable_status) != 0)
        return app_error_set(err, APP_ECONFLICT, "%s", paid_msg);
    snprintf(out->ok, sizeof(out->ok), "%s/%s/%s?paid=1", c->cfg->frontend_url, page, id);
    snprintf(out->cancel, sizeof(out->cancel), "%s/%s/%s", c->cfg->frontend_url, page, id);
    out->pl.table = campaign_table(k, c->cfg);
    out->pl.key_name = k->key_name;
    out->pl.key = id;
    out->pl.path = "";
    out->pl.holder = rec;
    out->pl.unpaid_status = k->payable_status;
    out->pl.amount_cents = json_int(rec, "priceCents");
    out->pl.email = json_str(rec, "email");
    out->pl.campaign = k->id;
    out->pl.meta_keys[0] = k->key_name;
    out->pl.meta_vals[0] = id;
    out->pl.success_url = out->ok;
    out->pl.cancel_url = out->cancel;
    return APP_OK;
}

int
record_create(const struct campaign *k, const struct ctx *c, struct json_object *rec,
               record_link_fn link_fn, struct json_object *metadata, struct json_object *also,
               struct record_made *made, struct app_error *err)
{
    struct json_object *items = NULL, *av;
    struct paylink_out *out = &made->session;
    struct record_link link;
    char cond[80];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!made->view_hash[0]) {
        rc = app_error_set(err, APP_EINTERNAL, "no random bytes for a view token");
        goto done;
    }
    rc = link_fn(c, rec, &link, err);
    if (rc != APP_OK)
        goto done;
    link.pl.extra_meta = metadata;
    snprintf(cond, sizeof(cond), "attribute_not_exists(%s)", k->key_name);
    items = json_object_new_array();
    av = ddb_marshal_item(rec);
    json_object_object_add(av, "ttl", ddb_av_n(retention_records_ttl(c->cfg, c->now)));
    json_object_array_add(items, txn_put(campaign_table(k, c->cfg), av, cond));
    if (also)
        json_object_array_add(items, also);
    also = NULL;
    rc = txn_run(c->ddb, items, NULL, err);
    if (rc != APP_OK)
        goto done;
    /* The record exists whatever Checkout says now: without a session the answer still
     * carries the pay link, which makes one when opened. */
    if (paylink_session(c, &link.pl, out, err) != APP_OK) {
        ctx_log(c, LL_WARN, "%s %s: no checkout yet: %s", k->record_type, link.pl.key,
                err->msg);
        app_error_clear(err);
        memset(out, 0, sizeof(*out));
    }

done:
    json_object_put(also);
    json_object_put(rec);
    return rc;
}
