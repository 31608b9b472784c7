# Excerpt of the module's variables.tf (defaults as published).
variable "enabled" {
  type    = bool
  default = null
}

variable "serverless_enabled" {
  type    = bool
  default = false
}

variable "replication_group_id" {
  type    = string
  default = ""
}

variable "engine" {
  type    = string
  default = "redis"
}

variable "at_rest_encryption_enabled" {
  type    = bool
  default = false
}

variable "kms_key_id" {
  type    = string
  default = null
}

variable "global_replication_group_id" {
  type    = string
  default = null
}
