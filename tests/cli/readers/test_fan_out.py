"""Which Regions an account has (``ec2:DescribeRegions``), said in one sentence when it cannot be known.

The answers are stubbed with botocore's ``Stubber`` (checked against EC2's service model): moto always answers every
Region it knows, so it can neither deny the call nor answer an empty list.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cmk_rule_cli.errors import CliError
from cmk_rule_cli.readers import fan_out, regions

HOME = regions.RegionRequest(regions=(), every_enabled=True, home="us-east-1", partition="aws")


class _Clients:
    """Stands in for a ClientMaker: one stubbed EC2 client."""

    def __init__(self, ec2: Any) -> None:
        self.ec2 = ec2

    def client(self, service: str, region: str) -> Any:
        assert (service, region) == ("ec2", HOME.home)
        return self.ec2


def _stubbed_ec2() -> tuple[Any, Stubber]:
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return ec2, Stubber(ec2)


def _region(name: str) -> dict[str, str]:
    return {"RegionName": name, "Endpoint": f"ec2.{name}.amazonaws.com", "OptInStatus": "opt-in-not-required"}


def test_the_enabled_regions_of_the_partition_sorted() -> None:
    ec2, stub = _stubbed_ec2()
    answer = {"Regions": [_region("eu-west-1"), _region("us-east-1"), _region("cn-north-1")]}
    stub.add_response("describe_regions", answer, {"AllRegions": False})
    with stub:
        found = fan_out.regions_to_scan(_Clients(ec2), HOME, "me")  # type: ignore[arg-type]
    assert found == ["eu-west-1", "us-east-1"]  # cn-north-1 is another partition's


def test_no_enabled_region_is_one_sentence() -> None:
    ec2, stub = _stubbed_ec2()
    stub.add_response("describe_regions", {"Regions": []}, {"AllRegions": False})
    with stub, pytest.raises(CliError, match="returned no enabled Region; list them with --region"):
        fan_out.regions_to_scan(_Clients(ec2), HOME, "me")  # type: ignore[arg-type]


def test_a_denied_describe_regions_names_the_permission_and_the_principal() -> None:
    ec2, stub = _stubbed_ec2()
    stub.add_client_error("describe_regions", service_error_code="UnauthorizedOperation", http_status_code=403)
    with stub, pytest.raises(CliError, match=r"ec2:DescribeRegions was denied in us-east-1 for role R in 1.*--region"):
        fan_out.regions_to_scan(_Clients(ec2), HOME, "role R in 111111111111")  # type: ignore[arg-type]
