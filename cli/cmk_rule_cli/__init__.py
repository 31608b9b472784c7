"""cmk-rule: the operator's command line for elasticache-cmk-rule (demo, scan, evidence).

Tooling only: nothing here is shipped to Lambda, and the Lambda package never imports it.
"""

from cmk_rule import __version__

__all__ = ["__version__"]
