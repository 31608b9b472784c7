# Excerpt of examples/complete: the module called from the repository root, at-rest encryption from a variable
# set only in fixtures.us-east-2.tfvars (not loaded unless named), no kms_key_id.
variable "at_rest_encryption_enabled" {
  type = bool
}

module "redis" {
  source = "../../"

  replication_group_id       = "complete"
  at_rest_encryption_enabled = var.at_rest_encryption_enabled
}
