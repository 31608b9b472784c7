"""``cmk-rule demo``: the real Lambda handler, end to end, against a local mock AWS account.

Starts moto's server on a free loopback port, seeds the demonstration fleet (every decision-table row, two
Regions), sends real-shaped ScheduledNotification events to ``cmk_rule.handler.lambda_handler`` (which talks to the
server over HTTP like it would to AWS), then prints the verdicts Config recorded and the Security Hub findings sent.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import boto3
from moto.server import ThreadedMotoServer

from cmk_rule.aws import ClientFactory
from cmk_rule_cli import events, fleet, mock_aws

DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # nosec B105 - moto's conventional fake credentials
    "AWS_SESSION_TOKEN": "testing",  # nosec B105
    "AWS_DEFAULT_REGION": fleet.DEMO_REGIONS[0],
    "AWS_REGION": fleet.DEMO_REGIONS[0],
    "POWERTOOLS_SERVICE_NAME": "elasticache-cmk-rule",
    "POWERTOOLS_METRICS_NAMESPACE": "ElastiCacheCmkRule",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "SECURITY_HUB_MODE": "direct",
}


@dataclass
class DemoRun:
    """What the demo saw, for printing and for the tests."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    fleets: dict[str, fleet.SeededFleet] = field(default_factory=dict)


@contextlib.contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """moto's server on loopback (``port`` 0: a free one), stopped on exit; yields its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block and restore the previous values after it."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _clean_backends(endpoint: str) -> Iterator[None]:
    """moto keeps its accounts in process-wide backends, also behind its server: start empty and leave nothing."""

    def reset() -> None:
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310  # nosec B310 - http on loopback only
        mock_aws.reset_denials()

    reset()
    try:
        yield
    finally:
        reset()


def run_demo(*, quiet_logs: bool = True, port: int = 0, then: Callable[[str, DemoRun], None] | None = None) -> DemoRun:
    """Seed, invoke the handler once per Region, and collect what Config and Security Hub recorded.

    ``then(endpoint, run)`` runs while the server is still up (``cmk-rule demo --serve`` waits there, so that
    ``cmk-rule scan`` and ``evidence`` can be tried against the same mock account).
    """
    run = DemoRun()
    with moto_server(port) as endpoint, mock_aws.config_results_store() as store, _clean_backends(endpoint):
        env = dict(DEMO_ENV, AWS_ENDPOINT_URL=endpoint)
        if quiet_logs:
            env.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
        with patched_environ(env):
            session = boto3.session.Session()

            def client(service: str, region: str) -> Any:
                return session.client(service, region_name=region, endpoint_url=endpoint)  # type: ignore[call-overload]

            # Imported only now: Powertools reads its log level and metrics settings from the environment at import.
            from cmk_rule import handler  # noqa: PLC0415

            handler.clients = ClientFactory()  # a fresh container: clients bound to this run's mock endpoint

            for region in fleet.DEMO_REGIONS:
                seeded = fleet.seed_region(client, region, full=region == fleet.DEMO_REGIONS[0])
                run.fleets[region] = seeded
                client("securityhub", region).enable_security_hub()
            store.seed(fleet.DEMO_REGIONS[0], fleet.RULE_NAME, fleet.VANISHED_GROUP, "COMPLIANT")
            for region, seeded in run.fleets.items():
                event = events.scheduled_event(
                    account_id=mock_aws.ACCOUNT_ID,
                    region=region,
                    rule_name=fleet.RULE_NAME,
                    result_token=store.issue_token(fleet.RULE_NAME, region),
                    parameters=seeded.parameters,
                )
                context = mock_aws.FakeLambdaContext(
                    invoked_function_arn=f"arn:aws:lambda:{region}:{mock_aws.ACCOUNT_ID}:function:elasticache-cmk-rule"
                )
                run.summaries[region] = handler.lambda_handler(event, context)
                engines = {g.group_id: g.engine for g in seeded.groups}
                for group_id, result in sorted(store.for_rule(fleet.RULE_NAME, region).items()):
                    finding = _finding_for(client("securityhub", region), group_id)
                    details = finding.get("Resources", [{}])[0].get("Details", {}).get("Other", {}) if finding else {}
                    run.rows.append(
                        {
                            "region": region,
                            "group": group_id,
                            "engine": engines.get(group_id, "-"),
                            "key": details.get("KeyArn") or details.get("KmsKeyId") or "-",
                            "row": details.get("DecisionRow", "-"),
                            "verdict": result.compliance_type,
                            "annotation": result.annotation,
                        }
                    )
                    if finding:
                        run.findings.append(finding)
            if then is not None:
                then(endpoint, run)
    return run


def _finding_for(securityhub: Any, group_id: str) -> dict[str, Any] | None:
    for page in securityhub.get_paginator("get_findings").paginate():
        for finding in page["Findings"]:
            if finding.get("ProductFields", {}).get("elasticache-cmk-rule/ReplicationGroupId") == group_id:
                return dict(finding)
    return None


def short_key(reference: str) -> str:
    """The resource part of a key or alias ARN ("key/1234...", "alias/aws/elasticache"); "-" for none."""
    return reference.rsplit(":", 1)[-1] if reference else "-"


def print_demo(run: DemoRun, out: TextIO | None = None) -> None:
    """The verdict table, the totals, and the findings, in plain text."""
    out = out or sys.stdout
    out.write("elasticache-cmk-rule demo: the real Lambda handler against a local mock AWS account (moto)\n\n")
    out.write(
        f"{'REGION':<10} {'REPLICATION GROUP':<26} {'ENGINE':<7} {'KEY':<41} {'ROW':>3}  {'VERDICT':<15} ANNOTATION\n"
    )
    for row in run.rows:
        out.write(
            f"{row['region']:<10} {row['group']:<26} {row['engine']:<7} {short_key(row['key']):<41} {row['row']:>3}  "
            f"{row['verdict']:<15} {row['annotation']}\n"
        )
    totals: dict[str, int] = {}
    for row in run.rows:
        totals[row["verdict"]] = totals.get(row["verdict"], 0) + 1
    out.write("\nTotals: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) + f" ({len(run.rows)} groups)\n")
    out.write("\nSecurity Hub findings sent (BatchImportFindings):\n")
    out.write(f"{'SEVERITY':<14} {'STATUS':<14} {'RECORD':<9} ID\n")
    for finding in run.findings:
        out.write(
            f"{finding['Severity']['Label']:<14} {finding['Compliance']['Status']:<14} "
            f"{finding.get('RecordState', ''):<9} {finding['Id']}\n"
        )
    out.write("\nThe mock server is stopped; nothing was left behind.\n")


NAME = "demo"
HELP = "run the rule end to end on a local mock AWS account (no AWS account needed)"
DESCRIPTION = """Run the real Lambda handler end to end against a local mock AWS account (moto's server on a free
loopback port), seeded with a fleet that hits every row of the decision table in two Regions, and print the
verdicts Config recorded and the Security Hub findings sent. Needs no AWS account and leaves nothing behind.

