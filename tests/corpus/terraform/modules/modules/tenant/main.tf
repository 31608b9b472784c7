variable "name" {
  type = string
}

variable "at_rest" {
  type = bool
}

variable "kms_key_id" {
  type    = string
  default = null
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "tenant cache"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = var.at_rest
  kms_key_id                 = var.kms_key_id
}
