variable "name" {
  type = string
}

resource "aws_kms_key" "local" {
  description         = "replica key"
  is_enabled          = false
  enable_key_rotation = true
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "replica cache"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.local.arn
}
