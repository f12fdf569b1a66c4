/*
 * Payments a record does not need (docs/PAYMENTS.md, "Payments we do not keep"): a second
 * payment of a record already paid, an amount or currency other than the record's price, a
 * payment for a record no longer payable.  None is fulfilled: the payment gets a payments row
 * marked extra (so a later refund or dispute finds it and never touches the record's own
 * access), the record is flagged for review, operations are told, and the payment is
 * refunded in full at Stripe (an idempotency key per PaymentIntent, so a retried event asks
 * once).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/outbox.h"
#include "../lib/stripe.h"
#include "../lib/txn.h"
#include "campaign.h"

int
campaign_paid_matches(const struct pay_event *pe, long long cents, const char *currency)
{
    return pe->amount == cents && cents > 0 && pe->currency && currency &&
           strcasecmp(pe->currency, currency) == 0;
}

int
campaign_refund(const struct ctx *c, const char *pi, const char *why, struct app_error *err)
{
    struct stripe_params *sp = stripe_params_new();
    struct json_object *out = NULL;
    char key[96];
    int rc;

    stripe_params_add(sp, "payment_intent", pi);
    stripe_params_add(sp, "reason", "requested_by_customer");
    stripe_params_add(sp, "metadata[why]", why);
    snprintf(key, sizeof(key), "refund-%s", pi);
    rc = stripe_post(c->stripe, "/v1/refunds", sp, key, &out, err);
    stripe_params_free(sp);
    if (out)
        json_object_put(out);
    ctx_log(c, rc == APP_OK ? LL_WARN : LL_ERROR, "refund of %s (%s): %s", pi, why,
            rc == APP_OK ? "requested" : err->msg);
    return rc;
}

/* The payments row of an extra payment: linked to the record, marked extra. */
static struct json_object *
extra_row_txn(const struct cfg *cfg, const struct pay_event *pe, const char *campaign,
              const char *record, const char *email, const char *why, const char *now)
{
    struct json_object *v = json_object_new_object(), *b = json_object_new_object();

    json_object_object_add(v, ":c", ddb_av_s(campaign));
    json_object_object_add(v, ":r", ddb_av_s(record));
    json_object_object_add(v, ":e", ddb_av_s(email ? email : ""));
    json_object_object_add(v, ":a", ddb_av_n(pe->amount));
    json_object_object_add(v, ":cur", ddb_av_s(pe->currency ? pe->currency : ""));
    json_object_object_add(v, ":why", ddb_av_s(why));
    json_object_object_add(v, ":now", ddb_av_s(now));
    json_object_object_add(b, "BOOL", json_object_new_boolean(1));
    json_object_object_add(v, ":x", b);
    return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pe->payment_intent),
                      "SET campaignId = :c, recordId = :r, email = :e, amountCents = :a, "
                      "currency = :cur, paidAt = :now, extraPayment = :x, extraReason = :why, "
                      "updatedAt = :now", "attribute_not_exists(recordId)", v);
}

static struct json_object *
alert_txn(const struct ctx *c, const struct campaign *k, const struct pay_event *pe,
          const char *record, long long expected, const char *why)
{
    struct json_object *vars;
    char amount[48], want[48], cause[160], url[200];

    if (!*c->cfg->ops_email)
        return NULL;
    fmt_money(pe->amount, pe->currency ? pe->currency : "aud", amount, sizeof(amount));
    vars = json_object_new_object();
    json_add_str(vars, "recordType", k->record_type);
    json_add_str(vars, "recordId", record);
    json_add_str(vars, "amount", amount);
    if (expected > 0) {
        fmt_money(expected, "aud", want, sizeof(want));
        json_add_str(vars, "expected", want);
    }
    json_add_str(vars, "reason", why);
    json_add_str(vars, "paymentIntentId", pe->payment_intent);
    snprintf(url, sizeof(url), "https://dashboard.stripe.com/payments/%s", pe->payment_intent);
    json_add_str(vars, "dashboardUrl", url);
    snprintf(cause, sizeof(cause), "%s#extra", pe->payment_intent);
    return outbox_txn_mail(c->cfg, cause, "payment-alert", c->cfg->ops_email, NULL, vars,
                           c->now);
}

int
campaign_payment_unwanted(const struct campaign *k, const struct ctx *c,
                          const struct pay_event *pe, const struct extra_payment *x,
                          struct app_error *err)
{
    struct json_object *items, *v, *alert, *pis;
    struct payment_row pr;
    char ts[32], upd[300], cond[160];
    int rc;

    rc = payment_get(c->ddb, c->cfg, pe->payment_intent, &pr, err);
    if (rc != APP_OK)
        return rc;
    if (!pr.record) {                   /* recorded once; the refund is asked every time */
        time_iso(c->now, ts, sizeof(ts));
        items = json_object_new_array();
        json_object_array_add(items, extra_row_txn(c->cfg, pe, k->id, x->record, x->email,
                                                   x->why, ts));
        v = json_object_new_object();
        pis = json_object_new_array();
        json_object_array_add(pis, json_object_new_string(pe->payment_intent));
        json_object_object_add(v, ":pis", ddb_marshal(pis));
        json_object_put(pis);
        pis = json_object_new_array();
        json_object_object_add(v, ":none", ddb_marshal(pis));
        json_object_put(pis);
        json_object_object_add(v, ":yes", ddb_av_s("yes"));
        json_object_object_add(v, ":now", ddb_av_s(ts));
        snprintf(upd, sizeof(upd), "SET %sextraPayments = list_append(if_not_exists("
                 "%sextraPayments, :none), :pis), reviewNeeded = :yes, updatedAt = :now",
                 x->path, x->path);
        snprintf(cond, sizeof(cond), "attribute_exists(%s)", x->key_name);
        json_object_array_add(items, txn_update(x->table, ddb_key_s(x->key_name, x->key), upd,
                                                cond, v));
        alert = alert_txn(c, k, pe, x->record, x->expected, x->why);
        if (alert)
            json_object_array_add(items, alert);
        rc = txn_run(c->ddb, items, NULL, err);
    }
    if (pr.record && !pr.extra) {
        /* Linked as a record's own payment (a concurrent delivery fulfilled it): kept. */
        ctx_log(c, LL_WARN, "payment %s pays %s: not refunded as %s", pe->payment_intent,
                pr.record, x->why);
        payment_free(&pr);
        return APP_OK;
    }
    payment_free(&pr);
    if (rc == APP_ECONDITION)
        return rc;                      /* linked meanwhile: the webhook looks again */
    return rc == APP_OK ? campaign_refund(c, pe->payment_intent, x->why, err) : rc;
}

int
campaign_record_unwanted(const struct campaign *k, const struct ctx *c,
                         const struct pay_event *pe, struct json_object *rec, const char *why,
                         struct app_error *err)
{
    struct extra_payment x = {
        .table = campaign_table(k, c->cfg), .key_name = k->key_name,
        .key = json_str(rec, k->key_name), .path = "", .record = json_str(rec, k->key_name),
        .email = json_str(rec, "email"),
        .expected = json_int(rec, k->price_key ? k->price_key : "priceCents"), .why = why,
    };

    return campaign_payment_unwanted(k, c, pe, &x, err);
}