With --serve the mock account stays up after the demo (until Ctrl-C), with the environment to point the
read-only commands at it printed, so that `cmk-rule scan` and `cmk-rule evidence` can be tried without AWS.

examples:
  cmk-rule demo
  cmk-rule demo --serve --port 5123     # then, in another shell, the commands it prints
"""


def register(parser: argparse.ArgumentParser) -> None:
    """``--serve`` keeps the mock account up; ``--port`` picks its loopback port."""
    parser.add_argument("--serve", action="store_true", help="keep the mock account running after the demo")
    parser.add_argument("--port", type=int, default=0, help="loopback port for the mock account (default: a free one)")


def serve_instructions(endpoint: str, run: DemoRun) -> str:
    """The shell lines that point the AWS SDK, and so `cmk-rule scan` / `evidence`, at the mock account, with the
    same rule parameters the demo gave the Lambda (so the verdicts match)."""
    exports = {"AWS_ENDPOINT_URL": endpoint, **{k: v for k, v in DEMO_ENV.items() if k.startswith("AWS_")}}
    lines = [f"export {name}={value}" for name, value in exports.items()]
    approved = sorted(
        arn for seeded in run.fleets.values() for arn in seeded.parameters["approvedKmsKeyArns"].split(",")
    )
    flags = " ".join(
        [f"--region {region}" for region in fleet.DEMO_REGIONS]
        + [f"--approved-key-arn {arn}" for arn in approved]
        + [f"--exemption-tag-key {fleet.EXEMPTION_TAG}", "--require-key-rotation"]
    )
    lines += [
        f"cmk-rule scan {flags} --format table",
        f"cmk-rule evidence {flags} --rule-name {fleet.RULE_NAME} --output-dir ./evidence-demo",
    ]
    return "\n".join(lines)


def _serve_until_interrupted(endpoint: str, run: DemoRun) -> None:
    print_demo(run)
    sys.stdout.write(f"\nThe mock account is serving at {endpoint}. In another shell:\n\n")
    sys.stdout.write(serve_instructions(endpoint, run) + "\n\nPress Ctrl-C to stop it.\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as cleanly as Ctrl-C
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sys.stdout.write("\nStopped.\n")


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule demo``."""
    if args.serve:
        run_demo(port=args.port, then=_serve_until_interrupted)
    else:
        print_demo(run_demo(port=args.port))
    return 0
