"""The outputs of ``cmk-rule check``: the table and JSON report, and SARIF."""
