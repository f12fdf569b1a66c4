/*
 * Configuration: one declarative table (cfg.c) of every setting, its type, default, bounds
 * and flags.  Sources, later wins: built-in defaults, the key=value file, the environment.
 * A secret may also come from a file named by NAME_FILE (for systemd credentials and
 * Docker-style secrets), or from SSM Parameter Store as NAME_SSM (lib/cfg_ssm.h: cfg_load
 * records the names, cfg_resolve_ssm fetches the values).  Secrets are never printed or logged.
 */
#ifndef PH_CFG_H
#define PH_CFG_H

#include <stddef.h>

#include "pricelist.h"          /* pricelist_cfg_check: cfg_load checks the plans on sale */

struct cfg_ssm;
struct cluster_rules;
struct scholarship_rules;

struct cfg {
    /* the service */
    char *stage;
    char *listen;
    long socket_mode;
    long workers;
    long backlog;
    long max_body;
    long json_max_depth;
    long shutdown_timeout;
    long ready_timeout_ms;
    char *log_level;
    char *cors_origins;
    long cors_max_age;
    char *api_base_url;
    char *frontend_url;
    char *admin_token;
    char *outbox_key;          /* 64 hex digits: seals outbox rows' variables (lib/seal.h) */

    /* AWS */
    char region[64];            /* resolved: AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1 */
    char *aws_region;
    char *aws_default_region;
    char *aws_endpoint_url;
    char *aws_endpoint_url_dynamodb;
    char *aws_access_key_id;
    char *aws_secret_access_key;
    char *aws_session_token;
    char *imds_endpoint;
    char *imds_disabled;
    char *aws_endpoint_url_ssm;
    long ssm_timeout_ms;        /* budget of one GetParameter, retries included */
    struct cfg_ssm *ssm;        /* secrets named by NAME_SSM (lib/cfg_ssm.h) */
    size_t nssm;
    long ddb_connect_timeout_ms;
    long ddb_timeout_ms;
    long ddb_max_attempts;
    char *tbl_teams;
    char *tbl_scholarships;
    char *tbl_coupons;
    char *tbl_coupon_usage;
    char *tbl_discount_purchases;
    char *tbl_personalized_plans;
    char *tbl_mock_exams;
    char *tbl_mock_registrations;
    char *tbl_mock_statistics;
    char *tbl_catalogue;
    char *tbl_webhook_events;
    char *tbl_email_outbox;
    char *tbl_email_suppressions;
    char *tbl_access_grants;
    char *tbl_app;
    char *tbl_payments;
    char *table_prefix;
    char *s3_bucket;
    char *aws_endpoint_url_s3;
    char *s3_addressing_style;  /* virtual | path */
    long s3_upload_max_bytes;
    long s3_upload_expires_s;
    long s3_timeout_ms;
    char *aws_endpoint_url_bedrock;   /* Bedrock Runtime (lib/bedrock.h) */
    long bedrock_timeout_ms;
    long bedrock_max_attempts;
    char *ai_models;            /* allow-list, comma-separated; the first is the default */
    long ai_monthly_requests;   /* per user and calendar month (UTC) */
    long ai_max_prompt_bytes;
    long ai_max_tokens;         /* Converse's inferenceConfig.maxTokens */
    long team_pay_days;
    long retention_records_days;
    long retention_outbox_days;
    long retention_webhook_events_days;
    long retention_statement_days;
    long clock_offset_s;        /* tests only: added to the clock (struct ctx's now) */
    long mock_close_hours;
    long mock_reminder_hours;
    long mock_min_cohort;
    long mock_order_cohort;     /* order statistics and the pass rate from this many results */
    long mock_band_width;       /* statistics histogram bands, points (even; odd: one more) */
    char *scholarship_rules_file;
    struct scholarship_rules *scholarship;   /* cfg_load_rules(); NULL until then */
    char *cluster_rules_file;
    struct cluster_rules *clusters;          /* cfg_load_rules(); NULL until then */
    char *ses_from;
    char *ses_events_topic_arn;       /* SNS topics POST /v1/ses/events accepts */
    char *sns_allowed_hosts;          /* hosts of SigningCertURL / SubscribeURL */

