/*
 * Mock exam seats (see mock.h): registration, the premium seat's Checkout and the seat given
 * back.  A seat is one transaction: the exam's seatsTaken below capacity (and registration
 * still open), the address's guard put (and no old-style registration holding it) and the
 * registration new under a random id, so capacity and "one per email" hold under any
 * concurrency.  A refusal never names the registration that holds the address.
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
#include "../lib/retention.h"
#include "../lib/txn.h"
#include "../lib/metrics.h"
#include "campaign.h"
#include "mock.h"

#define PREMIUM_PLAN "mock-exam-premium"

/* The registration as a new item (attribute values). */
static struct json_object *
registration(const struct mock_register_input *in, const struct mock_registered *out,
             struct json_object *exam, const char *now)
{
    struct json_object *o = json_object_new_object(), *av;

    json_add_str(o, "registrationId", out->registration_id);
    json_add_str(o, "mockExamId", in->exam_id);
    json_add_str(o, "campaignId", MOCK_CAMPAIGN);
    json_add_str(o, "email", in->email);
    json_add_str(o, "firstName", in->first_name);
    if (in->last_name)
        json_add_str(o, "lastName", in->last_name);
    json_add_str(o, "tier", out->premium ? "premium" : "free");
    json_add_str(o, "status", out->premium ? "pending" : "confirmed");
    json_add_str(o, "examTitle", json_str(exam, "title"));
    json_add_str(o, "examDate", json_str(exam, "examDate"));
    if (out->premium) {
        json_object_object_add(o, "priceCents", json_object_new_int64(out->price_cents));
        json_add_str(o, "currency", "AUD");
        json_add_str(o, "planName", "Mock Exam Premium Access");
    }
    json_add_str(o, "createdAt", now);
    json_add_str(o, "updatedAt", now);
    av = ddb_marshal_item(o);
    json_object_put(o);
    return av;
}

/* What a premium seat costs: the catalogue's price, read from DynamoDB. */
static int
premium_price(const struct ctx *c, long long *out, struct app_error *err)
{
    struct json_object *plan = NULL;
    int rc = catalogue_load(c->ddb, c->cfg, PREMIUM_PLAN, &plan, err);

    *out = 0;
    if (rc == APP_OK)
        *out = json_int(plan, "amountCents");
    if (plan)
        json_object_put(plan);
    if (rc != APP_OK && rc != APP_ENOTFOUND)
        return rc;
    if (*out <= 0)
        return app_error_set(err, APP_ECONFIG, PREMIUM_PLAN " has no price");
    return APP_OK;
}

/* The seat's transaction: seatsTaken up under its conditions, the address's guard, the
 * registration put, and for a free seat its email, counted within the address's limit. */
static int
take_seat(const struct ctx *c, const struct mock_register_input *in,
          const struct mock_registered *out, struct json_object *exam, struct json_object *reg,
          struct json_object *reg_av, const char *now, struct app_error *err)
{
    struct json_object *items = json_object_new_array(), *v, *w;
    char closes_by[32];

    time_iso(c->now + c->cfg->mock_close_hours * 3600, closes_by, sizeof(closes_by));
    v = json_object_new_object();
    json_object_object_add(v, ":one", ddb_av_n(1));
    json_object_object_add(v, ":scheduled", ddb_av_s("scheduled"));
    json_object_object_add(v, ":closes", ddb_av_s(closes_by));
    json_object_array_add(items, txn_update(
        c->cfg->tbl_mock_exams, ddb_key_s("mockExamId", in->exam_id),
        "SET seatsTaken = seatsTaken + :one",
        "seatsTaken < #cap AND #st = :scheduled AND examDate > :closes", v));
    json_object_array_add(items, mock_guard_put_txn(c->cfg, in->exam_id, in->email,
                                                    out->registration_id, now));
    json_object_array_add(items, mock_legacy_check_txn(c->cfg, in->exam_id, in->email));
    json_object_object_add(reg_av, "ttl", ddb_av_n(retention_records_ttl(c->cfg, c->now)));
    json_object_array_add(items, txn_put(c->cfg->tbl_mock_registrations, reg_av,
                                         "attribute_not_exists(registrationId)"));
    if (!out->premium) {
        w = mock_sitting_mail(c->cfg, "mock-registration", "confirmed", exam, reg, NULL,
                              c->now);
        if (w) {
            json_object_array_add(items, w);
            json_object_array_add(items, mail_limit_txn(c, in->email));
        }
    }
    return mock_seats_changed(c, txn_run(c->ddb, items, NULL, err));
}

/* A repeat registration of a confirmed seat: its email again, to its own address, once per
 * registration and clock hour (the outbox key), so a repeat cannot be used to flood it. */
