variable "kms_key_arn" {
  type = string
}

variable "engine" {
  type    = string
  default = "redis"
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = "orders"
  description                = "orders cache"
  engine                     = var.engine
  node_type                  = "cache.t4g.small"
  transit_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
}
