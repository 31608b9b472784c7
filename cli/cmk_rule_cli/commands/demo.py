"""``cmk-rule demo``: the real Lambda handler, end to end, against a local mock AWS account.

Starts moto's server on a loopback port, seeds the demonstration fleet (every decision-table row, two Regions),
sends real-shaped ScheduledNotification events to ``cmk_rule.handler.lambda_handler`` (which talks to the server over
HTTP like it would to AWS), then prints the verdicts Config recorded and the Security Hub findings sent.

moto is an optional dependency (the package's ``demo`` extra): it, boto3 and the mock account
(:mod:`cmk_rule_cli.mock.account`, :mod:`cmk_rule_cli.mock.fleet`) are imported only when the demo runs.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import os
import shutil
import signal
import socket
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from cmk_rule_cli.commands import arguments
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.mock.fleet import DEMO_REGIONS
from cmk_rule_cli.readers.progress import Steps
from cmk_rule_cli.reports import output
from cmk_rule_cli.reports.text_safety import visible

DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # nosec B105 - moto's conventional fake credentials
    "AWS_SESSION_TOKEN": "testing",  # nosec B105
    "AWS_DEFAULT_REGION": DEMO_REGIONS[0],
    "AWS_REGION": DEMO_REGIONS[0],
    "POWERTOOLS_SERVICE_NAME": "elasticache-cmk-rule",
    "POWERTOOLS_METRICS_NAMESPACE": "ElastiCacheCmkRule",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "SECURITY_HUB_MODE": "direct",
}
# The package is not on PyPI yet, so the sentence names what works today: the extra installed from where cmk-rule came.
MISSING_EXTRA = (
    "cmk-rule demo needs the [demo] extra (moto's server), which is not installed: "
    'pip install ".[demo]" in a checkout (or python3 tasks.py demo), or pip install "<the wheel file>[demo]"'
)
DEMO_MODULES = ("moto", "flask", "flask_cors", "werkzeug")  # moto's ThreadedMotoServer imports the last three
DEMO_COLUMNS = ("region", "group", "engine", "key", "row", "verdict", "annotation")
FINDING_COLUMNS = ("region", "group", "severity", "status", "record")
ROW_MEANING = (
    "ROW is the row of the rule's decision table that decided the verdict (1 not applicable ... 11 compliant; "
    "see 'Decision table' in the README)."
)
MAX_PORT = 65_535
MAX_SERVE_GROUPS = 10_000


@dataclass
class DemoRun:
    """What the demo saw, for printing and for the tests."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    fleets: dict[str, fleet.SeededFleet] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)  # groups whose stale recorded result the Lambda retired


