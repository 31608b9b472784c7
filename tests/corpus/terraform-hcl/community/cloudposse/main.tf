# A minimal excerpt of cloudposse/terraform-aws-elasticache-redis (main.tf): the lines that decide at-rest
# encryption and the key. The label module (module.this) is remote, so `enabled` is not known offline.
module "this" {
  source  = "cloudposse/label/null"
  version = "0.25.0"
  enabled = var.enabled
}

locals {
  enabled                    = module.this.enabled
  create_normal_instance     = local.enabled && !var.serverless_enabled
  at_rest_encryption_enabled = var.global_replication_group_id == null ? var.at_rest_encryption_enabled : null
}

resource "aws_elasticache_replication_group" "default" {
  count = local.create_normal_instance ? 1 : 0

  replication_group_id       = var.replication_group_id
  description                = "excerpt"
  engine                     = var.global_replication_group_id == null ? var.engine : null
  at_rest_encryption_enabled = local.at_rest_encryption_enabled
  kms_key_id                 = var.at_rest_encryption_enabled ? var.kms_key_id : null
}
