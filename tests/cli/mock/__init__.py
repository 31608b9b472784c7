"""Tests of cmk_rule_cli.mock: the demo's mock AWS account."""
