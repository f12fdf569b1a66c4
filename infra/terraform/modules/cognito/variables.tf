variable "name" {
  type = string
}

variable "deletion_protection" {
  description = "Refuse to delete the pool (and its users) with the stack"
  type        = bool
  default     = true
}
