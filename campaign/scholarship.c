/*
 * Scholarships (scholarship.h): an application priced, stored and opened for payment, and
 * what its approval email says.  Paid through the one-record engine (record.c) with the
 * registry's data.  The price rules are lib/scholarship.c (data: sql/rules/scholarship.json).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/catalogue.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/metrics.h"
#include "campaign.h"
#include "scholarship.h"

/* The application's record, plain. */
static struct json_object *
application(const struct campaign *k, const struct scholarship_application *in,
            const struct scholarship_applied *out, struct json_object *plan, const char *now)
{
    const struct scholarship_input *ci = &in->circumstances;
    const struct scholarship_result *res = &out->res;
    struct json_object *o, *reasons;
    size_t i;

    o = record_new(k, &out->made, in->email, in->first_name, in->last_name, now);
    if (in->statement)
        json_add_str(o, "statement", in->statement);
    json_add_str(o, "country", ci->country);
    json_object_object_add(o, "attempts", json_object_new_int64(ci->attempts));
    if (ci->last_score >= 0)
        json_object_object_add(o, "lastScore", json_object_new_int64(ci->last_score));
    json_object_object_add(o, "financialHardship", json_object_new_boolean(ci->hardship));
    json_object_object_add(o, "studyHoursPerWeek", json_object_new_int64(ci->study_hours));
    json_object_object_add(o, "percent", json_object_new_int(res->percent));
    json_object_object_add(o, "points", json_object_new_int(res->points));
    json_add_str(o, "incomeGroup", res->income_group);
    json_object_object_add(o, "fullPriceCents", json_object_new_int64(res->full_cents));
    json_object_object_add(o, "priceCents", json_object_new_int64(res->price_cents));
    json_add_str(o, "currency", "AUD");
    json_add_str(o, "planId", json_str(plan, "planId"));
    json_add_str(o, "planName", json_str(plan, "name"));
    reasons = json_object_new_array();
    for (i = 0; i < res->nreasons; i++)
        json_object_array_add(reasons, json_object_new_string(res->reasons[i].text));
    json_object_object_add(o, "reasons", reasons);
    return o;
}

int
scholarship_apply(const struct ctx *c, const struct scholarship_application *in,
                  struct scholarship_applied *out, struct app_error *err)
{
    const struct campaign *k = campaign_find(SCHOLARSHIP_CAMPAIGN);
    const struct scholarship_rules *r = c->cfg->scholarship;
    struct json_object *plan = NULL;
    char now[32], id[40];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!r)
        return app_error_set(err, APP_EUNAVAILABLE, "scholarship rules not loaded");
    rc = catalogue_load(c->ddb, c->cfg, scholarship_plan(r), &plan, err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(err, APP_ECONFIG, "plan %s not in the catalogue",
                             scholarship_plan(r));
    if (rc != APP_OK)
        return rc;
    scholarship_calculate(r, &in->circumstances, json_int(plan, "amountCents"), &out->res);
    snprintf(out->plan_id, sizeof(out->plan_id), "%s", json_str(plan, "planId"));
    if (out->res.percent == 0) {
        rc = app_error_reason(err, APP_EUNPROCESSABLE, "NOT_ELIGIBLE",
                              "These circumstances do not qualify for a scholarship");
        goto done;
    }
    if (id_new(id, sizeof(id), k->id_prefix) != 0) {
        rc = app_error_set(err, APP_EINTERNAL, "no random bytes");
        goto done;
    }
    record_made_init(&out->made, c, "scholarships", id);
    time_iso(c->now, now, sizeof(now));
    /* No email before payment: the answer carries the pay link, and the payment's approval
     * email is the first this address receives (docs/CAMPAIGNS.md, Who the service emails). */
    rc = record_create(k, c, application(k, in, out, plan, now), scholarship_link, in->metadata,
                       NULL, &out->made, err);
    if (rc == APP_ECONDITION)
        rc = app_error_set(err, APP_EINTERNAL, "id clash");
    if (rc == APP_OK) {
        ctx_log(c, LL_INFO, "scholarship %s submitted: %d%%, %lld cents", id,
                out->res.percent, out->res.price_cents);
        metrics_observe(MF_SCHOLARSHIP_DISCOUNT, 0, (double)out->res.percent / 100.0);
    }

done:
    json_object_put(plan);
    return rc;
}

int
scholarship_link(const struct ctx *c, struct json_object *s, struct record_link *out,
                 struct app_error *err)
{
    int rc = record_paylink(campaign_find(SCHOLARSHIP_CAMPAIGN), c, s, "scholarships",
                            "This application is already paid", out, err);

    if (rc != APP_OK)
        return rc;
    snprintf(out->name, sizeof(out->name), "%s (%lld%% scholarship)", json_str(s, "planName"),
             json_int(s, "percent"));
    out->pl.product_id = c->cfg->stripe_scholarship_product;
    out->pl.product_name = out->name;
    return APP_OK;
}

void
scholarship_paid_vars(const struct ctx *c, struct json_object *s, const struct pay_event *pe,
                      struct json_object *vars)
{
    char pct[16], amount[48], url[512];

    json_add_str(vars, "applicantName", json_str(s, "firstName"));
    json_add_str(vars, "planName", json_str(s, "planName"));
    snprintf(pct, sizeof(pct), "%lld", json_int(s, "percent"));
    json_add_str(vars, "percentage", pct);
    fmt_money(pe->amount, "aud", amount, sizeof(amount));
    json_add_str(vars, "amountPaid", amount);
    snprintf(url, sizeof(url), "%s/login", c->cfg->frontend_url);
    json_add_str(vars, "loginUrl", url);
}
