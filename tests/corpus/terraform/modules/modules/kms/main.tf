variable "description" {
  type = string
}

# Automatic rotation is not enabled: fails with --require-key-rotation.
resource "aws_kms_key" "this" {
  description = var.description
}

output "key_arn" {
  value = aws_kms_key.this.arn
}
