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
 *   GET  /v1/personalized-plans/{planId}  status, cluster and (once active) the roadmap
 *   GET  /v1/personalized-plans/{planId}/pay   the plan's Checkout (303)
 *
 * The browser uploads straight to S3; the key is ours (score-reports/<planId>/report),
 * never the caller's.  create re-assesses the sections on the server and checks the object
 * with a signed HEAD (present, an allowed type, within the size limit).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/cluster.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "../lib/outbox.h"
#include "../lib/s3.h"
#include "../campaign/campaign.h"
#include "../lib/txn.h"
#include "handlers.h"
#include "lookup.h"
#include "paylink.h"

#define CAMPAIGN "personalized-plan"

static const char *const report_types[] = { "application/pdf", "image/png", "image/jpeg", NULL };

static void
report_key(const char *plan_id, char *out, size_t n)
{
    snprintf(out, n, "score-reports/%s/report", plan_id);
}

static int
type_ok(const char *t)
{
    size_t i;

    for (i = 0; t && report_types[i]; i++)
        if (strcmp(report_types[i], t) == 0)
            return 1;
    return 0;
}

/* The sections of the body assessed; APP_OK, or a 400 already sent. */
static int
assess_body(struct request *req, struct cluster_result *res, int check_now)
{
    struct json_object *sections;
    char err[256];

    if (!req->cfg->clusters)
        return app_error_set(&req->err, APP_EUNAVAILABLE, "cluster rules not loaded");
    sections = field_array(req, "sections", 1, CLUSTER_MAX_SECTIONS, FIELD_REQUIRED);
    if (sections && cluster_assess(req->cfg->clusters, sections, res, err, sizeof(err)) != 0) {
        /* "sections[2].correct: must not exceed answered" → field and reason */
        char *colon = strstr(err, ": ");

        if (colon) {
            *colon = '\0';
            field_error(req, arena_strdup(req->arena, err),
                        arena_strdup(req->arena, colon + 2));
        } else {
            field_error(req, "sections", arena_strdup(req->arena, err));
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
    char id[40], key[96], exp[32];
    const char *type = NULL;
    long long size = 0;
    struct buf url;
    time_t now = req->ctx.now;
    size_t i;
    int rc;

    field_string(req, "contentType", 1, 64, FIELD_REQUIRED, &type);
    if (type && !type_ok(type))
        field_error(req, "contentType", "must be application/pdf, image/png or image/jpeg");
    field_int(req, "size", 1, req->cfg->s3_upload_max_bytes, FIELD_REQUIRED, &size);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    if (id_new(id, sizeof(id), "ppl_") != 0)
        return app_error_set(&req->err, APP_EINTERNAL, "no random bytes");
    report_key(id, key, sizeof(key));
    buf_init(&url, 8192);
    rc = s3_presign_put(req->worker->s3, key, type, size, req->cfg->s3_upload_expires_s, now,
                        &url, &req->err);
    if (rc != APP_OK) {
        buf_free(&url);
        return rc;
    }
    d = json_object_new_object();
    json_object_object_add(d, "planId", json_object_new_string(id));
    h = json_object_new_object();
    json_object_object_add(h, "url", json_object_new_string(url.data));
    json_object_object_add(h, "method", json_object_new_string("PUT"));
    types = json_object_new_object();
    json_object_object_add(types, "Content-Type", json_object_new_string(type));
    json_object_object_add(types, "Content-Length", json_object_new_int64(size));
    json_object_object_add(h, "headers", types);
    time_iso(now + req->cfg->s3_upload_expires_s, exp, sizeof(exp));
    json_object_object_add(h, "expiresAt", json_object_new_string(exp));
    json_object_object_add(h, "maxBytes", json_object_new_int64(req->cfg->s3_upload_max_bytes));
    json_object_object_add(d, "upload", h);
    types = json_object_new_array();
    for (i = 0; report_types[i]; i++)
        json_object_array_add(types, json_object_new_string(report_types[i]));
    json_object_object_add(d, "acceptedTypes", types);
    buf_free(&url);
    return reply_json(req, 201, d);
}

/* The plan's own Checkout at its cluster's price: replied (reply set) or returned. */
static int
pay(struct request *req, struct json_object *p, int reply, struct json_object *metadata,
    const char **sid, const char **url)
{
    char ok[512], cancel[512], id_cluster[16];
    const char *product = "";
    struct paylink pl;
    long long c = json_int(p, "selectedCluster");

    memset(&pl, 0, sizeof(pl));
    snprintf(ok, sizeof(ok), "%s/plans/%s?paid=1", req->cfg->frontend_url, json_str(p, "planId"));
    snprintf(cancel, sizeof(cancel), "%s/plans/%s", req->cfg->frontend_url,
             json_str(p, "planId"));
    snprintf(id_cluster, sizeof(id_cluster), "%lld", c);
    if (c == 1)
        product = req->cfg->stripe_cluster1_product;
    else if (c == 2)
        product = req->cfg->stripe_cluster2_product;
    else if (c == 3)
        product = req->cfg->stripe_cluster3_product;
    else if (c == 4)
        product = req->cfg->stripe_cluster4_product;
    pl.table = req->cfg->tbl_personalized_plans;
    pl.key_name = "planId";
    pl.key = json_str(p, "planId");
    pl.path = "";
    pl.holder = p;
    pl.unpaid_status = "pending";
    pl.amount_cents = json_int(p, "priceCents");
    pl.product_id = product;
    pl.product_name = json_str(p, "productName");
    pl.email = json_str(p, "email");
    pl.campaign = CAMPAIGN;
    pl.meta_keys[0] = "planId";
    pl.meta_vals[0] = pl.key;
    pl.meta_keys[1] = "cluster";
    pl.meta_vals[1] = id_cluster;
    pl.success_url = ok;
    pl.cancel_url = cancel;
    pl.extra_meta = metadata;
    if (reply)
        return paylink_reply(req, &pl);
    return paylink_open(req, &pl, sid, url);
}

static struct json_object *
record(const char *id, const char *email, const char *first, const char *last,
       const struct cluster_result *res, struct json_object *plan, const char *key,
       long long size, const char *ctype, struct json_object *sections, const char *now)
{
    struct json_object *o = json_object_new_object(), *av;

    json_object_object_add(o, "planId", json_object_new_string(id));
    json_object_object_add(o, "campaignId", json_object_new_string(CAMPAIGN));
    json_object_object_add(o, "email", json_object_new_string(email));
    json_object_object_add(o, "firstName", json_object_new_string(first));
    if (last)
        json_object_object_add(o, "lastName", json_object_new_string(last));
    json_object_object_add(o, "selectedCluster", json_object_new_int(res->cluster));
    json_object_object_add(o, "clusterName", json_object_new_string(res->name));
    json_object_object_add(o, "productPlanId", json_object_new_string(res->plan_id));
    json_object_object_add(o, "productName", json_object_new_string(json_str(plan, "name")));
    json_object_object_add(o, "priceCents", json_object_new_int64(json_int(plan, "amountCents")));
    json_object_object_add(o, "currency", json_object_new_string("AUD"));
    json_object_object_add(o, "assessment", cluster_result_json(res));
    json_object_object_add(o, "sections", json_object_get(sections));
    json_object_object_add(o, "scoreReportKey", json_object_new_string(key));
    json_object_object_add(o, "scoreReportBytes", json_object_new_int64(size));
    json_object_object_add(o, "scoreReportType", json_object_new_string(ctype));
    json_object_object_add(o, "status", json_object_new_string("pending"));
    json_object_object_add(o, "createdAt", json_object_new_string(now));
    json_object_object_add(o, "updatedAt", json_object_new_string(now));
    av = ddb_marshal_item(o);
    json_object_put(o);
    return av;
}

int
personal_create(struct request *req)
{
    const char *id = NULL, *email = NULL, *first = NULL, *last = NULL, *checkout = NULL;
    const char *sid = NULL;
    struct json_object *plan = NULL, *sections = NULL, *av, *p, *d, *items, *metadata;
    char key[96], ctype[128], now[32], url[512];
    struct cluster_result res;
    long long size = 0;
    int rc;

    field_string(req, "planId", 28, 28, FIELD_REQUIRED, &id);
    if (id && !id_valid(id, "ppl_"))
        field_error(req, "planId", "is not a plan id from /personalized-plans/uploads");
    field_email(req, "email", FIELD_REQUIRED, &email);
    field_string(req, "firstName", 1, 100, FIELD_REQUIRED, &first);
    field_string(req, "lastName", 1, 100, 0, &last);
    field_campaign(req, CAMPAIGN);
    metadata = field_metadata(req);
    rc = assess_body(req, &res, 0);
    if (rc != APP_OK)
        return rc;
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    report_key(id, key, sizeof(key));
    rc = s3_head(req->worker->s3, key, &size, ctype, sizeof(ctype), &req->err);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(&req->err);
        d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("REPORT_NOT_UPLOADED"));
        return reply_error(req, APP_EUNPROCESSABLE,
                           "Upload the score report before creating the plan", d);
    }
    if (rc != APP_OK)
        return rc;
    if (!type_ok(ctype) || size < 1 || size > req->cfg->s3_upload_max_bytes) {
        d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("REPORT_NOT_ACCEPTED"));
        return reply_error(req, APP_EUNPROCESSABLE,
                           "The uploaded score report is not a PDF, PNG or JPEG of an "
                           "accepted size", d);
    }
    rc = catalogue_plan(req, res.plan_id, &plan);
    if (rc != APP_OK)
        return rc;
    if (!plan)
        return app_error_set(&req->err, APP_ECONFIG, "%s not in the catalogue", res.plan_id);
    arena_cleanup(req->arena, json_put_cb, plan);
    json_object_object_get_ex(req->json, "sections", &sections);
    time_iso(req->ctx.now, now, sizeof(now));
    av = record(id, email, first, last, &res, plan, key, size, ctype, sections, now);
    p = ddb_unmarshal_item(av);
    arena_cleanup(req->arena, json_put_cb, p);
    items = json_object_new_array();
    json_object_array_add(items, txn_put(req->cfg->tbl_personalized_plans, av,
                                         "attribute_not_exists(planId)"));
    rc = txn_run(req->ctx.ddb, items, NULL, &req->err);
    if (rc == APP_ECONDITION)
        return reply_error(req, APP_ECONFLICT, "This plan already exists", NULL);
    if (rc != APP_OK)
        return rc;
    req_log(req, LL_INFO, "personalised plan %s: cluster %d", id, res.cluster);
    if (pay(req, p, 0, metadata, &sid, &checkout) != APP_OK) {
        req_log(req, LL_WARN, "plan %s: no checkout yet: %s", id, req->err.msg);
        app_error_clear(&req->err);
        checkout = sid = NULL;
    }
    d = cluster_result_json(&res);
    json_object_object_add(d, "planId", json_object_new_string(id));
    json_object_object_add(d, "status", json_object_new_string("pending"));
    json_object_object_add(d, "priceCents", json_object_new_int64(json_int(plan, "amountCents")));
    json_object_object_add(d, "currency", json_object_new_string("AUD"));
    snprintf(url, sizeof(url), "%s/personalized-plans/%s/pay", req->cfg->api_base_url, id);
    json_object_object_add(d, "payUrl", json_object_new_string(url));
    if (sid && checkout) {
        json_object_object_add(d, "sessionId", json_object_new_string(sid));
        json_object_object_add(d, "checkoutUrl", json_object_new_string(checkout));
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
    static const char *const fields[] = {
        "planId", "status", "firstName", "selectedCluster", "clusterName", "productPlanId",
        "priceCents", "currency", "createdAt", "paidAt", "accessUntil", NULL,
    };
    struct json_object *p, *d, *v;
    const char *st;
    size_t i;
    int rc;

    rc = load(req, &p);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    for (i = 0; fields[i]; i++)
        if (json_object_object_get_ex(p, fields[i], &v))
            json_object_object_add(d, fields[i], json_object_get(v));
    if (json_object_object_get_ex(p, "assessment", &v) &&
        json_object_object_get_ex(v, "reasons", &v))
        json_object_object_add(d, "reasons", json_object_get(v));
    st = json_str(p, "status");
    if (st && strcmp(st, "active") == 0 && req->cfg->clusters)
        json_object_object_add(d, "roadmap", cluster_roadmap_json(
            req->cfg->clusters, (int)json_int(p, "selectedCluster")));
    return reply_json(req, 200, d);
}

int
personal_pay(struct request *req)
{
    struct json_object *p;
    int rc;

    rc = load(req, &p);
    if (rc != APP_OK)
        return rc;
    if (!json_str(p, "status") || strcmp(json_str(p, "status"), "pending") != 0)
        return reply_error(req, APP_ECONFLICT, "This plan is already paid", NULL);
    return pay(req, p, 1, NULL, NULL, NULL);
}
