variable "name" {
  type = string
}

variable "engine" {
  type = string
}

variable "encrypted" {
  type    = bool
  default = true
}

variable "kms_key_id" {
  type    = string
  default = null
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "cache ${var.name}"
  engine               = var.engine
  kms_key_id           = var.kms_key_id

  at_rest_encryption_enabled = var.encrypted
}
