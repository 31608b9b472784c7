"""Tests of cmk_rule_cli.reports: the report model and its renderers."""
