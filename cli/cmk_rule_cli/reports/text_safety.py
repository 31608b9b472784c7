"""The one sanitizer of every human-facing output: other people's bytes are shown, never obeyed.

A group id, a tag value, an annotation Config recorded, a KMS error or a file name in a pull request is data. Each
output escapes it as its reader requires, always starting from the rule's own :func:`cmk_rule.safe_text.visible`
(so the CLI and the Lambda escape the same characters the same way):

* terminal (table, progress, errors on stderr): control characters (ESC, BEL, CR, the 8-bit CSI ...) and bidi
  controls shown as ``\\x1b``, ``\\u202e``: an ESC sequence cannot retitle or clear the terminal or paint a fake
  verdict line, an override cannot reverse what is read;
* Markdown (posted by CI as a pull-request comment): additionally every character Markdown reads inline, escaped
  with a backslash (CommonMark: any ASCII punctuation may be), so ``<script>``, a link or an image in a tag value
  is shown as text, and GitHub's ``@mention`` and ``#123`` references in a code span, so a value pings no one;
* CSV: additionally a cell a spreadsheet would run as a formula (``= + - @``, tab, CR first) gets a leading quote
  (OWASP, "CSV Injection");
* HTML: additionally :func:`html.escape`;
* JSON and SARIF keep the data exactly (a parser gets every character back), with ``ensure_ascii=False`` so that
  non-English text stays readable, and the characters that would act when the file is printed or reviewed (DEL, the
  C1 controls, bidi controls, line separators, lone surrogates) written as ``\\uXXXX`` escapes, as JSON allows for
  any character; json.dumps already writes C0 controls so.

Only the standard library: every command loads this through :mod:`cmk_rule_cli.reports.output`.
"""

from __future__ import annotations

import html as _html
import re

from cmk_rule.safe_text import one_line, visible

__all__ = ["csv_cell", "html", "json_text", "markdown", "one_line", "visible"]

# A cell starting with one of these is a formula to a spreadsheet (CSV injection); such cells get a leading quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What Markdown reads inline: escapes and code (\ `), emphasis (* _ ~), links and images ([ ] !), HTML and autolinks
# (< >), entities (&), GitHub's table cells (|) and math ($).
_MARKDOWN = str.maketrans({character: "\\" + character for character in "\\`*_~[]!<>&|$"})
# What GitHub links or notifies in a comment's text: a mention of a user or team, an issue or pull request
# reference; not after a word character (an e-mail address is no mention).
_GITHUB_REFERENCE = re.compile(r"(?<!\w)(?:@[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)?|#[0-9]+|GH-[0-9]+)")
# Characters a JSON string may hold raw but that act on a terminal or in a review; see the module docstring.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def markdown(text: str) -> str:
    """``text`` for a Markdown table cell: visible, every inline Markdown character backslash-escaped, and each
    GitHub reference (``@name``, ``@org/team``, ``#123``, ``GH-123``) in a code span.

    GitHub turns a mention into a notification and ``#123`` into a link after rendering, on the text of the page,
    so ``\\@name`` and ``\\#123`` still ping and link; code spans are left alone
    (https://github.com/github/markup/issues/1168, https://github.com/github/cmark-gfm/issues/181).
    A code span reads as the value itself and pings no one. A reference holds no backtick or ``|``, so the span
    needs no escape inside it.
    """
    shown = visible(text)
    pieces: list[str] = []
    end = 0
    for reference in _GITHUB_REFERENCE.finditer(shown):
        pieces += [shown[end : reference.start()].translate(_MARKDOWN), f"`{reference.group()}`"]
        end = reference.end()
    pieces.append(shown[end:].translate(_MARKDOWN))
    return "".join(pieces)


def csv_cell(text: str) -> str:
    """``text`` for a CSV cell: visible, and quoted against formula injection."""
    cell = visible(text)
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def html(text: str, quote: bool = True) -> str:
    """``text`` for HTML: visible, then :func:`html.escape` (quotes too, by default)."""
    return _html.escape(visible(text), quote=quote)


def json_text(dumped: str) -> str:
    """A document from ``json.dumps(..., ensure_ascii=False)`` with the characters of the module docstring written as
    ``\\uXXXX`` escapes. Every such character can only be inside a JSON string, so the document stays valid and parses
    back to the same data."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)
