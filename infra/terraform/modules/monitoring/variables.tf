variable "name" {
  type = string
}

variable "table_names" {
  type = map(string)
}

variable "app_log_group" {
  description = "prodenthub-fcgi's JSON lines (level, msg)"
  type        = string
}

variable "access_log_group" {
  description = "nginx's ph_json access log (status, uri)"
  type        = string
}

variable "prometheus_log_group" {
  description = "the CloudWatch agent's embedded-metric lines of GET /metrics"
  type        = string
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "alarm_email" {
  type    = string
  default = ""
}
