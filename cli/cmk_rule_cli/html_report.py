"""The evidence folder's one-page HTML summary, for an auditor reading it at a glance.

Self-contained (inline CSS and SVG, no script, no external asset), so it opens the same from a mailbox, a ticket
attachment or an air-gapped archive years later. Every value that came from AWS or the command line goes through
:func:`cmk_rule_cli.text_safety.html` (control and bidi characters shown escaped, then :func:`html.escape`): group
ids, tag values in annotations and error messages are data, never markup.

Layout decisions: per account (a collapsed ``<details>`` each, accounts with failures first) and per Region, failures
first; the verdict and its reason are the first two columns; key ARNs are shortened to the key id's start with the
full ARN in the ``title`` (hover) and in the CSV; a fixed table layout with wrapping cells keeps the page within 1,400
px without horizontal scrolling; thousands of groups stay usable because every account is collapsed until opened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cmk_rule_cli.aggregator import COLUMNS, COMPLIANCE_TYPES, AggregateResults
from cmk_rule_cli.output import Row, Value, text
from cmk_rule_cli.text_safety import html as escape  # html.escape after control and bidi characters are shown

VERDICTS = ("NON_COMPLIANT", "SKIPPED", "NOT_APPLICABLE", "COMPLIANT")  # display order: failures first
VERDICT_COLOURS = {
    "COMPLIANT": "#1a7f37",
    "NON_COMPLIANT": "#cf222e",
    "NOT_APPLICABLE": "#57606a",
    "SKIPPED": "#9a6700",
}
USE_COLOURS = {"USED": "#1a7f37", "NOT_READ": "#9a6700"}
OPEN_BELOW_ROWS = 300  # a small pack opens every account; a large one keeps them collapsed
_LABEL_WIDTH, _BAR_WIDTH, _ROW_HEIGHT, _TOTAL_WIDTH = 230, 560, 30, 60
_SPARK_WIDTH, _SPARK_HEIGHT = 180, 28

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1f2328;max-width:1360px}
h1{font-size:1.45rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.8rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;
vertical-align:top;overflow-wrap:anywhere}th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.wide{width:100%;table-layout:fixed}table.wide td,table.auto td{font-size:12px}table.auto{width:100%}
table.auto td,table.auto th{overflow-wrap:break-word}
.v{font-weight:600}td.v,td[class^="u-"]{overflow-wrap:normal}.v-COMPLIANT,.u-USED{color:#1a7f37}.v-NON_COMPLIANT,.u-NO_USE_IN_PERIOD{color:#cf222e}
.v-NOT_APPLICABLE{color:#57606a}.v-SKIPPED,.u-NOT_READ,.u-NO_USE_IN_KEPT_HISTORY{color:#9a6700}
.problems li{color:#cf222e}.flags li{color:#9a6700}.meta th{width:11rem}.muted{color:#57606a}
svg text{font:13px system-ui,sans-serif}details{margin:.4rem 0;border:1px solid #d0d7de;border-radius:6px;
padding:.3rem .6rem}summary{cursor:pointer;font-weight:600}abbr{text-decoration:none;border-bottom:1px dotted #57606a}
"""

# Group table: (column, header, width). Verdict and reason first; widths add up to 100%.
GROUP_COLUMNS = (
    ("verdict", "Verdict", "10%"),
    ("annotation", "Reason", "30%"),
    ("group_id", "Group", "13%"),
    ("engine", "Engine / status", "8%"),
    ("key_arn", "Key", "9%"),
    ("key_state", "Key state", "7%"),
    ("key_rotation", "Rotates", "6%"),
    ("key_use", "Key use in period", "9%"),
    ("listed_at", "Listed at", "8%"),
)
_RANK = {verdict: index for index, verdict in enumerate(VERDICTS)}


@dataclass(frozen=True)
class KeyUseSection:
    """Key-use rows (as in key-use.csv) and, per key in the same order, ElastiCache calls per day of the window."""

    rows: Sequence[Row]
    daily: Sequence[Sequence[int]]
    first_day: str
    last_day: str


def _cell(value: Value) -> str:
    return escape(text(value), quote=True)


def short_arn(value: Value) -> str:
    """A key ARN as ``key/1234abcd…`` with the full ARN on hover (``title``); other values as they are."""
    full = text(value)
    if not full:
        return ""
    tail = full.rsplit(":", 1)[-1]
    if tail.startswith(("key/", "alias/")) and len(tail) > 13:
        label = tail[:13] + "\u2026"
    elif len(full) > 40:
        label = full[:39] + "\u2026"
    else:
        return escape(full)
    return f'<abbr title="{escape(full, quote=True)}">{escape(label)}</abbr>'


