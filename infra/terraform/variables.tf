variable "stage" {
  description = "dev, staging or production"
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.stage)
    error_message = "stage must be dev, staging or production."
  }
}

variable "region" {
  description = "AWS region of every resource"
  type        = string
  default     = "ap-southeast-2"
}

variable "table_prefix" {
  description = "DYNAMODB_TABLE_PREFIX: put before every table's default name (prodenthub-teams ...)"
  type        = string
  default     = ""
}

variable "bucket_name" {
  description = "S3_SCORE_REPORTS_BUCKET: score reports (score-reports/) and uploads (uploads/)"
  type        = string
}

variable "cors_origins" {
  description = "CORS_ALLOWED_ORIGINS: the frontends that upload straight to the bucket"
  type        = list(string)
}

variable "ses_from_email" {
  description = "SES_FROM_EMAIL: the identity mail is sent from"
  type        = string
  default     = "noreply@prodenthub.com.au"
}

variable "ses_events_endpoint" {
  description = "https://<api host>/v1/ses/events: subscribed to the SES events topic (bounces, complaints); \"\" for none"
  type        = string
  default     = ""
}

variable "ai_models" {
  description = "AI_MODELS: the Bedrock model ids the service may invoke"
  type        = list(string)
  default     = ["anthropic.claude-3-haiku-20240307-v1:0"]
}

variable "ssm_path" {
  description = "The stage's SSM Parameter Store path (without a trailing slash); default /prodenthub/<stage>"
  type        = string
  default     = ""
}

variable "app_log_group" {
  description = "CloudWatch log group of prodenthub-fcgi's JSON lines (shipped by the CloudWatch agent)"
  type        = string
  default     = ""
}

variable "access_log_group" {
  description = "CloudWatch log group of nginx's JSON access log"
  type        = string
  default     = ""
}

variable "log_retention_days" {
  description = "Retention of both log groups"
  type        = number
  default     = 30
}

variable "alarm_email" {
  description = "Subscribed to the alarm topic when not empty (confirm the subscription mail)"
  type        = string
  default     = ""
}

variable "cognito" {
  description = "Create the SaaS user pool and its web client (COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID)"
  type        = bool
  default     = true
}

variable "host_subnet_id" {
  description = "A public subnet to run the service's EC2 host in; empty: no host (bring your own)"
  type        = string
  default     = ""
}

variable "host_instance_type" {
  type    = string
  default = "t3.small"
}

variable "host_key_name" {
  description = "EC2 key pair for SSH to the host; empty for none (SSM Session Manager)"
  type        = string
  default     = ""
}

variable "host_ssh_cidrs" {
  description = "IPv4 CIDRs allowed to SSH to the host; empty closes port 22"
  type        = list(string)
  default     = []
}
