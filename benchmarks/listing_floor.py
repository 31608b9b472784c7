"""The floor under any scan of a fleet: list every replication group of one Region and nothing else.

``python benchmarks/listing_floor.py REGION`` (run as a whole process by :mod:`benchmarks.cli`, beside ``cmk-rule
scan`` and ``custodian run``): a fresh interpreter imports botocore, builds one ElastiCache client with the rule's
retry and timeout settings, and pages through ``DescribeReplicationGroups`` (100 a page, the most AWS allows:
https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeReplicationGroups.html), letting
botocore parse every page. Both tools must do at least this much to see the groups, so its time is what neither can
go below on the same server: no verdict, no key read, no output.
"""

from __future__ import annotations

import sys

import botocore.session
from botocore.config import Config


def main(region: str) -> int:
    """List the Region's groups; print how many."""
    client = botocore.session.Session().create_client(
        "elasticache",
        region_name=region,
        config=Config(retries={"mode": "standard", "total_max_attempts": 5}, connect_timeout=5, read_timeout=30),
    )
    pages = client.get_paginator("describe_replication_groups").paginate(PaginationConfig={"PageSize": 100})
    groups = sum(len(page.get("ReplicationGroups", [])) for page in pages)
    print(groups)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
