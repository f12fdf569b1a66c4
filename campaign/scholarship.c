/*
 * Scholarships (campaignId "scholarship-application"): one record, paid through the
 * one-record engine (record.c) with the registry's data; here, what its approval email says.
 * The price rules are lib/scholarship.c (data: sql/rules/scholarship.json).
 */
#include "config.h"

#include <stdio.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "campaign.h"

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
