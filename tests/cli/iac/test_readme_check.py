"""The `cmk-rule check` page (docs/cli/check.md) matches the code: the side-by-side table against the README's decision
table, the pitfall checks, the options."""

from __future__ import annotations

import argparse

from cmk_rule.rows import ROWS, Compliance
from cmk_rule_cli.commands import check as check_module
from cmk_rule_cli.iac.checks import StaticCheck
from tests.docs.pages import README, page, section

CHECK_PAGE = page("cli/check.md")
STATIC_VERDICT = {
    Compliance.NON_COMPLIANT: "fail",
    Compliance.COMPLIANT: "pass / pass with a note",
    Compliance.NOT_APPLICABLE: "not applicable",
}


def table(text: str) -> list[list[str]]:
    """The first Markdown table in ``text``, without its header and separator rows."""
    rows: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in rows[2:]]


def test_static_and_runtime_tables_agree_row_by_row() -> None:
    runtime = table(section("Decision table", README))
    side_by_side = table(section("Runtime and static decision tables side by side", CHECK_PAGE))
    assert [int(r[0]) for r in side_by_side] == [row.number for row in ROWS] == [int(r[0]) for r in runtime]
    for row, cells, runtime_cells in zip(ROWS, side_by_side, runtime, strict=True):
        number, _runtime_text, compliance, static_text, verdict = cells
        assert compliance == row.spec.compliance.value, number
        assert runtime_cells[-2].startswith(row.spec.compliance.value), number  # "NON_COMPLIANT (fail closed)"
        if row.spec.static.decidable:
            assert verdict == STATIC_VERDICT[row.spec.compliance] and static_text != "— runtime only", number
        else:
            assert (static_text, verdict) == ("— runtime only", "—"), number


def test_every_pitfall_check_is_documented_with_its_verdict() -> None:
    text = section("`cmk-rule check`", CHECK_PAGE)
    block = text[text.index("| check id |") :]
    rows = table(block)
    documented = {cells[0].strip("`"): cells[-1].strip("*") for cells in rows}
    assert documented == {check.value: check.info.severity for check in StaticCheck}


def test_every_check_option_is_documented() -> None:
    parser = argparse.ArgumentParser()
    check_module.register(parser)
    options = {option for action in parser._actions for option in action.option_strings if option.startswith("--")} - {
        "--help"
    }
    text = section("`cmk-rule check`", CHECK_PAGE)
    for option in options:
        assert f"`{option}" in text, option


def test_every_bound_is_documented_with_its_value() -> None:
    """The "Bounds" table of docs/cli/check.md names each limit of cmk_rule_cli.iac.inputs.limits once, with the
    value the code uses."""
    from cmk_rule_cli.iac.inputs import limits

    text = CHECK_PAGE.split("**Bounds.**", 1)[1]
    rows = {cells[0].strip("`"): cells[1] for cells in table(text)}
    defined = {name: value for name, value in vars(limits).items() if name.startswith("MAX_")}
    assert set(rows) == set(defined)
    for name, value in defined.items():
        shown = f"{value // (1024 * 1024)} MiB" if name.endswith("_BYTES") else f"{value:,}"
        assert rows[name].startswith(shown), (name, rows[name])
