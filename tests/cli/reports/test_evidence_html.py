"""The auditor's page on its own (no AWS): escaping in every new section, shortened key ARNs with the full value on
hover, accounts with failures first, collapsed accounts for large packs, and the size docs/cli/evidence.md states for
10,000 groups."""

from __future__ import annotations

from html.parser import HTMLParser

from cmk_rule_cli.readers import aggregator
from cmk_rule_cli.reports import html_report

HOSTILE = '<img src=x onerror="alert(1)">'
KEY = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _row(account: str, group: str, verdict: str, **extra: object) -> dict[str, object]:
    return {"account": account, "region": "eu-west-1", "group_id": group, "verdict": verdict, **extra}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(rows: list[dict[str, object]], **kwargs: object) -> tuple[str, _Tags]:
    html = html_report.render_summary(title="t", context=[("who", HOSTILE)], rows=rows, problems=[HOSTILE], **kwargs)  # type: ignore[arg-type]
    parsed = _Tags()
    parsed.feed(html)
    parsed.close()
    return html, parsed


def test_every_section_escapes_and_keys_are_shortened_with_the_full_arn_on_hover() -> None:
    aggregate = aggregator.AggregateResults("agg", "rule", rules=[("222222222222", "eu-west-1", "OrgConfigRule-x")])
    aggregate.rows = [
        {"account": "222222222222", "region": "eu-west-1", "group_id": HOSTILE, "compliance_type": "NON_COMPLIANT"}
    ]
    key_use = html_report.KeyUseSection(
        rows=[{"key_arn": KEY, "use_status": "NO_USE_IN_PERIOD", "groups": HOSTILE, "account": "1", "region": "r"}],
        daily=[[0, 2, 0]],
        first_day="2026-11-01",
        last_day="2026-11-03",
    )
    html, parsed = _page(
        [_row("111111111111", HOSTILE, "NON_COMPLIANT", key_arn=KEY, annotation=HOSTILE)],
        flags=[HOSTILE],
        key_use=key_use,
        aggregate=aggregate,
    )
    assert "<img" not in html and [t for t, _ in parsed.tags if t in ("img", "script")] == []
    assert sum(HOSTILE in text for text in parsed.text) >= 6  # context, problem, group, reason, flag, key use, org
    hover = [attrs["title"] for tag, attrs in parsed.tags if tag == "abbr"]
    assert hover and set(hover) == {KEY} and "key/1234abcd-\u2026" in "".join(parsed.text)
    assert any(tag == "svg" for tag, _ in parsed.tags)  # the per-key bar


class _Structure(HTMLParser):
    """The page as an auditor meets it: each element's text, with the ``<details>`` it sits in (open or closed),
    and the section (``h2``) it belongs to."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.section = ""
        self.cells: list[tuple[str, str, dict[str, str | None], bool, str]] = []  # (section, tag, attrs, hidden, text)
        self.order: list[str] = []  # h2 texts and the headline, in page order
        self.segments: list[float] = []
        self._text: list[str] = []

    def hidden(self) -> bool:
        """Inside a closed ``<details>`` (its summary is shown)."""
        return any(tag == "details" and "open" not in attrs for tag, attrs in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "col", "meta", "wbr"):
            return
        attributes = dict(attrs)
        if tag == "rect" and attributes.get("class") == "seg":
            self.segments.append(float(attributes["width"] or 0))
        self.stack.append((tag, attributes))
        self._text.append("")

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, attrs = self.stack.pop()
            text = self._text.pop()
            if self._text:
                self._text[-1] += text
            if open_tag in ("td", "th", "summary", "h2", "h3", "p", "section", "div"):
                in_summary = any(t == "summary" for t, _ in self.stack) or open_tag == "summary"
                self.cells.append((self.section, open_tag, attrs, self.hidden() and not in_summary, text))
            if open_tag == "h2":
                self.section = text
                self.order.append(text)
            if open_tag == "section":
                self.order.append(text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._text:
            self._text[-1] += data


def _structure(html: str) -> _Structure:
    parsed = _Structure()
    parsed.feed(html)
    parsed.close()
    return parsed


def _fleet(compliant: int) -> list[dict[str, object]]:
    """A fleet like the demo's grown one: a big Region of compliant groups plus a few failures, and a tiny Region."""
    rows = [
        _row("111111111111", f"fleet-{n:05d}", "COMPLIANT", region="us-east-1", listed_at="2026-12-07T08:54:52.123Z")
        for n in range(compliant)
    ]
    rows += [_row("111111111111", f"bad-{n}", "NON_COMPLIANT", region="us-east-1", key_state="PendingDeletion",
                  listed_at="2026-12-07T08:54:52.123Z", annotation="KMS key is in state 'PendingDeletion'.")
             for n in range(10)]  # fmt: skip
    rows += [_row("111111111111", "exempt", "NOT_APPLICABLE", region="us-east-1")]
    rows += [_row("111111111111", f"west-{n}", v, region="eu-west-1") for n, v in enumerate(["NON_COMPLIANT"] * 2)]
    rows += [_row("111111111111", "west-ok", "COMPLIANT", region="eu-west-1")]
    return rows


