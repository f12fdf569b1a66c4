locals {
  name             = "prodenthub-${var.stage}"
  ssm_path         = var.ssm_path != "" ? var.ssm_path : "/prodenthub/${var.stage}"
  app_log_group    = var.app_log_group != "" ? var.app_log_group : "/prodenthub/${var.stage}/fcgi"
  access_log_group = var.access_log_group != "" ? var.access_log_group : "/prodenthub/${var.stage}/nginx-access"
  prom_log_group   = "/prodenthub/${var.stage}/prometheus"
}

# Every table of sql/tables/, named as the service names them: the prefix, then the default.
module "dynamodb_tables" {
  source       = "./modules/dynamodb_tables"
  table_prefix = var.table_prefix
}

# One bucket, as the code has it today: score reports under score-reports/ and the signed-in
# users' uploads under uploads/ (S3_SCORE_REPORTS_BUCKET for both), with per-prefix expiry.
module "bucket" {
  source       = "./modules/s3_bucket"
  bucket_name  = var.bucket_name
  cors_origins = var.cors_origins
  prefixes     = ["score-reports/", "uploads/"]
  expire_days  = 90
}

module "ses" {
  source          = "./modules/ses"
  name            = local.name
  from_email      = var.ses_from_email
  events_endpoint = var.ses_events_endpoint
}

module "iam" {
  source            = "./modules/iam"
  name              = local.name
  region            = var.region
  table_arns        = module.dynamodb_tables.table_arns
  bucket_arn        = module.bucket.arn
  bucket_prefixes   = ["score-reports/", "uploads/"]
  ses_identity_arn  = module.ses.identity_arn
  ses_configset_arn = module.ses.configuration_set_arn
  ai_models         = var.ai_models
  ssm_path          = local.ssm_path
  log_group_arns    = module.monitoring.log_group_arns
}

module "monitoring" {
  source               = "./modules/monitoring"
  name                 = local.name
  table_names          = module.dynamodb_tables.table_names
  app_log_group        = local.app_log_group
  access_log_group     = local.access_log_group
  prometheus_log_group = local.prom_log_group
  log_retention_days   = var.log_retention_days
  alarm_email          = var.alarm_email
}

# The SaaS half's users (COGNITO_*); off for a campaigns-only stage.
module "cognito" {
  source              = "./modules/cognito"
  count               = var.cognito ? 1 : 0
  name                = local.name
  deletion_protection = var.stage == "production"
}

# The machine, when this stack should make it (not on a VPS or an instance made elsewhere).
module "host" {
  source           = "./modules/host"
  count            = var.host_subnet_id != "" ? 1 : 0
  name             = local.name
  subnet_id        = var.host_subnet_id
  instance_profile = module.iam.instance_profile_name
  instance_type    = var.host_instance_type
  key_name         = var.host_key_name
  ssh_cidrs        = var.host_ssh_cidrs
}
