# The control's pitfalls, one group each. Nothing here is ever applied.
data "aws_caller_identity" "current" {}

resource "aws_kms_key" "cache" {
  description         = "grants ElastiCache through the account root"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Root"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "cache" {
  name          = "alias/cache"
  target_key_id = aws_kms_key.cache.key_id
}

resource "aws_kms_key" "closed" {
  description         = "a key policy that leaves ElastiCache out"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.closed.json
}

data "aws_iam_policy_document" "closed" {
  statement {
    sid       = "AdminsOnly"
    actions   = ["kms:Create*", "kms:Describe*", "kms:Put*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:role/KeyAdmin"]
    }
  }
}

resource "aws_kms_key" "service" {
  description         = "grants the ElastiCache service principal"
  enable_key_rotation = true
  policy              = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Principal": {"Service": "elasticache.amazonaws.com"},
          "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
          "Resource": "*"
        }
      ]
    }
  EOT
}

resource "aws_ssm_parameter" "key_arn" {
  name  = "/cache/key-arn"
  type  = "String"
  value = aws_kms_key.cache.arn
}

resource "aws_elasticache_replication_group" "bare_alias" {
  replication_group_id       = "bare-alias"
  description                = "alias name"
  at_rest_encryption_enabled = true
  kms_key_id                 = "alias/my-key"
}

resource "aws_elasticache_replication_group" "alias_arn" {
  replication_group_id       = "alias-arn"
  description                = "alias ARN"
  at_rest_encryption_enabled = true
  kms_key_id                 = "arn:aws:kms:eu-west-1:111122223333:alias/my-key"
}

resource "aws_elasticache_replication_group" "alias_resource" {
  replication_group_id       = "alias-resource"
  description                = "the alias resource's ARN"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_alias.cache.arn
}

resource "aws_elasticache_replication_group" "alias_target" {
  replication_group_id       = "alias-target"
  description                = "the alias resource's target key ARN: a key ARN"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_alias.cache.target_key_arn
}

resource "aws_elasticache_replication_group" "number" {
  replication_group_id       = "number"
  description                = "a number"
  at_rest_encryption_enabled = true
  kms_key_id                 = 42
}

resource "aws_elasticache_replication_group" "list" {
  replication_group_id       = "list"
  description                = "a list"
  at_rest_encryption_enabled = true
  kms_key_id                 = [aws_kms_key.cache.arn]
}

resource "aws_elasticache_replication_group" "map" {
  replication_group_id       = "map"
  description                = "a map"
  at_rest_encryption_enabled = true
  kms_key_id                 = { arn = aws_kms_key.cache.arn }
}

resource "aws_elasticache_replication_group" "not_a_key" {
  replication_group_id       = "not-a-key"
  description                = "a string that names no key"
  at_rest_encryption_enabled = true
  kms_key_id                 = "my-cache-key"
}

resource "aws_elasticache_replication_group" "parameter" {
  replication_group_id       = "parameter"
  description                = "the SSM parameter's ARN, not its value"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_ssm_parameter.key_arn.arn
}

resource "aws_elasticache_replication_group" "closed_policy" {
  replication_group_id       = "closed-policy"
  description                = "a key whose policy leaves ElastiCache out"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.closed.arn
}

resource "aws_elasticache_replication_group" "service_policy" {
  replication_group_id       = "service-policy"
  description                = "a key whose policy grants the service principal"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.service.arn
}
