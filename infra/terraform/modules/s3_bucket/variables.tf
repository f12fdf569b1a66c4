variable "bucket_name" {
  type = string
}

variable "cors_origins" {
  type = list(string)
}

variable "prefixes" {
  description = "Each prefix gets its own expiry rule"
  type        = list(string)
}

variable "expire_days" {
  type    = number
  default = 90
}
