output "table_names" {
  description = "Table names by file of sql/tables/ (what DYNAMODB_*_TABLE resolve to with the prefix)"
  value       = module.dynamodb_tables.table_names
}

output "bucket" {
  value = module.bucket.name
}

output "instance_profile" {
  description = "For the instance running prodenthub-fcgi"
  value       = module.iam.instance_profile_name
}

output "operator_role_arn" {
  description = "Assumed to run prodenthubctl"
  value       = module.iam.operator_role_arn
}

output "ses_configuration_set" {
  value = module.ses.configuration_set_name
}

output "ses_events_topic_arn" {
  description = "SES_EVENTS_TOPIC_ARN: the topic POST /v1/ses/events accepts"
  value       = module.ses.events_topic_arn
}

output "alarm_topic_arn" {
  value = module.monitoring.alarm_topic_arn
}

output "log_groups" {
  value = module.monitoring.log_groups
}

output "cognito" {
  description = "COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID (empty without var.cognito)"
  value = {
    user_pool_id = one(module.cognito[*].user_pool_id)
    client_id    = one(module.cognito[*].client_id)
  }
}

output "host_public_ip" {
  description = "The host's fixed address, for the API's DNS record (null without a host)"
  value       = one(module.host[*].public_ip)
}

output "ses_dkim_tokens" {
  description = "Publish each as a CNAME: <token>._domainkey.<domain> -> <token>.dkim.amazonses.com"
  value       = module.ses.dkim_tokens
}
