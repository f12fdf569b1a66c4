/*
 * Personalised study plans (campaignId "personalized-plan"; rules in docs/CAMPAIGNS.md and
 * sql/rules/clusters.json):
 *
 *   POST /v1/personalized-plans/assess    a score report's sections → one of four clusters,
 *                                         with the reasons; no writes
 *   POST /v1/personalized-plans/uploads   a new plan id and a presigned S3 upload for its
 *                                         score report (PDF/PNG/JPEG, size signed, short)
 *   POST /v1/personalized-plans/create    the plan recorded once its report is in S3, and a
 *                                         Checkout for its cluster's product
 *   GET  /v1/personalized-plans/{planId}[?token=]  status, cluster and (once active) the
 *                                         roadmap; with the owner's token (viewUrl of the
 *                                         answer to create) also the scores and reasons
 *   GET  /v1/personalized-plans/{planId}/pay   the plan's Checkout (303)
 *
 * The browser uploads straight to S3; the key is ours (score-reports/<planId>/report),
 * never the caller's.  create assesses the sections on the server and checks the object
 * with a signed HEAD (present, an allowed type, within the size limit): campaign/personal.h.
 * assess quotes the price through the catalogue's cache.
 */
#include "config.h"

#include <string.h>

#include "../campaign/personal.h"
#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/s3.h"
#include "../lib/mem.h"
#include "handlers.h"
#include "lookup.h"
#include "paylink.h"

/* The sections of the body assessed into res, a field error recorded when they are not
 * valid; APP_OK, or with check_now a 400 already sent. */
static int
assess_body(struct request *req, struct cluster_result *res, int check_now)
{
    struct json_object *sections;
    int rc;

    sections = field_array(req, "sections", 1, CLUSTER_MAX_SECTIONS, FIELD_REQUIRED);
    if (sections) {
        rc = personal_plan_assess(&req->ctx, sections, res, &req->err);
        if (rc == APP_EVALIDATION) {
            field_error(req, arena_strdup(req->arena, req->err.field),
                        arena_strdup(req->arena, req->err.msg));
            app_error_clear(&req->err);
        } else if (rc != APP_OK) {
            return rc;
        }
    }
    return check_now ? fields_done(req) : APP_OK;
}

int
personal_assess(struct request *req)
{
    struct cluster_result res;
    struct json_object *d, *plan = NULL;
    int rc;

    rc = assess_body(req, &res, 1);
    if (rc != APP_OK)
        return rc;
    d = cluster_result_json(&res);
    if (req->worker && req->worker->ddb &&
        catalogue_plan(req, res.plan_id, &plan) == APP_OK && plan) {
        json_object_object_add(d, "priceCents", json_object_new_int64(json_int(plan,
                                                                          "amountCents")));
        json_object_object_add(d, "currency", json_object_new_string("AUD"));
        json_object_object_add(d, "durationMonths",
                               json_object_new_int64(json_int(plan, "durationMonths")));
        json_object_put(plan);
    }
    return reply_json(req, 200, d);
}

int
personal_upload(struct request *req)
{
    struct json_object *d, *h, *types;
    struct personal_presigned up;
    const char *type = NULL;
    long long size = 0;
    size_t i;
    int rc;

    field_string(req, "contentType", 1, 64, FIELD_REQUIRED, &type);
    if (type && !personal_report_type_ok(type))
        field_error(req, "contentType", "must be application/pdf, image/png or image/jpeg");
    field_int(req, "size", 1, req->cfg->s3_upload_max_bytes, FIELD_REQUIRED, &size);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = personal_upload_url(&req->ctx, type, size, &up, &req->err);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    json_add_str(d, "planId", up.plan_id);
    h = s3_put_instructions("url", up.url, type, size, up.expires_at);
    json_object_object_add(h, "maxBytes", json_object_new_int64(req->cfg->s3_upload_max_bytes));
    json_object_object_add(d, "upload", h);
    types = json_object_new_array();
    for (i = 0; personal_report_types[i]; i++)
        json_object_array_add(types, json_object_new_string(personal_report_types[i]));
    json_object_object_add(d, "acceptedTypes", types);
    return reply_json(req, 201, d);
}

