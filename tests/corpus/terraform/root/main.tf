# Test corpus for `cmk-rule check`: one replication group per static decision row, in the root module.
# root-module.plan.json is `terraform show -json` of a plan of this configuration against state.tfstate
# (see ../README.md); nothing here is ever applied.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
  # Planning only: no credentials, no API calls (the plan is made with -refresh=false).
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

variable "environment" {
  type    = string
  default = "prod"
}

resource "aws_kms_key" "cache" {
  description             = "cache tier"
  enable_key_rotation     = true
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "cache" {
  name          = "alias/cache-tier"
  target_key_id = aws_kms_key.cache.key_id
}

resource "aws_kms_key" "disabled" {
  description         = "switched off"
  is_enabled          = false
  enable_key_rotation = true
}

# Already exists (in state.tfstate): its ARN is known at plan time.
resource "aws_kms_key" "existing" {
  description             = "existing"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_elasticache_global_replication_group" "orders" {
  global_replication_group_id_suffix = "orders"
  primary_replication_group_id       = "orders-primary"
}

locals {
  common = {
    node_type                  = "cache.t4g.small"
    num_cache_clusters         = 2
    automatic_failover_enabled = true
    transit_encryption_enabled = true
  }
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id       = "orders"
  description                = "orders cache"
  node_type                  = local.common.node_type
  num_cache_clusters         = local.common.num_cache_clusters
  automatic_failover_enabled = local.common.automatic_failover_enabled
  transit_encryption_enabled = local.common.transit_encryption_enabled
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.cache.arn
}

resource "aws_elasticache_replication_group" "via_alias" {
  replication_group_id       = "carts"
  description                = "carts cache"
  node_type                  = "cache.t4g.small"
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_alias.cache.arn
}

resource "aws_elasticache_replication_group" "plain_redis" {
  replication_group_id       = "plain"
  description                = "Redis OSS, at-rest encryption omitted"
  engine                     = "redis"
  node_type                  = "cache.t4g.small"
  transit_encryption_enabled = true
}

resource "aws_elasticache_replication_group" "valkey_default" {
  replication_group_id       = "valkey-default"
  description                = "Valkey, service-managed key"
  engine                     = "valkey"
  node_type                  = "cache.t4g.small"
  transit_encryption_enabled = true
}

resource "aws_elasticache_replication_group" "valkey_cmk" {
  replication_group_id       = "valkey-cmk"
  description                = "Valkey default encryption with a CMK"
  engine                     = "valkey"
  node_type                  = "cache.t4g.small"
  transit_encryption_enabled = true
  kms_key_id                 = aws_kms_key.cache.arn
}

resource "aws_elasticache_replication_group" "aws_managed" {
  replication_group_id       = "aws-managed"
  description                = "the AWS-managed key"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = "alias/aws/elasticache"
}

resource "aws_elasticache_replication_group" "disabled_key" {
  replication_group_id       = "disabled-key"
  description                = "a CMK declared disabled"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.disabled.arn
}

resource "aws_elasticache_replication_group" "literal" {
  replication_group_id       = "literal"
  description                = "a key ARN only KMS can vouch for"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

# Already exists (in state.tfstate), encrypted with the existing key.
resource "aws_elasticache_replication_group" "existing_key" {
  replication_group_id       = "existing-key"
  description                = "existing-key cache"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.existing.arn
}

resource "aws_elasticache_replication_group" "exempt" {
  replication_group_id       = "legacy"
  description                = "legacy group carrying the exemption tag"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = false
  tags = {
    cmk-exempt = "legacy cache, retired in 2027"
    team       = "payments"
  }
}

resource "aws_elasticache_replication_group" "secondary" {
  replication_group_id        = "orders-eu"
  description                 = "Global Datastore secondary with its own CMK"
  global_replication_group_id = aws_elasticache_global_replication_group.orders.global_replication_group_id
  num_cache_clusters          = 1
  kms_key_id                  = aws_kms_key.cache.arn
}

resource "aws_elasticache_replication_group" "shard" {
  count                      = 2
  replication_group_id       = "shard-${count.index}"
  description                = "sharded by count"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.cache.arn
}
