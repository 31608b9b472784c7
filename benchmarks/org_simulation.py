"""An AWS Organization in moto: ``python -m benchmarks.org_simulation [--accounts 500] [--regions 3]``.

Not a test (no timing is asserted anywhere); it measures and checks, then writes its section of
``benchmarks/RESULTS.md`` (:mod:`benchmarks.sections` keeps it when the fleet benchmark rewrites the file).

What it does, in one process against moto in-process:

1. **Seeds** every member account x Region with its own keys and replication groups, written straight into moto's
   backends (like :mod:`benchmarks.fleet`: moto makes an RSA key pair per KMS key; one shared key pair is reused),
   plus the member account's copy of the organization rule (``OrgConfigRule-<name>-<suffix>``).
2. **Periodic wave**: one Regional Lambda per Region (``AWS_REGION``, its own client cache), organization mode with
   no allow-list, gets every account's ScheduledNotification through the real ``cmk_rule.handler.lambda_handler``.
   moto's STS maps the assumed member role's credentials to the member account, so every read and PutEvaluations
   acts inside that account. Containers are modelled by a fresh client cache every ``--per-container`` invocations.
   Every verdict is checked against the seeded truth.
3. **Joiners**: accounts created after the "deployment" (same settings, nothing redeployed) are served the same way.
4. **Refusals**: events for another partition, a Region of another partition, a malformed account id, and a queued
   record from a foreign Region are refused, each with zero AWS calls.
5. **Re-evaluation wave**: every account's forwarded events (three per account and Region, shuffled) through the SQS
   path in batches of 100: one StartConfigRulesEvaluation per account/Region per batch.

Then it publishes calls per invocation, total calls and time, and the concurrency a periodic wave needs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "org-simulation"
CENTRAL = "123456789012"  # the central (delegated administrator) account: moto's default
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ROLE = "elasticache-cmk-rule-execution"
ORG_RULE = "elasticache-cmk"
ORGANIZATION_ID = "o-a1b2c3d4e5"
BATCH_SIZE = 100  # the event source mapping's batch size (contract with the infrastructure)
EVENTS_PER_ACCOUNT_REGION = 3
# Periodic model inputs, stated in the results: Config's periodic frequency, and the time a wave should take.
PERIODIC_WINDOW_SECONDS = 24 * 3600
WAVE_TARGET_SECONDS = 15 * 60
# Projection: the simulation's calls run against moto in-process (well under a millisecond of network each); in AWS a
# call from Lambda takes tens of milliseconds. The projected duration uses this per-call latency (an assumption).
ASSUMED_CALL_MS = 40.0


@dataclass(frozen=True)
class Member:
    """One member account in one Region, and the verdict each of its groups must get."""

    account: str
    region: str
    rule: str
    expected: dict[str, str]


@dataclass
class Calls:
    """Every API call through botocore, by operation (patched at the single choke point, so assumed sessions too)."""

    by_operation: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())


@contextlib.contextmanager
def counting() -> Iterator[Calls]:
    import botocore.client

    calls = Calls()
    original = botocore.client.BaseClient._make_api_call

    def count(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.by_operation[f"{self.meta.service_model.endpoint_prefix}:{operation_name}"] += 1
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = count  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def account_id(index: int) -> str:
    return f"{200000000000 + index:012d}"


def rule_name(account: str, region: str) -> str:
    """The member's copy of the organization rule: a suffix per account and Region, as Config generates one."""
    return f"OrgConfigRule-{ORG_RULE}-{hashlib.sha256(f'{account}{region}'.encode()).hexdigest()[:8]}"


@contextlib.contextmanager
def shared_private_key() -> Iterator[None]:
    from moto.kms import models as kms_models

    original = kms_models.generate_private_key  # type: ignore[attr-defined]
    cached = original("RSA_2048")
    kms_models.generate_private_key = lambda key_spec: cached  # type: ignore[attr-defined]
    try:
        yield
    finally:
        kms_models.generate_private_key = original  # type: ignore[attr-defined]


