/*
 * Personalized plans (personal.h): a score report assessed, its upload presigned, the plan
 * created once the report is in S3 and opened for payment, and what its "plan activated"
 * email says (the cluster's study roadmap).  Paid through the one-record engine (record.c):
 * pending → active with access to the cluster's product for its months.  The cluster rules
 * are lib/cluster.c (data: sql/rules/clusters.json).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/catalogue.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/s3.h"
#include "campaign.h"
#include "personal.h"

const char *const personal_report_types[] = {
    "application/pdf", "image/png", "image/jpeg", NULL,
};

int
personal_report_type_ok(const char *t)
{
    size_t i;

    for (i = 0; t && personal_report_types[i]; i++)
        if (strcmp(personal_report_types[i], t) == 0)
            return 1;
    return 0;
}

/* Ours, never the caller's. */
static void
report_key(const char *plan_id, char *out, size_t n)
{
    snprintf(out, n, "score-reports/%s/report", plan_id);
}

int
personal_plan_assess(const struct ctx *c, struct json_object *sections,
                     struct cluster_result *out, struct app_error *err)
{
    char why[256], *colon;

    if (!c->cfg->clusters)
        return app_error_set(err, APP_EUNAVAILABLE, "cluster rules not loaded");
    if (cluster_assess(c->cfg->clusters, sections, out, why, sizeof(why)) == 0)
        return APP_OK;
    /* "sections[2].correct: must not exceed answered" → the field and why */
    colon = strstr(why, ": ");
    if (!colon)
        return app_error_field(err, "sections", "%s", why);
    *colon = '\0';
    return app_error_field(err, why, "%s", colon + 2);
}

int
personal_upload_url(const struct ctx *c, const char *type, long long size,
                    struct personal_presigned *out, struct app_error *err)
{
    char key[96];
    struct buf url;
    int rc;

    memset(out, 0, sizeof(*out));
    if (id_new(out->plan_id, sizeof(out->plan_id), "ppl_") != 0)
        return app_error_set(err, APP_EINTERNAL, "no random bytes");
    report_key(out->plan_id, key, sizeof(key));
    buf_init_fixed(&url, out->url, sizeof(out->url));
    rc = s3_presign_put(c->s3, key, type, size, c->cfg->s3_upload_expires_s, c->now, &url,
                        err);
    if (rc != APP_OK)
        return rc;
    time_iso(c->now + c->cfg->s3_upload_expires_s, out->expires_at, sizeof(out->expires_at));
    return APP_OK;
}

/* The uploaded report: APP_OK with its size and type, or a refusal the client can act on. */
static int
report_check(const struct ctx *c, const char *key, long long *size, char *ctype, size_t n,
             struct app_error *err)
{
    int rc = s3_head(c->s3, key, size, ctype, n, err);

    if (rc == APP_ENOTFOUND) {
        app_error_clear(err);
        return app_error_reason(err, APP_EUNPROCESSABLE, "REPORT_NOT_UPLOADED",
                                "Upload the score report before creating the plan");
    }
    if (rc != APP_OK)
        return rc;
    if (!personal_report_type_ok(ctype) || *size < 1 || *size > c->cfg->s3_upload_max_bytes)
        return app_error_reason(err, APP_EUNPROCESSABLE, "REPORT_NOT_ACCEPTED",
                                "The uploaded score report is not a PDF, PNG or JPEG of an "
                                "accepted size");
    return APP_OK;
}

/* The plan's record, plain. */
static struct json_object *
plan_record(const struct campaign *k, const struct personal_plan_input *in,
            const struct record_made *made, struct json_object *product, const char *key,
            long long size, const char *ctype, const char *now)
{
    const struct cluster_result *res = in->assessment;
    struct json_object *o = record_new(k, made, in->email, in->first_name, in->last_name, now);

    json_object_object_add(o, "selectedCluster", json_object_new_int(res->cluster));
    json_add_str(o, "clusterName", res->name);
    json_add_str(o, "productPlanId", res->plan_id);
    json_add_str(o, "productName", json_str(product, "name"));
    json_object_object_add(o, "priceCents", json_object_new_int64(json_int(product,
                                                                           "amountCents")));
    json_add_str(o, "currency", "AUD");
    json_object_object_add(o, "assessment", cluster_result_json(res));
    json_object_object_add(o, "sections", json_object_get(in->sections));
    json_add_str(o, "scoreReportKey", key);
    json_object_object_add(o, "scoreReportBytes", json_object_new_int64(size));
    json_add_str(o, "scoreReportType", ctype);
    return o;
}

int
personal_plan_create(const struct ctx *c, const struct personal_plan_input *in,
                     struct personal_plan_created *out, struct app_error *err)
{
    const struct campaign *k = campaign_find(PERSONAL_CAMPAIGN);
    const struct cluster_result *res = in->assessment;
    struct json_object *product = NULL;
    char key[96], ctype[128], now[32];
    long long size = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    report_key(in->plan_id, key, sizeof(key));
    rc = report_check(c, key, &size, ctype, sizeof(ctype), err);
    if (rc != APP_OK)
        return rc;
    rc = catalogue_load(c->ddb, c->cfg, res->plan_id, &product, err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(err, APP_ECONFIG, "%s not in the catalogue", res->plan_id);
    if (rc != APP_OK)
        return rc;
    out->price_cents = json_int(product, "amountCents");
    record_made_init(&out->made, c, "personalized-plans", in->plan_id);
    time_iso(c->now, now, sizeof(now));
    rc = record_create(k, c, plan_record(k, in, &out->made, product, key, size, ctype, now),
                       personal_plan_link, in->metadata, NULL, &out->made, err);
    json_object_put(product);
    if (rc == APP_ECONDITION)
        return app_error_set(err, APP_ECONFLICT, "This plan already exists");
    if (rc == APP_OK)
        ctx_log(c, LL_INFO, "personalised plan %s: cluster %d", in->plan_id, res->cluster);
    return rc;
}

int
personal_plan_link(const struct ctx *c, struct json_object *p, struct record_link *out,
                   struct app_error *err)
{
    const char *const products[CLUSTER_COUNT] = {
        c->cfg->stripe_cluster1_product, c->cfg->stripe_cluster2_product,
        c->cfg->stripe_cluster3_product, c->cfg->stripe_cluster4_product,
    };
    long long n = json_int(p, "selectedCluster");
    int rc = record_paylink(campaign_find(PERSONAL_CAMPAIGN), c, p, "plans",
                            "This plan is already paid", out, err);

    if (rc != APP_OK)
        return rc;
    snprintf(out->meta, sizeof(out->meta), "%lld", n);
    out->pl.product_id = n >= 1 && n <= CLUSTER_COUNT ? products[n - 1] : "";
    out->pl.product_name = json_str(p, "productName");
    out->pl.meta_keys[1] = "cluster";
    out->pl.meta_vals[1] = out->meta;
    return APP_OK;
}

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
