# Excerpt of the module's variables.tf (defaults as published).
variable "create" {
  type    = bool
  default = true
}

variable "create_replication_group" {
  type    = bool
  default = true
}

variable "replication_group_id" {
  type    = string
  default = null
}

variable "engine" {
  type    = string
  default = "redis"
}

variable "at_rest_encryption_enabled" {
  type    = bool
  default = true
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "create_primary_global_replication_group" {
  type    = bool
  default = false
}

variable "create_secondary_global_replication_group" {
  type    = bool
  default = false
}

variable "global_replication_group_id" {
  type    = string
  default = null
}
