encrypt = true
