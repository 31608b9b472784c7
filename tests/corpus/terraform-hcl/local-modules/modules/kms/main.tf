variable "name" {
  type = string
}

resource "aws_kms_key" "this" {
  description         = var.name
  enable_key_rotation = true
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

output "key_arn" {
  value = aws_kms_key.this.arn
}

output "alias_arn" {
  value = aws_kms_alias.this.arn
}
