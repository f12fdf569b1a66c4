variable "name" {
  type = string
}

variable "from_email" {
  description = "SES_FROM_EMAIL; its domain is the identity (DKIM records to publish: outputs)"
  type        = string
}

variable "events_endpoint" {
  description = "https://<api host>/v1/ses/events, subscribed to the events topic; \"\" for none"
  type        = string
  default     = ""

  validation {
    condition     = var.events_endpoint == "" || can(regex("^https://[^/]+/v1/ses/events$", var.events_endpoint))
    error_message = "events_endpoint must be https://<host>/v1/ses/events (or empty)."
  }
}