def rank(row: Row) -> tuple[int, str, str]:
    """Failures first (NON_COMPLIANT, SKIPPED, NOT_APPLICABLE, COMPLIANT), then by group id."""
    return (_RANK.get(str(row.get("verdict")), len(_RANK)), str(row.get("group_id") or ""), str(row.get("key_arn")))


def bar_chart(counts: Mapping[str, Mapping[str, int]], verdicts: Sequence[str] = VERDICTS) -> str:
    """A stacked horizontal bar per place (Region, or account/Region), one colour per verdict, counts on the bars.

    Bars share one scale (the largest place fills the width); every segment carries a ``<title>`` tooltip, and the
    legend repeats the colours with names for readers who cannot tell them apart.
    """
    largest = max([sum(by_verdict.values()) for by_verdict in counts.values()] + [1])
    height = _ROW_HEIGHT * len(counts) + 40
    width = _LABEL_WIDTH + _BAR_WIDTH + _TOTAL_WIDTH
    parts = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Replication groups per place and verdict</title>',
    ]
    for index, (place, by_verdict) in enumerate(counts.items()):
        y = index * _ROW_HEIGHT + 4
        parts.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">{escape(place)}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{_BAR_WIDTH}" height="{_ROW_HEIGHT - 8}" fill="#f6f8fa"/>'
        )
        x = float(_LABEL_WIDTH)
        for verdict in verdicts:
            count = by_verdict.get(verdict, 0)
            if not count:
                continue
            segment = count / largest * _BAR_WIDTH
            colour = VERDICT_COLOURS.get(verdict, "#8c959f")
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{segment:.1f}" height="{_ROW_HEIGHT - 8}" fill="{colour}">'
                f"<title>{escape(place)}: {count} {escape(verdict)}</title></rect>"
            )
            if segment >= 22:
                parts.append(
                    f'<text x="{x + segment / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="#fff">{count}</text>'
                )
            x += segment
        parts.append(f'<text x="{_LABEL_WIDTH + _BAR_WIDTH + 8}" y="{y + 16}">{sum(by_verdict.values())}</text>')
    legend_y = _ROW_HEIGHT * len(counts) + 14
    x = float(_LABEL_WIDTH)
    for verdict in verdicts:
        parts.append(
            f'<rect x="{x:.0f}" y="{legend_y}" width="12" height="12" '
            f'fill="{VERDICT_COLOURS.get(verdict, "#8c959f")}"/>'
            f'<text x="{x + 16:.0f}" y="{legend_y + 11}">{escape(verdict)}</text>'
        )
        x += 30 + 8 * len(verdict)
    parts.append("</svg>")
    return "".join(parts)


def spark(daily: Sequence[int], label: str) -> str:
    """A small bar per day of ElastiCache calls (same height scale within the key; empty days leave a gap)."""
    if not daily:
        return '<span class="muted">no window</span>'
    top = max(daily) or 1
    step = _SPARK_WIDTH / len(daily)
    bars = []
    for index, count in enumerate(daily):
        if count:
            h = max(2.0, count / top * (_SPARK_HEIGHT - 2))
            bars.append(
                f'<rect x="{index * step:.1f}" y="{_SPARK_HEIGHT - h:.1f}" width="{max(step - 0.5, 0.8):.1f}" '
                f'height="{h:.1f}" fill="#1a7f37"/>'
            )
    return (
        f'<svg width="{_SPARK_WIDTH}" height="{_SPARK_HEIGHT}" viewBox="0 0 {_SPARK_WIDTH} {_SPARK_HEIGHT}" role="img">'
        f"<title>{escape(label)}: {sum(daily)} ElastiCache call(s), busiest day {max(daily)}</title>"
        f'<rect x="0" y="{_SPARK_HEIGHT - 1}" width="{_SPARK_WIDTH}" height="1" fill="#d0d7de"/>{"".join(bars)}</svg>'
    )


def _breakable(value: Value) -> str:
    """A status word such as NON_COMPLIANT, allowed to wrap only after its underscores."""
    return _cell(value).replace("_", "_<wbr>")


def _verdict_cell(value: Value) -> str:
    return f'<td class="v v-{_cell(value)}">{_breakable(value)}</td>' if value else "<td></td>"


