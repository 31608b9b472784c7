"""Which account, partition and Region an event may make the function act in (the confused-deputy gate).

Every check here runs before any AWS call. In organization mode membership of the organization is the real gate, and
it is enforced by IAM, not here: the central role may assume ``arn:<partition>:iam::*:role/<executionRoleName>`` only
where ``aws:ResourceOrgID`` is the organization's id, and the member role trusts only the central role (see the
infrastructure). An optional ``ALLOWED_ACCOUNT_IDS`` narrows that further. What the function itself refuses is an
event whose account id is not 12 ASCII digits, whose partition or Region is malformed or belongs to another partition
than the function's (the member role would be assumed against a foreign STS endpoint), or that the allow-list excludes.
"""

from __future__ import annotations

import re

from botocore.exceptions import BotoCoreError

from cmk_rule.aws import AwsClients, ClientFactory, lambda_region, member_role_arn, partition_of
from cmk_rule.errors import ForbiddenAccountError, InvalidEventError
from cmk_rule.settings import Settings

ACCOUNT_ID = re.compile(r"^\d{12}$", re.ASCII)
# Partitions: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, ... Regions: us-east-1, cn-north-1, us-gov-west-1,
# us-isob-east-1, eu-south-2, ap-southeast-7 ...
PARTITION = re.compile(r"^aws(-[a-z]+)*$", re.ASCII)
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$", re.ASCII)


def function_partition() -> str:
    """The partition the function runs in, from its own Region (botocore's endpoint data; no AWS call)."""
    return partition_of(lambda_region())


def check_target(account_id: object, partition: object, region: object, *, field: str = "account") -> None:
    """Refuse an account id, partition or Region that is malformed or foreign to the function's partition."""
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        raise InvalidEventError(field, f"'{str(account_id)[:40]}' is not a 12-digit account id")
    if not isinstance(partition, str) or not PARTITION.fullmatch(partition):
        raise ForbiddenAccountError(f"event for partition '{str(partition)[:40]}' rejected: not an AWS partition")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        raise ForbiddenAccountError(f"event for Region '{str(region)[:40]}' rejected: not an AWS Region name")
    own = function_partition()
    try:
        region_partition: str | None = partition_of(region)
    except BotoCoreError:
        region_partition = None
    if partition != own or region_partition != own:
        raise ForbiddenAccountError(
            f"event for partition {partition}, Region {region} rejected: this function runs in partition {own}"
        )


def member_clients(
    factory: ClientFactory, settings: Settings, *, account_id: str, partition: str, region: str, role_name: str
) -> AwsClients:
    """Clients acting in a member account through its role, after every check (no call before they pass)."""
    check_target(account_id, partition, region)
    if not settings.admits(account_id):
        raise ForbiddenAccountError(
            f"event for account {account_id} rejected: not in ALLOWED_ACCOUNT_IDS; no role was assumed"
        )
    return factory.assumed(member_role_arn(partition, account_id, role_name), region)


def own_clients(factory: ClientFactory, *, account_id: str, own_account: str | None, region: str) -> AwsClients:
    """Clients with the function's own credentials, for an event of the function's own account (account mode)."""
    if own_account and account_id != own_account:
        raise ForbiddenAccountError(
            f"event for account {account_id} rejected: this function serves account {own_account} only "
            "(set executionRoleName for organization mode)"
        )
    return factory.own(region)
