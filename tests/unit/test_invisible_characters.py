"""Invisible format characters are shown escaped by the shared sanitizer, in the rule's annotations and the CLI.

A zero-width space, joiner or non-joiner, a word joiner, a byte-order mark or a character of the tag block
(invisible ASCII) makes two values that look the same differ, or hides text a reader never sees. ``visible()`` shows
each as an escape; an annotation holding them still fits Config's limit.
"""

from __future__ import annotations

import pytest

from cmk_rule.safe_text import ANNOTATION_MAX, fit_annotation, utf16_units, visible

INVISIBLE = {
    "\u200b": "\\u200b",  # zero-width space
    "\u200c": "\\u200c",  # zero-width non-joiner
    "\u200d": "\\u200d",  # zero-width joiner
    "\u2060": "\\u2060",  # word joiner
    "\ufeff": "\\ufeff",  # byte-order mark / zero-width no-break space
    "\U000e0000": "\\U000e0000",  # the tag block's first
    "\U000e0041": "\\U000e0041",  # TAG LATIN CAPITAL LETTER A
    "\U000e007f": "\\U000e007f",  # CANCEL TAG, the block's last
}


@pytest.mark.parametrize(("raw", "shown"), INVISIBLE.items())
def test_an_invisible_character_is_shown_escaped(raw: str, shown: str) -> None:
    assert visible(f"orders{raw}-cache") == f"orders{shown}-cache"


def test_characters_next_to_the_blocks_are_left_alone() -> None:
    # U+200A (hair space) and U+2061 (function application) are outside the escaped ranges; U+E0080 is past the tags
    for kept in ("\u200a", "é", "\U000e0100", "😀"):
        assert visible(f"a{kept}b") == f"a{kept}b"


def test_hidden_tag_text_is_spelled_out() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "ignore")  # "ASCII smuggling": invisible when rendered
    assert visible(f"ok{hidden}") == "ok" + "".join(f"\\U{0xE0000 + ord(c):08x}" for c in "ignore")


def test_an_annotation_of_invisible_characters_fits_config() -> None:
    annotation = fit_annotation("Exempted by tag: " + "\U000e0041\u200b" * 200)
    assert utf16_units(annotation) <= ANNOTATION_MAX and len(annotation) <= ANNOTATION_MAX
    assert "\U000e0041" not in annotation and "\u200b" not in annotation  # escaped, never cut inside an escape
    assert annotation.endswith("\u2026") and "\\U000e0041" in annotation
