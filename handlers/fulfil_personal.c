/*
 * Fulfilment of personalised plans (campaignId "personalized-plan", metadata planId):
 * pending → active with access to the cluster's product for its months and the "plan
 * activated" email carrying that cluster's study roadmap; refunds, disputes and declines as
 * every one-record campaign (fulfil.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/cluster.h"
#include "../lib/ddbjson.h"
#include "fulfil.h"

#define CAMPAIGN "personalized-plan"

static int
load(struct request *req, const char *id, struct json_object **out)
{
    return record_load(req->worker->ddb, req->cfg->tbl_personalized_plans, "planId", id, "ppl_",
                       out, &req->err);
}

static int
paid(struct request *req, const struct pay_event *pe, int attempt)
{
    struct json_object *p = NULL, *vars, *v, *roadmap;
    const struct cluster_rules *r = req->cfg->clusters;
    struct record_pay rp;
    char url[512];
    int rc, c = 0;

    if (!pe->payment_intent)
        return APP_OK;
    rc = load(req, json_str(pe->meta, "planId"), &p);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    if (!json_str(p, "status") || strcmp(json_str(p, "status"), "pending") != 0 ||
        !json_str(p, "email")) {
        json_object_put(p);
        return APP_OK;                                /* active already: a repeat */
    }
    if (json_object_object_get_ex(p, "selectedCluster", &v))
        c = (int)json_object_get_int64(v);
    vars = json_object_new_object();
    json_add_str(vars, "customerName", json_str(p, "firstName"));
    json_add_str(vars, "planName", json_str(p, "productName"));
    json_add_str(vars, "clusterName", json_str(p, "clusterName"));
    json_add_str(vars, "clusterDescription", r ? cluster_description(r, c) : "");
    roadmap = r ? cluster_roadmap_json(r, c) : NULL;
    json_object_object_add(vars, "roadmap", roadmap ? roadmap : json_object_new_array());
    snprintf(url, sizeof(url), "%s/login", req->cfg->frontend_url);
    json_add_str(vars, "loginUrl", url);
    memset(&rp, 0, sizeof(rp));
    rp.table = req->cfg->tbl_personalized_plans;
    rp.key_name = "planId";
    rp.id = json_str(p, "planId");
    rp.from_status = "pending";
    rp.to_status = "active";
    rp.email = json_str(p, "email");
    rp.name = json_str(p, "firstName");
    rp.plan_id = json_str(p, "productPlanId");
    rp.campaign = CAMPAIGN;
    rp.tmpl = "plan-activated";
    rp.vars = vars;
    rp.attempt = attempt;
    rc = record_paid(req, pe, &rp);
    json_object_put(p);
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
    struct json_object *p = NULL;
    int rc;

    rc = load(req, json_str(pe->meta, "planId"), &p);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    rc = record_declined(req, pe, p, "pending", "productName");
    json_object_put(p);
    return rc;
}

static int
refunded(struct request *req, const struct payment_row *pr, long long amount, int full,
         time_t now)
{
    return record_refunded(req, req->cfg->tbl_personalized_plans, "planId", "active", pr,
                           amount, full, now);
}

static int
disputed(struct request *req, const struct payment_row *pr, const char *dispute,
         const char *reason, time_t now)
{
    return record_disputed(req, req->cfg->tbl_personalized_plans, "planId",
                           "personalised plan", pr, dispute, reason, now);
}

const struct campaign campaign_personal = {
    CAMPAIGN, paid, unpaid, declined, refunded, disputed,
};
