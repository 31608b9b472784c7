"""Infrastructure-as-code inputs for ``cmk-rule check``: the shift-left form of the control.

Data flows one way, one module per concern, mirroring the Lambda package:
discovery (files, format detection) → cloudformation / terraform (plans) / terraform_hcl (configuration, through
hcl and registry_modules) / changeset (loaders: plain facts per replication group) → static_rules (pure decision
table, numbered like :class:`cmk_rule.verdict.Row`), key_policy and checks (the control's pitfalls) → report / sarif
(output).

Nothing here calls AWS: what only KMS can tell (``KeyManager``, ``KeyState`` of an existing key) is left to the
runtime rule, and the result says so.
"""
