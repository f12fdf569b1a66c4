/*
 * Fulfilment of premium mock-exam seats (campaignId "mock-exam", metadata registrationId):
 * pending → confirmed with the registration email (and its .ics), access to the premium
 * product until 30 days after the exam, and the payment's row.  A payment for a seat released
 * meanwhile takes a seat again when the exam has one free and the address holds no other
 * seat; otherwise it is refunded, as is a payment of another amount or currency than the
 * seat's price or one the seat does not need: recorded as extra, the registration flagged
 * (campaign/extra.c), never kept.  Only the Checkout Session the registration names gives
 * its seat back when it ends unpaid.  Declines, refunds and disputes as every one-record
 * campaign.  Rules: docs/MOCK_EXAMS.md.
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

static const char *
currency(struct json_object *reg)
{
    return json_str(reg, "currency") ? json_str(reg, "currency") : "aud";
}

/*
 * The seat paid, in one transaction: the registration (as read: pending, or released when
 * the seat is taken again, then with the exam's seatsTaken below capacity and the address's
 * guard) → confirmed, with the access grant, the email and the payment's row.  A payment
 * refunded before it was heard of grants nothing, and takes no released seat again.
 */
static int
confirm(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
        int attempt, struct json_object *reg, struct json_object *exam,
        const struct payment_row *pr, struct app_error *err)
{
    const char *rid = json_str(reg, "registrationId"), *email = json_str(reg, "email");
    int again = strcmp(json_str(reg, "status"), "released") == 0;
    char ts[32], until[32], amount[48], token[TXN_TOKEN_LEN];
    struct json_object *items = json_object_new_array(), *v, *w;
    time_t end;

    time_iso(pe->now, ts, sizeof(ts));
    if (again && pr->refunded_full)
        goto link;
    end = time_parse_iso(json_str(exam, "examDate"));
    if (end <= 0)
        end = pe->now;
    time_iso(end + ACCESS_AFTER_EXAM_S, until, sizeof(until));
    v = json_object_new_object();
    json_object_object_add(v, ":from", ddb_av_s(json_str(reg, "status")));
    json_object_object_add(v, ":confirmed", ddb_av_s("confirmed"));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(v, ":pi", ddb_av_s(pe->payment_intent));
    json_object_array_add(items, txn_update(
        c->cfg->tbl_mock_registrations, ddb_key_s("registrationId", rid),
        "SET #st = :confirmed, paidAt = :now, stripePaymentIntentId = :pi, updatedAt = :now",
        "#st = :from", v));
    if (again) {
        v = json_object_new_object();
        json_object_object_add(v, ":one", ddb_av_n(1));
        json_object_object_add(v, ":scheduled", ddb_av_s("scheduled"));
        json_object_object_add(v, ":now", ddb_av_s(ts));
        json_object_array_add(items, txn_update(
            c->cfg->tbl_mock_exams, ddb_key_s("mockExamId", json_str(reg, "mockExamId")),
            "SET seatsTaken = seatsTaken + :one",
            "seatsTaken < #cap AND #st = :scheduled AND examDate > :now", v));
        json_object_array_add(items, mock_guard_put_txn(c->cfg, json_str(reg, "mockExamId"),
                                                        email, rid, ts));
    }
    if (!pr->refunded_full) {
        json_object_array_add(items, grant_put_txn(c->cfg, email, rid, "mock-exam-premium", ts,
                                                   until, k->id));
        fmt_money(pe->amount, currency(reg), amount, sizeof(amount));
        json_object_object_add(reg, "status", json_object_new_string("confirmed"));
        w = mock_sitting_mail(c->cfg, "mock-registration", "confirmed", exam, reg, amount,
                              pe->now);
        if (w)
            json_object_array_add(items, w);
    }
link:
    json_object_array_add(items, payment_link_txn(c->cfg, pe->payment_intent, pr, k->id, rid,
                                                  email, pe->amount, pe->currency, ts));
    txn_token(token, rid, pe->payment_intent, attempt);
    return mock_seats_changed(c, txn_run(c->ddb, items, token, err));
}

/* A released seat could not be taken again: *why is set when the registration is still
 * released and the payment still unlinked (the exam full or closed, or the address holding
 * another seat); otherwise something moved on and the webhook looks again. */
