variable "name" {
  type = string
}

variable "from_email" {
  description = "SES_FROM_EMAIL; its domain is the identity (DKIM records to publish: outputs)"
  type        = string
}
