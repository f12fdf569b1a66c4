/*
 * Every handler, by resource.  Each returns 0 after replying, or a negative app_err with a
 * message in req->err for the dispatcher to reply with.
 */
#ifndef PH_HANDLERS_H
#define PH_HANDLERS_H

struct request;
struct json_object;

/* ai.c */
int ai_generate(struct request *req);
int ai_history(struct request *req);

/* health.c */
int health_get(struct request *req);
int ready_get(struct request *req);

/* metrics.c */
int metrics_get(struct request *req);

/* plans.c */
int plans_get(struct request *req);
int plan_id_valid(const char *id);

/* coupons.c */
int coupons_validate(struct request *req);

/* purchases.c */
int purchases_create(struct request *req);
int purchases_get(struct request *req);

/* ses_events.c */
int ses_events(struct request *req);

/* grants.c */
int grants_list(struct request *req);

/* mockexams.c, mockstats.c */
int mockexams_list(struct request *req);
int mockexams_register(struct request *req);
int mockexams_pay(struct request *req);
int mockexams_results(struct request *req);
int mockexams_calculate(struct request *req);
int mockexams_stats(struct request *req);

/* personal.c */
int personal_assess(struct request *req);
int personal_upload(struct request *req);
int personal_create(struct request *req);
int personal_get(struct request *req);
int personal_pay(struct request *req);

/* scholarships.c */
int scholarships_calculate(struct request *req);
int scholarships_apply(struct request *req);
int scholarships_get(struct request *req);
int scholarships_pay(struct request *req);

/* teams.c */
int teams_create(struct request *req);
int teams_get(struct request *req);
int teams_pay(struct request *req);

/* webhook.c */
int webhook_stripe(struct request *req);

/* account.c: the signed-in user's own routes */
int auth_session(struct request *req);
int upload_url(struct request *req);

/* saas_billing.c */
int saas_billing_checkout(struct request *req);
int saas_billing_status(struct request *req);

/* checkout.c */
int checkout_create(struct request *req);
int checkout_verify(struct request *req);

#endif
