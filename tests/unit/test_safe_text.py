"""Other people's bytes on their way to Config, Security Hub and people: escaped visibly, fitted as AWS counts."""

from __future__ import annotations

import re
from typing import Any

import botocore.session
import pytest

from cmk_rule.config_reporter import Evaluation
from cmk_rule.findings import LIMITS, FindingScope, build_finding, validate_finding
from cmk_rule.inventory import ReplicationGroup
from cmk_rule.parameters import RuleParameters
from cmk_rule.safe_text import ANNOTATION_MAX, fit, fit_annotation, one_line, utf16_units, visible
from cmk_rule.verdict import judge

EMOJI = "\U0001f512"  # a padlock: one code point, two UTF-16 units, four UTF-8 bytes
BIDI = [*"\u061c\u200e\u200f", *(chr(c) for c in range(0x202A, 0x202F)), *(chr(c) for c in range(0x2066, 0x206A))]
EXEMPT = RuleParameters(exemption_tag_key="cmk-exempt")
SCOPE = FindingScope("aws", "us-east-1", "123456789012", "elasticache-replication-group-cmk")


def _exempted(reason: str) -> str:
    group = ReplicationGroup("orders", status="available", at_rest_encryption_enabled=True, tags={"cmk-exempt": reason})
    return judge(group, None, EXEMPT).annotation


