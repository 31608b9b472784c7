"""Which Regions a scan covers: the ``--region`` values, or every Region enabled for the account.

``--region all`` asks EC2 (``ec2:DescribeRegions`` without ``AllRegions``), which answers only the Regions enabled
for the account: opt-in Regions the account has not enabled would fail every call with an authentication error, so
they are left out rather than reported as skipped. A scan stays inside one partition, because one set of credentials
never works in two.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ALL = "all"
# Where ``--region all`` calls DescribeRegions when the profile names no Region.
FALLBACK_HOME_REGION = "us-east-1"


class RegionArgumentError(ValueError):
    """A ``--region`` value cannot be used; the message names it."""


@dataclass(frozen=True)
class RegionRequest:
    """What the command line asked for: explicit Regions, or ``all`` (then ``home`` is where to ask EC2)."""

    regions: tuple[str, ...]
    every_enabled: bool
    home: str
    partition: str


def parse_region_arguments(values: Sequence[str] | None, default_region: str | None) -> RegionRequest:
    """Validate the ``--region`` values (repeatable) against botocore's partition data.

    Without ``--region`` the profile's (or environment's) default Region is scanned, so that ``cmk-rule scan``
    behaves like every other AWS command line tool.
    """
    requested = [value.strip() for value in values or [] if value.strip()]
    if not requested:
        if not default_region:
            raise RegionArgumentError(
                "no Region to scan: pass --region REGION (repeatable) or --region all, "
                "or set a default Region (the profile's region, or AWS_DEFAULT_REGION)"
            )
        requested = [default_region]
    if ALL in requested:
        if len(requested) > 1:
            raise RegionArgumentError("--region all cannot be combined with other --region values")
        home = default_region or FALLBACK_HOME_REGION
        return RegionRequest((), every_enabled=True, home=home, partition=_partition(home))
    unique = tuple(dict.fromkeys(requested))
    partitions = {region: _partition(region) for region in unique}
    if len(set(partitions.values())) > 1:
        listed = ", ".join(f"{region} ({partition})" for region, partition in partitions.items())
        raise RegionArgumentError(f"--region values span several partitions ({listed}); scan one partition at a time")
    return RegionRequest(unique, every_enabled=False, home=unique[0], partition=partitions[unique[0]])


def _partition(region: str) -> str:
    """The Region's partition from botocore's ``partitions.json``, refusing a name it does not list: ``us-east-9``
    matches the ``aws`` partition's pattern, so botocore alone would build an endpoint that does not exist."""
    matching = None
    for partition in _partitions():
        if region in partition.get("regions", {}):
            return str(partition["id"])
        if matching is None and re.fullmatch(partition.get("regionRegex", "$^"), region):
            matching = str(partition["id"])
    hint = did_you_mean(region)
    if matching is None:
        raise RegionArgumentError(f"--region '{region[:40]}' is not an AWS Region name{hint}")
    import botocore  # noqa: PLC0415

    raise RegionArgumentError(
        f"--region '{region[:40]}' is not a Region of partition {matching} that botocore {botocore.__version__} "
        f"knows{hint or '; check the name'} (or upgrade boto3 if the Region is new)"
    )


def did_you_mean(region: str) -> str:
    """``"; did you mean 'us-east-1'?"`` for a near miss (``us-est-1``) among the Regions botocore knows, else ``""``.

    difflib's similarity ratio picks the candidates (as argparse's own suggestions in Python 3.12+); among equally
    close ones the longest shared beginning wins (``us-est-1`` is as close to us-west-1 as to us-east-1, but a typo
    keeps the start of the word)."""
    typed = region.strip().lower()
    known = [name for partition in _partitions() for name in partition.get("regions", {})]
    close = difflib.get_close_matches(typed, known, n=5, cutoff=0.8)
    if not close:
        return ""

    def closeness(name: str) -> tuple[float, int]:
        shared = next(
            (i for i, (a, b) in enumerate(zip(typed, name, strict=False)) if a != b), min(len(typed), len(name))
        )
        return (round(difflib.SequenceMatcher(None, typed, name).ratio(), 6), shared)

    return f"; did you mean '{max(close, key=closeness)}'?"


@lru_cache(maxsize=1)
def _partitions() -> list[dict[str, Any]]:
    """botocore's partition data (7 KB): each partition's id, Region-name pattern and Regions. Read instead of the
    1.2 MB ``endpoints.json`` a boto3 session parses for ``get_partition_for_region`` (0.2 s of every start-up)."""
    from botocore.loaders import create_loader  # noqa: PLC0415 - imported when a scan runs, not for --help

    partitions: list[dict[str, Any]] = create_loader().load_data("partitions")["partitions"]
    return partitions


def enabled_regions(ec2: Any, partition: str) -> list[str]:
    """The Regions enabled for the account, sorted, restricted to ``partition``.

    The partition filter is defensive: AWS only answers Regions of the partition it is asked in, but local mocks
    answer every Region they know.
    """
    response = ec2.describe_regions(AllRegions=False)
    names = {str(item["RegionName"]) for item in response.get("Regions", [])}
    return sorted(name for name in names if _same_partition(name, partition))


def _same_partition(region: str, partition: str) -> bool:
    try:
        return _partition(region) == partition
    except RegionArgumentError:
        return False
