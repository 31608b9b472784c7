# Test corpus for `cmk-rule check`: keys read by KMS data sources at plan time (rows 4 and 7).
# data-source.plan.json is the one edited plan in the corpus: see ../README.md.
# Nothing here is ever applied.

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


# The AWS-managed ElastiCache key, found by its ARN: key_manager is "AWS".
data "aws_kms_key" "by_arn" {
  key_id = "arn:aws:kms:eu-west-1:111122223333:key/7e6d5c4b-3a29-4187-a6f5-e4d3c2b1a098"
}

data "aws_kms_alias" "managed" {
  name = "alias/aws/elasticache"
}

resource "aws_elasticache_replication_group" "managed_by_data" {
  replication_group_id       = "managed-by-data"
  description                = "key found by a data source"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = data.aws_kms_key.by_arn.arn
}

resource "aws_elasticache_replication_group" "alias_data" {
  replication_group_id       = "alias-data"
  description                = "key found through the AWS-managed alias"
  node_type                  = "cache.t4g.small"
  at_rest_encryption_enabled = true
  kms_key_id                 = data.aws_kms_alias.managed.target_key_arn
}
