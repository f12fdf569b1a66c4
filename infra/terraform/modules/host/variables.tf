variable "name" {
  type = string
}

variable "subnet_id" {
  description = "A public subnet (with a route to an internet gateway)"
  type        = string
}

variable "instance_profile" {
  type = string
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "architecture" {
  description = "amd64 (t3, m6i...) or arm64 (t4g, m7g...), matching instance_type"
  type        = string
  default     = "amd64"
}

variable "disk_gb" {
  type    = number
  default = 20
}

variable "key_name" {
  description = "An EC2 key pair for SSH; empty for none (use SSM Session Manager)"
  type        = string
  default     = ""
}

variable "ssh_cidrs" {
  description = "Addresses allowed to SSH (IPv4 CIDRs); empty closes port 22"
  type        = list(string)
  default     = []
}
