module "replica" {
  source = "../replica"
  name   = "replica"
}
