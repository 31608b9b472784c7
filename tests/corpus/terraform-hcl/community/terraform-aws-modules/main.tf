# A minimal excerpt of terraform-aws-modules/terraform-aws-elasticache (main.tf): the two replication group
# resources and the conditions that choose between them.
locals {
  create_global_replication_group = var.create_primary_global_replication_group || var.create_secondary_global_replication_group
}

resource "aws_elasticache_replication_group" "this" {
  count = var.create && var.create_replication_group && !local.create_global_replication_group ? 1 : 0

  replication_group_id       = var.replication_group_id
  description                = "excerpt"
  engine                     = var.engine
  at_rest_encryption_enabled = var.at_rest_encryption_enabled
  kms_key_id                 = var.at_rest_encryption_enabled ? var.kms_key_arn : null
}

resource "aws_elasticache_replication_group" "global" {
  count = var.create && var.create_replication_group && local.create_global_replication_group ? 1 : 0

  replication_group_id        = var.replication_group_id
  description                 = "excerpt"
  engine                      = var.create_secondary_global_replication_group ? null : var.engine
  at_rest_encryption_enabled  = var.create_secondary_global_replication_group ? null : var.at_rest_encryption_enabled
  global_replication_group_id = var.create_secondary_global_replication_group ? var.global_replication_group_id : null
  kms_key_id                  = var.at_rest_encryption_enabled ? var.kms_key_arn : null
}
