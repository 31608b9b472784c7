"""Tests of the command line (cmk_rule_cli): one folder per layer of the package (commands, readers, reports, mock,
iac), and at this level the tests of the installed package as a whole."""
