"""The organization simulation's machinery on 3 accounts x 2 Regions (the 500-account run is a benchmark, not a
test), and its RESULTS.md section surviving the fleet benchmark's rewrite. No timing is asserted."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from benchmarks import org_simulation, report, sections
from benchmarks.org_simulation import Simulation
from tests.benchmarks.test_report import _results


@pytest.fixture(scope="module")
def small() -> Simulation:
    return org_simulation.simulate(3, ("us-east-1", "eu-west-1"), joiners=1, per_container=2, out=io.StringIO())


def test_every_account_and_region_is_served_with_every_verdict_right(small: Simulation) -> None:
    assert small.problems == []
    assert small.periodic.invocations == 3 * 2
    assert small.joined.invocations == 1 * 2  # the account added after "deployment", in both Regions
    # seed_member: 3 groups each, +1 for account index 0 (index % 3), +1 for index 0 (index % 5) -> 5+3+3 per Region
    assert small.periodic.verdicts_checked == (5 + 3 + 3) * 2
    assert small.joined.wrong == [] and small.periodic.wrong == []


def test_each_periodic_invocation_assumes_its_member_role_once_and_reads_only_what_the_floor_needs(
    small: Simulation,
) -> None:
    calls = small.periodic.calls
    assert calls["sts:AssumeRole"] == small.periodic.invocations  # a new member in each invocation
    assert calls["elasticache:DescribeReplicationGroups"] == small.periodic.invocations
    assert calls["config:PutEvaluations"] == small.periodic.invocations
    # keys per account: one enabled and one disabled CMK, plus the AWS-managed one where a group uses it (index 0)
    assert calls["kms:DescribeKey"] == (3 + 2 + 2) * 2


def test_refused_events_make_no_call(small: Simulation) -> None:
    assert set(small.refusals) == {
        "partition aws-cn",
        "aws ARN, Region cn-north-1",
        "account of 11 digits",
        "queued event from cn-north-1",
    }
    assert all(made == 0 and kind != "served" for kind, made in small.refusals.values())


def test_the_reevaluation_wave_makes_one_request_per_account_and_region_per_batch(small: Simulation) -> None:
    # 4 accounts x 3 events per Region = 12 records: one batch per Region, 4 accounts in each.
    assert small.reevaluation.invocations == 2
    assert small.expected_starts == 8
    assert small.reevaluation.calls["config:StartConfigRulesEvaluation"] == 8


def test_the_simulation_leaves_the_process_as_it_found_it(small: Simulation) -> None:
    assert "EXECUTION_ROLE_NAME" not in os.environ
    assert os.environ["AWS_REGION"] == "us-east-1"


def test_the_section_names_the_numbers_and_replaces_itself(small: Simulation, tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nfleet tables\n")
    text = org_simulation.write(small, results, command="python -m benchmarks.org_simulation --accounts 3")
    assert "## Organization simulation" in text and "Every check passed." in text
    assert "concurrency to finish in 15 min" in text
    org_simulation.write(small, results, command="again")
    written = results.read_text()
    assert written.startswith("# Benchmark results\n\nfleet tables\n")
    assert written.count("## Organization simulation") == 1
    assert "`again`" in written


def test_the_fleet_report_keeps_the_organization_section(small: Simulation, tmp_path: Path) -> None:
    org_simulation.write(small, tmp_path / report.RESULTS_FILE, command="org")
    report.write(_results(), tmp_path, command="python -m benchmarks --quick")
    written = (tmp_path / report.RESULTS_FILE).read_text()
    assert written.startswith("# Benchmark results")
    assert "## Organization simulation" in written
    assert list(sections.sections(written)) == [org_simulation.SECTION]


def test_sections_replace_only_their_own_block() -> None:
    text = sections.replace("head\n", "a", "one")
    text = sections.replace(text, "b", "two")
    text = sections.replace(text, "a", "uno")
    assert text == "head\n\n" + sections.wrap("a", "uno") + "\n" + sections.wrap("b", "two")
