/*
 * Scholarships (campaignId "scholarship-application"; rules in docs/CAMPAIGNS.md and
 * sql/rules/scholarship.json): an application is priced by the rules off the catalogue price
 * of their plan, stored as one record ("submitted"), and paid through its own pay link;
 * payment (record.c) approves it, grants access and sends its first email.
 */
#ifndef PH_CAMPAIGN_SCHOLARSHIP_H
#define PH_CAMPAIGN_SCHOLARSHIP_H

#include <json-c/json.h>

#include "../lib/scholarship.h"
#include "record.h"

#define SCHOLARSHIP_CAMPAIGN "scholarship-application"

/* An application, its fields checked (borrowed). */
struct scholarship_application {
    struct scholarship_input circumstances;
    const char *first_name, *last_name, *email;
    const char *statement;         /* NULL: none */
    struct json_object *metadata;  /* the caller's metadata for Checkout, or NULL */
};

struct scholarship_applied {
    struct scholarship_result res; /* filled in on the NOT_ELIGIBLE refusal too */
    char plan_id[72];              /* the catalogue plan discounted */
    struct record_made made;       /* sch_..., its pay link and Checkout Session */
};

/*
 * Apply: the rules on the catalogue price (DynamoDB, not the cache), the record (no email
 * before payment), then its Checkout Session.  Refusals: 422
 * NOT_ELIGIBLE (out->res says why) when the circumstances earn no scholarship.
 */
int scholarship_apply(const struct ctx *c, const struct scholarship_application *in,
                      struct scholarship_applied *out, struct app_error *err);

/* The pay link of the application s (a plain record, held while out is used); 409 once it
 * is paid. */
int scholarship_link(const struct ctx *c, struct json_object *s, struct record_link *out,
                     struct app_error *err);

#endif
