"""elasticache-cmk-rule: an AWS Config custom rule for ElastiCache replication groups and their KMS keys.

It proves each group is encrypted at rest with a customer-managed KMS key that can still protect the data.

Data flows one way through the modules of this package:

    event (request) -> replication groups (inventory) -> KMS facts (keys) -> verdict (pure) -> reporters

Only botocore (shipped with boto3 in the Lambda runtime) and Powertools are imported at run time; everything else in
the repository is tooling.
"""

__version__ = "0.1.0"