static void
resend(const struct ctx *c, struct json_object *exam, struct json_object *reg)
{
    struct json_object *items, *w;
    char tag[48], hour[32], amount[48];
    struct app_error err;
    int rc;

    time_iso(c->now, hour, sizeof(hour));
    hour[13] = '\0';                    /* 2026-01-15T12 */
    snprintf(tag, sizeof(tag), "resent#%s", hour);
    if (json_int(reg, "priceCents") > 0)
        fmt_money(json_int(reg, "priceCents"), json_str(reg, "currency") ?
                  json_str(reg, "currency") : "aud", amount, sizeof(amount));
    w = mock_sitting_mail(c->cfg, "mock-registration", tag, exam, reg,
                          json_int(reg, "priceCents") > 0 ? amount : NULL, c->now);
    if (!w)
        return;
    items = json_object_new_array();
    json_object_array_add(items, w);
    json_object_array_add(items, mail_limit_txn(c, json_str(reg, "email")));
    app_error_clear(&err);
    rc = txn_run(c->ddb, items, NULL, &err);
    /* ECONDITION: sent this hour already, or the address has had its emails of the day. */
    if (rc != APP_OK && rc != APP_ECONDITION)
        ctx_log(c, LL_WARN, "registration %s: its email again: %s",
                json_str(reg, "registrationId"), err.msg);
}

/* Why the seat transaction was refused: read after the fact, only to explain it (and to mail
 * the holder of the address): taken, full, over the address's emails of the day, closed. */
static int
refused(const struct ctx *c, const struct mock_register_input *in, struct json_object *exam,
        struct app_error *err)
{
    struct json_object *reg = NULL, *now = NULL;
    const char *st, *type = json_str(exam, "type");
    struct app_error ignore;
    char rid[40];
    int rc;

    app_error_clear(&ignore);
    if (mock_registration_find(c->ddb, c->cfg, in->exam_id, in->email, rid, &ignore) ==
        APP_OK)
        mock_registration_load(c->ddb, c->cfg, rid, &reg, &ignore);
    st = json_str(reg, "status");
    if (st && strcmp(st, "released") != 0) {
        if (strcmp(st, "confirmed") == 0)
            resend(c, exam, reg);
        rc = app_error_reason(err, APP_ECONFLICT, "ALREADY_REGISTERED",
                              "This email is already registered for this exam");
    } else if (mock_exam_load(c->ddb, c->cfg, in->exam_id, &now, &ignore) == APP_OK &&
               json_int(now, "seatsTaken") >= json_int(now, "capacity")) {
        rc = app_error_reason(err, APP_ECONFLICT, "EXAM_FULL", "This exam is full");
    } else if ((!type || strcmp(type, "premium") != 0) &&
               mail_limit_reached(c, in->email, err) != APP_OK) {
        rc = err->code;                 /* its confirmation would be one email too many */
    } else {
        rc = app_error_reason(err, APP_EUNPROCESSABLE, "REGISTRATION_CLOSED",
                              "Registration for this exam is closed");
    }
    if (reg)
        json_object_put(reg);
    if (now)
        json_object_put(now);
    return rc;
}

/* The seat's Checkout (a pay link on the registration). */
static int
open_session(const struct ctx *c, struct json_object *reg, struct json_object *metadata,
             struct paylink_out *out, struct app_error *err)
{
    char ok[512], cancel[512], name[300];
    struct paylink pl;

    memset(&pl, 0, sizeof(pl));
    snprintf(name, sizeof(name), "Mock Exam Premium Access - %s", json_str(reg, "examTitle"));
    snprintf(ok, sizeof(ok), "%s/mock-exams/%s?registered=1", c->cfg->frontend_url,
             json_str(reg, "mockExamId"));
    snprintf(cancel, sizeof(cancel), "%s/mock-exams/%s", c->cfg->frontend_url,
             json_str(reg, "mockExamId"));
    pl.table = c->cfg->tbl_mock_registrations;
    pl.key_name = "registrationId";
    pl.key = json_str(reg, "registrationId");
    pl.path = "";
    pl.holder = reg;
    pl.unpaid_status = "pending";
    pl.amount_cents = json_int(reg, "priceCents");
    pl.product_id = c->cfg->stripe_mock_premium_product;
    pl.product_name = name;
    pl.email = json_str(reg, "email");
    pl.campaign = MOCK_CAMPAIGN;
    pl.meta_keys[0] = "registrationId";
    pl.meta_vals[0] = pl.key;
    pl.meta_keys[1] = "mockExamId";
    pl.meta_vals[1] = json_str(reg, "mockExamId");
    pl.success_url = ok;
    pl.cancel_url = cancel;
    pl.extra_meta = metadata;
    return paylink_session(c, &pl, out, err);
}

int
mock_seat_release(const struct ctx *c, struct json_object *reg, const char *session,
                  struct app_error *err)
{
    struct json_object *items = json_object_new_array(), *v;
    const char *rid = json_str(reg, "registrationId"), *eid = json_str(reg, "mockExamId");
    char now[32];

