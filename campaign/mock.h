/*
 * Mock exams: what the routes (mockexams.c, mockstats.c), fulfilment (mock_fulfil.c) and
 * the tool (reminders, results import) share.  Rules: docs/MOCK_EXAMS.md.
 *
 * Registration status: free → confirmed; premium → pending (seat held) → confirmed when
 * paid, or released when its checkout ends unpaid.  One registration per email and exam:
 * its id is derived from both (reg_ + 24 hex of a SHA-256), so a second one collides.
 */
#ifndef PH_MOCK_H
#define PH_MOCK_H

#include <time.h>

#include <json-c/json.h>

#define MOCK_CAMPAIGN "mock-exam"

struct request;
struct ddb;
struct cfg;
struct app_error;

/* The registration id of email for exam. */
void mock_registration_id(const char *exam_id, const char *email, char out[40]);

/* An exam or a registration, plain (the caller puts it); APP_ENOTFOUND when none. */
int mock_exam_load(struct ddb *ddb, const struct cfg *cfg, const char *id,
                   struct json_object **out, struct app_error *err);
int mock_registration_load(struct ddb *ddb, const struct cfg *cfg, const char *id,
                           struct json_object **out, struct app_error *err);

/*
 * The outbox element of an email about a sitting, with the exam's .ics attached:
 * tmpl "mock-registration" (cause "<reg>#confirmed") or "mock-reminder" ("<reg>#reminder").
 * amount_paid may be NULL (free).  NULL when the calendar file cannot be made.
 */
struct json_object *mock_sitting_mail(const struct cfg *cfg, const char *tmpl,
                                      struct json_object *exam, struct json_object *reg,
                                      const char *amount_paid, time_t now);

/* Apply one imported result (registrationId or email, totalScore, maxScore, passed,
 * sections {name: score}) to its registration.  APP_OK, APP_ENOTFOUND (no confirmed
 * registration), APP_EVALIDATION (message in err), or a DynamoDB error. */
int mock_result_apply(struct ddb *ddb, const struct cfg *cfg, const char *exam_id,
                      struct json_object *row, struct app_error *err);

/* Call fn on every registration of the exam (the mockExamId index, page by page). */
int mock_each_registration(struct ddb *ddb, const struct cfg *cfg, const char *exam_id,
                           int (*fn)(void *, struct json_object *), void *ctx,
                           struct app_error *err);

/* Queue the reminders of exams starting within MOCK_REMINDER_LEAD_HOURS; each confirmed
 * registration is reminded once (the outbox key).  *queued counts new ones. */
int mock_send_reminders(struct ddb *ddb, const struct cfg *cfg, time_t now, int *queued,
                        struct app_error *err);

#endif
