"""The auditor's page on its own (no AWS): escaping in every new section, shortened key ARNs with the full value on
hover, accounts with failures first, collapsed accounts for large packs, and the size docs/cli/evidence.md states for
10,000 groups."""

from __future__ import annotations

from html.parser import HTMLParser

from cmk_rule_cli import aggregator, html_report

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


def test_accounts_with_failures_come_first_and_large_packs_are_collapsed() -> None:
    rows = [_row("111111111111", f"ok-{n}", "COMPLIANT") for n in range(400)]
    rows.append(_row("999999999999", "bad", "NON_COMPLIANT"))
    html, parsed = _page(rows)
    summaries = [i for i, (tag, _) in enumerate(parsed.tags) if tag == "details"]
    assert len(summaries) == 2 and all("open" not in attrs for tag, attrs in parsed.tags if tag == "details")
    assert html.index("Account 999999999999") < html.index("Account 111111111111")
    _, small_parsed = _page(rows[:5])
    assert all("open" in attrs for tag, attrs in small_parsed.tags if tag == "details")


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
    assert 4.0 < megabytes < 5.5, megabytes  # docs/cli/evidence.md: "10,000 groups ... make a 4.7 MB page"
    assert all(f"group-{n:05d}" in html for n in range(0, 10_000, 997))
