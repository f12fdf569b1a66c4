/*
 * Building blocks shared by the campaigns' fulfilment (see fulfil.h): transaction elements,
 * the payments table (PaymentIntent → record, refunds, disputes) and access grants.
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
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "fulfil.h"
#include "lookup.h"

/* The placeholders our expressions use for reserved words: #st, #ttl, #cap. */
static void
add_names(struct json_object *o, const char *a, const char *b)
{
    static const char *const words[][2] = {
        { "#st", "status" }, { "#ttl", "ttl" }, { "#cap", "capacity" },
    };
    struct json_object *names = NULL;
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!(a && strstr(a, words[i][0])) && !(b && strstr(b, words[i][0])))
            continue;              /* DynamoDB refuses names an expression does not use */
        if (!names)
            names = json_object_new_object();
        json_object_object_add(names, words[i][0], json_object_new_string(words[i][1]));
    }
    if (names)
        json_object_object_add(o, "ExpressionAttributeNames", names);
}

struct json_object *
txn_update(const char *table, struct json_object *key, const char *update,
           const char *condition, struct json_object *vals)
{
    struct json_object *u = json_object_new_object(), *w = json_object_new_object();

    json_object_object_add(u, "TableName", json_object_new_string(table));
    json_object_object_add(u, "Key", key);
    json_object_object_add(u, "UpdateExpression", json_object_new_string(update));
    if (condition)
        json_object_object_add(u, "ConditionExpression", json_object_new_string(condition));
    add_names(u, update, condition);
    if (vals)
        json_object_object_add(u, "ExpressionAttributeValues", vals);
    json_object_object_add(w, "Update", u);
    return w;
}

struct json_object *
txn_put(const char *table, struct json_object *item, const char *condition)
{
    struct json_object *u = json_object_new_object(), *w = json_object_new_object();

    json_object_object_add(u, "TableName", json_object_new_string(table));
    json_object_object_add(u, "Item", item);
    if (condition)
        json_object_object_add(u, "ConditionExpression", json_object_new_string(condition));
    add_names(u, condition, NULL);
    json_object_object_add(w, "Put", u);
    return w;
}

int
txn_run(struct request *req, struct json_object *items, const char *token)
{
    int rc = ddb_transact_write(req->worker->ddb, items, token, &req->err);

    json_object_put(items);
    if (rc == APP_ECONDITION)
        app_error_clear(&req->err);
    return rc;
}

int
payment_get(struct request *req, const char *pi, struct payment_row *p)
{
    struct json_object *k, *item = NULL, *v;
    int rc;

    memset(p, 0, sizeof(*p));
    if (!pi || !*pi)
        return APP_OK;
    k = ddb_key_s("paymentIntentId", pi);
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_payments, k, 1, &item, &req->err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(&req->err);
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    p->row = ddb_unmarshal_item(item);
    json_object_put(item);
    if (!p->row)
        return app_error_set(&req->err, APP_EINTERNAL, "payment %s malformed", pi);
    p->campaign = json_str(p->row, "campaignId");
    p->record = json_str(p->row, "recordId");
    p->dispute = json_str(p->row, "disputeId");
    if (json_object_object_get_ex(p->row, "amountRefundedCents", &v))
        p->refunded = json_object_get_int64(v);
    if (json_object_object_get_ex(p->row, "refundedFull", &v))
        p->refunded_full = json_object_get_boolean(v);
    return APP_OK;
}

void
payment_free(struct payment_row *p)
{
    if (p->row)
        json_object_put(p->row);
    memset(p, 0, sizeof(*p));
}

