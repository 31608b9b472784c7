"""Tests of cmk_rule_cli.iac.inputs: discovery and the parsers of check's inputs."""