int
personal_create(struct request *req)
{
    struct personal_plan_created out;
    struct personal_plan_input in;
    struct cluster_result res;
    struct json_object *d;
    int rc;

    memset(&in, 0, sizeof(in));
    field_string(req, "planId", 28, 28, FIELD_REQUIRED, &in.plan_id);
    if (in.plan_id && !id_valid(in.plan_id, "ppl_"))
        field_error(req, "planId", "is not a plan id from /personalized-plans/uploads");
    field_email(req, "email", FIELD_REQUIRED, &in.email);
    field_string(req, "firstName", 1, 100, FIELD_REQUIRED, &in.first_name);
    field_string(req, "lastName", 1, 100, 0, &in.last_name);
    field_campaign(req, PERSONAL_CAMPAIGN);
    in.metadata = field_metadata(req);
    rc = assess_body(req, &res, 0);
    if (rc != APP_OK)
        return rc;
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    json_object_object_get_ex(req->json, "sections", &in.sections);
    in.assessment = &res;
    rc = personal_plan_create(&req->ctx, &in, &out, &req->err);
    if (rc != APP_OK)
        return rc;
    d = cluster_result_json(&res);
    json_add_str(d, "planId", in.plan_id);
    json_add_str(d, "status", "pending");
    json_object_object_add(d, "priceCents", json_object_new_int64(out.price_cents));
    json_add_str(d, "currency", "AUD");
    json_add_str(d, "payUrl", out.made.pay_url);
    json_add_str(d, "viewUrl", out.made.view_url);
    if (out.made.session.id[0]) {
        json_add_str(d, "sessionId", out.made.session.id);
        json_add_str(d, "checkoutUrl", out.made.session.url);
    }
    return reply_json(req, 201, d);
}

static int
load(struct request *req, struct json_object **out)
{
    return record_lookup(req, req->cfg->tbl_personalized_plans, "planId", "ppl_", "plan", out);
}

int
personal_get(struct request *req)
{
    /* Anyone with the id (ids travel in URLs): never the scores. */
    static const char *const public_fields[] = {
        "planId", "status", "firstName", "selectedCluster", "clusterName", "productPlanId",
        "priceCents", "currency", "createdAt", "paidAt", "accessUntil", NULL,
    };
    /* The owner, with the token of the answer to create: the report and its assessment. */
    static const char *const owner_fields[] = { "sections", NULL };
    static const char *const assessed[] = {
        "metrics", "questions", "weakestSection", "reasons", NULL,
    };
    struct json_object *p, *d, *a, *v;
    const char *st;
    size_t i;
    int rc, owner;

    rc = load(req, &p);
    if (rc != APP_OK)
        return rc;
    d = record_view_json(p, req_query(req, "token"), public_fields, owner_fields, &owner);
    for (i = 0; owner && assessed[i]; i++)
        if (json_object_object_get_ex(p, "assessment", &a) &&
            json_object_object_get_ex(a, assessed[i], &v))
            json_object_object_add(d, assessed[i], json_object_get(v));
    st = json_str(p, "status");
    if (st && strcmp(st, "active") == 0 && req->cfg->clusters)
        json_object_object_add(d, "roadmap", cluster_roadmap_json(
            req->cfg->clusters, (int)json_int(p, "selectedCluster")));
    return reply_json(req, 200, d);
}

int
personal_pay(struct request *req)
{
    struct record_link link;
    struct json_object *p;
    int rc;

    rc = load(req, &p);
    if (rc != APP_OK)
        return rc;
    rc = personal_plan_link(&req->ctx, p, &link, &req->err);
    if (rc != APP_OK)
        return rc;
    return paylink_reply(req, &link.pl);
}
