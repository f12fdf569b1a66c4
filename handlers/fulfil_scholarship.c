/*
 * Fulfilment of scholarships (campaignId "scholarship-application", metadata scholarshipId):
 * submitted → paid (approved) with access for the plan's months, the payment's row and the
 * "approved" email in one transaction; refunds and disputes as every one-record campaign
 * (fulfil.c); a decline sends the "try again" email.
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
#include "fulfil.h"

#define CAMPAIGN "scholarship-application"

static int
load(struct request *req, const char *id, struct json_object **out)
{
    return record_load(req->worker->ddb, req->cfg->tbl_scholarships, "scholarshipId", id, "sch_",
                       out, &req->err);
}

static int
paid(struct request *req, const struct pay_event *pe, int attempt)
{
    const char *id = json_str(pe->meta, "scholarshipId"), *st;
    struct json_object *s = NULL, *vars;
    char pct[16], amount[48], url[512];
    struct record_pay rp;
    int rc;

    if (!pe->payment_intent)
        return APP_OK;
    rc = load(req, id, &s);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    st = json_str(s, "status");
    if (!st || strcmp(st, "submitted") != 0 || !json_str(s, "email")) {
        json_object_put(s);
        return APP_OK;                                /* paid already: a repeat */
    }
    vars = json_object_new_object();
    json_add_str(vars, "applicantName", json_str(s, "firstName"));
    json_add_str(vars, "planName", json_str(s, "planName"));
    snprintf(pct, sizeof(pct), "%lld", json_int(s, "percent"));
    json_add_str(vars, "percentage", pct);
    fmt_money(pe->amount, "aud", amount, sizeof(amount));
    json_add_str(vars, "amountPaid", amount);
    snprintf(url, sizeof(url), "%s/login", req->cfg->frontend_url);
    json_add_str(vars, "loginUrl", url);
    memset(&rp, 0, sizeof(rp));
    rp.table = req->cfg->tbl_scholarships;
    rp.key_name = "scholarshipId";
    rp.id = json_str(s, "scholarshipId");
    rp.from_status = "submitted";
    rp.to_status = "paid";
    rp.email = json_str(s, "email");
    rp.name = json_str(s, "firstName");
    rp.plan_id = json_str(s, "planId");
    rp.campaign = CAMPAIGN;
    rp.tmpl = "scholarship-approved";
    rp.vars = vars;
    rp.attempt = attempt;
    rc = record_paid(req, pe, &rp);
    json_object_put(s);
    return rc;
}

static int
unpaid(struct request *req, const struct pay_event *pe, const char *status)
{
    (void)req;
    (void)pe;
    (void)status;
    return APP_OK;    /* the session ended unpaid: the pay link makes a new one */
}

static int
declined(struct request *req, const struct pay_event *pe)
{
    struct json_object *s = NULL;
    int rc;

    rc = load(req, json_str(pe->meta, "scholarshipId"), &s);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    rc = record_declined(req, pe, s, "submitted", "planName");
    json_object_put(s);
    return rc;
}

static int
refunded(struct request *req, const struct payment_row *pr, long long amount, int full,
         time_t now)
{
    return record_refunded(req, req->cfg->tbl_scholarships, "scholarshipId", "paid", pr, amount,
                           full, now);
}

static int
disputed(struct request *req, const struct payment_row *pr, const char *dispute,
         const char *reason, time_t now)
{
    return record_disputed(req, req->cfg->tbl_scholarships, "scholarshipId", "scholarship",
                           pr, dispute, reason, now);
}

const struct campaign campaign_scholarship = {
    CAMPAIGN, paid, unpaid, declined, refunded, disputed,
};
