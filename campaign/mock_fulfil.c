/*
 * Fulfilment of premium mock-exam seats (campaignId "mock-exam", metadata registrationId):
 * pending → confirmed with the registration email (and its .ics), access to the premium
 * product until 30 days after the exam, and the payment's row; a checkout that ends unpaid
 * gives the seat back; declines, refunds and disputes as every one-record campaign.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/txn.h"
#include "campaign.h"
#include "mock.h"

#define ACCESS_AFTER_EXAM_S (30 * 86400)

static int
load(const struct ctx *c, const struct pay_event *pe, struct json_object **reg,
     struct json_object **exam, struct app_error *err)
{
    int rc;

    *exam = NULL;
    rc = mock_registration_load(c->ddb, c->cfg,
                                json_str(pe->meta, "registrationId"), reg, err);
    if (rc != APP_OK)
        return rc;
    rc = mock_exam_load(c->ddb, c->cfg, json_str(*reg, "mockExamId"), exam,
                        err);
    if (rc != APP_OK) {
        json_object_put(*reg);
        *reg = NULL;
    }
    return rc;
}

static int
paid(const struct campaign *k, const struct ctx *c, const struct pay_event *pe, int attempt,
     struct app_error *err)
{
    struct json_object *reg = NULL, *exam = NULL, *items, *v, *w;
    const char *rid, *st;
    char ts[32], until[32], amount[48], token[TXN_TOKEN_LEN];
    struct payment_row pr;
    time_t end;
    int rc;

    if (!pe->payment_intent)
        return APP_OK;
    rc = load(c, pe, &reg, &exam, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    rid = json_str(reg, "registrationId");
    st = json_str(reg, "status");
    rc = payment_get(c->ddb, c->cfg, pe->payment_intent, &pr, err);
    if (rc != APP_OK || pr.record || !st || strcmp(st, "pending") != 0 ||
        !json_str(reg, "email")) {
        if (rc == APP_OK && !pr.record && st && strcmp(st, "released") == 0)
            ctx_log(c, LL_ERROR, "seat %s was released when its payment arrived; it needs "
                    "a person (seat or refund)", rid);
        payment_free(&pr);
        json_object_put(reg);
        json_object_put(exam);
        return rc;
    }
    time_iso(pe->now, ts, sizeof(ts));
    end = time_parse_iso(json_str(exam, "examDate"));
    if (end <= 0)
        end = pe->now;
    time_iso(end + ACCESS_AFTER_EXAM_S, until, sizeof(until));
    items = json_object_new_array();
    v = json_object_new_object();
    json_object_object_add(v, ":pending", ddb_av_s("pending"));
    json_object_object_add(v, ":confirmed", ddb_av_s("confirmed"));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(v, ":pi", ddb_av_s(pe->payment_intent));
    json_object_array_add(items, txn_update(
        c->cfg->tbl_mock_registrations, ddb_key_s("registrationId", rid),
        "SET #st = :confirmed, paidAt = :now, stripePaymentIntentId = :pi, updatedAt = :now",
        "#st = :pending", v));
    if (!pr.refunded_full) {
        json_object_array_add(items, grant_put_txn(c->cfg, json_str(reg, "email"), rid,
                                                   "mock-exam-premium", ts, until,
                                                   k->id));
        fmt_money(pe->amount, "aud", amount, sizeof(amount));
        json_object_object_add(reg, "status", json_object_new_string("confirmed"));
        w = mock_sitting_mail(c->cfg, "mock-registration", exam, reg, amount, pe->now);
        if (w)
            json_object_array_add(items, w);
    }
    json_object_array_add(items, payment_link_txn(c->cfg, pe->payment_intent, &pr,
                                                  k->id, rid, json_str(reg, "email"),
                                                  pe->amount, pe->currency, ts));
    txn_token(token, rid, pe->payment_intent, attempt);
    rc = txn_run(c->ddb, items, token, err);
    payment_free(&pr);
    json_object_put(reg);
    json_object_put(exam);
    return rc;
}

/* The checkout ended unpaid: the seat goes back to the exam, in one transaction. */
static int
unpaid(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
       const char *status, struct app_error *err)
{
    struct json_object *reg = NULL;
    int rc;

    (void)k;
    rc = mock_registration_load(c->ddb, c->cfg,
                                json_str(pe->meta, "registrationId"), &reg, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    if (!json_str(reg, "status") || strcmp(json_str(reg, "status"), "pending") != 0) {
        json_object_put(reg);
        return APP_OK;
    }
    /* A session replaced by a newer one (the pay link expires the old one first) keeps the
     * seat: only the registration's current session ending unpaid gives it back. */
    if (pe->session && json_str(reg, "sessionId") &&
        strcmp(pe->session, json_str(reg, "sessionId")) != 0) {
        json_object_put(reg);
        return APP_OK;
    }
    rc = mock_seat_release(c, json_str(reg, "mockExamId"), json_str(reg, "registrationId"),
                           err);
    if (rc == APP_OK)
        ctx_log(c, LL_INFO, "seat %s released (checkout %s)", json_str(reg, "registrationId"),
                status);
    json_object_put(reg);
    return rc;
}

static int
declined(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
         struct app_error *err)
{
    struct json_object *reg = NULL;
    int rc;

    rc = mock_registration_load(c->ddb, c->cfg,
                                json_str(pe->meta, "registrationId"), &reg, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    (void)k;
    rc = record_declined(c, pe, reg, "pending", "planName", err);
    json_object_put(reg);
    return rc;
}

const struct campaign_ops mock_ops = {
    paid, unpaid, declined, record_refunded_op, record_disputed_op, record_undisputed_op,
    record_view,
};
