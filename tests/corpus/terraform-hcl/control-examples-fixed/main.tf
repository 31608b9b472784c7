# The control's registry-module example with the input it asks for: kms_key_arn = aws_kms_key.x.arn.
resource "aws_kms_key" "x" {
  description         = "ElastiCache at rest"
  enable_key_rotation = true

  lifecycle {
    prevent_destroy = true
  }
}

module "elasticache" {
  source  = "terraform-aws-modules/elasticache/aws"
  version = ">=1.0.0,<2.0.0"

  description          = "Redis cluster"
  engine               = "redis"
  engine_version       = "7.1"
  node_type            = "cache.t3.micro"
  num_cache_clusters   = 2
  replication_group_id = "abc123"
  subnet_ids           = ["subnet-12345678", "subnet-12345678"]
  vpc_id               = "vpc-12345678"

  kms_key_arn = aws_kms_key.x.arn
}

# The same module with encryption switched off, and one that creates no group at all.
module "unencrypted" {
  source                     = "terraform-aws-modules/elasticache/aws"
  replication_group_id       = "plain"
  at_rest_encryption_enabled = false
  kms_key_arn                = aws_kms_key.x.arn
}

module "cluster_only" {
  source                   = "terraform-aws-modules/elasticache/aws"
  create_replication_group = false
  create_cluster           = true
  cluster_id               = "memcached-1"
  engine                   = "memcached"
}