    /* email */
    char *email_transport;      /* smtp | ses */
    char *email_from_name;
    char *email_template_dir;
    char *support_email;
    char *ops_email;
    char *email_timezone;
    char *smtp_url;
    char *smtp_starttls;        /* none | try | required */
    char *smtp_username;
    char *smtp_password;
    long smtp_timeout_ms;
    char *aws_endpoint_url_sesv2;
    long outbox_poll_ms;
    long outbox_retry_base_ms;
    long outbox_max_attempts;

    /* memcached */
    char *memcached_servers;
    long memcached_timeout_ms;
    long memcached_ttl_s;
    long cache_local_ms;
    long coupon_guess_limit;
    long coupon_guess_window_s;
    long mail_client_limit;        /* requests a client may make per window that email */
    long mail_client_window_s;
    long mail_recipient_daily_limit; /* emails of unpaid requests an address gets a day */

    /* Stripe */
    char *stripe_secret_key;
    char *stripe_webhook_secret;
    char *stripe_api_base;
    char *stripe_api_version;
    long stripe_timeout_ms;
    long stripe_webhook_tolerance_s;
    long stripe_max_attempts;
    char *stripe_team_product;
    char *stripe_scholarship_product;
    char *stripe_cluster1_product;
    char *stripe_cluster2_product;
    char *stripe_cluster3_product;
    char *stripe_cluster4_product;
    char *stripe_mock_premium_product;
    char *stripe_subscription_prices;  /* lib/pricelist.h: the SaaS plans on sale */

    /* Coupon holds (campaign/purchase.h): per client address (memcached, fails open) and
     * per email (DynamoDB; at most RESERVATION_HOLDS_MAX) */
    long coupon_holds_per_client;
    long coupon_holds_per_email;

    /* Cognito (lib/cognito.h): the user pool whose tokens the SaaS routes accept */
    char *cognito_region;
    char *cognito_pool_id;
    char *cognito_client_id;       /* comma-separated app client ids */
    char *cognito_issuer;          /* the setting; cognito_iss is the resolved issuer */
    char *cognito_jwks_url;
    long cognito_jwks_refetch_s;
    char cognito_iss[256];         /* "" when sign-in is off */
    char cognito_jwks[512];
    char *saas_upload_types;       /* content types signed-in users may upload */
    long saas_upload_expires_s;
};

/*
 * Load defaults, then path (NULL: none; a missing file is an error only if required), then
 * the environment; then check.  On failure returns -1 with a message naming the setting
 * (and file:line) in err, and leaves *out freed.
 */
int cfg_load(struct cfg *out, const char *path, int path_required, char *err, size_t errlen);
void cfg_free(struct cfg *c);

/*
 * Load the rule files the settings name (scholarships, clusters), checking them: the daemon
 * does it at start, for -t and on reload, so a bad file is refused before any worker sees
 * it.  Tools and tests that need no rules skip it.  -1 with a message naming the file on failure.
 */
int cfg_load_rules(struct cfg *c, char *err, size_t errlen);

/* Check the settings' values (cfg_load does; cfg_resolve_ssm again once secrets are in). */
int cfg_check(struct cfg *c, char *err, size_t errlen);

/* Write every setting as NAME=value lines, secrets as "(set, hidden)" (and their parameter
 * when read from SSM). */
void cfg_dump(const struct cfg *c, int fd);

/* The value of the string setting called name (e.g. "DYNAMODB_COUPONS_TABLE"), or NULL. */
const char *cfg_string(const struct cfg *c, const char *name);

/* The name of the i-th setting, NULL past the last: for docs checks. */
const char *cfg_setting_name(size_t i);

/* Effective values derived from several settings. */
const char *cfg_region(const struct cfg *c);
int cfg_is_production(const struct cfg *c);

#endif