def _no_hidden_characters(text: str) -> bool:
    return not re.search("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]", text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),  # retitle the terminal, then BEL
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # clear the screen, cursor home
        ("a\rCOMPLIANT", "a\\rCOMPLIANT"),  # overwrite the line with a fake verdict
        ("\x9b31m", "\\x9b31m"),  # the 8-bit CSI (C1)
        ("\x00\x7f", "\\x00\\x7f"),
        ("line\u2028next", "line\\u2028next"),
        ("\ud800", "\\ud800"),  # a lone surrogate (undecodable bytes) that UTF-8 cannot write
        ("caché 日本 ✓ " + EMOJI, "caché 日本 ✓ " + EMOJI),  # text, not controls: kept
        ("a\u200db", "a\\u200db"),  # a zero-width joiner is invisible: shown (tests/unit/test_invisible_characters.py)
    ],
)
def test_control_characters_are_shown_escaped_and_text_is_kept(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize("bidi", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_every_bidi_control_is_shown_escaped(bidi: str) -> None:
    assert visible(f"invoice{bidi}fdp.exe") == f"invoice\\u{ord(bidi):04x}fdp.exe"


def test_one_line_folds_whitespace_before_escaping() -> None:
    assert one_line("a\n\tb  \x1b[2J") == "a b \\x1b[2J"


def test_a_bidi_override_in_a_tag_value_reaches_the_annotation_escaped() -> None:
    annotation = _exempted("approved \u202egnp.exe by security")
    assert "\\u202e" in annotation
    assert _no_hidden_characters(annotation)


def test_terminal_escapes_in_a_tag_value_reach_the_annotation_escaped() -> None:
    annotation = _exempted("\x1b]0;pwned\x07\x1b[2J orders COMPLIANT")
    assert annotation == "Exempted by tag 'cmk-exempt': \\x1b]0;pwned\\x07\\x1b[2J orders COMPLIANT"


def test_an_annotation_of_astral_characters_fits_config_as_utf16_units_and_as_code_points() -> None:
    annotation = _exempted(EMOJI * 300)
    assert utf16_units(annotation) <= ANNOTATION_MAX
    assert len(annotation) <= ANNOTATION_MAX
    assert utf16_units(annotation) >= ANNOTATION_MAX - 1  # cut at the limit, not far before it
    assert annotation.endswith(EMOJI + "\u2026")
    annotation.encode("utf-16-le", "strict")  # no half of a surrogate pair
    assert len(annotation.encode("utf-16-le")) // 2 == utf16_units(annotation)


@pytest.mark.parametrize("filler", range(250, 258))
def test_the_cut_never_splits_an_escape_or_a_code_point(filler: int) -> None:
    for tail in ("\u202e" * 10, EMOJI * 10, "\x1b" * 10):
        fitted = fit("a" * filler + tail, ANNOTATION_MAX)
        assert utf16_units(fitted) <= ANNOTATION_MAX
        body = fitted.removesuffix("\u2026")
        assert re.fullmatch(r"a*(?:\\u202e|\\x1b|" + EMOJI + ")*", body), fitted[-20:]


def test_an_annotation_that_fits_is_left_whole() -> None:
    text = "x" * (ANNOTATION_MAX - 2) + EMOJI  # exactly 256 units
    assert fit_annotation(text) == text


def test_every_evaluation_sent_to_config_fits_whatever_built_it() -> None:
    from datetime import UTC, datetime

    sent = Evaluation("orders", "NOT_APPLICABLE", "\u202e" + EMOJI * 300, datetime(2026, 12, 7, tzinfo=UTC)).to_api()
    annotation = sent["Annotation"]
    assert utf16_units(annotation) <= ANNOTATION_MAX
    assert annotation.startswith("\\u202e")
    shape = botocore.session.get_session().get_service_model("config").shape_for("StringWithCharLimit256")
    assert shape.metadata["max"] == ANNOTATION_MAX  # one definition, checked against botocore's config model


def test_security_hub_fields_are_escaped_and_fit_asffs_limits() -> None:
    from cmk_rule.verdict import Compliance, Row, Verdict

    annotation = "\u202e" + EMOJI * 600
    verdict = Verdict("orders\u202e", Compliance.NOT_APPLICABLE, annotation, Row.NOT_EVALUATED)
    finding = build_finding(SCOPE, verdict, group=None, key=None, now="2026-12-07T00:00:00Z", first_observed=None)
    finding_shape: Any = botocore.session.get_session().get_service_model("securityhub").shape_for("AwsSecurityFinding")
    for name in ("Title", "Description"):
        documented = re.search(r"Maximum length of (\d+)", finding_shape.members[name].documentation)
        assert documented is not None
        assert int(documented.group(1)) == LIMITS[name]
        assert utf16_units(finding[name]) <= LIMITS[name]
        assert _no_hidden_characters(finding[name])
        assert re.fullmatch(r".*\S.*", finding[name])  # NonEmptyString's pattern, "." not crossing a line break
    reason = finding["Compliance"]["StatusReasons"][0]["Description"]
    assert utf16_units(reason) <= ANNOTATION_MAX
    assert "\\u202e" in reason
    assert validate_finding(finding) == []


def test_the_validator_counts_utf16_units() -> None:
    from cmk_rule.verdict import Compliance, Row, Verdict

    verdict = Verdict("orders", Compliance.COMPLIANT, "ok", Row.COMPLIANT)
    finding = build_finding(SCOPE, verdict, group=None, key=None, now="2026-12-07T00:00:00Z", first_observed=None)
    finding["Title"] = EMOJI * 200  # 200 code points, 400 units
    assert validate_finding(finding) == ["Title is longer than 256 characters"]


def test_the_printable_fast_path_skips_no_character_that_must_be_escaped() -> None:
    """visible() returns a printable text untouched without its regex: sound only if every character it escapes is
    non-printable to Python (categories Cc, Cf, Cs, Zl, Zp)."""
    from cmk_rule.safe_text import UNSAFE

    escaped = [chr(code) for code in range(0x110000) if UNSAFE.match(chr(code))]
    # C0, DEL, C1, bidi, separators, surrogates, zero-width (U+200B-U+200D, U+2060, U+FEFF), the tag block
    assert len(escaped) == 32 + 1 + 32 + 12 + 2 + 2048 + 5 + 128
    assert [c for c in escaped if c.isprintable()] == []
