"""The evidence folder's one-page HTML summary, for an auditor reading it at a glance.

Self-contained (inline CSS and SVG, no script, no external asset), so it opens the same from a mailbox, a ticket
attachment or an air-gapped archive years later. Every value that came from AWS or the command line goes through
:func:`cmk_rule_cli.reports.text_safety.html` (control and bidi characters shown escaped, then :func:`html.escape`):
group ids, tag values in annotations and error messages are data, never markup.

Layout decisions, for an auditor reading 1,000 groups: a headline verdict with the counts comes first; the failing
groups (``NON_COMPLIANT``, ``SKIPPED``) are always expanded, per account and Region, before anything that passes;
the passing groups are collapsed, one ``<details>`` per account. The verdict and its reason are the first two
columns; key ARNs are shortened to the key id's start with the full ARN in the ``title`` (hover) and in the CSV.
Identifiers, states and timestamps never wrap inside a word (``white-space: nowrap``; a timestamp shows its date over
its time, the exact value on hover); only the reason wraps, at spaces. Each place's bar is its own 100% (every
verdict present keeps a minimum width, so 3 groups next to 1,015 stay visible), with its total and failures
written next to it. The key-use table gives each key's group count, the names behind a disclosure. The rule
parameters are a table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cmk_rule_cli.readers.aggregator import COLUMNS, COMPLIANCE_TYPES, AggregateResults
from cmk_rule_cli.reports.output import Row, Value, text
from cmk_rule_cli.reports.text_safety import html as escape  # html.escape after control and bidi characters are shown

# A context line's value: text, or name -> value shown as a small table (the rule parameters).
ContextValue = str | Mapping[str, Value | Sequence[str]]

VERDICTS = ("NON_COMPLIANT", "SKIPPED", "NOT_APPLICABLE", "COMPLIANT")  # display order: failures first
VERDICT_COLOURS = {
    "COMPLIANT": "#1a7f37",
    "NON_COMPLIANT": "#cf222e",
    "NOT_APPLICABLE": "#57606a",
    "SKIPPED": "#9a6700",
}
USE_COLOURS = {"USED": "#1a7f37", "NOT_READ": "#9a6700"}
_LABEL_WIDTH, _BAR_WIDTH, _ROW_HEIGHT, _TOTAL_WIDTH = 230, 520, 30, 300
_SPARK_WIDTH, _SPARK_HEIGHT = 180, 28

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1f2328;max-width:1360px}
h1{font-size:1.45rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.8rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;
vertical-align:top}th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.wide{width:100%}table.wide td,table.auto td{font-size:12px}table.auto{width:100%}
td.reason{overflow-wrap:break-word;min-width:16rem}.nw,.ts,.v,td[class^="u-"]{white-space:nowrap}
.v{font-weight:600}.v-COMPLIANT,.u-USED{color:#1a7f37}.v-NON_COMPLIANT,.u-NO_USE_IN_PERIOD{color:#cf222e}
.v-NOT_APPLICABLE{color:#57606a}.v-SKIPPED,.u-NOT_READ,.u-NO_USE_IN_KEPT_HISTORY{color:#9a6700}
.problems li{color:#cf222e}.flags li{color:#9a6700}.meta th{width:11rem;vertical-align:top}.muted{color:#57606a}
table.params{margin:0}table.params th{width:auto;background:none;font-weight:600}table.params td,table.params th{
border:0;padding:0 .8rem .1rem 0}
svg text{font:13px system-ui,sans-serif}details{margin:.4rem 0;border:1px solid #d0d7de;border-radius:6px;
padding:.3rem .6rem}summary{cursor:pointer;font-weight:600}abbr{text-decoration:none;border-bottom:1px dotted #57606a}
details.names{border:0;padding:0;margin:0}details.names summary{font-weight:400}details.names div{max-width:34rem}
.headline{border:2px solid #d0d7de;border-radius:8px;padding:.6rem 1rem;margin:1rem 0}
.headline p{margin:.1rem 0}.headline .big{font-size:1.3rem;font-weight:700}
.headline.FAIL{border-color:#cf222e}.headline.FAIL .big{color:#cf222e}.headline.PASS{border-color:#1a7f37}
.headline.PASS .big{color:#1a7f37}.headline.INCOMPLETE{border-color:#9a6700}.headline.INCOMPLETE .big{color:#9a6700}
.chips span{display:inline-block;margin-right:1.2rem;white-space:nowrap}
"""

