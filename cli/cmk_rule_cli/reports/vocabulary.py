"""The JSON vocabulary every command speaks (``scan``, ``evidence``, ``check``), defined once and documented by the
JSON Schema shipped in the package (``cli/cmk_rule_cli/reports/schemas/report.schema.json``).

* ``compliance``: ``COMPLIANT`` / ``NON_COMPLIANT`` / ``NOT_APPLICABLE``, AWS Config's words, in every result;
  ``null`` (with ``"skipped": true`` and the reason in ``annotation``) when a group could not be judged.
* ``totals``: one count per compliance value plus ``SKIPPED``, over the whole run.
* ``complete``: false when anything was skipped, so a reader never takes a partial report for a full one.
* ``parameters``: typed (a list of key ARNs, a boolean, a string or null), in the Config rule's parameter names
  (:func:`parameters`, the one place that shapes them, for the JSON of every command and the evidence manifest).

Only the standard library and the rule's pure data modules (``cmk_rule.rows``, ``cmk_rule.parameters``): ``check``
uses it too and must not load boto3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from cmk_rule.parameters import APPROVED_KEYS, EXEMPTION_TAG_KEY, REQUIRE_ROTATION
from cmk_rule.rows import Compliance

COMPLIANCE_VALUES = tuple(compliance.value for compliance in Compliance)  # the rule's own words, in its order
SKIPPED = "SKIPPED"
TOTAL_KEYS = (*COMPLIANCE_VALUES, SKIPPED)
SCHEMA_RESOURCE = "/".join(("reports", "schemas", "report.schema.json"))  # inside the cmk_rule_cli package


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


def parameters(
    approved_key_arns: Iterable[str], require_key_rotation: bool, exemption_tag_key: str | None
) -> dict[str, list[str] | bool | str | None]:
    """The rule parameters as a report states them: every parameter present, typed, by its Config name."""
    return {
        APPROVED_KEYS: list(approved_key_arns),
        REQUIRE_ROTATION: require_key_rotation,
        EXEMPTION_TAG_KEY: exemption_tag_key,
    }


def typed_parameters(raw: Mapping[str, str]) -> dict[str, list[str] | bool | str | None]:
    """:func:`parameters` from Config ``InputParameters`` (strings on the wire, only those set): a report says what
    they mean, a list of keys, a boolean, a tag key or null. The strings themselves are not kept: the CLI builds
    them from its flags, and they follow back from the typed values (list joined with commas, ``"true"``)."""
    return parameters(
        [value for value in raw.get(APPROVED_KEYS, "").split(",") if value],
        raw.get(REQUIRE_ROTATION, "false").strip().lower() == "true",
        raw.get(EXEMPTION_TAG_KEY),
    )


def schema() -> dict[str, Any]:
    """The JSON Schema of the reports, as shipped in the package."""
    import json  # noqa: PLC0415

    text = resources.files("cmk_rule_cli").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
