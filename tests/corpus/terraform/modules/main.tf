# Test corpus for `cmk-rule check`: replication groups and keys spread over modules (nested, and for_each).
# modules.plan.json is `terraform show -json` of a plan of this configuration (see ../README.md);
# nothing here is ever applied.

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


locals {
  tenants = {
    blue  = { at_rest = false, kms_key = null }
    green = { at_rest = true, kms_key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
  }
}

module "kms" {
  source      = "./modules/kms"
  description = "cache tier"
}

# The key's ARN is known only after apply: check follows var.kms_key_arn to module.kms's output.
module "cache" {
  source      = "./modules/cache"
  kms_key_arn = module.kms.key_arn
  engine      = "valkey"
}

module "regional" {
  source = "./modules/regional"
}

module "tenant" {
  source     = "./modules/tenant"
  for_each   = local.tenants
  name       = each.key
  at_rest    = each.value.at_rest
  kms_key_id = each.value.kms_key
}

resource "aws_elasticache_replication_group" "edge" {
  replication_group_id       = "edge"
  description                = "edge cache, key from a module output"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = module.kms.key_arn
}
