"""CDK infrastructure for the elasticache-cmk-rule AWS Config custom rule.

Entry point for ``app.py``: :func:`infra.factory.create_stacks` reads the deployment mode from CDK context
(:mod:`infra.settings`) and instantiates the matching stack. Everything the deployment grants is listed as data in
:mod:`infra.permissions`; every cdk-nag acknowledgment lives in :mod:`infra.nag_suppressions`.
"""

from infra.factory import create_stacks

__all__ = ["create_stacks"]
