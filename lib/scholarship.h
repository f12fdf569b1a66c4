/*
 * The scholarship calculation (docs/CAMPAIGNS.md, Scholarships): pure, from rules kept in
 * data (sql/rules/scholarship.json, SCHOLARSHIP_RULES_FILE).  Points for each circumstance
 * are summed, capped at maxPercent, rounded down to a multiple of stepPercent; below
 * minAwardPercent nothing is awarded.  The price is the catalogue price less that percentage,
 * rounded half up to the cent.
 */
#ifndef PH_SCHOLARSHIP_H
#define PH_SCHOLARSHIP_H

#include <stddef.h>

#include <json-c/json.h>

struct scholarship_rules;

struct scholarship_rules *scholarship_rules_load(const char *path, char *err, size_t errlen);
struct scholarship_rules *scholarship_rules_parse(const char *json, char *err, size_t errlen);
void scholarship_rules_free(struct scholarship_rules *r);

/* The catalogue plan the percentage applies to, e.g. "scholarship-3months". */
const char *scholarship_plan(const struct scholarship_rules *r);

struct scholarship_input {
    char country[3];               /* ISO 3166-1 alpha-2, upper case */
    long attempts;                 /* previous sittings of the exam, 0..20 */
    long last_score;               /* percentage at the last sitting, 0..100; -1: none */
    int hardship;                  /* financial hardship declared */
    long study_hours;              /* hours a week the applicant commits, 0..100 */
};

#define SCHOLARSHIP_MAX_REASONS 8

struct scholarship_reason {
    const char *rule;              /* "income", "hardship", "nearPass", "repeat", "study",
                                    * "cap", "step", "minimum" */
    int points;                    /* percentage points it adds (negative: taken off) */
    char text[200];
};

struct scholarship_result {
    int points;                    /* the sum before cap and steps */
    int percent;                   /* awarded: 0, or minAwardPercent..maxPercent */
    const char *income_group;
    long long full_cents;
    long long discount_cents;
    long long price_cents;         /* full - discount */
    size_t nreasons;
    struct scholarship_reason reasons[SCHOLARSHIP_MAX_REASONS];
};

void scholarship_calculate(const struct scholarship_rules *r,
                           const struct scholarship_input *in, long long full_cents,
                           struct scholarship_result *out);

/* {"percent", "eligible", "points", "incomeGroup", "fullPriceCents", "discountCents",
 *  "priceCents", "reasons": [{"rule", "points", "text"}]} */
struct json_object *scholarship_result_json(const struct scholarship_result *res);

#endif