# Group table: (column, header). Verdict and reason first; the table lays itself out (the reason takes what is left).
GROUP_COLUMNS = (
    ("verdict", "Verdict"),
    ("annotation", "Reason"),
    ("group_id", "Group"),
    ("engine", "Engine / status"),
    ("key_arn", "Key"),
    ("key_state", "Key state"),
    ("key_rotation", "Rotates"),
    ("key_use", "Key use in period"),
    ("listed_at", "Listed at"),
)
FAILING = ("NON_COMPLIANT", "SKIPPED")  # always expanded, first
MIN_SEGMENT = 6  # px: a verdict present in a place is never thinner than this, whatever the ratio
TIMESTAMP_COLUMNS = frozenset({"listed_at", "recorded_at", "key_read_at", "config_recorded_at", "key_last_used"})
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


def segment_widths(counts: Sequence[int], width: float = _BAR_WIDTH, minimum: float = MIN_SEGMENT) -> list[float]:
    """Widths of a 100% stacked bar: proportional, except that a non-zero count never gets less than ``minimum``
    (taken from the wider segments, in proportion to what they have above it). Zero stays zero."""
    total = sum(counts)
    if not total:
        return [0.0 for _ in counts]
    widths = [count / total * width for count in counts]
    small = [i for i, (count, w) in enumerate(zip(counts, widths, strict=True)) if count and w < minimum]
    if not small:
        return widths
    needed = sum(minimum - widths[i] for i in small)
    spare = [i for i in range(len(widths)) if i not in small and widths[i] > minimum]
    room = sum(widths[i] - minimum for i in spare)
    for i in small:
        widths[i] = minimum
    for i in spare:
        widths[i] -= needed * (widths[i] - minimum) / room if room else 0
    return widths


def bar_chart(counts: Mapping[str, Mapping[str, int]], verdicts: Sequence[str] = VERDICTS) -> str:
    """A 100% stacked horizontal bar per place (Region, or account/Region), one colour per verdict.

    Every place's bar is its own 100%, so a Region of 3 groups is as legible as one of 1,015 (the total and the
    failures are written next to the bar, so sizes are still compared by number, not by length); a verdict present
    keeps at least :data:`MIN_SEGMENT` px. Each segment has a ``<title>`` tooltip with its count; counts are written
    on segments wide enough, and the legend repeats the colours with names for readers who cannot tell them apart.
    """
    height = _ROW_HEIGHT * len(counts) + 40
    width = _LABEL_WIDTH + _BAR_WIDTH + _TOTAL_WIDTH
    parts = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Replication groups per place and verdict (each bar is that place\'s 100%)</title>',
    ]
    for index, (place, by_verdict) in enumerate(counts.items()):
        y = index * _ROW_HEIGHT + 4
        parts.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">{escape(place)}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{_BAR_WIDTH}" height="{_ROW_HEIGHT - 8}" fill="#f6f8fa"/>'
        )
        x = float(_LABEL_WIDTH)
        present = [verdict for verdict in verdicts if by_verdict.get(verdict, 0)]
        for verdict, segment in zip(present, segment_widths([by_verdict[v] for v in present]), strict=True):
            count = by_verdict[verdict]
            colour = VERDICT_COLOURS.get(verdict, "#8c959f")
            parts.append(
                f'<rect class="seg" x="{x:.1f}" y="{y}" width="{segment:.1f}" height="{_ROW_HEIGHT - 8}" '
                f'fill="{colour}"><title>{escape(place)}: {count:,} {escape(verdict)}</title></rect>'
            )
            if segment >= 9 * len(f"{count:,}") + 8:
                parts.append(
                    f'<text x="{x + segment / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="#fff">{count:,}</text>'
                )
            x += segment
        total = sum(by_verdict.values())
        failing = sum(by_verdict.get(v, 0) for v in FAILING)
        note = f" \u00b7 {failing:,} failing" if failing else ""
        parts.append(
            f'<text x="{_LABEL_WIDTH + _BAR_WIDTH + 8}" y="{y + 16}"'
            f"{' fill=' + chr(34) + VERDICT_COLOURS['NON_COMPLIANT'] + chr(34) if failing else ''}>"
            f"{total:,} group{'' if total == 1 else 's'}{note}</text>"
        )
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