def seed_member(index: int, region: str) -> Member:
    """Keys, groups and the rule copy of one account in one Region, written into moto's backends.

    Every account gets a compliant group, one on a disabled key and one without encryption; every third account one
    more compliant group, every fifth one on an AWS-managed key: verdicts differ per account, so a mix-up shows.
    """
    from moto.config.models import config_backends
    from moto.elasticache.models import elasticache_backends
    from moto.kms.models import kms_backends

    account = account_id(index)
    kms = kms_backends[account][region]
    with shared_private_key():
        keys = [
            kms.create_key(
                policy=None, key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT", description=d, tags=None
            )
            for d in ("enabled", "disabled", "aws-managed")
        ]
    kms.disable_key(keys[1].id)
    keys[2].key_manager = "AWS"  # moto creates CUSTOMER keys only
    plan = [("0", keys[0].arn, "COMPLIANT"), ("1", keys[1].arn, "NON_COMPLIANT"), ("2", None, "NON_COMPLIANT")]
    if index % 3 == 0:
        plan.append(("3", keys[0].arn, "COMPLIANT"))
    if index % 5 == 0:
        plan.append(("4", keys[2].arn, "NON_COMPLIANT"))
    backend = elasticache_backends[account][region]
    parameters: dict[str, Any] = dict.fromkeys(inspect.signature(backend.create_replication_group).parameters)
    parameters.update(
        replication_group_description="organization simulation",
        engine="valkey",
        cache_node_type="cache.t4g.micro",
        num_cache_clusters=1,
        user_group_ids=[],
        log_delivery_configurations=[],
        snapshot_retention_limit=0,
        tags=[],
    )
    expected = {}
    for suffix, key_arn, verdict in plan:
        group = f"g{index}-{suffix}"
        parameters.update(
            replication_group_id=group, at_rest_encryption_enabled=key_arn is not None, kms_key_id=key_arn
        )
        backend.create_replication_group(**parameters)
        expected[group] = verdict
    name = rule_name(account, region)
    config_backends[account][region].put_config_rule(
        {
            "ConfigRuleName": name,
            "Source": {"Owner": "AWS", "SourceIdentifier": "ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST"},
        }
    )
    return Member(account, region, name, expected)


@dataclass
class Wave:
    """One set of invocations: durations and calls."""

    name: str
    invocations: int = 0
    durations: list[float] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    verdicts_checked: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def seconds(self) -> float:
        return sum(self.durations)

    def calls_per_invocation(self) -> float:
        return self.total_calls / self.invocations if self.invocations else 0.0


@dataclass
class Simulation:
    accounts: int
    joiners: int
    regions: tuple[str, ...]
    per_container: int
    seed_seconds: float = 0.0
    total_seconds: float = 0.0
    periodic: Wave = field(default_factory=lambda: Wave("periodic"))
    joined: Wave = field(default_factory=lambda: Wave("joined after deployment"))
    reevaluation: Wave = field(default_factory=lambda: Wave("re-evaluation batches"))
    expected_starts: int = 0
    refusals: dict[str, tuple[str, int]] = field(default_factory=dict)  # case -> (error type, calls made)

    @property
    def problems(self) -> list[str]:
        found = [f"{w.name}: {wrong}" for w in (self.periodic, self.joined) for wrong in w.wrong[:20]]
        if self.reevaluation.calls.get("config:StartConfigRulesEvaluation", 0) != self.expected_starts:
            found.append(
                f"re-evaluation: {self.reevaluation.calls.get('config:StartConfigRulesEvaluation', 0)} "
                f"StartConfigRulesEvaluation calls, expected {self.expected_starts}"
            )
        found += [f"refusal {case}: {kind}, {made} calls" for case, (kind, made) in self.refusals.items() if made]
        found += [f"refusal {case}: not refused" for case, (kind, _) in self.refusals.items() if kind == "served"]
        return found


