"""The commands of ``cmk-rule``: one module per command (its flags, ``run()`` and exit codes), and the flags they
share."""
