/*
 * The whole API on one screen.  Paths are matched segment by segment; {name} matches any
 * one non-empty segment.  404 vs 405 is decided by the dispatcher from this table alone.
 * Keep docs/API.md in step: t/unit/test_router.c checks that they agree.
 * (checksrc: wide table)
 */
#include "config.h"

#include "../handlers/handlers.h"
#include "request.h"
#include "routes.h"

#define KB 1024

const struct route routes[] = {
    /* method pattern                                                    handler                 flags                          max body  name */
    {M_GET,  "/v1/health",                                        health_get,             0,                             0,        "health"},
    {M_GET,  "/v1/ready",                                         ready_get,              0,                             0,        "ready"},
    {M_GET,  "/metrics",                                          metrics_get,            R_METRICS,                     0,        "metrics"},
    {M_GET,  "/v1/plans/{planId}",                                plans_get,              R_DDB,                         0,        "plans.get"},

    {M_POST, "/v1/coupons/validate",                              coupons_validate,       R_JSON_BODY | R_DDB,           4 * KB,   "coupons.validate"},
    {M_POST, "/v1/purchases/create",                              purchases_create,       R_JSON_BODY | R_DDB | R_STRIPE,8 * KB,   "purchases.create"},
    {M_GET,  "/v1/purchases/{purchaseId}",                        purchases_get,          R_DDB,                         0,        "purchases.get"},
    {M_POST, "/v1/checkout/create",                               checkout_create,        R_JSON_BODY | R_DDB,           16 * KB,  "checkout.create"},
    {M_POST, "/v1/checkout/verify",                               checkout_verify,        R_JSON_BODY | R_DDB | R_STRIPE,4 * KB,   "checkout.verify"},
    {M_GET,  "/v1/access-grants",                                 grants_list,            R_ADMIN | R_DDB,               0,        "grants.list"},
    {M_POST, "/v1/webhook/stripe",                                webhook_stripe,         R_RAW_BODY | R_DDB,            64 * KB,  "webhook.stripe"},
    {M_POST, "/v1/stripe/webhook",                                webhook_stripe,         R_RAW_BODY | R_DDB,            64 * KB,  "webhook.stripe"},
    {M_POST, "/v1/ses/events",                                    ses_events,             R_RAW_BODY | R_DDB,            64 * KB,  "ses.events"},

    {M_POST, "/v1/teams/create",                                  teams_create,           R_JSON_BODY | R_DDB | R_STRIPE,8 * KB,   "teams.create"},
    {M_GET,  "/v1/teams/{teamId}",                                teams_get,              R_DDB,                         0,        "teams.get"},
    {M_GET,  "/v1/teams/{teamId}/members/{index}/pay",            teams_pay,              R_DDB | R_STRIPE,              0,        "teams.pay"},
    {M_POST, "/v1/scholarships/calculate",                        scholarships_calculate, R_JSON_BODY,                   4 * KB,   "scholarships.calculate"},
    {M_POST, "/v1/scholarships/apply",                            scholarships_apply,     R_JSON_BODY | R_DDB,           8 * KB,   "scholarships.apply"},
    {M_GET,  "/v1/scholarships/{scholarshipId}",                  scholarships_get,       R_DDB,                         0,        "scholarships.get"},
    {M_GET,  "/v1/scholarships/{scholarshipId}/pay",              scholarships_pay,       R_DDB | R_STRIPE,              0,        "scholarships.pay"},
    {M_POST, "/v1/personalized-plans/assess",                     personal_assess,        R_JSON_BODY,                   16 * KB,  "personal.assess"},
    {M_POST, "/v1/personalized-plans/uploads",                    personal_upload,        R_JSON_BODY | R_S3,            1 * KB,   "personal.upload"},
    {M_POST, "/v1/personalized-plans/create",                     personal_create,        R_JSON_BODY | R_DDB | R_S3,    16 * KB,  "personal.create"},
    {M_GET,  "/v1/personalized-plans/{planId}",                   personal_get,           R_DDB,                         0,        "personal.get"},
    {M_GET,  "/v1/personalized-plans/{planId}/pay",               personal_pay,           R_DDB | R_STRIPE,              0,        "personal.pay"},

    {M_GET,  "/v1/mock-exams",                                    mockexams_list,         R_DDB,                         0,        "mockexams.list"},
    {M_POST, "/v1/mock-exams/register",                           mockexams_register,     R_JSON_BODY | R_DDB,           4 * KB,   "mockexams.register"},
    {M_GET,  "/v1/mock-exams/registrations/{registrationId}/pay", mockexams_pay,          R_DDB | R_STRIPE,              0,        "mockexams.pay"},
    {M_GET,  "/v1/mock-exams/{mockExamId}/stats",                 mockexams_stats,        R_DDB,                         0,        "mockexams.stats"},
    {M_POST, "/v1/mock-exams/{mockExamId}/results",               mockexams_results,      R_ADMIN | R_JSON_BODY | R_DDB, 256 * KB, "mockexams.results"},
    {M_POST, "/v1/mock-exams/{mockExamId}/calculate-stats",       mockexams_calculate,    R_ADMIN | R_DDB,               0,        "mockexams.calculate_stats"},

    {M_POST, "/v1/auth/session",                                  auth_session,           R_AUTH | R_RAW_BODY | R_DDB,   1 * KB,   "auth.session"},
    {M_POST, "/v1/upload/url",                                    upload_url,             R_AUTH | R_JSON_BODY | R_S3,   2 * KB,   "upload.url"},
    {M_POST, "/v1/ai/generate",                                   ai_generate, R_AUTH | R_SUBSCRIBED | R_JSON_BODY | R_DDB | R_BEDROCK, 64 * KB, "ai.generate"},
    {M_GET,  "/v1/ai/history",                                    ai_history,             R_AUTH | R_DDB,                0,        "ai.history"},
    {M_POST, "/v1/stripe/checkout",                               saas_billing_checkout,  R_AUTH | R_JSON_BODY | R_DDB | R_STRIPE, 1 * KB, "stripe.checkout"},
    {M_GET,  "/v1/subscription/status",                           saas_billing_status,    R_AUTH | R_DDB,                0,        "subscription.status"},
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
