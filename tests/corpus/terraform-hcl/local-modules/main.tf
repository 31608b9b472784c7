# Local modules followed with their inputs and outputs; a remote module that cannot be read offline.
module "kms" {
  source = "./modules/kms"
  name   = "cache"
}

module "cache" {
  source   = "./modules/cache"
  for_each = toset(["orders", "sessions"])

  name       = each.key
  engine     = each.key == "sessions" ? "valkey" : "redis"
  kms_key_id = each.key == "orders" ? module.kms.key_arn : null
}

module "legacy" {
  source    = "./modules/cache"
  name      = "legacy"
  engine    = "redis"
  encrypted = false
}

module "replicated" {
  source     = "./modules/cache"
  count      = 1
  name       = "replicated"
  engine     = "redis"
  kms_key_id = module.kms.alias_arn
}

module "registry" {
  source               = "terraform-aws-modules/elasticache/aws"
  version              = "~> 1.10"
  replication_group_id = "registry"
  kms_key_arn          = module.kms.key_arn
}

module "network" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"
}
