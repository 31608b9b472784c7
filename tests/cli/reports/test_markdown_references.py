"""Markdown that CI posts as a pull-request comment pings no one and links nothing: GitHub's ``@mention``,
``@org/team``, ``#123`` and ``GH-123`` in a value are put in code spans by the one Markdown escaper.

GitHub finds mentions and references in the rendered text, after Markdown (a backslash before ``@`` does not stop
them: github/markup#1168); it leaves code. So the test renders the Markdown as GitHub's CommonMark does and asserts
that every ``@`` and ``#`` of a value is inside ``<code>``, with the value still readable there.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from cmk_rule_cli.commands import scan
from cmk_rule_cli.reports import output, text_safety

from ..formats import parse_markdown

PINGS = [
    "approved by @alice for @acme/security-team",
    "see #123 and GH-45 and acme/infra#7",
    "@bob",
    "owner: ops@example.com (no mention after a word character)",
    "a *@carol* [@dave](https://x.example) `#9`",
]


def _outside_code(html: str) -> str:
    return re.sub(r"<code>.*?</code>", "", html, flags=re.S)


@pytest.mark.parametrize("value", PINGS)
def test_a_mention_or_reference_is_rendered_as_code(value: str) -> None:
    rendered = MarkdownIt("commonmark").enable("table").render(text_safety.markdown(value))
    text = _outside_code(rendered)
    assert not re.search(r"(?<!\w)@[A-Za-z0-9]", text), rendered  # no mention GitHub would notify
    assert not re.search(r"(?<!\w)(#|GH-)[0-9]", text), rendered  # no issue or pull-request link
    assert "<a " not in rendered and "<em>" not in rendered


def test_mentions_are_wrapped_whole_and_e_mail_addresses_left_alone() -> None:
    assert text_safety.markdown("ping @alice, @acme/sec and #12.") == "ping `@alice`, `@acme/sec` and `#12`."
    assert text_safety.markdown("ops@example.com") == "ops@example.com"


def test_scan_markdown_table_cells_keep_the_values_readable() -> None:
    rows = []
    for index, value in enumerate(PINGS):
        row = dict.fromkeys(scan.SCAN_COLUMNS)
        row.update(group_id=f"group-{index}", verdict="NOT_APPLICABLE", annotation=value)
        rows.append(row)
    document = output.render_markdown(rows, scan.SCAN_COLUMNS)
    rendered = MarkdownIt("commonmark").enable("table").render(document)
    assert len(re.findall(r"<tr>", rendered)) == len(PINGS) + 1  # no cell broke out of its row
    assert not re.search(r"(?<!\w)@[A-Za-z0-9]", _outside_code(rendered))
    shown = [row["annotation"].replace("`", "") for row in parse_markdown(document)]
    assert shown[:4] == PINGS[:4]  # the value, read without the code spans' backticks