def _stamp(value: Value) -> str:
    """A timestamp as its date over its time to the second (never wrapped inside), the exact value on hover."""
    full = text(value)
    if "T" not in full:
        return f'<td class="ts">{_cell(value)}</td>'
    day, _, time = full.partition("T")
    shown = time.split(".")[0].rstrip("Z") + "Z"
    return f'<td class="ts" title="{escape(full, quote=True)}">{escape(day)}<br>{escape(shown)}</td>'


def _verdict_cell(value: Value) -> str:
    return f'<td class="v v-{_cell(value)}">{_cell(value)}</td>' if value else "<td></td>"


def _group_table(rows: Sequence[Row]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for _, header in GROUP_COLUMNS)
    body = []
    for row in sorted(rows, key=rank):
        cells = []
        for column, _ in GROUP_COLUMNS:
            value = row.get(column)
            if column == "verdict":
                cells.append(_verdict_cell(value))
            elif column == "annotation":
                cells.append(f'<td class="reason">{_cell(value)}</td>')
            elif column == "key_arn":
                cells.append(f'<td class="nw">{short_arn(value)}</td>')
            elif column == "engine":
                cells.append(f'<td class="nw">{_cell(value)}<br>{_cell(row.get("status"))}</td>')
            elif column == "key_use":
                cells.append(f'<td class="u-{_cell(value)}">{_cell(value)}</td>')
            elif column in TIMESTAMP_COLUMNS:
                cells.append(_stamp(value))
            else:
                cells.append(f'<td class="nw">{_cell(value)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return _wide_table(head, body)


def _wide_table(head: str, body: Sequence[str]) -> str:
    return f'<table class="wide"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


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
                cells.append(f'<td class="nw">{short_arn(value)}</td>')
            elif column in TIMESTAMP_COLUMNS:
                cells.append(_stamp(value))
            elif column == "annotation":
                cells.append(f'<td class="reason">{_cell(value)}</td>')
            elif column in ("account", "region", "group_id"):
                cells.append(f'<td class="nw">{_cell(value)}</td>')
            else:
                cells.append(f"<td>{_cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="auto"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _counts_table(counts: Mapping[str, Mapping[str, int]], verdicts: Sequence[str], first: str) -> str:
    head = f"<th>{escape(first)}</th>" + "".join(f'<th class="v v-{escape(v)}">{escape(v)}</th>' for v in verdicts)
    rows = []
    for place, by_verdict in counts.items():
        cells = "".join(f'<td class="n">{by_verdict.get(v, 0):,}</td>' for v in verdicts)
        rows.append(f"<tr><th>{escape(place)}</th>{cells}<td class='n'>{sum(by_verdict.values()):,}</td></tr>")
    totals = "".join(f'<td class="n">{sum(c.get(v, 0) for c in counts.values()):,}</td>' for v in verdicts)
    grand = sum(sum(c.values()) for c in counts.values())
    return (
        f"<table><thead><tr>{head}<th>total</th></tr></thead><tbody>{''.join(rows)}"
        f"<tr><th>all</th>{totals}<td class='n'>{grand:,}</td></tr></tbody></table>"
    )


def place_counts(rows: Sequence[Row]) -> dict[str, dict[str, int]]:
    """account/Region -> verdict -> count, in the order of the rows."""
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        place = f"{text(row.get('account'))}/{text(row.get('region')) or '-'}"
        counts.setdefault(place, Counter())[str(row.get("verdict"))] += 1
    return {place: {v: c[v] for v in VERDICTS} for place, c in counts.items()}


def _by_place(rows: Sequence[Row]) -> dict[str, dict[str, list[Row]]]:
    """account -> Region -> rows; accounts and Regions with failures first, then by name."""
    by_account: dict[str, dict[str, list[Row]]] = {}
    for row in rows:
        by_account.setdefault(text(row.get("account")), {}).setdefault(text(row.get("region")) or "-", []).append(row)

    def first_rank(region_rows: Sequence[Row]) -> int:
        return min(rank(r)[0] for r in region_rows)

    return {
        account: dict(sorted(by_region.items(), key=lambda item: (first_rank(item[1]), item[0])))
        for account, by_region in sorted(
            by_account.items(), key=lambda item: (min(first_rank(rs) for rs in item[1].values()), item[0])
        )
    }


def _failing_section(rows: Sequence[Row]) -> str:
    """Every NON_COMPLIANT and SKIPPED group, always expanded, per account and Region."""
    failing = [row for row in rows if str(row.get("verdict")) in FAILING]
    parts = [f'<h2 id="failing">Failing groups ({len(failing):,}): {" and ".join(FAILING)}</h2>']
    if not failing:
        parts.append('<p class="muted">None: every group is COMPLIANT or NOT_APPLICABLE.</p>')
    for account, by_region in _by_place(failing).items():
        for region, region_rows in by_region.items():
            parts.append(f"<h3>{escape(account)} / {escape(region)} ({len(region_rows):,})</h3>")
            parts.append(_group_table(region_rows))
    return "".join(parts)


def _passing_section(rows: Sequence[Row]) -> str:
    """The groups that pass (NOT_APPLICABLE first, then COMPLIANT), collapsed: one ``<details>`` per account."""
    passing = [row for row in rows if str(row.get("verdict")) not in FAILING]
    parts = [
        f'<h2 id="passing">Passing groups ({len(passing):,}): NOT_APPLICABLE and COMPLIANT, per account '
        "(collapsed)</h2>"
    ]
    if not passing:
        parts.append('<p class="muted">None.</p>')
    for account, by_region in _by_place(passing).items():
        totals = Counter(str(r.get("verdict")) for rs in by_region.values() for r in rs)
        summary = ", ".join(f"{totals[v]:,} {v}" for v in VERDICTS if totals[v])
        parts.append(f"<details><summary>Account {escape(account)}: {escape(summary)}</summary>")
        for region, region_rows in by_region.items():
            parts.append(f"<h3>{escape(account)} / {escape(region)} ({len(region_rows):,})</h3>")
            parts.append(_group_table(region_rows))
        parts.append("</details>")
    return "".join(parts)


def _groups_cell(value: Value) -> str:
    """A key's groups: the count, the names behind a disclosure (one name is shown as it is)."""
    names = text(value).split()
    if len(names) <= 1:
        return f'<td class="nw">{escape(names[0]) if names else ""}</td>'
    listed = ", ".join(escape(name) for name in names)
    return f'<td><details class="names"><summary>{len(names):,} groups</summary><div>{listed}</div></details></td>'


def headline(rows: Sequence[Row], problems: Sequence[str]) -> str:
    """The verdict an auditor reads first: FAIL (any NON_COMPLIANT), INCOMPLETE (nothing failed, but something was
    skipped or not read) or PASS, with the count of each verdict."""
    totals = Counter(str(row.get("verdict")) for row in rows)
    failed = totals["NON_COMPLIANT"]
    incomplete = bool(totals["SKIPPED"] or problems)
    word = "FAIL" if failed else ("INCOMPLETE" if incomplete else "PASS")
    sentence = f"{word}: {failed:,} of {len(rows):,} replication groups are NON_COMPLIANT"
    chips = "".join(f'<span class="v v-{v}">{totals[v]:,} {v}</span>' for v in VERDICTS)
    extra = (
        '<p class="v-SKIPPED">Incomplete: something was not read or not judged (see "Not read" below).</p>'
        if incomplete
        else '<p class="muted">Complete: every group was judged and everything asked for was read.</p>'
    )
    return (
        f'<section class="headline {word}" id="headline"><p class="big">{escape(sentence)}</p>'
        f'<p class="chips">{chips}</p>{extra}</section>'
    )


def _context_value(value: ContextValue) -> str:
    """A context value: text, or a table of name -> value (the rule parameters; a list is one item per line)."""
    if isinstance(value, str):
        return escape(value)
    rows = []
    for name, item in value.items():
        if isinstance(item, (list, tuple)):
            shown = "<br>".join(escape(str(part)) for part in item) or '<span class="muted">(none)</span>'
        elif item is None:
            shown = '<span class="muted">(not set)</span>'
        else:
            shown = escape(text(item if isinstance(item, (str, int, bool)) else str(item)))
        rows.append(f"<tr><th>{escape(name)}</th><td>{shown}</td></tr>")
    return f'<table class="params">{"".join(rows)}</table>'


def _key_use_section(section: KeyUseSection, flags: Sequence[str]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Use",
            "Key",
            "Account / Region",
            "Protects",
            "ElastiCache calls",
            "First seen",
            "Last seen",
            "Example event",
        )
    )
    head += f"<th>Calls per day, {escape(section.first_day)} to {escape(section.last_day)}</th>"
    order = sorted(range(len(section.rows)), key=lambda i: (section.rows[i].get("use_status") == "USED", i))
    body = []
    for index in order:
        row = section.rows[index]
        status = _cell(row.get("use_status"))
        calls = row.get("elasticache_calls")
        body.append(
            "<tr>"
            f'<td class="v u-{status}">{status}</td><td class="nw">{short_arn(row.get("key_arn"))}</td>'
            f'<td class="nw">{_cell(row.get("account"))}<br>{_cell(row.get("region"))}</td>'
            f"{_groups_cell(row.get('groups'))}"
            f'<td class="n">{f"{calls:,}" if isinstance(calls, int) else _cell(calls)}'
            f"{' +' if row.get('truncated') else ''}</td>"
            f"{_stamp(row.get('first_seen'))}{_stamp(row.get('last_seen'))}"
            f"<td>{_cell(row.get('example_event_id'))}</td>"  # a UUID may break at its hyphens
            f"<td>{spark(section.daily[index], text(row.get('key_arn')))}</td></tr>"
        )
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
    parts.append(_wide_table(head, body))
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
    context: Sequence[tuple[str, ContextValue]],
    rows: Sequence[Row],
    problems: Sequence[str],
    flags: Sequence[str] = (),
    key_use: KeyUseSection | None = None,
    recorded: Sequence[Row] | None = None,
    recorded_columns: Sequence[str] = (),
    aggregate: AggregateResults | None = None,
) -> str:
    """The whole page: the headline verdict, context, what was not read, chart and counts, the failing groups
    (expanded), the passing ones (collapsed), key-use proof, and Config's recorded results (per account, and
    organization-wide) if read."""
    counts = place_counts(rows)
    meta = "".join(f"<tr><th>{escape(name)}</th><td>{_context_value(value)}</td></tr>" for name, value in context)
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<p class="muted">ElastiCache replication groups must be encrypted at rest with a usable customer-managed KMS '
        "key. Verdicts come from the rule's own engine, read-only, at the time shown.</p>",
        headline(rows, problems),
        f'<table class="meta">{meta}</table>',
    ]
    if problems:
        items = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
        sections.append(f'<h2>Not read: this pack is incomplete</h2><ul class="problems">{items}</ul>')
    sections += [
        "<h2>Verdicts per account and Region</h2>",
        bar_chart(counts),
        _counts_table(counts, VERDICTS, "account/Region"),
        _failing_section(rows),
        _passing_section(rows),
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
