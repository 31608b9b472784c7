"""The Powertools Logger and Metrics every module of the rule shares (one of each per container).

Powertools keeps one metric set per namespace, flushed by ``handler.lambda_handler``'s ``log_metrics``: modules that
record metrics (the handler, the re-evaluation requests) use these objects, so there is one definition of the
service name and namespace.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "elasticache-cmk-rule")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ElastiCacheCmkRule")
# The dimension names of the per-member-account dimension set (organization mode): see add_account_dimensions.
ACCOUNT_DIMENSION = "AccountId"
REGION_DIMENSION = "Region"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def add_account_dimensions(account_id: str, region: str) -> None:
    """Give this invocation's metrics a second dimension set (service, AccountId, Region) next to (service).

    The EMF specification allows several dimension sets per metric directive
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html);
    Powertools' ``add_dimensions`` appends one (https://docs.aws.amazon.com/powertools/python/latest/core/metrics/).
    Every metric is then published twice: once for the whole deployment, once for the member account and Region,
    which is what a per-account alarm needs. Called only with a validated account id and Region.
    """
    metrics.add_dimensions(**{"service": SERVICE, ACCOUNT_DIMENSION: account_id, REGION_DIMENSION: region})
