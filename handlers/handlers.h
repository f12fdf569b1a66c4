/*
 * Every handler, by resource.  Each returns 0 after replying, or a negative app_err with a
 * message in req->err for the dispatcher to reply with.
 */
#ifndef PH_HANDLERS_H
#define PH_HANDLERS_H

struct request;
struct json_object;

/* health.c */
int health_get(struct request *req);
int ready_get(struct request *req);

/* plans.c */
int plans_get(struct request *req);
int plan_id_valid(const char *id);

/* coupons.c */
int coupons_validate(struct request *req);

/* purchases.c */
int purchases_create(struct request *req);
int purchases_get(struct request *req);

/* grants.c */
int grants_list(struct request *req);

/* mockexams.c, mockstats.c */
int mock_list(struct request *req);
int mock_register(struct request *req);
int mock_pay(struct request *req);
/* A premium seat's Checkout: replied (reply set) or its url returned. */
struct json_object;
int mock_pay_session(struct request *req, struct json_object *reg, int reply,
                     struct json_object *metadata, const char **sid, const char **url);
int mock_results(struct request *req);
int mock_calculate_stats(struct request *req);
int mock_stats(struct request *req);

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

/* checkout.c */
int checkout_create(struct request *req);
int checkout_verify(struct request *req);

#endif
