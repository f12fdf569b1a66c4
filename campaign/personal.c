/*
 * Personalized plans (campaignId "personalized-plan", metadata planId): one record, paid
 * through the one-record engine (record.c): pending → active with access to the cluster's
 * product for its months.  Here, what its "plan activated" email says: the cluster's study
 * roadmap.  The cluster rules are lib/cluster.c (data: sql/rules/clusters.json).
 */
#include "config.h"

#include <stdio.h>

#include "../lib/cfg.h"
#include "../lib/cluster.h"
#include "../lib/ddbjson.h"
#include "campaign.h"

void
personal_paid_vars(const struct ctx *c, struct json_object *p, const struct pay_event *pe,
                   struct json_object *vars)
{
    const struct cluster_rules *r = c->cfg->clusters;
    struct json_object *v, *roadmap;
    char url[512];
    int n = 0;

    (void)pe;
    if (json_object_object_get_ex(p, "selectedCluster", &v))
        n = (int)json_object_get_int64(v);
    json_add_str(vars, "customerName", json_str(p, "firstName"));
    json_add_str(vars, "planName", json_str(p, "productName"));
    json_add_str(vars, "clusterName", json_str(p, "clusterName"));
    json_add_str(vars, "clusterDescription", r ? cluster_description(r, n) : "");
    roadmap = r ? cluster_roadmap_json(r, n) : NULL;
    json_object_object_add(vars, "roadmap", roadmap ? roadmap : json_object_new_array());
    snprintf(url, sizeof(url), "%s/login", c->cfg->frontend_url);
    json_add_str(vars, "loginUrl", url);
}