struct json_object *
payment_link_txn(const struct cfg *cfg, const char *pi, const struct payment_row *early,
                 const char *campaign, const char *record, const char *email,
                 long long amount, const char *currency, const char *now)
{
    struct json_object *v = json_object_new_object(), *item;

    if (early && early->row) {
        json_object_object_add(v, ":c", ddb_av_s(campaign));
        json_object_object_add(v, ":r", ddb_av_s(record));
        json_object_object_add(v, ":e", ddb_av_s(email));
        json_object_object_add(v, ":a", ddb_av_n(amount));
        json_object_object_add(v, ":cur", ddb_av_s(currency ? currency : ""));
        json_object_object_add(v, ":now", ddb_av_s(now));
        return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                          "SET campaignId = :c, recordId = :r, email = :e, amountCents = :a, "
                          "currency = :cur, paidAt = :now, updatedAt = :now",
                          "attribute_not_exists(recordId)", v);
    }
    json_object_put(v);
    item = json_object_new_object();
    json_object_object_add(item, "paymentIntentId", ddb_av_s(pi));
    json_object_object_add(item, "campaignId", ddb_av_s(campaign));
    json_object_object_add(item, "recordId", ddb_av_s(record));
    json_object_object_add(item, "email", ddb_av_s(email));
    json_object_object_add(item, "amountCents", ddb_av_n(amount));
    json_object_object_add(item, "currency", ddb_av_s(currency ? currency : ""));
    json_object_object_add(item, "paidAt", ddb_av_s(now));
    json_object_object_add(item, "updatedAt", ddb_av_s(now));
    return txn_put(cfg->tbl_payments, item, "attribute_not_exists(paymentIntentId)");
}

struct json_object *
payment_refund_txn(const struct cfg *cfg, const char *pi, long long refunded, int full,
                   const char *now)
{
    struct json_object *v = json_object_new_object(), *b = json_object_new_object();

    json_object_object_add(v, ":r", ddb_av_n(refunded));
    json_object_object_add(b, "BOOL", json_object_new_boolean(full));
    json_object_object_add(v, ":full", b);
    json_object_object_add(v, ":now", ddb_av_s(now));
    return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                      "SET amountRefundedCents = :r, refundedFull = :full, updatedAt = :now",
                      "attribute_not_exists(amountRefundedCents) OR amountRefundedCents < :r",
                      v);
}

struct json_object *
payment_dispute_txn(const struct cfg *cfg, const char *pi, const char *dispute,
                    const char *reason, const char *now)
{
    struct json_object *v = json_object_new_object();

    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":why", ddb_av_s(reason ? reason : ""));
    json_object_object_add(v, ":now", ddb_av_s(now));
    return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                      "SET disputeId = :d, disputeReason = :why, updatedAt = :now",
                      "attribute_not_exists(disputeId)", v);
}

struct json_object *
grant_put_txn(const struct cfg *cfg, const char *email, const char *grant, const char *product,
              const char *from, const char *until, const char *source)
{
    struct json_object *g = json_object_new_object();

    json_object_object_add(g, "email", ddb_av_s(email));
    json_object_object_add(g, "grantId", ddb_av_s(grant));
    json_object_object_add(g, "productId", ddb_av_s(product));
    json_object_object_add(g, "validFrom", ddb_av_s(from));
    json_object_object_add(g, "validUntil", ddb_av_s(until));
    json_object_object_add(g, "source", ddb_av_s(source));
    json_object_object_add(g, "status", ddb_av_s("active"));
    return txn_put(cfg->tbl_access_grants, g, NULL);
}

struct json_object *
grant_revoke_txn(const struct cfg *cfg, const char *email, const char *grant,
                 const char *reason, const char *now)
{
    struct json_object *k = json_object_new_object(), *v = json_object_new_object();

    json_object_object_add(k, "email", ddb_av_s(email));
    json_object_object_add(k, "grantId", ddb_av_s(grant));
    json_object_object_add(v, ":revoked", ddb_av_s("revoked"));
    json_object_object_add(v, ":why", ddb_av_s(reason));
    json_object_object_add(v, ":now", ddb_av_s(now));
    return txn_update(cfg->tbl_access_grants, k,
                      "SET #st = :revoked, revokedAt = :now, revokeReason = :why",
                      "attribute_exists(grantId)", v);
}