def _environment(region: str) -> None:
    os.environ.update(
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        SECURITY_HUB_MODE="off",
        ORGANIZATION_ID=ORGANIZATION_ID,
        EXECUTION_ROLE_NAME=ROLE,
        ORGANIZATION_RULE_NAME=ORG_RULE,
    )
    os.environ.pop("ALLOWED_ACCOUNT_IDS", None)  # no allow-list: organization membership is the gate


def _context(region: str) -> Any:
    from cmk_rule_cli.mock.account import FakeLambdaContext

    return FakeLambdaContext(invoked_function_arn=f"arn:aws:lambda:{region}:{CENTRAL}:function:elasticache-cmk-rule")


def run_periodic(members: Sequence[Member], wave: Wave, store: Any, per_container: int) -> None:
    """Every member's ScheduledNotification through the handler of its Region, then every verdict checked."""
    from cmk_rule import handler
    from cmk_rule.aws import ClientFactory
    from cmk_rule_cli.mock import events

    for region in sorted({m.region for m in members}):
        _environment(region)
        context = _context(region)
        for position, member in enumerate(m for m in members if m.region == region):
            if position % per_container == 0:
                handler.clients = ClientFactory()  # a new container: credentials and clients built again
            event = events.scheduled_event(
                account_id=member.account,
                region=region,
                rule_name=member.rule,
                result_token=store.issue_token(member.rule, region),
                parameters={"executionRoleName": ROLE},
            )
            with counting() as calls:
                started = time.perf_counter()
                handler.lambda_handler(event, context)
                wave.durations.append(time.perf_counter() - started)
            wave.calls.update(calls.by_operation)
            wave.invocations += 1
            recorded = {group: r.compliance_type for group, r in store.for_rule(member.rule, region).items()}
            wave.verdicts_checked += len(member.expected)
            if recorded != member.expected:
                wave.wrong.append(f"{member.account} {region}: got {recorded}, expected {member.expected}")


