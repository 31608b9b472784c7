"""The inputs of ``cmk-rule check``: finding files, and one parser per kind of infrastructure code (CloudFormation,
change sets, Terraform plans and configuration)."""
