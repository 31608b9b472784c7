"""The JSON vocabulary every command speaks (``scan``, ``evidence``, ``check``), defined once and documented by the
JSON Schema shipped in the package (``cli/cmk_rule_cli/schemas/report.schema.json``).

* ``compliance``: ``COMPLIANT`` / ``NON_COMPLIANT`` / ``NOT_APPLICABLE``, AWS Config's words, in every result;
  ``null`` (with ``"skipped": true`` and the reason in ``annotation``) when a group could not be judged.
* ``totals``: one count per compliance value plus ``SKIPPED``, over the whole run.
* ``complete``: false when anything was skipped, so a reader never takes a partial report for a full one.
* ``parameters``: typed (a list of key ARNs, a boolean, a string or null), in the Config rule's parameter names.

Only the standard library: ``check`` uses it too and must not load boto3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

COMPLIANCE_VALUES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
SKIPPED = "SKIPPED"
TOTAL_KEYS = (*COMPLIANCE_VALUES, SKIPPED)
SCHEMA_RESOURCE = "schemas/report.schema.json"


def result(row: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """One scan/evidence row as a JSON result: the columns, with the row's ``verdict`` said as ``compliance``."""
    out = {column: row.get(column) for column in columns if column not in ("compliance", "verdict")}
    return {**out, **compliance_fields(row)}


def compliance_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """``compliance`` (null when skipped) and ``skipped``, from a report row's ``verdict``."""
    verdict = row.get("verdict")
    return {"compliance": verdict if verdict in COMPLIANCE_VALUES else None, "skipped": verdict == SKIPPED}


def text_row(row: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """One row for the text formats (table, CSV, Markdown): ``compliance`` holds the verdict, ``SKIPPED`` included."""
    return {column: (row.get("verdict") if column == "compliance" else row.get(column)) for column in columns}


def totals(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Counts per compliance value, and of skipped results, zeros included."""
    counts = dict.fromkeys(TOTAL_KEYS, 0)
    for item in results:
        if item.get("skipped"):
            counts[SKIPPED] += 1
        elif item.get("compliance") in counts:
            counts[str(item["compliance"])] += 1
    return counts


def schema() -> dict[str, Any]:
    """The JSON Schema of the reports, as shipped in the package."""
    import json  # noqa: PLC0415

    text = resources.files("cmk_rule_cli").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
