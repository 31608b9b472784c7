# Variables from defaults, terraform.tfvars and *.auto.tfvars; locals; count; for_each; an unknown condition.
resource "aws_kms_key" "cache" {
  description         = "cache"
  enable_key_rotation = true
  lifecycle {
    prevent_destroy = true
  }
}

locals {
  key_arn = aws_kms_key.cache.arn
  engine  = lower(var.engine)
}

resource "aws_elasticache_replication_group" "from_tfvars" {
  replication_group_id       = "from-tfvars"
  description                = "encryption flag and key from .tfvars"
  engine                     = local.engine
  at_rest_encryption_enabled = var.encrypt
  kms_key_id                 = var.key_arn
}

resource "aws_elasticache_replication_group" "shard" {
  count                      = var.shards
  replication_group_id       = "shard-${count.index}"
  description                = "one per shard"
  at_rest_encryption_enabled = true
  kms_key_id                 = count.index == 0 ? local.key_arn : "alias/legacy"
}

resource "aws_elasticache_replication_group" "tenant" {
  for_each                   = var.tenants
  replication_group_id       = "tenant-${each.key}"
  description                = "one per tenant"
  at_rest_encryption_enabled = each.value.encrypted
  kms_key_id                 = local.key_arn
}

resource "aws_elasticache_replication_group" "conditional" {
  replication_group_id       = "conditional"
  description                = "the key depends on a variable nobody set"
  at_rest_encryption_enabled = true
  kms_key_id                 = var.use_cmk ? local.key_arn : null
}
