/*
 * The registry of campaigns (campaign.h): one row each, used by the universal checkout and
 * its verification, the webhook and the operator's tool.  Adding a campaign is adding a row.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/txn.h"
#include "campaign.h"

const struct campaign campaigns[] = {
    {
        .id = "discount-purchase", .key_name = "purchaseId", .id_prefix = "pur_",
        .table = offsetof(struct cfg, tbl_discount_purchases), .record_type = "discount purchase",
        .create_route = "purchases.create", .ops = &purchase_ops, .paid_status = "paid",
        .price_key = "finalAmountCents", .session_key = "stripeSessionId",
    },
    {
        .id = "team-creation", .key_name = "teamId", .id_prefix = "team_",
        .table = offsetof(struct cfg, tbl_teams), .record_type = "team",
        .create_route = "teams.create", .ops = &team_ops,
    },
    {
        .id = "scholarship-application", .key_name = "scholarshipId", .id_prefix = "sch_",
        .table = offsetof(struct cfg, tbl_scholarships), .record_type = "scholarship",
        .create_route = "scholarships.apply", .ops = &one_record_ops,
        .payable_status = "submitted", .paid_status = "paid", .product_key = "planId",
        .product_name_key = "planName", .paid_template = "scholarship-approved",
        .paid_vars = scholarship_paid_vars,
    },
    {
        .id = "personalized-plan", .key_name = "planId", .id_prefix = "ppl_",
        .table = offsetof(struct cfg, tbl_personalized_plans),
        .record_type = "personalised plan", .create_route = "personal.create",
        .ops = &one_record_ops, .payable_status = "pending", .paid_status = "active",
        .product_key = "productPlanId", .product_name_key = "productName",
        .paid_template = "plan-activated", .paid_vars = personal_paid_vars,
    },
    {
        .id = "mock-exam", .key_name = "registrationId", .id_prefix = "reg_",
        .table = offsetof(struct cfg, tbl_mock_registrations),
        .record_type = "mock exam seat", .create_route = "mockexams.register",
        .ops = &mock_ops, .paid_status = "confirmed",
    },
};

const size_t campaigns_count = sizeof(campaigns) / sizeof(campaigns[0]);

const struct campaign *
campaign_find(const char *id)
{
    size_t i;

    for (i = 0; id && i < campaigns_count; i++) {
        if (strcmp(campaigns[i].id, id) == 0)
            return &campaigns[i];
    }
    return NULL;
}

const char *
campaign_table(const struct campaign *k, const struct cfg *cfg)
{
    return *(char *const *)((const char *)cfg + k->table);
}

int
campaign_load(const struct campaign *k, const struct ctx *c, const char *id,
              struct json_object **out, struct app_error *err)
{
    return record_load(c->ddb, campaign_table(k, c->cfg), k->key_name, id, k->id_prefix, out,
                       err);
}