struct json_object *
dispute_alert_txn(const struct cfg *cfg, const char *record_type, const char *record,
                  const struct payment_row *p, const char *dispute, const char *reason,
                  time_t now)
{
    struct json_object *vars, *v, *w;
    struct outbox_mail m;
    char amount[48] = "", cause[160], url[160];

    if (!*cfg->ops_email)
        return NULL;
    if (json_object_object_get_ex(p->row, "amountCents", &v))
        fmt_money(json_object_get_int64(v), json_str(p->row, "currency"), amount,
                  sizeof(amount));
    snprintf(url, sizeof(url), "https://dashboard.stripe.com/disputes/%s", dispute);
    vars = json_object_new_object();
    json_object_object_add(vars, "recordType", json_object_new_string(record_type));
    json_object_object_add(vars, "recordId", json_object_new_string(record));
    json_object_object_add(vars, "amount", json_object_new_string(amount));
    json_object_object_add(vars, "reason", json_object_new_string(reason ? reason : ""));
    json_object_object_add(vars, "paymentIntentId",
                           json_object_new_string(json_str(p->row, "paymentIntentId")));
    json_object_object_add(vars, "chargeId", json_object_new_string(""));
    json_object_object_add(vars, "disputeId", json_object_new_string(dispute));
    json_object_object_add(vars, "dashboardUrl", json_object_new_string(url));
    snprintf(cause, sizeof(cause), "%s#disputed", dispute);
    memset(&m, 0, sizeof(m));
    m.cause = cause;
    m.tmpl = "dispute-alert";
    m.to = cfg->ops_email;
    m.vars = vars;
    w = outbox_txn_put(cfg, &m, now);
    json_object_put(vars);
    return w;
}

time_t
plan_until(struct request *req, const char *plan_id, time_t from)
{
    struct json_object *plan = NULL, *v;
    long long months = 0;
    struct tm tm;

    if (catalogue_plan(req, plan_id, &plan) == APP_OK && plan &&
        json_object_object_get_ex(plan, "durationMonths", &v))
        months = json_object_get_int64(v);
    if (plan)
        json_object_put(plan);
    gmtime_r(&from, &tm);
    tm.tm_mon += (int)months;
    return timegm(&tm);
}

int
record_refunded(struct request *req, const char *table, const char *key_name,
                const char *paid_status, const struct payment_row *pr, long long amount,
                int full, time_t now)
{
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
            json_object_array_add(items, grant_revoke_txn(req->cfg, email, pr->record,
                                                          "refund", ts));
    } else {
        json_object_array_add(items, txn_update(
            table, ddb_key_s(key_name, pr->record),
            "SET amountRefundedCents = :r, updatedAt = :now",
            "attribute_not_exists(amountRefundedCents) OR amountRefundedCents < :r", v));
    }
    json_object_array_add(items, payment_refund_txn(req->cfg, pi, amount, full, ts));
    return txn_run(req, items, NULL);
}

int
record_disputed(struct request *req, const char *table, const char *key_name,
                const char *record_type, const struct payment_row *pr, const char *dispute,
                const char *reason, time_t now)
{
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
    json_object_array_add(items, payment_dispute_txn(req->cfg, pi, dispute, reason, ts));
    alert = dispute_alert_txn(req->cfg, record_type, pr->record, pr, dispute, reason, now);
    if (alert)
        json_object_array_add(items, alert);
    return txn_run(req, items, NULL);
}