    time_iso(c->now, now, sizeof(now));
    v = json_object_new_object();
    json_object_object_add(v, ":one", ddb_av_n(1));
    json_object_array_add(items, txn_update(c->cfg->tbl_mock_exams,
                                            ddb_key_s("mockExamId", eid),
                                            "SET seatsTaken = seatsTaken - :one",
                                            "seatsTaken >= :one", v));
    v = json_object_new_object();
    json_object_object_add(v, ":pending", ddb_av_s("pending"));
    json_object_object_add(v, ":released", ddb_av_s("released"));
    json_object_object_add(v, ":now", ddb_av_s(now));
    if (session)
        json_object_object_add(v, ":sid", ddb_av_s(session));
    json_object_array_add(items, txn_update(c->cfg->tbl_mock_registrations,
                                            ddb_key_s("registrationId", rid),
                                            "SET #st = :released, updatedAt = :now",
                                            session ? "#st = :pending AND sessionId = :sid" :
                                            "#st = :pending", v));
    if (json_str(reg, "email"))
        json_object_array_add(items, mock_guard_delete_txn(c->cfg, eid, json_str(reg, "email"),
                                                           rid));
    return mock_seats_changed(c, txn_run(c->ddb, items, NULL, err));
}

int
mock_register(const struct ctx *c, const struct mock_register_input *in,
              struct mock_registered *out, struct app_error *err)
{
    struct json_object *exam = NULL, *reg = NULL, *reg_av;
    struct app_error cause;
    char now[32];
    int rc;

    memset(out, 0, sizeof(*out));
    rc = mock_exam_find(c, in->exam_id, &exam, err);
    if (rc != APP_OK)
        goto done;
    out->premium = json_str(exam, "type") && strcmp(json_str(exam, "type"), "premium") == 0;
    if (out->premium) {
        rc = premium_price(c, &out->price_cents, err);
        if (rc != APP_OK)
            goto done;
        /* The route runs without Stripe for free seats: refuse before holding one. */
        if (!c->stripe) {
            rc = app_error_set(err, APP_EUNAVAILABLE, "no Stripe client");
            goto done;
        }
    }
    /* A registration may email without a payment (a free seat's confirmation, a repeat's
     * email again): within the client's limit. */
    rc = mail_limit_client(c, err);
    if (rc != APP_OK)
        goto done;
    if (id_new(out->registration_id, sizeof(out->registration_id), "reg_") != 0) {
        rc = app_error_set(err, APP_EINTERNAL, "no random registration id");
        goto done;
    }
    snprintf(out->exam_date, sizeof(out->exam_date), "%s",
             json_str(exam, "examDate") ? json_str(exam, "examDate") : "");
    time_iso(c->now, now, sizeof(now));
    reg_av = registration(in, out, exam, now);
    reg = ddb_unmarshal_item(reg_av);
    rc = take_seat(c, in, out, exam, reg, reg_av, now, err);
    if (rc == APP_ECONDITION) {
        out->registration_id[0] = '\0';
        rc = refused(c, in, exam, err);
        goto done;
    }
    if (rc != APP_OK)
        goto done;
    ctx_log(c, LL_INFO, "mock exam %s: seat %s (%s)", in->exam_id, out->registration_id,
            out->premium ? "held until paid" : "confirmed");
    metrics_inc_value(MF_MOCK_REGISTRATIONS, in->exam_id,
                      metrics_index(MF_MOCK_REGISTRATIONS, 1, out->premium ? "premium" : "free"));
    if (!out->premium)
        goto done;
    app_error_clear(&cause);
    rc = open_session(c, reg, in->metadata, &out->session, &cause);
    if (rc != APP_OK) {
        if (mock_seat_release(c, reg, NULL, err) != APP_OK)
            ctx_log(c, LL_ERROR, "releasing seat %s failed: %s; its checkout never opened",
                    out->registration_id, err->msg);
        app_error_clear(err);
        rc = app_error_set(err, APP_EUPSTREAM, "checkout for seat %s: %s; the seat was "
                           "released", out->registration_id, cause.msg);
    }
done:
    if (reg)
        json_object_put(reg);
    if (exam)
        json_object_put(exam);
    return rc;
}

int
mock_pay(const struct ctx *c, const char *registration_id, struct paylink_out *out,
         struct app_error *err)
{
    struct json_object *reg = NULL;
    int rc;

    rc = mock_registration_load(c->ddb, c->cfg, registration_id, &reg, err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(err, APP_ENOTFOUND, "no such registration");
    if (rc != APP_OK)
        return rc;
    if (!json_str(reg, "status") || strcmp(json_str(reg, "status"), "pending") != 0)
        rc = app_error_set(err, APP_ECONFLICT, "This seat is not waiting for payment");
    else
        rc = open_session(c, reg, NULL, out, err);
    json_object_put(reg);
    return rc;
}
