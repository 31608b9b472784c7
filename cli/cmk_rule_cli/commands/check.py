"""``cmk-rule check``: the control before deployment, on Terraform, CloudFormation, CDK output and change sets.

It applies the rows of the runtime decision table that the code can decide (see
:mod:`cmk_rule_cli.iac.static_rules`), numbered and worded like the runtime rule so a pipeline and Config never
disagree about the same group, and the control's own pitfalls that only a pre-deployment check can see
(:mod:`cmk_rule_cli.iac.checks`). The exit code gates a pipeline: 0 when nothing fails, 1 when a result fails, 2
when the command line or an input is unusable.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmk_rule.errors import InvalidParameterError
from cmk_rule.parameters import APPROVED_KEYS, EXEMPTION_TAG_KEY, parse_rule_parameters
from cmk_rule_cli import __version__
from cmk_rule_cli.commands import arguments
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.iac import input_types
from cmk_rule_cli.iac.checks import StaticCheck
from cmk_rule_cli.iac.input_types import IacInput
from cmk_rule_cli.iac.inputs.limits import LimitExceeded
from cmk_rule_cli.iac.model import (
    Candidate,
    Finding,
    KeyDecl,
    KeyRefKind,
    Location,
    Skipped,
    Status,
)
from cmk_rule_cli.iac.static_rules import StaticPolicy, judge_variants
from cmk_rule_cli.reports import formats, output
from cmk_rule_cli.reports.text_safety import visible

if TYPE_CHECKING:  # the parsers (YAML, HCL) load only when a check runs: --help and the other commands stay fast
    from cmk_rule_cli.iac.inputs import terraform_hcl
    from cmk_rule_cli.iac.inputs.discovery import Source

NAME = "check"
HELP = "check Terraform, CloudFormation and CDK before deployment (exit 1 when a result fails)"
DESCRIPTION = """Check ElastiCache replication groups before they are deployed, in Terraform configuration (.tf
files and module directories, with .tfvars; local modules and terraform-aws-modules/elasticache are followed),
Terraform plans (terraform show -json), CloudFormation templates (JSON or YAML, including CDK's
cdk.out/*.template.json) and change sets (aws cloudformation describe-change-set): at-rest encryption on, and a
customer-managed KMS key that the code itself declares enabled (and rotating, with --require-key-rotation). Results
carry the runtime rule's decision-table rows; the control's pitfalls (a bare alias, a value that names no key, a key
policy that leaves ElastiCache out, a replacement that evicts the cache, a key without deletion protection) are
results of their own. A literal key ARN passes with a note: only the runtime rule can ask KMS whether it is
customer-managed and enabled. Every report lists what it skipped and why.

Formats are detected from the content; directories are searched recursively. Output: a table, failures first, on
a terminal and in a pipe alike (JSON and SARIF are asked for with --format or the -o file's suffix);
--failed-only lists only failing results (the totals still count all).

exit codes:
  0  nothing fails (including: Terraform or templates without any ElastiCache replication group)
  1  at least one result fails (0 with --soft-fail)
  2  bad arguments, an input that cannot be parsed, or a path with no .tf, template, plan or change set at all

examples:
  cmk-rule check .
  cmk-rule check infra/ infra/prod.tfvars --format sarif -o cmk-rule.sarif
  cmk-rule check cdk.out
  cmk-rule check template.yaml --require-key-rotation --approved-key-arn 1234abcd-12ab-34cd-56ef-1234567890ab
  terraform show -json plan.tfplan > plan.json && cmk-rule check plan.json --format sarif -o check.sarif
"""

FORMATS = formats.offered(NAME)
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
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help=".tf or .tfvars file, template, plan or change set JSON, or a directory to search",
    )
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
    arguments.add_output_arguments(
        parser,
        FORMATS,
        format_help="any case; default: from --output's suffix (.sarif/.json/.txt), else a table, on a terminal and in "
        "a pipe alike",
    )
    out = parser.add_argument_group("SARIF")
    out.add_argument(
        "--include-passed",
        action="store_true",
        help="SARIF: also list passing and not-applicable results (left out by default, as code scanning expects)",
    )
    out.add_argument(
        "--base-dir",
        metavar="DIR",
        help="SARIF: make artifact URIs relative to DIR (default: the repository root found from the current "
        "directory, else the current directory)",
    )
    out.add_argument(
        "--automation-id",
        default="cmk-rule-check/",
        metavar="ID",
        help="SARIF: runs[].automationDetails.id (category for GitHub code scanning; default %(default)s)",
    )


def policy_from(args: argparse.Namespace) -> StaticPolicy:
    """The static policy from the parsed options."""
    approved = frozenset(key for group in args.approved_key_arn for key in group)
    return StaticPolicy(
        approved_key_arns=approved,
        require_key_rotation=bool(args.require_key_rotation),
        exemption_tag_key=args.exemption_tag_key,
    )


def candidates_of(source: Source, modules: terraform_hcl.ModuleCache | None = None) -> list[Candidate]:
    """The replication groups of one parsed input (a template, a plan, or a Terraform root module)."""
    from cmk_rule_cli.iac.inputs import terraform_hcl  # noqa: PLC0415 - parsers load only when checking

    return input_types.named(source.iac_format).groups(source, modules or terraform_hcl.ModuleCache())[0]


def check(
    sources: list[Source], policy: StaticPolicy, modules: terraform_hcl.ModuleCache | None = None
) -> list[Finding]:
    """Judge every replication group of every source (pure once the files are parsed)."""
    return evaluate(sources, policy, modules)[0]


def evaluate(
    sources: list[Source], policy: StaticPolicy, modules: terraform_hcl.ModuleCache | None = None
) -> tuple[list[Finding], list[Skipped]]:
    """Every result (groups, then the keys they use, then replacement warnings) and the module calls not read."""
    from cmk_rule_cli.iac import key_policy  # noqa: PLC0415 - parsers load only when checking
    from cmk_rule_cli.iac.inputs import terraform_hcl  # noqa: PLC0415 - parsers load only when checking

    findings: list[Finding] = []
    skipped: list[Skipped] = []
    keys: dict[tuple[str, str], tuple[KeyDecl, IacInput]] = {}
    modules = modules or terraform_hcl.ModuleCache()
    for source in sources:
        iac_input = input_types.named(source.iac_format)
        try:
            candidates, not_read = iac_input.groups(source, modules)
        except RecursionError:  # the last guard behind the nesting and evaluation limits (iac.inputs.limits)
            raise LimitExceeded(f"{source.display}: nested too deeply to evaluate") from None
        skipped.extend(not_read)
        for candidate in candidates:
            judgement = judge_variants(candidate.variants, policy)
            notes = list(judgement.notes)
            if candidate.location.related:  # a result at a module call also names the code inside the module
                inner = candidate.location.related[-1]
                notes.append(f"Declared at {inner.file}:{inner.line}: {inner.what.removesuffix(' (declared here)')}.")
            status = judgement.status
            for key in _declared_keys(candidate):
                keys.setdefault((key.file or candidate.location.file, key.resource_id), (key, iac_input))
                assessment = key_policy.assess(key.policy)
                if assessment.grants is False:
                    notes.append(f"Key policy of {key.resource_id}: {assessment.detail} (see that key's result).")
                elif assessment.grants is None and judgement.status is not Status.FAIL:
                    # unverifiable before deployment: the pass needs the first deployment (or the runtime) to confirm
                    status = Status.PASS_WITH_NOTE if status is Status.PASS else status
                    notes.append(
                        f"Key policy of {key.resource_id}: {assessment.detail}; make sure it allows "
                        "kms:GenerateDataKey* and kms:Decrypt for elasticache.amazonaws.com or the account root."
                    )
            findings.append(
                Finding(
                    resource_id=candidate.resource_id,
                    resource_type=candidate.resource_type,
                    iac_format=iac_input.result_format,
                    location=candidate.location,
                    status=status,
                    row=judgement.row,
                    message=judgement.message,
                    notes=tuple(notes),
                    check=judgement.check,
                )
            )
        findings.extend(iac_input.findings(source))
    for (file, _resource), (key, declared_in) in keys.items():
        findings.extend(_key_findings(key, file, declared_in))
    return list(dict.fromkeys(findings)), skipped  # identical results (one module call seen twice) once


def _declared_keys(candidate: Candidate) -> list[KeyDecl]:
    """The key resources (declared in the same code) that any variant of the group uses."""
    found = []
    for variant in candidate.variants:
        key = variant.key.key
        if variant.key.kind is KeyRefKind.DECLARED and key is not None and key not in found:
            found.append(key)
    return found


def _key_findings(key: KeyDecl, file: str, declared_in: IacInput) -> list[Finding]:
    """The control's key pitfalls for one key used by a group: a policy ElastiCache cannot use, no deletion guard."""
    from cmk_rule_cli.iac import key_policy  # noqa: PLC0415 - parsers load only when checking

    iac_format = declared_in.result_format
    results = []
    assessment = key_policy.assess(key.policy)
    if assessment.grants is False:
        results.append(
            Finding(
                resource_id=key.resource_id,
                resource_type=key.resource_type,
                iac_format=iac_format,
                location=Location(file, key.policy_line or key.line, key.resource_id),
                status=Status.FAIL,
                row=None,
                message=(
                    f"KMS key {key.resource_id}: {assessment.detail}. Creating the replication group fails with "
                    "InvalidParameterValue; add a statement allowing both actions to elasticache.amazonaws.com "
                    "(or keep the account root statement of the default key policy)."
                ),
                check=StaticCheck.KEY_POLICY,
            )
        )
    if key.deletion_protected is False:
        how = declared_in.deletion_fix
        results.append(
            Finding(
                resource_id=key.resource_id,
                resource_type=key.resource_type,
                iac_format=iac_format,
                location=Location(file, key.line, key.resource_id),
                status=Status.NOTE,
                row=None,
                message=(
                    f"KMS key {key.resource_id} has no deletion protection: a key pending deletion makes the cache "
                    f"unusable. {how[0].upper()}{how[1:]}, and alarm on the KMSKeyPendingDeletion metric."
                ),
                check=StaticCheck.DELETION_PROTECTION,
            )
        )
    return results


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` hands the output format (:mod:`cmk_rule_cli.reports.formats`): the results, what was not read, the
    policy and the flags."""

    findings: list[Finding]
    files: int
    skipped: list[Skipped]
    policy: StaticPolicy
    args: argparse.Namespace
    listed: list[Finding] | None = None  # --failed-only: the results listed (table, JSON); None: all

    def json(self) -> str:
        """The JSON report (:mod:`cmk_rule_cli.iac.outputs.report`)."""
        from cmk_rule_cli.iac.outputs import report  # noqa: PLC0415 - parsers load only when checking

        return report.render_json(
            self.findings, self.files, self.policy, __version__, skipped=self.skipped, listed=self.listed
        )

    def table(self) -> str:
        """The table: fitted and coloured on a terminal, whole in a file."""
        from cmk_rule_cli.iac.outputs import report  # noqa: PLC0415 - parsers load only when checking

        args = self.args
        style = None if args.output else output.terminal_style(sys.stdout, no_color=args.no_color, verdict="verdict")
        return report.render_table(self.findings, self.files, skipped=self.skipped, style=style, listed=self.listed)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``cmk-rule check``."""
    try:
        fmt = formats.choose_format(args.format, args.output, FORMATS)
    except CliError as error:
        output.say(f"cmk-rule check: error: {visible(str(error))}")
        return 2
    from cmk_rule_cli.iac.inputs.discovery import discover_all  # noqa: PLC0415

    inputs = discover_all(args.paths)
    if inputs.errors:
        for problem in inputs.errors:
            output.say(f"cmk-rule check: error: {visible(problem)}")
        return 2
    policy = policy_from(args)
    try:
        findings, not_read = evaluate(inputs.sources, policy, inputs.modules)
    except LimitExceeded as error:  # an input beyond the bounds (iac.inputs.limits): one sentence, file and limit
        output.say(f"cmk-rule check: error: {error}")
        return 2
    skipped = [*inputs.skipped, *not_read]
    # --failed-only: the results listed (table, JSON); the totals count every result, SARIF lists failures anyway
    listed = [f for f in findings if f.status is Status.FAIL] if args.failed_only else None
    text = formats.render(fmt, CheckResult(findings, inputs.files, skipped, policy, args, listed))
    try:
        output.write_text(text, args.output, sys.stdout)
    except OSError as error:
        output.say(
            f"cmk-rule check: error: {visible(args.output)}: cannot be written ({error.strerror}); nothing was written"
        )
        return 2
    if args.output and not args.quiet:
        output.say(output.wrote_note(NAME, args.output, f"{len(listed or findings):,} result(s) as {fmt}"))
    return arguments.soft_fail(1 if any(f.status is Status.FAIL for f in findings) else 0, args)