def test_the_headline_comes_first_with_the_counts() -> None:
    parsed = _structure(_page(_fleet(1004))[0])
    assert parsed.order[0].startswith("FAIL: 12 of 1,018 replication groups are NON_COMPLIANT")
    assert "12 NON_COMPLIANT" in parsed.order[0] and "1,005 COMPLIANT" in parsed.order[0]
    assert "1 NOT_APPLICABLE" in parsed.order[0] and "0 SKIPPED" in parsed.order[0]
    clean = html_report.render_summary(title="t", context=[], rows=[_row("1", "a", "COMPLIANT")], problems=[])
    assert _structure(clean).order[0].startswith("PASS: 0 of 1 replication groups")
    skipped = html_report.render_summary(title="t", context=[], rows=[_row("1", "a", "SKIPPED")], problems=["x"])
    assert _structure(skipped).order[0].startswith("INCOMPLETE: 0 of 1 replication groups")


def test_failures_are_expanded_and_first_and_passing_groups_collapsed() -> None:
    parsed = _structure(_page(_fleet(1004))[0])
    sections = [text.split(" (")[0] for text in parsed.order[1:]]
    assert sections.index("Failing groups") < sections.index("Passing groups")
    group_cells = [(section, hidden, text) for section, tag, attrs, hidden, text in parsed.cells if tag == "td"]
    failing = [(hidden, text) for section, hidden, text in group_cells if section.startswith("Failing groups")]
    failing_ids = {text for hidden, text in failing if text.startswith(("bad-", "west-"))}
    assert failing_ids == {f"bad-{n}" for n in range(10)} | {"west-0", "west-1"}
    assert not any(hidden for hidden, _ in failing)  # every failure is shown without a click
    passing = [(hidden, text) for section, hidden, text in group_cells if section.startswith("Passing groups")]
    assert {text for _, text in passing if text.startswith("fleet-")} == {f"fleet-{n:05d}" for n in range(1004)}
    assert all(hidden for hidden, text in passing if text.startswith("fleet-"))  # behind a closed <details>
    assert not any(text.startswith("fleet-") for _, text in failing)


def test_bars_stay_legible_at_any_ratio() -> None:
    parsed = _structure(_page(_fleet(1004))[0])
    # us-east-1: 10 / 1 / 1,004 ; eu-west-1: 2 / 1. Every verdict present has a visible segment, every bar is full.
    assert len(parsed.segments) == 5 and min(parsed.segments) >= html_report.MIN_SEGMENT
    assert round(sum(parsed.segments[:3]), 1) == round(sum(parsed.segments[3:]), 1) == 520.0
    assert html_report.segment_widths([0, 3, 1015])[0] == 0.0
    widths = html_report.segment_widths([1, 1_000_000])
    assert widths[0] == html_report.MIN_SEGMENT and abs(sum(widths) - 520) < 1e-6
    html = _page(_fleet(1004))[0]
    assert "1,015 groups \u00b7 10 failing" in html and "3 groups \u00b7 2 failing" in html