def forwarded_record(account: str, region: str, rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(("KMS CMK Deletion", "KMS Imported Key Material Expiration"))
    body = json.dumps(
        {
            "version": "0",
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "detail-type": kind,
            "source": "aws.kms",
            "account": account,
            "time": "2026-11-28T06:30:00Z",
            "region": region,
            "resources": [f"arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
            "detail": {"key-id": "1234abcd-12ab-34cd-56ef-1234567890ab"},
        },
        separators=(",", ":"),
    )
    return {
        "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
        "receiptHandle": "simulated",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795933802000"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's checksum of the body
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{CENTRAL}:elasticache-cmk-rule-reevaluation",
        "awsRegion": region,
    }


def run_reevaluation(members: Sequence[Member], simulation: Simulation, per_container: int, seed: int = 7) -> None:
    """Three forwarded events per account/Region, shuffled, in batches of 100, through each Region's handler."""
    from cmk_rule import handler, reevaluation
    from cmk_rule.aws import ClientFactory

    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not security
    wave = simulation.reevaluation
    for region in sorted({m.region for m in members}):
        _environment(region)
        context = _context(region)
        records = [
            forwarded_record(m.account, region, rng)
            for m in members
            if m.region == region
            for _ in range(EVENTS_PER_ACCOUNT_REGION)
        ]
        rng.shuffle(records)
        reevaluation.rule_names.clear()
        for number, start in enumerate(range(0, len(records), BATCH_SIZE)):
            if number % max(1, per_container // 10) == 0:
                handler.clients = ClientFactory()
            chunk = records[start : start + BATCH_SIZE]
            simulation.expected_starts += len({json.loads(r["body"])["account"] for r in chunk})
            with counting() as calls:
                started = time.perf_counter()
                response = handler.lambda_handler({"Records": chunk}, context)
                wave.durations.append(time.perf_counter() - started)
            wave.calls.update(calls.by_operation)
            wave.invocations += 1
            if response != {"batchItemFailures": []}:
                wave.wrong.append(f"{region} batch {number}: {response}")


def run_refusals(simulation: Simulation, store: Any) -> None:
    """Events the function must refuse before any AWS call (no allow-list set)."""
    from cmk_rule import handler
    from cmk_rule.errors import RuleError
    from cmk_rule_cli.mock import events

    _environment(REGIONS[0])
    context = _context(REGIONS[0])
    member = account_id(0)

    def scheduled(**top: Any) -> dict[str, Any]:
        event = events.scheduled_event(
            account_id=member,
            region=REGIONS[0],
            rule_name="r",
            result_token=store.issue_token("r", REGIONS[0]),
            parameters={"executionRoleName": ROLE},
        )
        event.update(top)
        return event

    cases = {
        "partition aws-cn": scheduled(configRuleArn=f"arn:aws-cn:config:cn-north-1:{member}:config-rule/config-rule-x"),
        "aws ARN, Region cn-north-1": scheduled(configRuleArn=f"arn:aws:config:cn-north-1:{member}:config-rule/x"),
        "account of 11 digits": scheduled(
            accountId="20000000000", configRuleArn="arn:aws:config:us-east-1:20000000000:config-rule/x"
        ),
    }
    for case, event in cases.items():
        with counting() as calls:
            try:
                handler.lambda_handler(event, context)
                kind = "served"
            except RuleError as error:
                kind = type(error).__name__
        simulation.refusals[case] = (kind, calls.total)
    record = forwarded_record(member, "cn-north-1", random.Random(1))  # noqa: S311
    with counting() as calls:
        response = handler.lambda_handler({"Records": [record]}, context)
    refused = response == {"batchItemFailures": []}
    simulation.refusals["queued event from cn-north-1"] = ("refused" if refused else "served", calls.total)


def simulate(
    accounts: int,
    regions: Sequence[str] = REGIONS,
    *,
    joiners: int = 10,
    per_container: int = 25,
    out: TextIO = sys.stdout,
) -> Simulation:
    """Seed, run every wave, check every verdict; returns the numbers (see the module docstring)."""
    simulation = Simulation(accounts, joiners, tuple(regions), per_container)
    with _restored_process_state():
        _simulate(simulation, out)
    return simulation


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """The simulation sets the Lambda's environment and replaces the handler's client cache: undo both after."""
    from cmk_rule import handler, reevaluation

    environment, clients = dict(os.environ), handler.clients
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environment)
        handler.clients = clients
        reevaluation.rule_names.clear()


def _simulate(simulation: Simulation, out: TextIO) -> None:
    from moto import mock_aws

    accounts, joiners, regions, per_container = (
        simulation.accounts,
        simulation.joiners,
        simulation.regions,
        simulation.per_container,
    )
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's conventional fake credentials
        AWS_SESSION_TOKEN="testing",  # noqa: S106
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    started = time.perf_counter()
    with mock_aws(), _quiet():
        from cmk_rule_cli.mock import account as mocks

        with mocks.config_results_store() as store:
            seeding = time.perf_counter()
            members = [seed_member(i, region) for i in range(accounts) for region in regions]
            simulation.seed_seconds = time.perf_counter() - seeding
            _progress(out, f"seeded {accounts} accounts x {len(regions)} Regions in {simulation.seed_seconds:.1f} s")
            run_periodic(members, simulation.periodic, store, per_container)
            _progress(out, f"periodic wave: {simulation.periodic.invocations} invocations")
            late = [seed_member(i, region) for i in range(accounts, accounts + joiners) for region in regions]
            run_periodic(late, simulation.joined, store, per_container)
            run_refusals(simulation, store)
            run_reevaluation(members + late, simulation, per_container)
            _progress(out, f"re-evaluation: {simulation.reevaluation.invocations} batches")
    simulation.total_seconds = time.perf_counter() - started


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Powertools prints a JSON log line and an EMF document per invocation: not needed here."""
    with contextlib.redirect_stdout(io.StringIO()) as sink:
        yield
        sink.truncate(0)


def _load() -> str:
    try:
        return ", ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:  # pragma: no cover - platforms without getloadavg
        return "unknown"


def _progress(out: TextIO, message: str) -> None:
    out.write(f"[org-sim {time.strftime('%H:%M:%S')}] {message}\n")
    out.flush()


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def markdown(simulation: Simulation, *, command: str) -> str:
    """The RESULTS.md section."""
    periodic, joined, reeval = simulation.periodic, simulation.joined, simulation.reevaluation
    waves = [periodic, joined, reeval]
    rows = [
        (
            w.name,
            f"{w.invocations:,}",
            f"{w.total_calls:,}",
            f"{w.calls_per_invocation():.2f}",
            f"{w.seconds:.1f}",
            f"{1000 * statistics.mean(w.durations):.1f}" if w.durations else "-",
            f"{1000 * sorted(w.durations)[int(0.95 * (len(w.durations) - 1))]:.1f}" if w.durations else "-",
        )
        for w in waves
    ]
    operations = sorted(set(periodic.calls) | set(reeval.calls))
    per_op = [
        (f"`{op}`", f"{periodic.calls.get(op, 0) / max(periodic.invocations, 1):.2f}", f"{reeval.calls.get(op, 0):,}")
        for op in operations
    ]
    invocations = periodic.invocations + joined.invocations
    mean_s = (periodic.seconds + joined.seconds) / max(invocations, 1)
    calls_each = (periodic.total_calls + joined.total_calls) / max(invocations, 1)
    projected_s = mean_s + calls_each * ASSUMED_CALL_MS / 1000
    problems = simulation.problems
    accounts = simulation.accounts + simulation.joiners
    lines = [
        "## Organization simulation",
        "",
        f"Generated by `{command}` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} in "
        f"{simulation.total_seconds:.0f} s (seeding {simulation.seed_seconds:.0f} s). One process, moto in-process; "
        f"{simulation.accounts:,} member accounts x {len(simulation.regions)} Regions "
        f"({', '.join(simulation.regions)}) "
        f"seeded into moto's backends, each with its own keys and 3-5 replication groups; then {simulation.joiners} "
        "accounts that join after the deployment. Organization mode, **no allow-list**, Security Hub off; one Regional "
        "Lambda per Region, a new container (client and credential cache) every "
        f"{simulation.per_container} invocations; every call of a member runs on its assumed member role (moto maps "
        "the role's credentials to its account). Times are wall-clock on a shared machine (load average "
        f"{_load()} at the end, {os.cpu_count()} CPUs): compare them within this table, not with Lambda's.",
        "",
        f"- Verdicts: {periodic.verdicts_checked + joined.verdicts_checked:,} checked against the seeded truth, "
        f"{len(periodic.wrong) + len(joined.wrong)} wrong; the {simulation.joiners} accounts that joined later were "
        f"served without a redeploy ({joined.invocations} invocations).",
        "- Refused before any call: "
        + "; ".join(f"{case} ({kind}, {made} calls)" for case, (kind, made) in simulation.refusals.items())
        + ".",
        f"- Re-evaluation: {reeval.invocations} SQS batches of up to {BATCH_SIZE} records "
        f"({EVENTS_PER_ACCOUNT_REGION} events per account and Region, shuffled) made "
        f"{reeval.calls.get('config:StartConfigRulesEvaluation', 0):,} StartConfigRulesEvaluation calls, "
        f"expected one per account/Region per batch: {simulation.expected_starts:,}.",
        "- " + ("**Problems:** " + "; ".join(problems) if problems else "Every check passed."),
        "",
        *_table(
            ("invocations", "count", "API calls", "calls / invocation", "handler time (s)", "mean (ms)", "p95 (ms)"),
            rows,
        ),
        "",
        "Calls by operation: mean per periodic invocation, and total over the re-evaluation batches:",
        "",
        *_table(("operation", "per periodic invocation", "re-evaluation total"), per_op),
        "",
        "### Lambda concurrency of a periodic wave",
        "",
        "Config runs a periodic rule in each member account on that account's own schedule, anchored when the "
        "organization rule reached it. A fresh deployment reaches every account within minutes, so the waves stay "
        "bunched: model the worst case as every account and Region invoking at once (async invocations; Lambda "
        "queues what it cannot run and retries throttled events for up to 6 hours). The concurrency that drains a "
        f"wave of I invocations of mean duration d within T is I x d / T; spread evenly over the "
        f"{PERIODIC_WINDOW_SECONDS // 3600} h period it is I x d / 86,400 s.",
        "",
        f"Per invocation: measured {1000 * mean_s:.0f} ms against moto ({calls_each:.1f} calls); projected "
        f"{1000 * projected_s:.0f} ms in AWS, adding an assumed {ASSUMED_CALL_MS:.0f} ms per call.",
        "",
    ]
    scale_rows = []
    for label, count_accounts, count_regions in (
        (f"this run: {accounts:,} x {len(simulation.regions)}", accounts, len(simulation.regions)),
        ("500 accounts x 17 Regions", 500, 17),
        ("5,000 accounts x 17 Regions", 5000, 17),
    ):
        wave = count_accounts * count_regions  # per Region's Lambda: count_accounts invocations
        per_region = count_accounts
        scale_rows.append(
            (
                label,
                f"{wave:,}",
                f"{per_region:,}",
                f"{per_region * projected_s / WAVE_TARGET_SECONDS:.1f}",
                f"{per_region * projected_s / PERIODIC_WINDOW_SECONDS:.3f}",
                f"{per_region * projected_s / 60:.1f}",
            )
        )
    lines += [
        *_table(
            (
                "organization",
                "invocations per wave",
                "per Regional Lambda",
                f"concurrency to finish in {WAVE_TARGET_SECONDS // 60} min",
                "mean concurrency over 24 h",
                "minutes at concurrency 1",
            ),
            scale_rows,
        ),
        "",
        "Each Region has its own Lambda and its own concurrency, so the per-Region column is what one function needs. "
        "Unreserved concurrency (the default) lets a burst use the account's pool (1,000 by default, shared with "
        "every other function of the central account); a reserved concurrency below the figure above only makes the "
        "wave take longer (events wait in Lambda's async queue), it loses nothing within the 6-hour event age.",
    ]
    return "\n".join(lines) + "\n"


def write(simulation: Simulation, path: Path = RESULTS, *, command: str) -> str:
    """Replace (or add) the organization section of RESULTS.md; returns the section's Markdown."""
    from benchmarks import sections

    text = markdown(simulation, command=command)
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    path.write_text(sections.replace(old, SECTION, text))
    return text


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.org_simulation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=500, help="member accounts at deployment (default 500)")
    parser.add_argument("--regions", nargs="+", default=list(REGIONS), help="Regions (default: three)")
    parser.add_argument("--joiners", type=int, default=10, help="accounts that join after deployment (default 10)")
    parser.add_argument("--per-container", type=int, default=25, help="invocations per modelled container")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the RESULTS.md to update")
    args = parser.parse_args(argv)
    simulation = simulate(
        args.accounts, tuple(args.regions), joiners=args.joiners, per_container=args.per_container, out=out
    )
    arguments = list(sys.argv[1:] if argv is None else argv)
    out.write(
        "\n"
        + write(
            simulation, args.output, command=" ".join([".venv/bin/python -m benchmarks.org_simulation", *arguments])
        )
    )
    return 1 if simulation.problems else 0


if __name__ == "__main__":
    sys.exit(main())