static int
not_taken(const struct ctx *c, const struct pay_event *pe, const char *rid, const char **why,
          struct app_error *err)
{
    struct json_object *reg = NULL;
    struct payment_row pr;
    int rc;

    rc = mock_registration_load(c->ddb, c->cfg, rid, &reg, err);
    if (rc != APP_OK)
        return rc;
    rc = payment_get(c->ddb, c->cfg, pe->payment_intent, &pr, err);
    if (rc == APP_OK && !pr.record && json_str(reg, "status") &&
        strcmp(json_str(reg, "status"), "released") == 0)
        *why = "seat released";
    else if (rc == APP_OK)
        rc = APP_ECONDITION;
    payment_free(&pr);
    json_object_put(reg);
    return rc;
}

static int
paid(const struct campaign *k, const struct ctx *c, const struct pay_event *pe, int attempt,
     struct app_error *err)
{
    struct json_object *reg = NULL, *exam = NULL;
    const char *st, *pi, *why = NULL;
    struct payment_row pr;
    int rc, released;

    if (!pe->payment_intent)
        return APP_OK;
    rc = load(c, pe, &reg, &exam, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    memset(&pr, 0, sizeof(pr));
    st = json_str(reg, "status");
    pi = json_str(reg, "stripePaymentIntentId");
    if (!st || !json_str(reg, "email") || (pi && strcmp(pi, pe->payment_intent) == 0))
        goto done;                                    /* not a seat, or a repeat */
    rc = payment_get(c->ddb, c->cfg, pe->payment_intent, &pr, err);
    if (rc != APP_OK || (pr.record && !pr.extra))
        goto done;                                    /* linked already: a repeat */
    /* An extra payment seen again: its refund is asked again (once at Stripe). */
    if (pr.record)
        why = json_str(pr.row, "extraReason") ? json_str(pr.row, "extraReason") : "extra";
    else if (strcmp(st, "pending") != 0 && strcmp(st, "released") != 0)
        why = pi ? "paid twice" : "not payable any more";
    else if (!campaign_paid_matches(pe, json_int(reg, "priceCents"), currency(reg)))
        why = "amount mismatch";
    if (!why) {
        released = strcmp(st, "released") == 0;     /* confirm() changes reg */
        rc = confirm(k, c, pe, attempt, reg, exam, &pr, err);
        if (rc == APP_ECONDITION && released)
            rc = not_taken(c, pe, json_str(reg, "registrationId"), &why, err);
        if (rc == APP_OK && !why && released)
            ctx_log(c, LL_WARN, "seat %s was released when its payment %s arrived: taken "
                    "again", json_str(reg, "registrationId"), pe->payment_intent);
    }
    if (why)
        rc = campaign_record_unwanted(k, c, pe, reg, why, err);
done:
    payment_free(&pr);
    json_object_put(reg);
    json_object_put(exam);
    return rc;
}

/* The checkout ended unpaid: the seat goes back to the exam, in one transaction, if that
 * checkout is the one the registration names (an older session, replaced by the pay link
 * or opened in another tab, never releases a seat a newer one may be paying). */
static int
unpaid(const struct campaign *k, const struct ctx *c, const struct pay_event *pe,
       const char *status, struct app_error *err)
{
    struct json_object *reg = NULL;
    const char *sid;
    int rc;

    (void)k;
    rc = mock_registration_load(c->ddb, c->cfg,
                                json_str(pe->meta, "registrationId"), &reg, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    sid = json_str(reg, "sessionId");
    if (!json_str(reg, "status") || strcmp(json_str(reg, "status"), "pending") != 0 ||
        !pe->session || !sid || strcmp(pe->session, sid) != 0) {
        json_object_put(reg);
        return APP_OK;
    }
    /* The release's own condition names the session too: a pay link that records a newer
     * one meanwhile keeps the seat (ECONDITION: the webhook reads it again). */
    rc = mock_seat_release(c, reg, pe->session, err);
    if (rc == APP_OK)
        ctx_log(c, LL_INFO, "seat %s released (checkout %s %s)",
                json_str(reg, "registrationId"), pe->session, status);
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
