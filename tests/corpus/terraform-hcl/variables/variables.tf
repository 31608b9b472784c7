variable "engine" {
  type    = string
  default = "redis"
}

variable "encrypt" {
  type    = bool
  default = false # terraform.tfvars sets it to true
}

variable "key_arn" {
  type = string # set by prod.auto.tfvars, or by staging.tfvars when named on the command line
}

variable "shards" {
  type    = number
  default = 2
}

variable "tenants" {
  type = map(object({ encrypted = bool }))
  default = {
    blue  = { encrypted = false }
    green = { encrypted = true }
  }
}

variable "use_cmk" {
  type = bool # never set: only known at plan time
}
