"""The evidence folder's one-page HTML summary: self-contained (inline CSS and SVG, no script, no external asset), so
it opens the same from an auditor's mailbox, a ticket attachment or an air-gapped archive years later.

Every value that came from AWS or the command line goes through :func:`html.escape`: group ids, tag values in
annotations and error messages are data, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from cmk_rule_cli.output import Row, Value, text

VERDICT_COLOURS = {
    "COMPLIANT": "#1a7f37",
    "NON_COMPLIANT": "#cf222e",
    "NOT_APPLICABLE": "#57606a",
    "SKIPPED": "#9a6700",
}
_LABEL_WIDTH, _BAR_WIDTH, _ROW_HEIGHT, _TOTAL_WIDTH = 130, 560, 30, 60

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1f2328;max-width:1400px}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;
vertical-align:top}th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.groups td{font-size:12px}table.groups td.key{word-break:break-all;max-width:22rem}
.v{font-weight:600;white-space:nowrap}.v-COMPLIANT{color:#1a7f37}.v-NON_COMPLIANT{color:#cf222e}
.v-NOT_APPLICABLE{color:#57606a}.v-SKIPPED{color:#9a6700}.problems li{color:#cf222e}
.meta th{width:12rem}.muted{color:#57606a}svg text{font:13px system-ui,sans-serif}
"""


def _cell(value: Value) -> str:
    return escape(text(value), quote=True)


def bar_chart(counts: Mapping[str, Mapping[str, int]], verdicts: Sequence[str]) -> str:
    """A stacked horizontal bar per Region, one colour per verdict, with the counts written on the bars.

    Bars share one scale (the largest Region fills the width), so Regions compare at a glance; every segment also
    carries a ``<title>`` tooltip, and the legend repeats the colours with names for readers who cannot tell them apart.
    """
    largest = max([sum(by_verdict.values()) for by_verdict in counts.values()] + [1])
    height = _ROW_HEIGHT * len(counts) + 40
    width = _LABEL_WIDTH + _BAR_WIDTH + _TOTAL_WIDTH
    parts = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Replication groups per Region and verdict</title>',
    ]
    for index, (region, by_verdict) in enumerate(counts.items()):
        y = index * _ROW_HEIGHT + 4
        parts.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">{escape(region)}</text>'
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
                f"<title>{escape(region)}: {count} {escape(verdict)}</title></rect>"
            )
            if segment >= 22:
                parts.append(
                    f'<text x="{x + segment / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="#fff">{count}</text>'
                )
            x += segment
        total = sum(by_verdict.values())
        parts.append(f'<text x="{_LABEL_WIDTH + _BAR_WIDTH + 8}" y="{y + 16}">{total}</text>')
    legend_y = _ROW_HEIGHT * len(counts) + 14
    x = float(_LABEL_WIDTH)
    for verdict in verdicts:
        colour = VERDICT_COLOURS.get(verdict, "#8c959f")
        parts.append(
            f'<rect x="{x:.0f}" y="{legend_y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16:.0f}" y="{legend_y + 11}">{escape(verdict)}</text>'
        )
        x += 30 + 8 * len(verdict)
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: Sequence[Row], columns: Sequence[str], css_class: str) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if column in ("verdict", "compliance_type", "live_verdict", "config_compliance") and value:
                cells.append(f'<td class="v v-{_cell(value)}">{_cell(value)}</td>')
            elif column == "key_arn":
                cells.append(f'<td class="key">{_cell(value)}</td>')
            else:
                cells.append(f"<td>{_cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _counts_table(counts: Mapping[str, Mapping[str, int]], verdicts: Sequence[str]) -> str:
    head = "<th>Region</th>" + "".join(f'<th class="v v-{escape(v)}">{escape(v)}</th>' for v in verdicts)
    rows = []
    for region, by_verdict in counts.items():
        cells = "".join(f'<td class="n">{by_verdict.get(v, 0)}</td>' for v in verdicts)
        rows.append(f"<tr><th>{escape(region)}</th>{cells}<td class='n'>{sum(by_verdict.values())}</td></tr>")
    totals = "".join(f'<td class="n">{sum(c.get(v, 0) for c in counts.values())}</td>' for v in verdicts)
    grand = sum(sum(c.values()) for c in counts.values())
    return (
        f"<table><thead><tr>{head}<th>total</th></tr></thead><tbody>{''.join(rows)}"
        f"<tr><th>all Regions</th>{totals}<td class='n'>{grand}</td></tr></tbody></table>"
    )


def render_summary(
    *,
    title: str,
    context: Sequence[tuple[str, str]],
    counts: Mapping[str, Mapping[str, int]],
    verdicts: Sequence[str],
    rows: Sequence[Row],
    columns: Sequence[str],
    problems: Sequence[str],
    recorded: Sequence[Row] | None = None,
    recorded_columns: Sequence[str] = (),
) -> str:
    """The whole page: context, chart, counts, problems, every group, and Config's recorded results if read."""
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
        "<h2>Verdicts per Region</h2>",
        bar_chart(counts, verdicts),
        _counts_table(counts, verdicts),
    ]
    if problems:
        items = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
        sections.append(f'<h2>Incomplete: not everything was judged</h2><ul class="problems">{items}</ul>')
    sections += [f"<h2>Replication groups ({len(rows)})</h2>", _table(rows, columns, "groups")]
    if recorded is not None:
        sections += [
            f"<h2>Results recorded by AWS Config ({len(recorded)})</h2>",
            _table(recorded, recorded_columns, "groups"),
        ]
    sections.append("</body></html>\n")
    return "\n".join(sections)
