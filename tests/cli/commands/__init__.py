"""Tests of cmk_rule_cli.commands: each command end to end (flags, run(), exit codes)."""
