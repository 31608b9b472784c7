"""Text that reaches a person or an AWS field: control and bidi characters shown escaped, lengths as AWS counts them.

Group ids, tag values, KMS error messages and file names are other people's bytes. Shown raw, an ESC sequence
retitles or clears a terminal, a BEL rings it, a right-to-left override (U+202E) makes ``exe.txt`` read as
``txt.exe`` in a console, a report or an auditor's spreadsheet ("Trojan Source", CVE-2021-42574). So every such
character is replaced by a visible escape (``\\x1b``, ``\\u202e``): nothing is silently dropped, and the reader sees
that the value held one. The same function serves the rule (annotations sent to Config, Security Hub findings) and
the CLI (every human-facing output), so both escape the same characters the same way.

Lengths. PutEvaluations' ``Annotation`` is ``StringWithCharLimit256`` (min 1, max 256 in botocore's config model; the
API reference says "Maximum length of 256"). Smithy's ``length`` trait counts a string in Unicode scalar values
(https://smithy.io/2.0/spec/constraint-traits.html#length-trait), but the shape's own name says *Char* limit, a
Java ``char`` is a UTF-16 code unit, and AWS's service-side validators are widely Java. A character outside the Basic
Multilingual Plane (most emoji) is one code point but two UTF-16 units, so 256 emoji are 256 code points and 512
units. :func:`fit` therefore counts UTF-16 units: a text that fits in units fits in code points too (never more
code points than units), so it is accepted whichever way the service counts. Security Hub's ASFF limits (Title 256,
Description 1,024) are fitted the same way. The cut falls between code points (a Python ``str`` holds code points,
so a surrogate pair is never split) and never inside an escape, and is marked with an ellipsis (one unit).

Only the standard library: the Lambda imports this.
"""

from __future__ import annotations

import re

__all__ = ["ANNOTATION_MAX", "ELLIPSIS", "fit", "fit_annotation", "one_line", "utf16_units", "visible"]

ANNOTATION_MAX = 256  # PutEvaluations Annotation: StringWithCharLimit256, counted in UTF-16 units (see above)
ELLIPSIS = "\u2026"
EMPTY_ANNOTATION = "No annotation."

# C0 controls, DEL and C1 controls; the bidi embeddings, overrides, isolates and marks (U+061C, U+200E, U+200F,
# U+202A-U+202E, U+2066-U+2069); the line and paragraph separators (a new line to some terminals and to Java's ".");
# lone surrogates (what undecodable bytes become, which UTF-8 cannot encode and would fail the write); and the
# invisible format characters: zero-width space, non-joiner and joiner (U+200B-U+200D), word joiner (U+2060), the
# byte-order mark / zero-width no-break space (U+FEFF) and the tag block (U+E0000-U+E007F, invisible ASCII that can
# smuggle text a reader does not see, "ASCII smuggling"). Two ids that look alike but differ
# by one of them are then told apart.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(character: str) -> str:
    code = ord(character)
    if code > 0xFFFF:  # the tag block: \u takes four hex digits, so Python's long form \U and eight
        return f"\\U{code:08x}"
    return _SHORT.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def _escape_match(match: re.Match[str]) -> str:
    return _escape(match.group())


def visible(text: str) -> str:
    """``text`` with every control, bidi, separator and invisible format character replaced by its escape
    (``\\x1b``, ``\\u202e``, ``\\u200b``, ``\\U000e0041``)."""
    if text.isprintable():  # the common case, at C speed: every character of UNSAFE is non-printable
        return text
    return UNSAFE.sub(_escape_match, text)


def one_line(text: str) -> str:
    """``text`` on one line: runs of whitespace (new lines and tabs included) as one space, the rest :func:`visible`."""
    return visible(" ".join(text.split()))


def utf16_units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (Java's ``String.length()``): two for a code point above U+FFFF."""
    return len(text) + sum(1 for character in text if ord(character) > 0xFFFF)


def fit(text: str, limit: int) -> str:
    """:func:`one_line` ``text`` in at most ``limit`` UTF-16 units (and so in at most ``limit`` code points), cut at a
    code point boundary with an ellipsis; an escape (``\\u202e``) is kept whole or left out, never cut."""
    safe = one_line(text)
    if utf16_units(safe) <= limit:
        return safe
    pieces, used, room = [], 0, limit - 1  # one unit for the ellipsis
    for character in " ".join(text.split()):
        piece = visible(character)
        units = utf16_units(piece)
        if used + units > room:
            break
        pieces.append(piece)
        used += units
    return "".join(pieces).rstrip() + ELLIPSIS


def fit_annotation(text: str) -> str:
    """An annotation as Config takes it: 1 to :data:`ANNOTATION_MAX` units on one line, control and bidi characters
    escaped, never empty."""
    return fit(text, ANNOTATION_MAX) or EMPTY_ANNOTATION
