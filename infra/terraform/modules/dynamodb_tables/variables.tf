variable "table_prefix" {
  description = "DYNAMODB_TABLE_PREFIX"
  type        = string
  default     = ""
}
