key_arn = "alias/staging"
