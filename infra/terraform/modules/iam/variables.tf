variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "table_arns" {
  description = "The tables' ARNs and their indexes' (ARN/index/*)"
  type        = list(string)
}

variable "bucket_arn" {
  type = string
}

variable "bucket_prefixes" {
  type = list(string)
}

variable "ses_identity_arn" {
  type = string
}

variable "ses_configset_arn" {
  type = string
}

variable "ai_models" {
  type = list(string)
}

variable "ssm_path" {
  type = string
}

variable "log_group_arns" {
  description = "The log groups the CloudWatch agent on the instance writes to"
  type        = list(string)
}

variable "operator_principals" {
  description = "Who may assume the operator role (default: the account, through its own IAM policies)"
  type        = list(string)
  default     = []
}
