"""The row registry: one entry per decision-table row, and everything that names a row derives from it."""

from __future__ import annotations

import re

import pytest

from cmk_rule.rows import BY_SLUG, ROWS, Compliance, Row, Severity, by_slug
from cmk_rule.verdict import Row as VerdictRow

SLUG = re.compile(r"[a-z]+(?:-[a-z]+)*", re.ASCII)

# The stable ids users filter on. A slug must never change: this list may only grow.
STABLE_SLUGS = {
    "not-evaluated",
    "encryption-off",
    "service-managed-key",
    "aws-managed-alias",
    "key-not-found",
    "key-unverifiable",
    "not-customer-managed",
    "key-not-enabled",
    "key-not-approved",
    "rotation-off",
    "compliant",
}


def test_the_verdict_module_exports_the_registry_rows() -> None:
    assert VerdictRow is Row


def test_rows_are_numbered_in_order_and_indexed_from_zero() -> None:
    assert [row.number for row in ROWS] == list(range(1, len(ROWS) + 1))
    assert [row.index for row in ROWS] == list(range(len(ROWS)))
    assert [row.value for row in ROWS] == [row.number for row in ROWS]


def test_slugs_are_unique_well_formed_and_never_dropped() -> None:
    assert len(BY_SLUG) == len(ROWS)
    assert all(SLUG.fullmatch(row.slug) for row in ROWS)
    assert set(BY_SLUG) >= STABLE_SLUGS
    assert all(by_slug(row.slug) is row for row in ROWS)
    with pytest.raises(KeyError):
        by_slug("no-such-row")


def test_only_the_last_row_passes_and_only_the_first_is_not_applicable() -> None:
    assert [row for row in ROWS if row.spec.compliance is Compliance.COMPLIANT] == [ROWS[-1]]
    assert [row for row in ROWS if row.spec.compliance is Compliance.NOT_APPLICABLE] == [ROWS[0]]


def test_severity_is_informational_exactly_for_rows_that_do_not_fail() -> None:
    for row in ROWS:
        failing = row.spec.compliance is Compliance.NON_COMPLIANT
        assert (row.spec.severity is Severity.INFORMATIONAL) is not failing, row
    assert {row for row in ROWS if row.spec.severity is Severity.HIGH} == {Row.KEY_NOT_FOUND, Row.KEY_NOT_ENABLED}


def test_every_row_has_its_texts_and_reason_code() -> None:
    for row in ROWS:
        assert row.spec.condition.strip() and row.spec.remediation.strip(), row
        assert row.spec.static.title.strip() and row.spec.static.text.strip(), row
        assert row.reason_code == f"ROW_{row.number}_{row.name}"
    assert {row for row in ROWS if not row.spec.static.decidable} == {Row.KEY_NOT_FOUND, Row.KEY_UNVERIFIABLE}