def _group_table(rows: Sequence[Row]) -> str:
    cols = "".join(f'<col style="width:{width}">' for _, _, width in GROUP_COLUMNS)
    head = "".join(f"<th>{escape(header)}</th>" for _, header, _ in GROUP_COLUMNS)
    body = []
    for row in sorted(rows, key=rank):
        cells = []
        for column, _, _ in GROUP_COLUMNS:
            value = row.get(column)
            if column == "verdict":
                cells.append(_verdict_cell(value))
            elif column == "key_arn":
                cells.append(f"<td>{short_arn(value)}</td>")
            elif column == "engine":
                cells.append(f"<td>{_cell(value)}<br>{_cell(row.get('status'))}</td>")
            elif column == "key_use":
                cells.append(f'<td class="u-{_cell(value)}">{_breakable(value)}</td>')
            else:
                cells.append(f"<td>{_cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return _wide_table(cols, head, body)


def _wide_table(cols: str, head: str, body: Sequence[str]) -> str:
    return (
        f'<table class="wide"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _plain_table(rows: Sequence[Row], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = []
    for row in sorted(rows, key=lambda r: _RANK.get(str(r.get("compliance_type") or r.get("verdict")), len(_RANK))):
        cells = []
        for column in columns:
            value = row.get(column)
            if column in ("verdict", "compliance_type", "live_verdict", "config_compliance"):
                cells.append(_verdict_cell(value))
            elif column == "key_arn":
                cells.append(f"<td>{short_arn(value)}</td>")
            else:
                cells.append(f"<td>{_cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="auto"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _counts_table(counts: Mapping[str, Mapping[str, int]], verdicts: Sequence[str], first: str) -> str:
    head = f"<th>{escape(first)}</th>" + "".join(f'<th class="v v-{escape(v)}">{escape(v)}</th>' for v in verdicts)
    rows = []
    for place, by_verdict in counts.items():
        cells = "".join(f'<td class="n">{by_verdict.get(v, 0)}</td>' for v in verdicts)
        rows.append(f"<tr><th>{escape(place)}</th>{cells}<td class='n'>{sum(by_verdict.values())}</td></tr>")
    totals = "".join(f'<td class="n">{sum(c.get(v, 0) for c in counts.values())}</td>' for v in verdicts)
    grand = sum(sum(c.values()) for c in counts.values())
    return (
        f"<table><thead><tr>{head}<th>total</th></tr></thead><tbody>{''.join(rows)}"
        f"<tr><th>all</th>{totals}<td class='n'>{grand}</td></tr></tbody></table>"
    )


def place_counts(rows: Sequence[Row]) -> dict[str, dict[str, int]]:
    """account/Region -> verdict -> count, in the order of the rows."""
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        place = f"{text(row.get('account'))}/{text(row.get('region')) or '-'}"
        counts.setdefault(place, Counter())[str(row.get("verdict"))] += 1
    return {place: {v: c[v] for v in VERDICTS} for place, c in counts.items()}


def _accounts_section(rows: Sequence[Row]) -> str:
    by_account: dict[str, dict[str, list[Row]]] = {}
    for row in rows:
        by_account.setdefault(text(row.get("account")), {}).setdefault(text(row.get("region")) or "-", []).append(row)

    def account_rank(item: tuple[str, dict[str, list[Row]]]) -> tuple[int, str]:
        return (min(rank(r)[0] for rs in item[1].values() for r in rs), item[0])

    opened = " open" if len(rows) <= OPEN_BELOW_ROWS else ""
    parts = []
    for account, by_region in sorted(by_account.items(), key=account_rank):
        totals = Counter(str(r.get("verdict")) for rs in by_region.values() for r in rs)
        summary = ", ".join(f"{totals[v]} {v}" for v in VERDICTS if totals[v])
        parts.append(f"<details{opened}><summary>Account {escape(account)}: {escape(summary)}</summary>")
        for region, region_rows in sorted(
            by_region.items(), key=lambda item: (min(rank(r)[0] for r in item[1]), item[0])
        ):
            parts.append(
                f"<h3>{escape(account)} / {escape(region)} ({len(region_rows)})</h3>{_group_table(region_rows)}"
            )
        parts.append("</details>")
    return "".join(parts)


def _key_use_section(section: KeyUseSection, flags: Sequence[str]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Use",
            "Key",
            "Account / Region",
            "Protects",
            "ElastiCache calls",
            "First / last seen",
            "Example event",
        )
    )
    head += f"<th>Calls per day, {escape(section.first_day)} to {escape(section.last_day)}</th>"
    order = sorted(range(len(section.rows)), key=lambda i: (section.rows[i].get("use_status") == "USED", i))
    body = []
    for index in order:
        row = section.rows[index]
        status = _cell(row.get("use_status"))
        body.append(
            "<tr>"
            f'<td class="v u-{status}">{_breakable(row.get("use_status"))}</td><td>{short_arn(row.get("key_arn"))}</td>'
            f"<td>{_cell(row.get('account'))}<br>{_cell(row.get('region'))}</td><td>{_cell(row.get('groups'))}</td>"
            f'<td class="n">{_cell(row.get("elasticache_calls"))}{" +" if row.get("truncated") else ""}</td>'
            f"<td>{_cell(row.get('first_seen'))}<br>{_cell(row.get('last_seen'))}</td>"
            f"<td>{_cell(row.get('example_event_id'))}</td>"
            f"<td>{spark(section.daily[index], text(row.get('key_arn')))}</td></tr>"
        )
    cols = "".join(f'<col style="width:{w}">' for w in ("11%", "10%", "11%", "14%", "7%", "14%", "16%", "17%"))
    heading = f"Key-use proof: ElastiCache's kms:Decrypt / kms:GenerateDataKey* calls ({len(section.rows)} key(s))"
    parts = [
        f'<h2 id="key-use">{escape(heading)}</h2>',
        '<p class="muted">From CloudTrail: calls whose userIdentity.invokedBy (or source) is '
        "elasticache.amazonaws.com. "
        "A key without such calls is flagged: no use in the period, or no use in the part of it event history still "
        "keeps (90 days).</p>",
    ]
    if flags:
        parts.append('<ul class="flags">' + "".join(f"<li>{escape(flag)}</li>" for flag in flags) + "</ul>")
    parts.append(_wide_table(cols, head, body))
    return "".join(parts)


def _aggregate_section(aggregate: AggregateResults) -> str:
    counts = {
        f"{account}/{region}": by_type
        for account, regions in aggregate.counts().items()
        for region, by_type in regions.items()
    }
    failing = aggregate.non_compliant()
    return "".join(
        [
            f"<h2>Recorded by AWS Config in every account and Region (aggregator {escape(aggregate.aggregator)})</h2>",
            _counts_table(counts, COMPLIANCE_TYPES, "account/Region"),
            f"<h3>Non-compliant groups ({len(failing)})</h3>",
            _plain_table(failing, COLUMNS) if failing else '<p class="muted">none</p>',
        ]
    )


def render_summary(
    *,
    title: str,
    context: Sequence[tuple[str, str]],
    rows: Sequence[Row],
    problems: Sequence[str],
    flags: Sequence[str] = (),
    key_use: KeyUseSection | None = None,
    recorded: Sequence[Row] | None = None,
    recorded_columns: Sequence[str] = (),
    aggregate: AggregateResults | None = None,
) -> str:
    """The whole page: context, what was not read, chart and counts, groups per account and Region (failures first),
    key-use proof, and Config's recorded results (per account, and organization-wide) if read."""
    counts = place_counts(rows)
    meta = "".join(f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>" for name, value in context)
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<p class="muted">ElastiCache replication groups must be encrypted at rest with a usable customer-managed KMS '
        "key. Verdicts come from the rule's own engine, read-only, at the time shown.</p>",
        f'<table class="meta">{meta}</table>',
    ]
    if problems:
        items = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
        sections.append(f'<h2>Not read: this pack is incomplete</h2><ul class="problems">{items}</ul>')
    sections += [
        "<h2>Verdicts per account and Region</h2>",
        bar_chart(counts),
        _counts_table(counts, VERDICTS, "account/Region"),
        f'<h2 id="groups">Replication groups ({len(rows)}), failures first</h2>',
        _accounts_section(rows),
    ]
    if key_use is not None:
        sections.append(_key_use_section(key_use, flags))
    if aggregate is not None:
        sections.append(_aggregate_section(aggregate))
    if recorded is not None:
        sections += [
            f"<h2>Results recorded by AWS Config for the scanned accounts ({len(recorded)})</h2>",
            _plain_table(recorded, recorded_columns),
        ]
    sections.append("</body></html>\n")
    return "\n".join(sections)
