"""``cmk-rule check``: the control before deployment, on CloudFormation templates and Terraform plans.

It applies the rows of the runtime decision table that a template or plan can decide (see
:mod:`cmk_rule_cli.iac.static_rules`), numbered and worded like the runtime rule so a pipeline and Config never
disagree about the same group. The exit code gates a pipeline: 0 when nothing fails, 1 when a group fails, 2 when
the command line or an input is unusable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmk_rule.errors import InvalidParameterError
from cmk_rule.parameters import APPROVED_KEYS, EXEMPTION_TAG_KEY, parse_rule_parameters
from cmk_rule_cli import __version__
from cmk_rule_cli.iac import cloudformation, report, sarif, terraform
from cmk_rule_cli.iac.discovery import Source, discover
from cmk_rule_cli.iac.model import CLOUDFORMATION, Candidate, Finding, Status
from cmk_rule_cli.iac.static_rules import StaticPolicy, judge_variants

NAME = "check"
HELP = "check CloudFormation templates and Terraform plans before deployment (exit 1 when a group fails)"
DESCRIPTION = """Check ElastiCache replication groups in CloudFormation templates (JSON or YAML, including
CDK's cdk.out/*.template.json) and Terraform plans (terraform show -json) before they are deployed: at-rest
encryption on, and a customer-managed KMS key that the template or plan itself declares enabled (and rotating, with
--require-key-rotation). Results carry the runtime rule's decision-table rows. A literal key ARN passes with a note:
only the runtime rule can ask KMS whether it is customer-managed and enabled.

Formats are detected from the content; directories are searched recursively. Exit code: 0 nothing fails,
1 at least one group fails, 2 bad arguments or an input that is neither format.

examples:
  cmk-rule check cdk.out
  cmk-rule check template.yaml --require-key-rotation --approved-key-arn 1234abcd-12ab-34cd-56ef-1234567890ab
  terraform show -json plan.tfplan > plan.json && cmk-rule check plan.json --format sarif -o check.sarif
"""

FORMATS = ("table", "json", "sarif")
_SUFFIX_FORMATS = {".sarif": "sarif", ".json": "json", ".txt": "table"}
_MAX_TAG_KEY = 128
# Only validation matters offline: the rule's parser expands bare key ids with these, and the result is discarded.
_OFFLINE_ACCOUNT, _OFFLINE_REGION = "000000000000", "us-east-1"


def _validated(name: str, text: str) -> None:
    """The rule's own parser decides what a valid parameter is, so ``check`` and the rule never disagree."""
    try:
        parse_rule_parameters({name: text}, partition="aws", region=_OFFLINE_REGION, account_id=_OFFLINE_ACCOUNT)
    except InvalidParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _approved_key(text: str) -> list[str]:
    """``--approved-key-arn``: key ARNs or key ids, comma-separated or repeated; aliases are refused."""
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:  # `--approved-key-arn "$UNSET"` silently meaning "any key" would be a false pass
        raise argparse.ArgumentTypeError("empty value")
    _validated(APPROVED_KEYS, ",".join(keys))
    return keys  # as given: the static check compares key ids when a template names a key by id


def _tag_key(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError(f"a tag key has 1 to {_MAX_TAG_KEY} characters, got 0")
    _validated(EXEMPTION_TAG_KEY, text)
    return text


def register(parser: argparse.ArgumentParser) -> None:
    """Options of ``check``; the rule parameters have the names and meaning of ``scan``'s and the rule's."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="template, plan JSON, or a directory to search")
    rule = parser.add_argument_group("rule parameters (same meaning as the rule's InputParameters)")
    rule.add_argument(
        "--approved-key-arn",
        action="append",
        type=_approved_key,
        default=[],
        metavar="ARN",
        help="approvedKmsKeyArns: a key ARN or key id (repeatable or comma-separated; aliases are refused)",
    )
    rule.add_argument(
        "--require-key-rotation",
        action="store_true",
        help="requireKeyRotation: keys declared in the template or plan must enable automatic rotation",
    )
    rule.add_argument(
        "--exemption-tag-key",
        type=_tag_key,
        metavar="KEY",
        help="exemptionTagKey: groups carrying this tag key are NOT_APPLICABLE",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from --output's suffix (.sarif/.json/.txt), else a table on a terminal and JSON in a pipe",
    )
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")


def policy_from(args: argparse.Namespace) -> StaticPolicy:
    """The static policy from the parsed options."""
    approved = frozenset(key for group in args.approved_key_arn for key in group)
    return StaticPolicy(
        approved_key_arns=approved,
        require_key_rotation=bool(args.require_key_rotation),
        exemption_tag_key=args.exemption_tag_key,
    )


def candidates_of(source: Source) -> list[Candidate]:
    """The replication groups of one parsed file."""
    if source.iac_format == CLOUDFORMATION:
        return cloudformation.extract(source.document, source.text, source.display)
    return terraform.extract(source.document, source.display)


def check(sources: list[Source], policy: StaticPolicy) -> list[Finding]:
    """Judge every replication group of every source (pure once the files are parsed)."""
    findings = []
    for source in sources:
        for candidate in candidates_of(source):
            judgement = judge_variants(candidate.variants, policy)
            findings.append(
                Finding(
                    resource_id=candidate.resource_id,
                    resource_type=candidate.resource_type,
                    iac_format=candidate.iac_format,
                    location=candidate.location,
                    status=judgement.status,
                    row=judgement.row,
                    message=judgement.message,
                    notes=judgement.notes,
                )
            )
    return findings


def choose_format(explicit: str | None, output: str | None, stdout_is_tty: bool) -> str:
    """``--format``; else from ``--output``'s suffix; else a table on a terminal and JSON in a pipe."""
    if explicit:
        return explicit
    if output:
        return _SUFFIX_FORMATS.get(Path(output).suffix.lower(), "json")
    return "table" if stdout_is_tty else "json"


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule check``."""
    sources, errors = discover(args.paths)
    if errors:
        for error in errors:
            print(f"cmk-rule check: error: {error}", file=sys.stderr)
        return 2
    policy = policy_from(args)
    findings = check(sources, policy)
    fmt = choose_format(args.format, args.output, sys.stdout.isatty())
    if fmt == "sarif":
        text = sarif.render(findings, __version__)
    elif fmt == "json":
        text = report.render_json(findings, len(sources), policy, __version__)
    else:
        text = report.render_table(findings, len(sources))
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"cmk-rule check: error: {args.output}: cannot be written ({error})", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    return 1 if any(f.status is Status.FAIL for f in findings) else 0
