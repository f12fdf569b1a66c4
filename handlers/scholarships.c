/*
 * Scholarships (campaignId "scholarship-application"; rules in docs/CAMPAIGNS.md and
 * sql/rules/scholarship.json):
 *
 *   POST /v1/scholarships/calculate        the percentage, price and reasons; no writes
 *   POST /v1/scholarships/apply            the application stored (submitted) and a
 *                                          Checkout at the price; no email before payment
 *   GET  /v1/scholarships/{id}[?token=]    its status and price (no personal data but the
 *                                          first name); with the owner's token (viewUrl of
 *                                          the answer to apply) also the answers, points and
 *                                          reasons
 *   GET  /v1/scholarships/{id}/pay         the application's Checkout (303), made on demand
 *
 * The price is computed on the server from the rules and the catalogue, never taken from
 * the client (campaign/scholarship.h); payment (the webhook) approves the application and
 * grants access.  calculate is a quote and reads the catalogue through the cache.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "../campaign/scholarship.h"
#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/mem.h"
#include "../lib/scholarship.h"
#include "handlers.h"
#include "lookup.h"
#include "paylink.h"

/* The applicant's circumstances from the body; APP_OK or a 400 already sent. */
static int
circumstances(struct request *req, struct scholarship_input *in, int check_now)
{
    const char *country = NULL;
    long long n;

    memset(in, 0, sizeof(*in));
    in->last_score = -1;
    field_string(req, "country", 2, 2, FIELD_REQUIRED, &country);
    if (country && (!isalpha((unsigned char)country[0]) ||
                    !isalpha((unsigned char)country[1])))
        field_error(req, "country", "must be a two-letter ISO 3166 code");
    else if (country) {
        in->country[0] = (char)toupper((unsigned char)country[0]);
        in->country[1] = (char)toupper((unsigned char)country[1]);
    }
    if (field_int(req, "attempts", 0, 20, FIELD_REQUIRED, &n))
        in->attempts = (long)n;
    if (field_int(req, "lastScore", 0, 100, 0, &n))
        in->last_score = (long)n;
    if (in->attempts > 0 && in->last_score < 0 && json_object_object_get_ex(req->json,
                                                                          "attempts", NULL))
        field_error(req, "lastScore", "is required after an attempt");
    if (in->attempts == 0 && in->last_score >= 0)
        field_error(req, "lastScore", "needs at least one attempt");
    field_bool(req, "financialHardship", FIELD_REQUIRED, &in->hardship);
    if (field_int(req, "studyHoursPerWeek", 0, 100, FIELD_REQUIRED, &n))
        in->study_hours = (long)n;
    return check_now ? fields_done(req) : APP_OK;
}

/* The rules and the price they discount; APP_OK with *plan (the caller puts it). */
static int
rules_and_plan(struct request *req, struct json_object **plan)
{
    const struct scholarship_rules *r = req->cfg->scholarship;

    *plan = NULL;
    if (!r)
        return app_error_set(&req->err, APP_EUNAVAILABLE, "scholarship rules not loaded");
    if (catalogue_plan(req, scholarship_plan(r), plan) != APP_OK)
        return req->err.code ? req->err.code : APP_EUNAVAILABLE;
    if (!*plan)
        return app_error_set(&req->err, APP_ECONFIG, "plan %s not in the catalogue",
                             scholarship_plan(r));
    arena_cleanup(req->arena, json_put_cb, *plan);
    return APP_OK;
}

int
scholarships_calculate(struct request *req)
{
    struct scholarship_result res;
    struct scholarship_input in;
    struct json_object *plan, *d;
    int rc;

    if (circumstances(req, &in, 1) != APP_OK)
        return APP_EVALIDATION;
    rc = rules_and_plan(req, &plan);
    if (rc != APP_OK)
        return rc;
    scholarship_calculate(req->cfg->scholarship, &in, json_int(plan, "amountCents"), &res);
    d = scholarship_result_json(&res);
    json_object_object_add(d, "planId", json_object_new_string(json_str(plan, "planId")));
    json_object_object_add(d, "planName", json_object_new_string(json_str(plan, "name")));
    return reply_json(req, 200, d);
}

int
scholarships_apply(struct request *req)
{
    struct scholarship_application in;
    struct scholarship_applied out;
    struct json_object *d;
    int rc;

    memset(&in, 0, sizeof(in));
    circumstances(req, &in.circumstances, 0);
    field_name(req, "firstName", FIELD_NAME_PART_MAX, FIELD_REQUIRED, &in.first_name);
    field_name(req, "lastName", FIELD_NAME_PART_MAX, FIELD_REQUIRED, &in.last_name);
    field_email(req, "email", FIELD_REQUIRED, &in.email);
    field_string(req, "statement", 1, 2000, FIELD_MULTILINE, &in.statement);
    field_campaign(req, SCHOLARSHIP_CAMPAIGN);
    in.metadata = field_metadata(req);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = scholarship_apply(&req->ctx, &in, &out, &req->err);
    if (rc == APP_EUNPROCESSABLE && req->err.reason &&
        strcmp(req->err.reason, "NOT_ELIGIBLE") == 0) {
        d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("NOT_ELIGIBLE"));
        json_object_object_add(d, "calculation", scholarship_result_json(&out.res));
        return reply_error(req, rc, req->err.msg, d);
    }
    if (rc != APP_OK)
        return rc;
    d = scholarship_result_json(&out.res);
    json_add_str(d, "scholarshipId", out.made.id);
    json_add_str(d, "status", "submitted");
    json_add_str(d, "planId", out.plan_id);
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
    return record_lookup(req, req->cfg->tbl_scholarships, "scholarshipId", "sch_",
                         "scholarship", out);
}

int
scholarships_get(struct request *req)
{
    /* Anyone with the id (ids travel in URLs): never the circumstances. */
    static const char *const public_fields[] = {
        "scholarshipId", "status", "firstName", "percent", "fullPriceCents", "priceCents",
        "currency", "planId", "planName", "createdAt", "paidAt", "accessUntil", NULL,
    };
    /* The owner, with the token of the answer to apply. */
    static const char *const owner_fields[] = {
        "country", "attempts", "lastScore", "financialHardship", "studyHoursPerWeek",
        "statement", "points", "incomeGroup", "reasons", NULL,
    };
    struct json_object *s;
    int rc, owner;

    rc = load(req, &s);
    if (rc != APP_OK)
        return rc;
    return reply_json(req, 200, record_view_json(s, req_query(req, "token"), public_fields,
                                                 owner_fields, &owner));
}

int
scholarships_pay(struct request *req)
{
    struct record_link link;
    struct json_object *s;
    int rc;

    rc = load(req, &s);
    if (rc != APP_OK)
        return rc;
    rc = scholarship_link(&req->ctx, s, &link, &req->err);
    if (rc != APP_OK)
        return rc;
    return paylink_reply(req, &link.pl);
}
