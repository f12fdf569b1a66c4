/*
 * Scholarships (campaignId "scholarship-application"; rules in docs/CAMPAIGNS.md and
 * sql/rules/scholarship.json):
 *
 *   POST /v1/scholarships/calculate        the percentage, price and reasons; no writes
 *   POST /v1/scholarships/apply            the application stored (submitted), the "received"
 *                                          email queued with it, and a Checkout at the price
 *   GET  /v1/scholarships/{id}             its status and price (no personal data but the
 *                                          first name)
 *   GET  /v1/scholarships/{id}/pay         the application's Checkout (303), made on demand
 *
 * The price is computed on the server from the rules and the catalogue, never taken from
 * the client; payment (the webhook) approves the application and grants access.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "../lib/outbox.h"
#include "../lib/scholarship.h"
#include "../campaign/campaign.h"
#include "../lib/txn.h"
#include "handlers.h"
#include "lookup.h"
#include "paylink.h"

#define CAMPAIGN "scholarship-application"

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

struct applicant {
    const char *first, *last, *email, *statement;
};

static struct json_object *
item(const char *id, const struct applicant *a, const struct scholarship_input *in,
     const struct scholarship_result *res, struct json_object *plan, const char *now)
{
    struct json_object *o = json_object_new_object(), *reasons, *av;
    size_t i;

    json_object_object_add(o, "scholarshipId", json_object_new_string(id));
    json_object_object_add(o, "campaignId", json_object_new_string(CAMPAIGN));
    json_add_str(o, "email", a->email);
    json_add_str(o, "firstName", a->first);
    json_add_str(o, "lastName", a->last);
    if (a->statement)
        json_add_str(o, "statement", a->statement);
    json_add_str(o, "country", in->country);
    json_object_object_add(o, "attempts", json_object_new_int64(in->attempts));
    if (in->last_score >= 0)
        json_object_object_add(o, "lastScore", json_object_new_int64(in->last_score));
    json_object_object_add(o, "financialHardship", json_object_new_boolean(in->hardship));
    json_object_object_add(o, "studyHoursPerWeek", json_object_new_int64(in->study_hours));
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
    json_add_str(o, "status", "submitted");
    json_add_str(o, "createdAt", now);
    json_add_str(o, "updatedAt", now);
    av = ddb_marshal_item(o);
    json_object_put(o);
    return av;
}

static struct json_object *
received_mail(struct request *req, const char *id, const struct applicant *a,
              const struct scholarship_result *res, struct json_object *plan, time_t now)
{
    struct json_object *vars = json_object_new_object(), *l = json_object_new_array(), *x, *w;
    struct outbox_mail m;
    char pct[16], url[512], cause[64];
    size_t i;

    json_add_str(vars, "applicantName", a->first);
    json_add_str(vars, "scholarshipId", id);
    snprintf(pct, sizeof(pct), "%d", res->percent);
    json_add_str(vars, "percentage", pct);
    fmt_money_add(vars, "price", res->price_cents, "aud");
    fmt_money_add(vars, "fullPrice", res->full_cents, "aud");
    json_add_str(vars, "planName", json_str(plan, "name"));
    snprintf(url, sizeof(url), "%s/scholarships/%s/pay", req->cfg->api_base_url, id);
    json_add_str(vars, "payUrl", url);
    for (i = 0; i < res->nreasons; i++) {
        x = json_object_new_object();
        json_add_str(x, "text", res->reasons[i].text);
        json_object_array_add(l, x);
    }
    json_object_object_add(vars, "reasons", l);
    snprintf(cause, sizeof(cause), "%s#submitted", id);
    memset(&m, 0, sizeof(m));
    m.cause = cause;
    m.tmpl = "scholarship-received";
    m.to = a->email;
    m.to_name = a->first;
    m.vars = vars;
    w = outbox_txn_put(req->cfg, &m, now);
    json_object_put(vars);
    return w;
}

/* The application's own Checkout at the computed price: replied (reply set) or returned. */
static int
pay(struct request *req, struct json_object *s, int reply, struct json_object *metadata,
    const char **sid, const char **url)
{
    char ok[512], cancel[512], name[300];
    struct paylink pl;

    memset(&pl, 0, sizeof(pl));
    snprintf(name, sizeof(name), "%s (%lld%% scholarship)", json_str(s, "planName"),
             json_int(s, "percent"));
    snprintf(ok, sizeof(ok), "%s/scholarships/%s?paid=1", req->cfg->frontend_url,
             json_str(s, "scholarshipId"));
    snprintf(cancel, sizeof(cancel), "%s/scholarships/%s", req->cfg->frontend_url,
             json_str(s, "scholarshipId"));
    pl.table = req->cfg->tbl_scholarships;
    pl.key_name = "scholarshipId";
    pl.key = json_str(s, "scholarshipId");
    pl.path = "";
    pl.holder = s;
    pl.unpaid_status = "submitted";
    pl.amount_cents = json_int(s, "priceCents");
    pl.product_id = req->cfg->stripe_scholarship_product;
    pl.product_name = name;
    pl.email = json_str(s, "email");
    pl.campaign = CAMPAIGN;
    pl.meta_keys[0] = "scholarshipId";
    pl.meta_vals[0] = pl.key;
    pl.success_url = ok;
    pl.cancel_url = cancel;
    pl.extra_meta = metadata;
    if (reply)
        return paylink_reply(req, &pl);
    return paylink_open(req, &pl, sid, url);
}

