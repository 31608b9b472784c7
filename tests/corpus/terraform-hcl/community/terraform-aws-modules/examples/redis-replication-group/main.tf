# Excerpt of examples/redis-replication-group: the module called from the repository root without kms_key_arn.
locals {
  name = "ex-redis-replication-group"
}

module "elasticache" {
  source = "../../"

  replication_group_id       = local.name
  transit_encryption_enabled = true
}
