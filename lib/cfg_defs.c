/*
 * Every setting of prodenthub in one table: name, type, default, bounds, where it lives in
 * struct cfg, and its flags (lib/cfg_int.h).  README's settings table lists each one
 * (t/unit/test_apidoc checks it).
 */
#include "config.h"

#include <stddef.h>

#include "cfg.h"
#include "cfg_int.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/prodenthub"
#endif

#define S(n, d, f, fl) {n, CFG_STR, d, 0, 0, offsetof(struct cfg, f), fl}
#define I(n, d, lo, hi, f) {n, CFG_INT, d, lo, hi, offsetof(struct cfg, f), 0}

const struct cfg_def cfg_defs[] = {
    S("STAGE", "dev", stage, 0),
    S("PRODENTHUB_LISTEN", "127.0.0.1:9000", listen, 0),
    {"PRODENTHUB_SOCKET_MODE", CFG_OCTAL, "660", 0, 0777, offsetof(struct cfg, socket_mode), 0},
    I("PRODENTHUB_WORKERS", "0", 0, 256, workers),
    I("PRODENTHUB_BACKLOG", "1024", 16, 65535, backlog),
    I("PRODENTHUB_MAX_BODY", "65536", 1024, 16777216, max_body),
    I("PRODENTHUB_JSON_MAX_DEPTH", "20", 2, 64, json_max_depth),
    I("PRODENTHUB_SHUTDOWN_TIMEOUT", "10", 1, 300, shutdown_timeout),
    I("PRODENTHUB_READY_TIMEOUT_MS", "800", 50, 10000, ready_timeout_ms),
    S("PRODENTHUB_LOG_LEVEL", "info", log_level, 0),
    S("CORS_ALLOWED_ORIGINS", "", cors_origins, CFG_PROD_REQ),
    I("CORS_MAX_AGE", "600", 0, 86400, cors_max_age),
    S("API_BASE_URL", "https://localhost:8443/v1", api_base_url, 0),
    S("FRONTEND_URL", "https://localhost:3000", frontend_url, 0),
    S("PRODENTHUB_ADMIN_TOKEN", "", admin_token, CFG_SECRET),
    S("OUTBOX_KEY", "", outbox_key, CFG_SECRET | CFG_PROD_REQ),

    S("AWS_REGION", "", aws_region, 0),
    S("AWS_DEFAULT_REGION", "", aws_default_region, 0),
    S("AWS_ENDPOINT_URL", "", aws_endpoint_url, 0),
    S("AWS_ENDPOINT_URL_DYNAMODB", "", aws_endpoint_url_dynamodb, 0),
    S("AWS_ACCESS_KEY_ID", "", aws_access_key_id, 0),
    S("AWS_SECRET_ACCESS_KEY", "", aws_secret_access_key, CFG_SECRET),
    S("AWS_SESSION_TOKEN", "", aws_session_token, CFG_SECRET),
    S("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254", imds_endpoint, 0),
    S("AWS_EC2_METADATA_DISABLED", "false", imds_disabled, 0),
    S("AWS_ENDPOINT_URL_SSM", "", aws_endpoint_url_ssm, 0),
    I("SSM_TIMEOUT_MS", "5000", 100, 60000, ssm_timeout_ms),
    I("DYNAMODB_CONNECT_TIMEOUT_MS", "300", 10, 60000, ddb_connect_timeout_ms),
    I("DYNAMODB_TIMEOUT_MS", "3000", 50, 120000, ddb_timeout_ms),
    I("DYNAMODB_MAX_ATTEMPTS", "3", 1, 10, ddb_max_attempts),
    S("DYNAMODB_TEAMS_TABLE", "prodenthub-teams", tbl_teams, CFG_TABLE),
    S("DYNAMODB_SCHOLARSHIPS_TABLE", "prodenthub-scholarships", tbl_scholarships, CFG_TABLE),
    S("DYNAMODB_COUPONS_TABLE", "prodenthub-coupons", tbl_coupons, CFG_TABLE),
    S("DYNAMODB_COUPON_USAGE_TABLE", "prodenthub-coupon-usage", tbl_coupon_usage, CFG_TABLE),
    S("DYNAMODB_DISCOUNT_PURCHASES_TABLE", "prodenthub-discount-purchases",
      tbl_discount_purchases, CFG_TABLE),
    S("DYNAMODB_PERSONALIZED_PLANS_TABLE", "prodenthub-personalized-plans",
      tbl_personalized_plans, CFG_TABLE),
    S("DYNAMODB_MOCK_EXAMS_TABLE", "prodenthub-mock-exams", tbl_mock_exams, CFG_TABLE),
    S("DYNAMODB_MOCK_REGISTRATIONS_TABLE", "prodenthub-mock-registrations",
      tbl_mock_registrations, CFG_TABLE),
    S("DYNAMODB_MOCK_STATISTICS_TABLE", "prodenthub-mock-statistics", tbl_mock_statistics,
      CFG_TABLE),
    S("DYNAMODB_CATALOGUE_TABLE", "prodenthub-catalogue", tbl_catalogue, CFG_TABLE),
    S("DYNAMODB_WEBHOOK_EVENTS_TABLE", "prodenthub-webhook-events", tbl_webhook_events,
      CFG_TABLE),
    S("DYNAMODB_EMAIL_OUTBOX_TABLE", "prodenthub-email-outbox", tbl_email_outbox, CFG_TABLE),
    S("DYNAMODB_EMAIL_SUPPRESSIONS_TABLE", "prodenthub-email-suppressions",
      tbl_email_suppressions, CFG_TABLE),
    S("DYNAMODB_ACCESS_GRANTS_TABLE", "prodenthub-access-grants", tbl_access_grants, CFG_TABLE),
    S("DYNAMODB_PAYMENTS_TABLE", "prodenthub-payments", tbl_payments, CFG_TABLE),
    S("DATABASE_TABLE_NAME", "prodenthub-app", tbl_app, CFG_TABLE),
    S("DYNAMODB_TABLE_PREFIX", "", table_prefix, 0),
    S("S3_SCORE_REPORTS_BUCKET", "prodenthub-score-reports", s3_bucket, 0),
    S("AWS_ENDPOINT_URL_S3", "", aws_endpoint_url_s3, 0),
    S("S3_ADDRESSING_STYLE", "virtual", s3_addressing_style, 0),
    I("S3_UPLOAD_MAX_BYTES", "10485760", 1024, 104857600, s3_upload_max_bytes),
    I("S3_UPLOAD_EXPIRES_S", "600", 60, 3600, s3_upload_expires_s),
    I("S3_TIMEOUT_MS", "5000", 100, 60000, s3_timeout_ms),
    S("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "", aws_endpoint_url_bedrock, 0),
    I("BEDROCK_TIMEOUT_MS", "20000", 100, 25000, bedrock_timeout_ms),
    I("BEDROCK_MAX_ATTEMPTS", "3", 1, 10, bedrock_max_attempts),
    S("AI_MODELS", "anthropic.claude-3-haiku-20240307-v1:0", ai_models, 0),
    I("AI_MONTHLY_REQUESTS", "100", 1, 1000000, ai_monthly_requests),
    I("AI_MAX_PROMPT_BYTES", "8192", 1, 32768, ai_max_prompt_bytes),
    I("AI_MAX_TOKENS", "1024", 1, 8192, ai_max_tokens),
    I("TEAM_PAY_DAYS", "7", 1, 60, team_pay_days),
    I("RETENTION_RECORDS_DAYS", "2557", 1, 36525, retention_records_days),
    I("RETENTION_OUTBOX_DAYS", "30", 1, 3650, retention_outbox_days),
    I("RETENTION_WEBHOOK_EVENTS_DAYS", "30", 4, 3650, retention_webhook_events_days),
    I("RETENTION_STATEMENT_DAYS", "365", 1, 3650, retention_statement_days),
    I("PRODENTHUB_CLOCK_OFFSET_S", "0", -315360000, 315360000, clock_offset_s),
    I("MOCK_REGISTRATION_CLOSE_HOURS", "2", 0, 720, mock_close_hours),
    I("MOCK_REMINDER_LEAD_HOURS", "24", 1, 168, mock_reminder_hours),
    I("MOCK_STATS_MIN_COHORT", "5", 1, 100000, mock_min_cohort),
    I("MOCK_STATS_ORDER_COHORT", "20", 1, 100000, mock_order_cohort),
    I("MOCK_STATS_BAND_WIDTH", "10", 2, 100000, mock_band_width),
    S("SCHOLARSHIP_RULES_FILE", PKGDATADIR "/rules/scholarship.json", scholarship_rules_file, 0),
    S("CLUSTER_RULES_FILE", PKGDATADIR "/rules/clusters.json", cluster_rules_file, 0),
    S("SES_FROM_EMAIL", "noreply@prodenthub.com.au", ses_from, 0),
    S("SES_EVENTS_TOPIC_ARN", "", ses_events_topic_arn, 0),
    S("SNS_ALLOWED_HOSTS", "", sns_allowed_hosts, 0),

    S("EMAIL_TRANSPORT", "smtp", email_transport, 0),
    S("EMAIL_FROM_NAME", "ProDentHub", email_from_name, 0),
    S("EMAIL_TEMPLATE_DIR", PKGDATADIR "/templates", email_template_dir, 0),
    S("SUPPORT_EMAIL", "support@prodenthub.com.au", support_email, 0),
    S("OPS_EMAIL", "", ops_email, 0),
    S("EMAIL_TIMEZONE", "Australia/Sydney", email_timezone, 0),
    S("SMTP_URL", "smtp://127.0.0.1:25", smtp_url, 0),
    S("SMTP_STARTTLS", "required", smtp_starttls, 0),
    S("SMTP_USERNAME", "", smtp_username, 0),
    S("SMTP_PASSWORD", "", smtp_password, CFG_SECRET),
    I("SMTP_TIMEOUT_MS", "15000", 100, 120000, smtp_timeout_ms),
    S("AWS_ENDPOINT_URL_SESV2", "", aws_endpoint_url_sesv2, 0),
    I("OUTBOX_POLL_MS", "2000", 50, 600000, outbox_poll_ms),
    I("OUTBOX_RETRY_BASE_MS", "30000", 10, 3600000, outbox_retry_base_ms),
    I("OUTBOX_MAX_ATTEMPTS", "10", 1, 100, outbox_max_attempts),

    S("MEMCACHED_SERVERS", "127.0.0.1:11211", memcached_servers, 0),
    I("MEMCACHED_TIMEOUT_MS", "100", 5, 10000, memcached_timeout_ms),
    I("MEMCACHED_TTL_S", "300", 1, 86400, memcached_ttl_s),
    I("CACHE_LOCAL_MS", "1000", 0, 10000, cache_local_ms),
    I("COUPON_GUESS_LIMIT", "10", 1, 100000, coupon_guess_limit),
    I("COUPON_GUESS_WINDOW_S", "600", 1, 86400, coupon_guess_window_s),
    I("MAIL_CLIENT_LIMIT", "10", 1, 100000, mail_client_limit),
    I("MAIL_CLIENT_WINDOW_S", "3600", 1, 86400, mail_client_window_s),
    I("MAIL_RECIPIENT_DAILY_LIMIT", "3", 1, 1000, mail_recipient_daily_limit),

    S("STRIPE_SECRET_KEY", "", stripe_secret_key, CFG_SECRET | CFG_PROD_REQ),
    S("STRIPE_WEBHOOK_SECRET", "", stripe_webhook_secret, CFG_SECRET | CFG_PROD_REQ),
    S("STRIPE_API_BASE", "https://api.stripe.com", stripe_api_base, 0),
    S("STRIPE_API_VERSION", "2024-06-20", stripe_api_version, 0),
    I("STRIPE_TIMEOUT_MS", "10000", 100, 80000, stripe_timeout_ms),
    I("STRIPE_MAX_ATTEMPTS", "3", 1, 10, stripe_max_attempts),
    I("STRIPE_WEBHOOK_TOLERANCE_S", "300", 1, 86400, stripe_webhook_tolerance_s),
    S("STRIPE_TEAM_PRODUCT_ID", "", stripe_team_product, 0),
    S("STRIPE_SCHOLARSHIP_PRODUCT_ID", "", stripe_scholarship_product, 0),
    S("STRIPE_CLUSTER1_PRODUCT_ID", "", stripe_cluster1_product, 0),
    S("STRIPE_CLUSTER2_PRODUCT_ID", "", stripe_cluster2_product, 0),
    S("STRIPE_CLUSTER3_PRODUCT_ID", "", stripe_cluster3_product, 0),
    S("STRIPE_CLUSTER4_PRODUCT_ID", "", stripe_cluster4_product, 0),
    S("STRIPE_MOCK_PREMIUM_PRODUCT_ID", "", stripe_mock_premium_product, 0),
    S("STRIPE_SUBSCRIPTION_PRICES", "", stripe_subscription_prices, 0),

    I("COUPON_HOLDS_PER_CLIENT", "10", 1, 100000, coupon_holds_per_client),
    I("COUPON_HOLDS_PER_EMAIL", "3", 1, 20, coupon_holds_per_email),

    S("COGNITO_REGION", "", cognito_region, 0),
    S("COGNITO_USER_POOL_ID", "", cognito_pool_id, 0),
    S("COGNITO_CLIENT_ID", "", cognito_client_id, 0),
    S("COGNITO_ISSUER", "", cognito_issuer, 0),
    S("COGNITO_JWKS_URL", "", cognito_jwks_url, 0),
    I("COGNITO_JWKS_REFETCH_S", "300", 10, 86400, cognito_jwks_refetch_s),
    S("SAAS_UPLOAD_TYPES", "application/pdf,image/png,image/jpeg,image/webp,text/plain,"
      "text/csv", saas_upload_types, 0),
    I("SAAS_UPLOAD_EXPIRES_S", "300", 60, 3600, saas_upload_expires_s),
};

#undef S
#undef I

const size_t cfg_ndefs = sizeof(cfg_defs) / sizeof(cfg_defs[0]);
