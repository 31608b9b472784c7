"""The cost table of docs/cost.md is the cost model's output, and the model's arithmetic is right."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import cost_model

COST_PAGE = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text()


@pytest.mark.parametrize(
    ("evaluations", "dollars"),
    [(0, 0.0), (1_000, 1.0), (100_000, 100.0), (120_000, 116.0), (500_000, 420.0), (1_200_000, 770.0)],
)
def test_config_evaluations_are_priced_in_tiers(evaluations: int, dollars: float) -> None:
    assert cost_model.config_cost(evaluations) == pytest.approx(dollars)


def test_security_hub_ingestion_has_a_free_tier() -> None:
    assert cost_model.security_hub_cost(10_000) == 0
    assert cost_model.security_hub_cost(110_000) == pytest.approx(3.0)


def test_the_issue_example_10000_groups_every_6_hours_costs_over_600_dollars_in_all_mode() -> None:
    row = cost_model.monthly(10_000, "6 h")
    assert row.evaluations_all == 1_200_000
    assert row.managed_rule > 600
    assert row.changes_mode < row.all_mode / 10


def test_changes_mode_records_one_percent_of_all_mode() -> None:
    for groups in cost_model.FLEETS:
        row = cost_model.monthly(groups, "24 h")
        assert row.evaluations_changes == row.evaluations_all // 100


def test_the_cost_page_shows_the_models_table() -> None:
    assert cost_model.markdown_table() in COST_PAGE