def moto_available() -> bool:
    """Whether the ``demo`` extra (moto's server) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in DEMO_MODULES)


def check_port_free(port: int) -> None:
    """Fail at once, in one sentence, when ``port`` is taken (moto's server would otherwise wait forever)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
            raise CliError(
                f"port {port} on 127.0.0.1 {reason}; pick another with --port, or 0 for a free one"
            ) from None


@contextlib.contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """The mock account's server (:func:`cmk_rule_cli.mock.account.moto_server`) once ``port`` is known to be free."""
    from cmk_rule_cli.mock import account as mock_aws  # noqa: PLC0415 - the demo extra, imported only when it runs

    check_port_free(port)
    with mock_aws.moto_server(port) as endpoint:
        yield endpoint


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
    import urllib.request  # noqa: PLC0415

    from cmk_rule_cli.mock import account as mock_aws  # noqa: PLC0415

    def reset() -> None:
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310  # nosec B310 - http on loopback only
        mock_aws.reset_denials()

    reset()
    try:
        yield
    finally:
        reset()


def run_demo(
    *,
    quiet_logs: bool = True,
    port: int = 0,
    then: Callable[[str, DemoRun], None] | None = None,
    steps: Steps | None = None,
) -> DemoRun:
    """Seed, invoke the handler once per Region, and collect what Config and Security Hub recorded.

    ``then(endpoint, run)`` runs while the server is still up (``cmk-rule demo --serve`` waits there, so that
    ``cmk-rule scan`` and ``evidence`` can be tried against the same mock account).
    """
    import boto3  # noqa: PLC0415 - imported only when the demo runs

    from cmk_rule.aws import ClientFactory  # noqa: PLC0415
    from cmk_rule_cli.mock import account as mock_aws  # noqa: PLC0415
    from cmk_rule_cli.mock import cloudtrail as mock_cloudtrail  # noqa: PLC0415
    from cmk_rule_cli.mock import events  # noqa: PLC0415

    steps = steps or Steps("demo", enabled=False)
    run = DemoRun()
    steps.step("starting moto's server on 127.0.0.1")
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
                full = region == fleet.DEMO_REGIONS[0]
                steps.step(f"seeding {region}: KMS keys and {'every decision-table row' if full else '3 groups'}")
                seeded = fleet.seed_region(client, region, full=full)
                run.fleets[region] = seeded
                client("securityhub", region).enable_security_hub()
            store.seed(fleet.DEMO_REGIONS[0], fleet.RULE_NAME, fleet.VANISHED_GROUP, "COMPLIANT")
            for region, seeded in run.fleets.items():
                steps.step(f"invoking the Lambda handler for {region} (ScheduledNotification)")
                event = events.scheduled_event(
                    account_id=mock_aws.ACCOUNT_ID,
                    region=region,
                    rule_name=fleet.RULE_NAME,
                    result_token=store.issue_token(fleet.RULE_NAME, region),
                    parameters=seeded.parameters,
                )
                context: Any = mock_aws.FakeLambdaContext(  # shaped like LambdaContext, not a subclass
                    invoked_function_arn=f"arn:aws:lambda:{region}:{mock_aws.ACCOUNT_ID}:function:elasticache-cmk-rule"
                )
                run.summaries[region] = handler.lambda_handler(event, context)
                engines = {g.group_id: g.engine for g in seeded.groups}
                findings = _findings_by_group(client("securityhub", region))
                for group_id, result in sorted(store.for_rule(fleet.RULE_NAME, region).items()):
                    finding = findings.get(group_id)
                    details = finding.get("Resources", [{}])[0].get("Details", {}).get("Other", {}) if finding else {}
                    if group_id not in engines:
                        run.retired.add(group_id)
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
                with mock_cloudtrail.event_history() as history:  # moto has no LookupEvents: key use for `evidence`
                    mock_cloudtrail.seed_demo(history, run.fleets, account=mock_aws.ACCOUNT_ID, now=datetime.now(UTC))
                    then(endpoint, run)
    return run


def _findings_by_group(securityhub: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in securityhub.get_paginator("get_findings").paginate():
        for finding in page["Findings"]:
            group_id = finding.get("ProductFields", {}).get("elasticache-cmk-rule/ReplicationGroupId")
            if group_id:
                found[group_id] = dict(finding)
    return found


def short_key(reference: str) -> str:
    """The resource part of a key or alias ARN ("key/1234...", "alias/aws/elasticache"); "-" for none."""
    return output.short_reference(reference) or "-"


def describe_parameters(run: DemoRun) -> list[str]:
    """The rule parameters the demo gave the Lambda, one line each, keys shortened to their ids."""
    lines = []
    for region, seeded in run.fleets.items():
        parameters = seeded.parameters
        approved = ", ".join(short_key(arn) for arn in parameters.get("approvedKmsKeyArns", "").split(",") if arn)
        lines.append(f"  {region}: approvedKmsKeyArns = {approved}")
        lines.append(
            f"  {' ' * len(region)}  requireKeyRotation = {parameters.get('requireKeyRotation', 'false')}, "
            f"exemptionTagKey = {parameters.get('exemptionTagKey')}"
        )
    return lines


def print_demo(
    run: DemoRun, out: TextIO | None = None, *, style: output.TableStyle | None = None, stopped: bool = True
) -> None:
    """The parameters, the verdict table (failures first) with what ROW means, the totals (failures first, retired
    groups apart), and the findings. On a terminal (``style.width``) the prose wraps to its width too."""
    out = out or sys.stdout
    table_style = style or output.TableStyle(verdict="verdict")

    def say(text: str) -> None:
        lines = text.split("\n")
        if table_style.width:
            lines = [part for line in lines for part in (textwrap.wrap(line, table_style.width) or [""])]
        out.write("\n".join(lines) + "\n")

    say("elasticache-cmk-rule demo: the real Lambda handler against a local mock AWS account (moto)\n")
    say("Rule parameters (the Config rule's InputParameters):\n" + "\n".join(describe_parameters(run)) + "\n")
    rows = output.failures_first([{**row, "key": short_key(row["key"])} for row in run.rows], "verdict")
    out.write(output.render_table(rows, DEMO_COLUMNS, style=_with_headers(table_style, {"group": "REPLICATION GROUP"})))
    say(f"\n{ROW_MEANING}\n")
    current = [row for row in run.rows if row["group"] not in run.retired]
    totals = Counter(row["verdict"] for row in current)
    rest = ", ".join(f"{verdict} {count}" for verdict, count in sorted(totals.items()) if verdict != "NON_COMPLIANT")
    line = f"Totals: {output.headline(totals['NON_COMPLIANT'], len(current), 'groups NON_COMPLIANT')}; {rest}"
    if run.retired:
        line += (
            f"; retired apart: {len(run.retired)} deleted group(s) ({visible(', '.join(sorted(run.retired)))}) "
            "whose earlier "
            "result Config still held, now NOT_APPLICABLE"
        )
    say(line + "\n")
    say("Security Hub findings sent (BatchImportFindings), one per judged group:")
    findings: list[output.Row] = [
        {
            "region": finding.get("Region", ""),
            "group": finding.get("ProductFields", {}).get("elasticache-cmk-rule/ReplicationGroupId", ""),
            "severity": finding["Severity"]["Label"],
            "status": finding["Compliance"]["Status"],
            "record": finding.get("RecordState", ""),
        }
        for finding in run.findings
    ]
    findings = output.failures_first(findings, "status")
    out.write(output.render_table(findings, FINDING_COLUMNS, style=_with_headers(table_style, {}, verdict="status")))
    if run.findings:
        first = run.findings[0]
        prefix = first["Id"].rsplit("/", 1)[0].replace(f"/{first['Region']}/", "/<Region>/")
        say(f"Finding ids: {prefix}/<group>.")
    if stopped:
        say("\nThe mock server is stopped; nothing was left behind.")


def _with_headers(style: output.TableStyle, headers: dict[str, str], verdict: str = "verdict") -> output.TableStyle:
    return output.TableStyle(
        width=style.width,
        color=style.color,
        verdict=verdict,
        right=frozenset({"row"}),
        headers=headers,
        title=("group", "region"),
    )


NAME = "demo"
HELP = "run the rule end to end on a local mock AWS account (no AWS account needed; needs the [demo] extra)"
DESCRIPTION = f"""Run the real Lambda handler end to end against a local mock AWS account (moto's server on a free
loopback port), seeded with a fleet that hits every row of the decision table in two Regions, and print the
verdicts Config recorded and the Security Hub findings sent. Needs no AWS account and leaves nothing behind.
Needs the [demo] extra (moto's server): in a checkout, python3 tasks.py demo or pip install ".[demo]".

With --serve the mock account stays up after the demo (until Ctrl-C), with the environment to point the
read-only commands at it printed, so that `cmk-rule scan` and `cmk-rule evidence` can be tried without AWS;
--groups N adds N more groups in {DEMO_REGIONS[0]}, for a big scan.

examples:
  cmk-rule demo
  cmk-rule demo --serve --port 5123 --groups 1000    # then, in another shell, the commands it prints
"""


def _bounded(what: str, low: int, high: int, meaning: str) -> Callable[[str], int]:
    """An argparse ``type``: an integer from ``low`` to ``high``, refused in one sentence otherwise."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{value}' is not a {what}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not {meaning}")
        return number

    return parse


_port = _bounded("port number", 0, MAX_PORT, f"a TCP port (0 to {MAX_PORT}; 0 = a free one)")
_groups = _bounded("number of groups", 1, MAX_SERVE_GROUPS, f"between 1 and {MAX_SERVE_GROUPS:,}")


def register(parser: argparse.ArgumentParser) -> None:
    """``--serve`` keeps the mock account up; ``--port`` picks its loopback port; ``--groups`` grows the fleet."""
    parser.add_argument("--serve", action="store_true", help="keep the mock account running after the demo")
    parser.add_argument(
        "--port", type=_port, default=0, help="loopback port for the mock account (default 0: a free one)"
    )
    parser.add_argument(
        "--groups",
        type=_groups,
        metavar="N",
        help=f"with --serve: seed N more groups in {DEMO_REGIONS[0]} after the demo, to try a big scan",
    )
    out = parser.add_argument_group("output")
    arguments.add_behaviour_arguments(out, gate=False)


def command_name() -> str:
    """How to call this very ``cmk-rule`` from another shell: its plain name when that is what PATH finds, else
    its full path (e.g. ``.venv/bin/cmk-rule`` when the venv is not activated)."""
    running = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    found = shutil.which("cmk-rule")
    if running is not None and running.name == "cmk-rule" and (found is None or Path(found).resolve() != running):
        return str(running)
    return "cmk-rule"


def serve_instructions(endpoint: str, run: DemoRun, command: str = "cmk-rule") -> str:
    """The shell lines that point the AWS SDK, and so `cmk-rule scan` / `evidence`, at the mock account, with the
    same rule parameters the demo gave the Lambda (so the verdicts match). Key ids, not ARNs (a key id means that
    key in each scanned Region), and one flag per line, so every line stays short."""
    exports = {"AWS_ENDPOINT_URL": endpoint, **{k: v for k, v in DEMO_ENV.items() if k.startswith("AWS_")}}
    lines = [f"export {name}={value}" for name, value in exports.items()]
    approved = sorted(
        arn.rsplit("/", 1)[-1]
        for seeded in run.fleets.values()
        for arn in seeded.parameters["approvedKmsKeyArns"].split(",")
    )
    flags = [
        " ".join(f"--region {region}" for region in fleet.DEMO_REGIONS),
        *[f"--approved-key-arn {key}" for key in approved],
        f"--exemption-tag-key {fleet.EXEMPTION_TAG} --require-key-rotation",
    ]
    continued = " \\\n    ".join(flags)
    lines += [
        f"{command} scan {continued} \\\n    --format table",
        f"{command} evidence {continued} \\\n    --rule-name {fleet.RULE_NAME} "
        f"--period-start {(datetime.now(UTC) - timedelta(days=30)).date().isoformat()} \\\n"
        "    --output-dir ./evidence-demo",
    ]
    return "\n".join(lines)


def _serve(groups: int | None, steps: Steps, style: output.TableStyle) -> Callable[[str, DemoRun], None]:
    def serve_until_interrupted(endpoint: str, run: DemoRun) -> None:
        print_demo(run, style=style, stopped=False)
        if groups:
            _seed_more(endpoint, groups, run.fleets[DEMO_REGIONS[0]].keys["approved"], steps)
        sys.stdout.write(f"\nThe mock account is serving at {endpoint}. In another shell:\n\n")
        sys.stdout.write(serve_instructions(endpoint, run, command_name()) + "\n\nPress Ctrl-C to stop it.\n")
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as cleanly as Ctrl-C
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            sys.stdout.write("\nStopped; the mock account is gone.\n")

    return serve_until_interrupted


def _seed_more(endpoint: str, groups: int, key_arn: str, steps: Steps) -> None:
    import boto3  # noqa: PLC0415

    session: Any = boto3.session.Session()  # typed loosely: the service name is a variable here

    def client(service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint)

    region = fleet.DEMO_REGIONS[0]
    steps.step(f"seeding {groups:,} more groups in {region}")
    fleet.seed_many(client, region, groups, key_arn=key_arn, progress=lambda done: _every_hundred(steps, done, groups))
    sys.stdout.write(
        f"\nAdded {groups:,} groups in {region} (fleet-00001 ...), encrypted with the approved key "
        f"{short_key(key_arn)}: COMPLIANT for a scan (the Lambda has not judged them).\n"
    )


def _every_hundred(steps: Steps, done: int, total: int) -> None:
    if done % 100 == 0 or done == total:
        steps.step(f"  {done:,}/{total:,} groups")


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule demo``."""
    try:
        if not moto_available():
            raise CliError(MISSING_EXTRA)
        if args.groups and not args.serve:
            raise CliError("--groups needs --serve (it grows the mock account that --serve keeps up)")
        check_port_free(args.port)
    except CliError as error:
        output.say(f"cmk-rule demo: error: {visible(str(error))}")
        return 2
    steps = Steps("cmk-rule demo", enabled=not args.quiet)
    style = output.terminal_style(sys.stdout, no_color=args.no_color, verdict="verdict")
    if args.serve:
        run_demo(port=args.port, then=_serve(args.groups, steps, style), steps=steps)
    else:
        print_demo(run_demo(port=args.port, steps=steps), style=style)
    return 0
