/*
 * Personalized plans (campaignId "personalized-plan"; rules in docs/CAMPAIGNS.md and
 * sql/rules/clusters.json): a score report's sections assessed into one of four clusters,
 * each a catalogue product; the report itself uploaded by the browser straight to S3 under
 * our key (score-reports/<planId>/report); the plan one record ("pending") paid through its
 * own pay link, which payment (record.c) makes "active" with access for the product's months.
 *
 * The functions that would share a route's name are personal_plan_* (the routes of
 * handlers/personal.c are personal_assess, personal_create...).
 */
#ifndef PH_CAMPAIGN_PERSONAL_H
#define PH_CAMPAIGN_PERSONAL_H

#include <json-c/json.h>

#include "../lib/cluster.h"
#include "record.h"

#define PERSONAL_CAMPAIGN "personalized-plan"
#define PERSONAL_URL_MAX 8192

/* The report types S3 takes, NULL-ended; and whether t is one of them. */
extern const char *const personal_report_types[];
int personal_report_type_ok(const char *t);

/*
 * The sections of a score report (a JSON array) assessed into out.  Refusals:
 * APP_EVALIDATION with the field at fault (e.g. "sections[2].correct") and why;
 * APP_EUNAVAILABLE when the cluster rules are not loaded.
 */
int personal_plan_assess(const struct ctx *c, struct json_object *sections,
                         struct cluster_result *out, struct app_error *err);

struct personal_presigned {
    char plan_id[40];              /* ppl_...: the plan the report belongs to */
    char url[PERSONAL_URL_MAX];    /* presigned PUT: a bearer credential, never logged */
    char expires_at[32];           /* ISO time the URL stops working */
};

/* A new plan id and the presigned upload of its report: exactly size bytes of type (one of
 * personal_report_types, size checked by the caller against S3_UPLOAD_MAX_BYTES). */
int personal_upload_url(const struct ctx *c, const char *type, long long size,
                        struct personal_presigned *out, struct app_error *err);

/* A plan to create, its fields checked (borrowed). */
struct personal_plan_input {
    const char *plan_id;           /* from personal_upload_url */
    const char *email, *first_name;
    const char *last_name;         /* NULL: none */
    struct json_object *sections;  /* the report's sections, kept on the record */
    const struct cluster_result *assessment;   /* personal_plan_assess of sections */
    struct json_object *metadata;  /* the caller's metadata for Checkout, or NULL */
};

struct personal_plan_created {
    long long price_cents;         /* the cluster's product, from the catalogue */
    struct record_made made;       /* the plan's id, pay link and Checkout Session */
};

/*
 * Create the plan: its report checked in S3 (a signed HEAD), the cluster's product priced
 * from the catalogue (DynamoDB, not the cache), the record written once, then its Checkout
 * Session.  Refusals: 422 REPORT_NOT_UPLOADED (nothing under the plan's key), 422
 * REPORT_NOT_ACCEPTED (not an accepted type or size), 409 when the plan exists already.
 */
int personal_plan_create(const struct ctx *c, const struct personal_plan_input *in,
                         struct personal_plan_created *out, struct app_error *err);

/* The pay link of the plan p (a plain record, held while out is used); 409 once it is
 * paid. */
int personal_plan_link(const struct ctx *c, struct json_object *p, struct record_link *out,
                       struct app_error *err);

#endif
