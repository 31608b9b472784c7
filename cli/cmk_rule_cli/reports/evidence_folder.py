"""The evidence folder on disk: the pack three ways (JSON for machines, CSV for spreadsheets, one self-contained HTML
page for people) and a manifest with each file's SHA-256 and size, so an auditor can tell later that nothing was
edited.

The manifest is written last and seals the folder; a failure leaves nothing of this run behind (the staging and the
atomic moves are :func:`cmk_rule_cli.reports.files.write_sealed_folder`'s). What the files say is
:mod:`cmk_rule_cli.reports.evidence_pack`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmk_rule_cli import __version__
from cmk_rule_cli.reports import output, vocabulary
from cmk_rule_cli.reports.evidence_pack import KEY_USE_COLUMNS, RECORDED_COLUMNS, EvidencePack, KeyUseProof

if TYPE_CHECKING:  # types only: the HTML renderer, which --help does not need
    from cmk_rule_cli.reports import html_report

EVIDENCE_JSON, GROUPS_CSV, KEY_USE_CSV, RECORDED_CSV, AGGREGATOR_CSV, SUMMARY_HTML, MANIFEST = (
    "evidence.json",
    "groups.csv",
    "key-use.csv",
    "recorded-results.csv",
    "aggregator-results.csv",
    "summary.html",
    "manifest.json",
)


def render_files(pack: EvidencePack) -> dict[str, str]:
    """The folder's contents but the manifest (name -> text)."""
    from cmk_rule_cli.readers import aggregator  # noqa: PLC0415 - only when it runs (fast --help)
    from cmk_rule_cli.reports import html_report  # noqa: PLC0415 - only when it runs (fast --help)
    from cmk_rule_cli.reports.scan_report import MultiAccountReport  # noqa: PLC0415 - only when it runs (fast --help)

    report, period, rows, proof, aggregate = pack.report, pack.period, pack.rows, pack.proof, pack.aggregate
    accounts_text = (
        ", ".join(report.requested) + f" (role {report.role_name})"
        if isinstance(report, MultiAccountReport)
        else report.account_id
    )
    html_context: list[tuple[str, html_report.ContextValue]] = [
        ("Account(s)", accounts_text),
        ("Scanning principal", report.principal_arn),
        ("Period", f"{period.start.isoformat()} to {period.end.isoformat()}"),
        ("Read at", str(pack.context["generated_at"])),
        ("Regions", ", ".join(report.regions)),
        ("Rule parameters", vocabulary.typed_parameters(report.parameters)),  # a table: every parameter, typed
        ("Config rule", report.rule_name or "(not read)"),
        ("Config aggregator", aggregate.aggregator if aggregate else "(not read)"),
        ("Key-use proof", _proof_context(proof)),
        ("Complete", "yes" if pack.complete else "NO: see 'Not read' below"),
        ("Tool", f"cmk-rule {__version__}"),
    ]
    files = {
        EVIDENCE_JSON: output.render_json(pack.document()),
        # scan's columns and words: compliance holds the verdict, SKIPPED included (vocabulary.text_row)
        GROUPS_CSV: output.render_csv([vocabulary.text_row(row, pack.columns) for row in rows], pack.columns),
    }
    if proof is not None:
        files[KEY_USE_CSV] = output.render_csv(proof.rows(), KEY_USE_COLUMNS)
    if pack.recorded is not None:
        files[RECORDED_CSV] = output.render_csv(pack.recorded, RECORDED_COLUMNS)
    if aggregate is not None:
        files[AGGREGATOR_CSV] = output.render_csv(aggregate.rows, aggregator.COLUMNS)
    title_where = (
        f"{len(report.requested)} accounts"
        if isinstance(report, MultiAccountReport)
        else f"account {report.account_id}"
    )

    files[SUMMARY_HTML] = html_report.render_summary(
        title=f"ElastiCache CMK evidence, {title_where}, {period.start} to {period.end}",
        context=html_context,
        rows=rows,
        problems=pack.problems,
        flags=pack.flags,
        key_use=_html_key_use(proof),
        recorded=pack.recorded,
        recorded_columns=RECORDED_COLUMNS,
        aggregate=aggregate,
    )
    return files


def _proof_context(proof: KeyUseProof | None) -> str:
    from cmk_rule_cli.readers import keyuse  # noqa: PLC0415 - only when it runs (fast --help)

    if proof is None or proof.skipped:
        return "not read (--no-key-use)"
    window = proof.window
    text = f"{proof.source}, {output.iso(window.start)} to {output.iso(window.end)}"
    if window.cut_by_history:
        text += f" (the period starts earlier, but event history keeps {keyuse.EVENT_HISTORY_DAYS} days)"
    return text


def _html_key_use(proof: KeyUseProof | None) -> html_report.KeyUseSection | None:
    from cmk_rule_cli.reports import html_report  # noqa: PLC0415 - only when it runs (fast --help)

    if proof is None or proof.skipped:
        return None
    days = proof.window.days()
    return html_report.KeyUseSection(
        rows=proof.rows(),
        daily=[[use.daily.get(day, 0) for day in days] for use in proof.uses],
        first_day=days[0].isoformat() if days else "",
        last_day=days[-1].isoformat() if days else "",
    )


def write_folder(directory: Path, files: Mapping[str, str], context: Mapping[str, Any]) -> None:
    """Write the files, then the manifest (``context`` plus each file with its SHA-256 and size): the manifest, placed
    last, seals the folder, and a failure leaves nothing of this run behind
    (:func:`cmk_rule_cli.reports.files.write_sealed_folder`)."""
    from cmk_rule_cli.reports.files import write_sealed_folder  # noqa: PLC0415 - only when it runs (fast --help)

    contents = {name: content.encode("utf-8") for name, content in files.items()}
    manifest = {
        **context,
        "files": [
            {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in contents.items()
        ],
    }
    contents[MANIFEST] = output.render_json(manifest).encode("utf-8")
    write_sealed_folder(directory, contents, seal=MANIFEST)