int
scholarships_apply(struct request *req)
{
    struct json_object *plan, *items, *av, *d, *s, *metadata;
    struct scholarship_result res;
    struct scholarship_input in;
    struct applicant a;
    char id[40], now[32], url[512];
    const char *checkout, *sid;
    time_t t = req->ctx.now;
    int rc;

    memset(&a, 0, sizeof(a));
    circumstances(req, &in, 0);
    field_string(req, "firstName", 1, 100, FIELD_REQUIRED, &a.first);
    field_string(req, "lastName", 1, 100, FIELD_REQUIRED, &a.last);
    field_email(req, "email", FIELD_REQUIRED, &a.email);
    field_string(req, "statement", 1, 2000, FIELD_MULTILINE, &a.statement);
    field_campaign(req, CAMPAIGN);
    metadata = field_metadata(req);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = rules_and_plan(req, &plan);
    if (rc != APP_OK)
        return rc;
    scholarship_calculate(req->cfg->scholarship, &in, json_int(plan, "amountCents"), &res);
    if (res.percent == 0) {
        d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string("NOT_ELIGIBLE"));
        json_object_object_add(d, "calculation", scholarship_result_json(&res));
        return reply_error(req, APP_EUNPROCESSABLE,
                           "These circumstances do not qualify for a scholarship", d);
    }
    if (id_new(id, sizeof(id), "sch_") != 0)
        return app_error_set(&req->err, APP_EINTERNAL, "no random bytes");
    time_iso(t, now, sizeof(now));
    av = item(id, &a, &in, &res, plan, now);
    s = ddb_unmarshal_item(av);                  /* the plain record, for the pay link */
    arena_cleanup(req->arena, json_put_cb, s);
    items = json_object_new_array();
    json_object_array_add(items, txn_put(req->cfg->tbl_scholarships, av,
                                         "attribute_not_exists(scholarshipId)"));
    json_object_array_add(items, received_mail(req, id, &a, &res, plan, t));
    rc = txn_run(req->ctx.ddb, items, NULL, &req->err);
    if (rc != APP_OK)
        return rc == APP_ECONDITION ? app_error_set(&req->err, APP_EINTERNAL, "id clash") : rc;
    req_log(req, LL_INFO, "scholarship %s submitted: %d%%, %lld cents", id, res.percent,
            res.price_cents);
    /* The application exists whatever Checkout says now: without a session the answer
     * still carries the pay link, which makes one when opened. */
    checkout = sid = NULL;
    if (pay(req, s, 0, metadata, &sid, &checkout) != APP_OK) {
        req_log(req, LL_WARN, "scholarship %s: no checkout yet: %s", id, req->err.msg);
        app_error_clear(&req->err);
        checkout = sid = NULL;
    }
    d = scholarship_result_json(&res);
    json_object_object_add(d, "scholarshipId", json_object_new_string(id));
    json_object_object_add(d, "status", json_object_new_string("submitted"));
    json_object_object_add(d, "planId", json_object_new_string(json_str(plan, "planId")));
    snprintf(url, sizeof(url), "%s/scholarships/%s/pay", req->cfg->api_base_url, id);
    json_object_object_add(d, "payUrl", json_object_new_string(url));
    if (sid && checkout) {
        json_add_str(d, "sessionId", sid);
        json_add_str(d, "checkoutUrl", checkout);
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
    static const char *const fields[] = {
        "scholarshipId", "status", "firstName", "percent", "fullPriceCents", "priceCents",
        "currency", "planId", "planName", "reasons", "createdAt", "paidAt", "accessUntil",
        NULL,
    };
    struct json_object *s, *d, *v;
    size_t i;
    int rc;

    rc = load(req, &s);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    for (i = 0; fields[i]; i++)
        if (json_object_object_get_ex(s, fields[i], &v))
            json_object_object_add(d, fields[i], json_object_get(v));
    return reply_json(req, 200, d);
}

int
scholarships_pay(struct request *req)
{
    struct json_object *s;
    int rc;

    rc = load(req, &s);
    if (rc != APP_OK)
        return rc;
    if (!json_str(s, "status") || strcmp(json_str(s, "status"), "submitted") != 0)
        return reply_error(req, APP_ECONFLICT, "This application is already paid", NULL);
    return pay(req, s, 1, NULL, NULL, NULL);
}
