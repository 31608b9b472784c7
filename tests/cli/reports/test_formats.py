"""The registry of output formats: one entry per format, read by every command that offers one."""

from __future__ import annotations

import argparse

import pytest

from cmk_rule_cli.commands import check, scan
from cmk_rule_cli.errors import CliError
from cmk_rule_cli.reports import formats


def test_suffixes_name_one_format_each() -> None:
    suffixes = [suffix for fmt in formats.FORMATS for suffix in fmt.suffixes]
    assert len(suffixes) == len(set(suffixes))
    assert all(suffix.startswith(".") and suffix == suffix.lower() for suffix in suffixes)


def test_commands_offer_what_the_registry_says() -> None:
    assert scan.FORMATS == ("table", "json", "csv", "markdown", "asff")
    assert check.FORMATS == ("table", "json", "sarif")
    for command in (formats.SCAN, formats.CHECK, formats.PREFLIGHT):
        assert formats.offered(command)[:2] == (formats.DEFAULT, formats.MACHINE)


@pytest.mark.parametrize(("module", "name"), [(scan, "scan"), (check, "check")])
def test_format_flag_choices_come_from_the_registry(module: object, name: str) -> None:
    parser = argparse.ArgumentParser()
    module.register(parser)  # type: ignore[attr-defined]
    for fmt in formats.FORMATS:
        argv = ["--format", fmt.name.upper(), *(["."] if name == "check" else [])]
        if name in fmt.commands:
            assert parser.parse_args(argv).format == fmt.name
        else:
            with pytest.raises(SystemExit):
                parser.parse_args(argv)


def test_a_suffix_of_another_command_is_refused() -> None:
    assert formats.choose_format(None, "x.sarif", check.FORMATS) == "sarif"
    with pytest.raises(CliError, match=r"suffix '\.sarif'"):
        formats.choose_format(None, "x.sarif", scan.FORMATS)


def test_an_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        formats.render("xml", object())


class _Flat:
    def flat(self) -> tuple[list[dict[str, str]], tuple[str, ...]]:
        return [{"a": "1", "b": "x|y"}], ("a", "b")

    def json(self) -> str:
        return "{}\n"

    def table(self) -> str:
        return "A  B\n"


def test_generic_formats_render_the_subjects_views() -> None:
    assert formats.render("csv", _Flat()) == "a,b\n1,x|y\n"
    assert formats.render("markdown", _Flat()) == "| a | b |\n|---|---|\n| 1 | x\\|y |\n"
    assert formats.render("json", _Flat()) == "{}\n"
    assert formats.render("table", _Flat()) == "A  B\n"
