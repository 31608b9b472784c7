"""The one registry of output formats: each format's name, file suffixes, the commands that offer it, and its renderer.

Every command reads this registry: ``--format``'s choices and ``-o``'s suffixes (:func:`offered`,
:func:`choose_format`) and the rendering itself (:func:`render`). A command hands a format its *subject*: the
command's result, which offers the views the generic formats need (:class:`Subject`: the JSON document's text, the
table, and the flat rows for CSV and Markdown); a format that belongs to one command (SARIF for ``check``, ASFF for
``scan``) reads that command's result directly. Adding a format is one entry here, plus its tests.

Renderers import their modules when called: every command, including ``--help``, loads this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cmk_rule_cli.errors import CliError
from cmk_rule_cli.reports import output

if TYPE_CHECKING:
    from cmk_rule_cli.commands.check import CheckResult
    from cmk_rule_cli.commands.scan import ScanResult

SCAN, CHECK, PREFLIGHT = "scan", "check", "preflight"


class Subject(Protocol):
    """A command's result, as the generic formats read it."""

    def json(self) -> str:
        """The whole result as one JSON document."""

    def table(self) -> str:
        """The result as a table (fitted to the terminal when written to one)."""


class FlatSubject(Subject, Protocol):
    """A result that is one list of rows with fixed columns (CSV and Markdown need nothing else)."""

    def flat(self) -> tuple[Sequence[output.Row], Sequence[str]]:
        """The rows and their columns."""


@dataclass(frozen=True)
class OutputFormat:
    """One output format. ``render`` takes the subject of a command in ``commands``."""

    name: str
    suffixes: tuple[str, ...]
    commands: frozenset[str]
    render: Callable[[Any], str]


def _csv(subject: FlatSubject) -> str:
    return output.render_csv(*subject.flat())


def _markdown(subject: FlatSubject) -> str:
    return output.render_markdown(*subject.flat())


def _json(subject: Subject) -> str:
    return subject.json()


def _table(subject: Subject) -> str:
    return subject.table()


def _sarif(subject: CheckResult) -> str:
    """SARIF 2.1.0 for code scanning (``check``)."""
    from cmk_rule_cli import __version__  # noqa: PLC0415
    from cmk_rule_cli.iac.outputs import sarif  # noqa: PLC0415

    args = subject.args
    return sarif.render(
        subject.findings,
        __version__,
        skipped=subject.skipped,
        include_passed=args.include_passed,
        base_dir=Path(args.base_dir) if args.base_dir else None,
        automation_id=args.automation_id,
    )


def _asff(subject: ScanResult) -> str:
    """Security Hub findings (a JSON list for ``batch-import-findings``), built by the rule's own builder (``scan``)."""
    from cmk_rule_cli.reports import asff  # noqa: PLC0415

    return output.render_json(asff.findings(subject.report))


# In the order their suffixes are listed in messages; table and JSON are offered first (see offered()).
FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("csv", (".csv",), frozenset({SCAN}), _csv),
    OutputFormat("markdown", (".md", ".markdown"), frozenset({SCAN}), _markdown),
    OutputFormat("json", (".json",), frozenset({SCAN, CHECK, PREFLIGHT}), _json),
    OutputFormat("table", (".txt",), frozenset({SCAN, CHECK, PREFLIGHT}), _table),
    OutputFormat("sarif", (".sarif",), frozenset({CHECK}), _sarif),
    OutputFormat("asff", (), frozenset({SCAN}), _asff),
)
# What a command writes when nothing says otherwise (a terminal or a pipe), and the other format every command offers.
DEFAULT, MACHINE = "table", "json"
_BY_NAME = {fmt.name: fmt for fmt in FORMATS}


def offered(command: str) -> tuple[str, ...]:
    """The format names ``command`` offers: the table and JSON first, then the others in registry order."""
    names = [fmt.name for fmt in FORMATS if command in fmt.commands]
    defaults = [name for name in (DEFAULT, MACHINE) if name in names]
    return (*defaults, *(name for name in names if name not in defaults))


def choose_format(explicit: str | None, output_file: str | None, formats: Sequence[str] = offered(SCAN)) -> str:
    """The output format: ``--format`` if given; else from ``--output``'s suffix; else a table, whether stdout is a
    terminal or a pipe (``| less`` and ``| grep`` read what the terminal shows, as with Prowler, Checkov and Trivy;
    only the colour goes). JSON is asked for with ``--format json`` or a ``.json`` file.

    A suffix that is not one of this command's formats is an error (naming the accepted suffixes), never a silent
    JSON file: ``-o report.html`` must not quietly write JSON.
    """
    if explicit:
        return explicit
    if output_file:
        suffix = Path(output_file).suffix.lower()
        accepted = {s: fmt.name for fmt in FORMATS if fmt.name in formats for s in fmt.suffixes}
        chosen = accepted.get(suffix)
        if chosen is None:
            said = f"suffix '{suffix}'" if suffix else "no suffix"
            raise CliError(
                f"--output {output_file} has {said}: use one of {', '.join(accepted)}, or say which with --format"
            )
        return chosen
    return DEFAULT


def render(name: str, subject: Any) -> str:
    """Render a command's ``subject`` in the format called ``name``."""
    fmt = _BY_NAME.get(name)
    if fmt is None:
        raise ValueError(f"unknown format '{name}'")
    return fmt.render(subject)
