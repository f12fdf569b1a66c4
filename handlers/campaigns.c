/*
 * The registry of campaigns (campaigns.h).  Each row names the record a campaign keeps, the
 * flow that creates it and opens its Checkout, how a session is matched to the record, and
 * the fulfilment hooks of fulfil_*.c.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "campaigns.h"
#include "fulfil.h"
#include "handlers.h"

/* A one-record campaign: the record holds status, priceCents, currency and sessionId. */
static void
view_record(struct json_object *rec, struct json_object *meta, struct campaign_view *out)
{
    (void)meta;
    out->status = json_str(rec, "status");
    out->amount = json_object_object_get_ex(rec, "priceCents", NULL) ?
                  json_int(rec, "priceCents") : -1;
    out->currency = json_str(rec, "currency");
    out->session = json_str(rec, "sessionId");
}

static void
view_purchase(struct json_object *rec, struct json_object *meta, struct campaign_view *out)
{
    (void)meta;
    out->status = json_str(rec, "status");
    out->amount = json_object_object_get_ex(rec, "finalAmountCents", NULL) ?
                  json_int(rec, "finalAmountCents") : -1;
    out->currency = json_str(rec, "currency");
    out->session = json_str(rec, "stripeSessionId");
}

/* A team: the share of metadata.memberIndex. */
static void
view_team_share(struct json_object *rec, struct json_object *meta, struct campaign_view *out)
{
    struct json_object *members, *m = NULL;
    const char *idx = json_str(meta, "memberIndex");
    size_t i = 0;

    out->amount = -1;
    out->currency = json_str(rec, "currency");
    if (!idx || strlen(idx) != 1 || idx[0] < '0' || idx[0] > '9')
        return;
    i = (size_t)(idx[0] - '0');
    if (json_object_object_get_ex(rec, "members", &members) &&
        json_object_is_type(members, json_type_array) && i < json_object_array_length(members))
        m = json_object_array_get_idx(members, i);
    if (!m)
        return;
    out->status = json_str(m, "status");
    out->amount = json_object_object_get_ex(m, "shareCents", NULL) ? json_int(m, "shareCents")
                                                                   : -1;
    out->session = json_str(m, "sessionId");
}

const struct campaign_kind campaign_kinds[] = {
    {"discount-purchase", "purchaseId", "pur_", offsetof(struct cfg, tbl_discount_purchases),
     purchase_checkout, view_purchase, &campaign_discount_purchase},
    {"team-creation", "teamId", "team_", offsetof(struct cfg, tbl_teams),
     team_checkout, view_team_share, &campaign_team},
    {"scholarship-application", "scholarshipId", "sch_", offsetof(struct cfg, tbl_scholarships),
     scholarship_checkout, view_record, &campaign_scholarship},
    {"personalized-plan", "planId", "ppl_", offsetof(struct cfg, tbl_personalized_plans),
     personal_checkout, view_record, &campaign_personal},
    {"mock-exam", "registrationId", "reg_", offsetof(struct cfg, tbl_mock_registrations),
     mock_checkout, view_record, &campaign_mock},
};

const size_t campaign_kinds_count = sizeof(campaign_kinds) / sizeof(campaign_kinds[0]);

const struct campaign_kind *
campaign_find(const char *id)
{
    size_t i;

    for (i = 0; id && i < campaign_kinds_count; i++) {
        if (strcmp(campaign_kinds[i].id, id) == 0)
            return &campaign_kinds[i];
    }
    return NULL;
}

const char *
campaign_table(const struct campaign_kind *kind, const struct cfg *cfg)
{
    return *(char *const *)((const char *)cfg + kind->table);
}
