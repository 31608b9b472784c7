"""Tests of cmk_rule_cli.readers: what the commands read from AWS (accounts, aggregator, CloudTrail, Regions)."""
