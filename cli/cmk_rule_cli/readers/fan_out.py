"""Many (account, Region) scans at once, bounded: which Regions an account has, the role opened in each of several
accounts, and one pool that scans every pair with one progress display.

One account or Region that cannot be read never stops the others: an account whose role cannot be assumed (or whose
Regions cannot be listed) is returned with the reason, and a Region whose scan fails outright is recorded as its
listing skipped (:func:`cmk_rule_cli.readers.region_scan.failed_region`); the run is then incomplete. At most
:data:`MAX_PARALLEL_REGIONS` calls are in flight, whatever the number of accounts.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from cmk_rule.aws import describe_error, error_code
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.readers import region_scan, regions, session
from cmk_rule_cli.readers.access import DENIED_CODES, PERMISSIONS_DOC
from cmk_rule_cli.readers.progress import ScanProgress
from cmk_rule_cli.readers.region_scan import ScanContext
from cmk_rule_cli.readers.session import ClientMaker
from cmk_rule_cli.reports.scan_report import RegionScan

MAX_PARALLEL_REGIONS = 4

ScanTask = tuple[ClientMaker, str, ScanContext]  # an account's clients, the Region, what the scan shares
OpenedAccount = tuple[ClientMaker, list[str]]  # the account's clients (its role assumed) and its Regions


def regions_to_scan(clients: ClientMaker, request: regions.RegionRequest, principal: str) -> list[str]:
    """The account's enabled Regions (``ec2:DescribeRegions`` in the home Region), or one sentence why not."""
    try:
        found = regions.enabled_regions(clients.client("ec2", request.home), request.partition)
    except ClientError as error:
        if error_code(error) in DENIED_CODES:
            raise CliError(
                f"ec2:DescribeRegions was denied in {request.home} for {principal}; grant it ({PERMISSIONS_DOC}) "
                "or list the Regions with --region"
            ) from None
        raise CliError(f"ec2:DescribeRegions failed in {request.home}: {describe_error(error)}") from None
    except (BotoCoreError, ResponseParserError) as error:  # a proxy's page is not an answer
        raise CliError(f"ec2:DescribeRegions failed in {request.home}: {describe_error(error)}") from None
    if not found:
        raise CliError(f"ec2:DescribeRegions in {request.home} returned no enabled Region; list them with --region")
    return found


def open_accounts(
    clients: ClientMaker,
    wanted: list[str],
    *,
    request: regions.RegionRequest,
    role_name: str,
    principal: str,
    command: str,
) -> tuple[dict[str, OpenedAccount], dict[str, str]]:
    """Assume ``role_name`` in every wanted account and list its Regions, a few accounts at a time: (account ->
    its clients and Regions, account -> why it cannot be read), both in the order of ``wanted``."""

    def open_account(account_id: str) -> OpenedAccount | str:
        """The account's clients and Regions, or why it cannot be read (never raised: one account never stops
        the others)."""
        try:
            member = ClientMaker(
                session.assume_session(
                    clients,
                    partition=request.partition,
                    region=request.home,
                    account_id=account_id,
                    role_name=role_name,
                    command=command,
                )
            )
            return member, list(request.regions) or regions_to_scan(
                member, request, f"role {role_name} in {account_id}"
            )
        except ClientError as error:
            return (
                f"sts:AssumeRole of {role_name} failed ({describe_error(error)}); check that the role exists there "
                f"and trusts {principal}"
            )
        except CliError as error:
            return str(error)
        except (BotoCoreError, ResponseParserError) as error:  # a proxy's page is not an answer
            return f"sts:AssumeRole of {role_name} failed ({describe_error(error)})"

    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_REGIONS, len(wanted)))) as pool:
        outcomes = list(pool.map(open_account, wanted))
    opened: dict[str, OpenedAccount] = {}
    unassumed: dict[str, str] = {}
    for account_id, outcome in zip(wanted, outcomes, strict=True):
        if isinstance(outcome, str):
            unassumed[account_id] = outcome
        else:
            opened[account_id] = outcome
    return opened, unassumed


def scan_pairs(tasks: list[ScanTask], progress: ScanProgress) -> dict[tuple[str, str], RegionScan]:
    """Scan (account, Region) pairs in one bounded pool with one progress display. One pair that fails outright is
    recorded as its listing skipped (:func:`~cmk_rule_cli.readers.region_scan.failed_region`): the others' results stand
    and the run is incomplete."""
    results: dict[tuple[str, str], RegionScan] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_REGIONS, len(tasks))))
    interrupted = False
    try:
        futures = {
            pool.submit(region_scan.scan_region, task_clients, region, context): (context, region)
            for task_clients, region, context in tasks
        }
        for future in as_completed(futures):
            context, region = futures[future]
            try:
                results[(context.account_id, region)] = future.result()
            except (session.ReadOnlyViolationError, CliError):
                raise
            except Exception as error:  # one Region's failure must not discard the others' results
                results[(context.account_id, region)] = region_scan.failed_region(region, error)
            progress.region_done(context.progress_label(region))
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        progress.close()
        # On Ctrl-C, do not wait for the Regions still in flight: nothing of this run is written.
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    return results
