/*
 * Mock exams: what the routes (handlers/mockexams.c, mockstats.c), fulfilment
 * (mock_fulfil.c) and the tool (reminders, results import) share, and what the routes do
 * (mock_register.c: seats and their checkout; mock_results.c: results and statistics).
 * Rules: docs/MOCK_EXAMS.md.
 *
 * Registration status: free → confirmed; premium → pending (seat held) → confirmed when
 * paid, or released when its checkout ends unpaid.  A registration's id is random (id_new):
 * it is the whole credential of the exam's access and results links.  One registration per
 * email and exam is a guard item of the same table (MOCK_GUARD_PREFIX, the exam and a
 * SHA-256 of the email), put with the seat and deleted with its release.  Registrations made
 * before carry an id derived from exam and email (mock_legacy_registration_id): they keep
 * their id, and a new seat is refused while one of them holds the address.
 */
#ifndef PH_MOCK_H
#define PH_MOCK_H

#include <time.h>

#include <json-c/json.h>

#include "paylink.h"

#define MOCK_CAMPAIGN "mock-exam"
#define MOCK_RESULTS_MAX 1000          /* rows of one import */

struct ctx;
struct ddb;
struct cfg;
struct app_error;

#define MOCK_GUARD_PREFIX "GUARD#"
#define MOCK_GUARD_MAX 160             /* GUARD#<exam id, at most 64>#<64 hex> */

/* The id a registration of email for exam had before ids were random (reg_ + 24 hex of an
 * unkeyed SHA-256 of "exam\nemail"): only to find those registrations, never to make one. */
void mock_legacy_registration_id(const char *exam_id, const char *email, char out[40]);
/* The key of the guard item that holds email's one registration for exam. */
void mock_guard_key(const char *exam_id, const char *email, char out[MOCK_GUARD_MAX]);
/* The registration id that holds email's seat for exam into out: the guard's, else the
 * old-style id (which may name no registration).  Reads only. */
int mock_registration_find(struct ddb *ddb, const struct cfg *cfg, const char *exam_id,
                           const char *email, char out[40], struct app_error *err);
/* Transaction elements of the guard: put for registration rid (the address free), and
 * deleted (when held by rid, or absent as for an old-style seat). */
struct json_object *mock_guard_put_txn(const struct cfg *cfg, const char *exam_id,
                                       const char *email, const char *rid, const char *now);
struct json_object *mock_guard_delete_txn(const struct cfg *cfg, const char *exam_id,
                                          const char *email, const char *rid);
/* The seat's check on an old-style registration of the same address: none, or released. */
struct json_object *mock_legacy_check_txn(const struct cfg *cfg, const char *exam_id,
                                          const char *email);

/* An exam or a registration, plain (the caller puts it); APP_ENOTFOUND when none. */
int mock_exam_load(struct ddb *ddb, const struct cfg *cfg, const char *id,
                   struct json_object **out, struct app_error *err);
/* The exam a route names: as mock_exam_load, APP_ENOTFOUND saying "no such mock exam". */
int mock_exam_find(const struct ctx *c, const char *id, struct json_object **out,
                   struct app_error *err);
int mock_registration_load(struct ddb *ddb, const struct cfg *cfg, const char *id,
                           struct json_object **out, struct app_error *err);

/*
 * The outbox element of an email about a sitting, with the exam's .ics attached:
 * tmpl "mock-registration" or "mock-reminder", its cause "<reg>#<tag>" ("confirmed",
 * "reminder", "resent#<hour>"), so each tag mails once.  amount_paid may be NULL (free).
 * NULL when the calendar file cannot be made.
 */
struct json_object *mock_sitting_mail(const struct cfg *cfg, const char *tmpl, const char *tag,
                                      struct json_object *exam, struct json_object *reg,
                                      const char *amount_paid, time_t now);

/* 1 when key may stand in an imported result row (the members mock_result_apply reads). */
int mock_result_key(const char *key);

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

/* --- the routes' work (mock_register.c) ----------------------------------------------- */

/* POST /v1/mock-exams/register, its fields checked (pointers borrowed). */
struct mock_register_input {
    const char *exam_id;
    const char *email;             /* lower-cased */
    const char *first_name;
    const char *last_name;         /* or NULL */
    struct json_object *metadata;  /* the caller's Stripe metadata, or NULL */
};

