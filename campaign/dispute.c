/*
 * How a dispute ends (docs/PAYMENTS.md, Disputes).  Opened (charge.dispute.created): the
 * record is flagged for review and operations are told; access stays, as the dispute may be
 * won.  Funds withdrawn or reinstated: noted on the payment's row.  Closed lost: the
 * payment's access is revoked exactly as a full refund revokes it (the campaign's refunded
 * op), and the row says lost.  Closed won (or an inquiry closed): the record's flag is
 * cleared (the campaign's undisputed op).  A dispute event that arrives before the payment
 * it names is noted on the payment's row, and the payment applies it when it lands: a lost
 * dispute counts as a full refund then.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/txn.h"
#include "campaign.h"

/* The payment's row: the dispute's outcome, once (the condition makes a repeat a no-op). */
static struct json_object *
outcome_txn(const struct cfg *cfg, const char *pi, const char *dispute, const char *status,
            int lost, long long amount, int linked, const char *now)
{
    struct json_object *v = json_object_new_object(), *b;
    /* Unlinked: the payment must still be unlinked, or its record is missed (run again). */
    const char *cond = linked ? "attribute_not_exists(disputeStatus)" :
                       "attribute_not_exists(disputeStatus) AND attribute_not_exists(recordId)";

    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":st", ddb_av_s(status));
    json_object_object_add(v, ":now", ddb_av_s(now));
    if (!lost)
        return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                          "SET disputeId = :d, disputeStatus = :st, disputeClosedAt = :now, "
                          "updatedAt = :now", cond, v);
    /* Lost: the money is gone as by a refund, so a payment heard of later grants nothing. */
    json_object_object_add(v, ":r", ddb_av_n(amount));
    b = json_object_new_object();
    json_object_object_add(b, "BOOL", json_object_new_boolean(1));
    json_object_object_add(v, ":full", b);
    return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                      "SET disputeId = :d, disputeStatus = :st, disputeClosedAt = :now, "
                      "amountRefundedCents = :r, refundedFull = :full, updatedAt = :now",
                      cond, v);
}

int
campaign_dispute_closed(const struct ctx *c, const char *pi, const char *dispute,
                        const char *status, long long amount, struct app_error *err)
{
    const struct campaign *k;
    struct payment_row pr;
    struct json_object *items;
    int lost = strcmp(status, "lost") == 0, rc;
    char ts[32];

    rc = payment_get(c->ddb, c->cfg, pi, &pr, err);
    if (rc != APP_OK)
        return rc;
    if (pr.row && json_str(pr.row, "disputeStatus")) {
        payment_free(&pr);
        return APP_OK;                              /* closed before: a repeat */
    }
    ctx_log(c, lost ? LL_WARN : LL_INFO, "dispute %s on %s closed: %s", dispute, pi, status);
    /* An extra payment was refunded by us: its record's access is not its to take. */
    k = pr.record && !pr.extra ? campaign_find(pr.campaign) : NULL;
    rc = APP_OK;
    /* The record first, the row last: a failure in between is retried whole. */
    if (k && lost && !pr.refunded_full)
        rc = k->ops->refunded(k, c, &pr, amount > pr.refunded ? amount : pr.refunded, 1, err);
    else if (k && !lost)
        rc = k->ops->undisputed(k, c, &pr, dispute, status, err);
    if (rc == APP_OK) {
        time_iso(c->now, ts, sizeof(ts));
        items = json_object_new_array();
        json_object_array_add(items, outcome_txn(c->cfg, pi, dispute, status, lost,
                                                 amount > pr.refunded ? amount : pr.refunded,
                                                 !!pr.record, ts));
        rc = txn_run(c->ddb, items, NULL, err);
    }
    payment_free(&pr);
    return rc;
}

int
campaign_dispute_funds(const struct ctx *c, const char *pi, const char *dispute, long long net,
                       struct app_error *err)
{
    struct json_object *items = json_object_new_array(), *v = json_object_new_object();
    char ts[32];

    time_iso(c->now, ts, sizeof(ts));
    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":n", ddb_av_n(net));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_array_add(items, txn_update(c->cfg->tbl_payments,
                                            ddb_key_s("paymentIntentId", pi),
                                            "SET disputeFundsCents = :n, updatedAt = :now",
                                            "attribute_not_exists(disputeId) OR "
                                            "disputeId = :d", v));
    return txn_run(c->ddb, items, NULL, err);
}

int
record_undisputed_op(const struct campaign *k, const struct ctx *c,
                     const struct payment_row *pr, const char *dispute, const char *status,
                     struct app_error *err)
{
    struct json_object *items = json_object_new_array(), *v = json_object_new_object(), *b;
    char ts[32], cond[80];

    time_iso(c->now, ts, sizeof(ts));
    json_object_object_add(v, ":st", ddb_av_s(status));
    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(v, ":no", ddb_av_s("no"));
    b = json_object_new_object();
    json_object_object_add(b, "BOOL", json_object_new_boolean(0));
    json_object_object_add(v, ":f", b);
    snprintf(cond, sizeof(cond), "attribute_exists(%s)", k->key_name);
    json_object_array_add(items, txn_update(
        campaign_table(k, c->cfg), ddb_key_s(k->key_name, pr->record),
        "SET disputeStatus = :st, disputeId = :d, disputed = :f, reviewNeeded = :no, "
        "updatedAt = :now", cond, v));
    return txn_run(c->ddb, items, NULL, err);
}