def test_key_use_gives_each_key_its_group_count_and_the_names_behind_a_disclosure() -> None:
    names = " ".join(f"fleet-{n:05d}" for n in range(1000))
    key_use = html_report.KeyUseSection(
        rows=[
            {"key_arn": KEY, "use_status": "USED", "groups": names, "account": "1", "region": "r",
             "elasticache_calls": 1234, "first_seen": "2026-11-07T21:52:14.784Z", "last_seen": "2026-12-07T07:52:14Z"},
            {"key_arn": KEY, "use_status": "NO_USE_IN_PERIOD", "groups": "tokens", "account": "1", "region": "r"},
        ],
        daily=[[1, 2], [0, 0]],
        first_day="2026-11-07",
        last_day="2026-12-07",
    )  # fmt: skip
    parsed = _structure(_page([_row("1", "a", "COMPLIANT")], key_use=key_use)[0])
    summaries = [text for _, tag, _, _, text in parsed.cells if tag == "summary"]
    assert "1,000 groups" in summaries
    names = [(hidden, text) for _, tag, _, hidden, text in parsed.cells if tag == "div"]
    assert len(names) == 1 and names[0][0] and names[0][1].count("fleet-") == 1000  # behind the disclosure
    shown = [text for _, tag, _, hidden, text in parsed.cells if tag == "td" and not hidden]
    assert "tokens" in shown and "1,234" in shown  # one group is shown as it is; counts with separators
    assert "NO_USE_IN_PERIOD" in shown  # the status word whole, keys without use first
    assert shown.index("NO_USE_IN_PERIOD") < shown.index("USED")


def test_parameters_are_a_table_and_nothing_wraps_inside_a_word() -> None:
    parameters = {"approvedKmsKeyArns": [KEY, KEY.replace("1234abcd", "5678abcd")], "requireKeyRotation": True,
                  "exemptionTagKey": None}  # fmt: skip
    html = html_report.render_summary(
        title="t",
        context=[("Rule parameters", parameters)],
        rows=[_row("1", "g", "NON_COMPLIANT", key_state="PendingDeletion", listed_at="2026-12-07T08:54:52.123Z")],
        problems=[],
    )
    parsed = _structure(html)
    headers = [text for _, tag, attrs, _, text in parsed.cells if tag == "th"]
    assert {"approvedKmsKeyArns", "requireKeyRotation", "exemptionTagKey"} <= set(headers)
    cell = next(text for _, tag, _, _, text in parsed.cells if tag == "td" and text.startswith(KEY))
    assert KEY.replace("1234abcd", "5678abcd") in cell  # both keys, one per line
    assert "(not set)" in html and "true" in headers + [t for _, tag, _, _, t in parsed.cells if tag == "td"]
    # States and identifiers in nowrap cells, timestamps as date over time (exact value on hover), no <wbr>.
    assert "<wbr>" not in html and "white-space:nowrap" in html
    stamp = next(attrs for _, tag, attrs, _, text in parsed.cells if tag == "td" and text.startswith("2026-12-07"))
    assert stamp.get("class") == "ts" and stamp.get("title") == "2026-12-07T08:54:52.123Z"
    state = next(attrs for _, tag, attrs, _, text in parsed.cells if tag == "td" and text == "PendingDeletion")
    assert state.get("class") == "nw"
    verdict = next(attrs for _, tag, attrs, _, text in parsed.cells if tag == "td" and text == "NON_COMPLIANT")
    assert "v" in (verdict.get("class") or "").split()


def test_ten_thousand_groups_make_a_page_of_the_size_the_docs_state() -> None:
    rows = []
    for n in range(10_000):
        account = f"{100000000000 + n % 20:012d}"
        key = f"arn:aws:kms:eu-west-1:{account}:key/{n:08d}-12ab-34cd-56ef-1234567890ab"
        verdict = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "COMPLIANT")[n % 4]
        rows.append(
            _row(
                account,
                f"group-{n:05d}",
                verdict,
                region=("us-east-1", "eu-west-1", "ap-southeast-2")[n % 3],
                key_arn=key,
                engine="valkey",
                status="available",
                key_state="Enabled",
                key_rotation=True,
                key_use="USED",
                listed_at="2026-12-01T10:00:00.000Z",
                annotation=f"Encrypted at rest with customer-managed KMS key {key} (Enabled).",
            )
        )
    html, _ = _page(rows)
    megabytes = len(html.encode()) / 1_000_000
    assert 5.0 < megabytes < 6.5, megabytes  # docs/cli/evidence.md: "10,000 groups ... make a 5.7 MB page"
    assert all(f"group-{n:05d}" in html for n in range(0, 10_000, 997))
