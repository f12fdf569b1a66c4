/*
 * The marketing report (prodenthubctl report; docs/MONITORING.md "The marketing report"):
 * figures of a period aggregated from the tables' items, plain JSON, one at a time.  Pure:
 * the command scans and feeds, this counts and prints.
 *
 * A record belongs to the period when its createdAt (a payment: its paidAt) is in
 * [since, until) (ISO 8601 text compared as text; either end may be empty: open).
 *
 *   checkouts      per campaign, the records opened in the period (a checkout each; mock
 *                  exams: premium registrations only) and how many of them were paid since
 *                  (paidAt; a team: activatedAt, its last share paid), and the conversion;
 *   payments       succeeded (payments rows, their amount and refunds), and declined
 *                  attempts (records with paymentFailedAt in the period);
 *   coupons        per coupon, its redemptions opened in the period by status (confirmed:
 *                  paid, reserved: checkout open, released: given back);
 *   mock exams     per exam and tier, registrations confirmed and not (pending, released);
 *   scholarships   per percentage granted, applications and paid, and the average.
 */
#ifndef PH_REPORT_H
#define PH_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

enum report_source {
    REPORT_PURCHASES, REPORT_TEAMS, REPORT_SCHOLARSHIPS, REPORT_PLANS, REPORT_MOCK,
    REPORT_PAYMENTS, REPORT_COUPON_USAGE,
};

struct report {
    char since[32], until[32];
    struct json_object *counts;     /* "section\tkey\tkey2\tmetric" -> count */
};

/* 0, or -1 when since or until is neither "" nor YYYY-MM-DD[THH:MM:SSZ]. */
int report_init(struct report *r, const char *since, const char *until);
void report_free(struct report *r);

/* Count one item of a source. */
void report_add(struct report *r, enum report_source src, struct json_object *item);

/* A figure (0 when none), for tests: e.g. ("checkouts", "discount-purchase", "", "paid"). */
long long report_get(const struct report *r, const char *section, const char *key,
                     const char *key2, const char *metric);

/* As tables for people, or as CSV (section,key,key2,metric,value; money in dollars.cents). */
void report_print(const struct report *r, FILE *f, int csv);

#endif