struct mock_registered {
    char registration_id[40];      /* the new seat's; "" on a refusal */
    int premium;                   /* 0: confirmed now; 1: pending until paid */
    char exam_date[64];
    long long price_cents;         /* premium: what the seat costs */
    struct paylink_out session;    /* premium: its Checkout, open now */
};

/* Upcoming exams in date order (mock_listing.c): limit of them after start (a cursor's
 * ExclusiveStartKey, NULL for the first page, served from the cache) as plain objects into
 * *exams, and the key to go on from into *last (NULL at the end). */
#define MOCK_PAGE_MAX 50
#define MOCK_LISTING_TTL 5             /* seconds the cached first page lives */
int mock_listing(const struct ctx *c, long limit, struct json_object *start,
                 struct json_object **exams, struct json_object **last,
                 struct app_error *err);
/* After a transaction that may take or give back a seat: rc unchanged, and when it
 * succeeded the cached first page is dropped. */
int mock_seats_changed(const struct ctx *c, int rc);

/*
 * A seat for in->email, in one transaction with the exam's seatsTaken (below capacity, the
 * exam scheduled and still open for registration), the address's guard (free) and the new
 * registration under a random id: free → confirmed with its email (and .ics) queued;
 * premium (price from the catalogue) → pending, its Checkout Session opened.  Refusals:
 * APP_ENOTFOUND (no such exam), reasons ALREADY_REGISTERED and EXAM_FULL (409),
 * REGISTRATION_CLOSED (422).  ALREADY_REGISTERED names no registration: a confirmed one's
 * email goes again to its address instead, at most once per registration and clock hour.
 * Stripe failing after the seat was taken: the seat is given back and APP_EUPSTREAM.
 */
int mock_register(const struct ctx *c, const struct mock_register_input *in,
                  struct mock_registered *out, struct app_error *err);

/* A pending seat's Checkout (the pay link): APP_ENOTFOUND, or 409 when the seat is not
 * waiting for payment. */
int mock_pay(const struct ctx *c, const char *registration_id, struct paylink_out *out,
             struct app_error *err);

/* Give a held (pending) seat of reg back to its exam: the registration released, its guard
 * deleted and seatsTaken down by one, in one transaction; APP_ECONDITION when it was not
 * pending, or (session not NULL) when it no longer names that Checkout Session. */
int mock_seat_release(const struct ctx *c, struct json_object *reg, const char *session,
                      struct app_error *err);

/* --- results and statistics (mock_results.c) ----------------------------------------- */

struct mock_imported {
    int imported;
    /* The caller puts both (either may be NULL). */
    struct json_object *refused;   /* [{index, error}] of the rows not applied */
    struct json_object *fields;    /* on a refusal of the whole import: {"results[i].x": why}
                                    * for every member no row may hold */
};

/*
 * POST /v1/mock-exams/{id}/results: rows (an array of up to MOCK_RESULTS_MAX, borrowed)
 * onto their registrations, each on its own (a row that is not valid or names no confirmed
 * seat is listed in refused).  A row with a member no result has refuses the whole import
 * before anything is written: APP_EVALIDATION, the first such member in err's field and
 * all of them in out->fields.  APP_ENOTFOUND: no such exam.
 */
int mock_results_import(const struct ctx *c, const char *exam_id, struct json_object *rows,
                        struct mock_imported *out, struct app_error *err);

/*
 * POST /v1/mock-exams/{id}/calculate-stats: the statistics of the confirmed results under
 * lib/stats.h's rule.  A new snapshot is published (conditionally on the one it replaces)
 * only when the cohort holds cfg->mock_min_cohort more results than the published one;
 * otherwise that one is kept, or with none published a count-only item is stored.  Each
 * candidate of a published or kept snapshot without one gets the results email (once ever).
 * *out is the snapshot in force with outcome, resultCount, newResults, minimumCohort and
 * emailsQueued, the caller's.  APP_ENOTFOUND: no such exam; APP_EUNPROCESSABLE: no results
 * imported; APP_ECONFLICT: other runs kept replacing the snapshot.
 */
int mock_stats_calculate(const struct ctx *c, const char *exam_id, struct json_object **out,
                         struct app_error *err);

#endif