int
record_paid(struct request *req, const struct pay_event *pe, const struct record_pay *rp)
{
    struct json_object *items, *v;
    char ts[32], until[32], day[48], cause[96], token[40];
    struct payment_row pr;
    struct outbox_mail m;
    time_t end;
    int rc;

    rc = payment_get(req, pe->payment_intent, &pr);
    if (rc != APP_OK || pr.record) {                /* linked already: a repeat */
        payment_free(&pr);
        json_object_put(rp->vars);
        return rc;
    }
    time_iso(pe->now, ts, sizeof(ts));
    end = plan_until(req, rp->plan_id, pe->now);
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
        json_object_array_add(items, grant_put_txn(req->cfg, rp->email, rp->id, rp->plan_id,
                                                   ts, until, rp->campaign));
        fmt_date(pe->now, day, sizeof(day));
        json_object_object_add(rp->vars, "accessFrom", json_object_new_string(day));
        fmt_date(end, day, sizeof(day));
        json_object_object_add(rp->vars, "accessUntil", json_object_new_string(day));
        snprintf(cause, sizeof(cause), "%s#paid", rp->id);
        memset(&m, 0, sizeof(m));
        m.cause = cause;
        m.tmpl = rp->tmpl;
        m.to = rp->email;
        m.to_name = rp->name;
        m.vars = rp->vars;
        json_object_array_add(items, outbox_txn_put(req->cfg, &m, pe->now));
        json_object_put(rp->vars);
    }
    json_object_array_add(items, payment_link_txn(req->cfg, pe->payment_intent, &pr,
                                                  rp->campaign, rp->id, rp->email,
                                                  pe->amount, pe->currency, ts));
    snprintf(token, sizeof(token), "paid-%.24s-%d", strchr(rp->id, '_') ?
             strchr(rp->id, '_') + 1 : rp->id, rp->attempt);
    rc = txn_run(req, items, token);
    payment_free(&pr);
    return rc;
}

int
record_declined(struct request *req, const struct pay_event *pe, struct json_object *rec,
                const char *payable_status, const char *plan_name_key)
{
    struct json_object *vars, *items, *v;
    struct outbox_mail m;
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
        json_str(rec, "sessionUrl") ? json_str(rec, "sessionUrl") : req->cfg->frontend_url));
    snprintf(cause, sizeof(cause), "%s#declined", pe->payment_intent);
    memset(&m, 0, sizeof(m));
    m.cause = cause;
    m.tmpl = "payment-failed";
    m.to = json_str(rec, "email");
    m.to_name = json_str(rec, "firstName");
    m.vars = vars;
    items = json_object_new_array();
    json_object_array_add(items, outbox_txn_put(req->cfg, &m, pe->now));
    json_object_put(vars);
    rc = txn_run(req, items, NULL);
    return rc == APP_ECONDITION ? APP_OK : rc;    /* queued already for this payment */
}

int
record_load(struct ddb *ddb, const char *table, const char *key_name, const char *id,
            const char *prefix, struct json_object **out, struct app_error *err)
{
    struct json_object *k, *item = NULL;
    int rc;

    *out = NULL;
    if (prefix ? !id_valid(id, prefix) : !id)
        return APP_ENOTFOUND;
    k = ddb_key_s(key_name, id);
    rc = ddb_get_item(ddb, table, k, 1, &item, err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(err);
        return APP_ENOTFOUND;
    }
    if (rc != APP_OK)
        return rc;
    *out = ddb_unmarshal_item(item);
    json_object_put(item);
    return *out ? APP_OK : app_error_set(err, APP_EINTERNAL, "%s %s malformed", table, id);
}

int
record_lookup(struct request *req, const char *table, const char *key_name, const char *prefix,
              const char *what, struct json_object **out)
{
    int rc;

    *out = NULL;
    if (!req->worker || !req->worker->ddb)
        return app_error_set(&req->err, APP_EUNAVAILABLE, "no backend clients");
    rc = record_load(req->worker->ddb, table, key_name, req_path_param(req, key_name), prefix,
                     out, &req->err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such %s", what);
    if (rc == APP_OK)
        arena_cleanup(req->arena, json_put_cb, *out);
    return rc;
}
