"""``cmk-rule evidence`` end to end against moto's server: the folder's files, their manifest, the HTML summary, the
Config results it reads (all three compliance types), and the read-only guarantee."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from botocore.exceptions import ClientError

from cmk_rule.rows import ROWS
from cmk_rule_cli import __version__
from cmk_rule_cli.commands import scan
from cmk_rule_cli.main import main
from cmk_rule_cli.mock import account as mock_aws
from cmk_rule_cli.mock import cloudtrail as mock_cloudtrail
from cmk_rule_cli.mock import fleet
from cmk_rule_cli.readers import session
from cmk_rule_cli.reports import evidence_pack, scan_report, vocabulary
from tests.support.calls import recording
from tests.support.disk import fill_disk_under

from ..conftest import assert_follows_the_schema, fresh_account

REGIONS = ("us-east-1", "eu-west-1")
PRINCIPAL = f"arn:aws:sts::{mock_aws.ACCOUNT_ID}:user/moto"
HOSTILE_TAG = '<script>alert("x")</script> & <b>bold</b>'
HOSTILE_GROUP = "markup-exempt-west"
FILES = {"evidence.json", "groups.csv", "key-use.csv", "recorded-results.csv", "summary.html", "manifest.json"}


@pytest.fixture(scope="module")
def account(moto_endpoint: str) -> Iterator[tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore]]:
    """The demo fleet in two Regions, a group whose exemption tag value is markup, and results Config recorded for
    the rule in all three compliance types (one for a group deleted since)."""
    make_client = fresh_account(moto_endpoint)
    fleets = {region: fleet.seed_region(make_client, region, full=region == REGIONS[0]) for region in REGIONS}
    make_client("elasticache", "eu-west-1").create_replication_group(
        ReplicationGroupId=HOSTILE_GROUP,
        ReplicationGroupDescription="exempt, with markup in the tag value",
        Engine="redis",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=1,
        Tags=[{"Key": fleet.EXEMPTION_TAG, "Value": HOSTILE_TAG}],
    )
    fleets["eu-west-1"].groups.append(fleet.SeededGroup(HOSTILE_GROUP, "eu-west-1", "redis", 1, "NOT_APPLICABLE"))
    with mock_aws.config_results_store() as store, mock_cloudtrail.event_history() as history:
        now = datetime.now(UTC)
        history.add_key_use(  # ElastiCache used the approved key; no other key shows use (moto has no LookupEvents)
            account=mock_aws.ACCOUNT_ID,
            region="us-east-1",
            key_arn=fleets["us-east-1"].keys["approved"],
            moments=[now - timedelta(days=d) for d in (1, 3, 7)],
        )
        store.seed("us-east-1", fleet.RULE_NAME, "orders", "COMPLIANT", "recorded compliant")
        store.seed("us-east-1", fleet.RULE_NAME, "legacy-unencrypted", "NON_COMPLIANT", "recorded non-compliant")
        store.seed("us-east-1", fleet.RULE_NAME, "scratch-exempt", "NOT_APPLICABLE", "recorded exempt")
        store.seed("us-east-1", fleet.RULE_NAME, fleet.VANISHED_GROUP, "COMPLIANT", "recorded before deletion")
        yield fleets, store


def flags(fleets: dict[str, fleet.SeededFleet]) -> list[str]:
    approved = [arn for seeded in fleets.values() for arn in seeded.parameters["approvedKmsKeyArns"].split(",")]
    return [
        *[flag for region in REGIONS for flag in ("--region", region)],
        *[flag for arn in approved for flag in ("--approved-key-arn", arn)],
        "--exemption-tag-key",
        fleet.EXEMPTION_TAG,
    ]


@pytest.fixture
def evidence(
    aws_env: str,
    account: tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, Path, str, set[str]]:
    """One evidence run (without --require-key-rotation, so rotation is read only as evidence), recording calls."""
    fleets, _ = account
    folder = tmp_path / "evidence"
    today = datetime.now(UTC).date()
    argv = [
        "evidence",
        "--output-dir",
        str(folder),
        "--period-start",
        (today - timedelta(days=30)).isoformat(),
        "--rule-name",
        fleet.RULE_NAME,
        *flags(fleets),
    ]
    with recording() as log:
        code = main(argv)
    return code, folder, capsys.readouterr().err, set(log.operations())


def expected(fleets: dict[str, fleet.SeededFleet]) -> dict[tuple[str, str], str]:
    """Without --require-key-rotation the rotation-off group passes; everything else is as the fleet was built."""
    result = {(g.region, g.group_id): g.expected_compliance for s in fleets.values() for g in s.groups}
    result[("us-east-1", "tokens-no-rotation")] = "COMPLIANT"
    return result


def test_the_folder_and_its_manifest(evidence: tuple[int, Path, str, set[str]]) -> None:
    code, folder, err, _ = evidence
    assert code == scan_report.EXIT_NON_COMPLIANT, err
    assert {path.name for path in folder.iterdir()} == FILES
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == FILES - {"manifest.json"}
    for name, entry in listed.items():
        data = (folder / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert manifest["version"] == __version__
    assert manifest["principal"] == PRINCIPAL and manifest["account"] == mock_aws.ACCOUNT_ID
    assert manifest["period"]["end"] == datetime.now(UTC).date().isoformat()
    assert manifest["parameters"]["exemptionTagKey"] == fleet.EXEMPTION_TAG
    assert manifest["parameters"]["requireKeyRotation"] is False  # typed, as in evidence.json; not set: the default
    assert manifest["rule_name"] == fleet.RULE_NAME and manifest["complete"] is True


def test_json_and_csv_carry_every_fact_with_its_read_time(
    evidence: tuple[int, Path, str, set[str]],
    account: tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore],
) -> None:
    _, folder, _, _ = evidence
    fleets, _ = account
    document = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    groups = {(g["region"], g["group_id"]): g for g in document["groups"]}
    assert {where: g["compliance"] for where, g in groups.items()} == expected(fleets)
    rows = list(csv.DictReader(io.StringIO((folder / "groups.csv").read_text(encoding="utf-8"))))
    # scan's column names: the verdict is in "compliance" (SKIPPED for a group not judged), never "verdict"
    assert {(r["region"], r["group_id"]): r["compliance"] for r in rows} == expected(fleets)
    assert "verdict" not in rows[0] and list(rows[0])[: len(evidence_pack.EVIDENCE_COLUMNS)] == list(
        evidence_pack.EVIDENCE_COLUMNS
    )
    shared = [column for column in evidence_pack.EVIDENCE_COLUMNS if column in scan.SCAN_COLUMNS]
    assert shared == list(scan.SCAN_COLUMNS)  # every scan column, by the same name, in the same order
    assert all(g["listed_at"] for g in document["groups"])
    tokens = groups[("us-east-1", "tokens-no-rotation")]
    assert tokens["key_rotation"] is False and tokens["key_read_at"]  # read as evidence, not required
    orders = groups[("us-east-1", "orders")]
    assert (orders["key_manager"], orders["key_state"], orders["key_rotation"]) == ("CUSTOMER", "Enabled", True)
    assert (orders["config_compliance"], orders["config_annotation"]) == ("COMPLIANT", "recorded compliant")
    disabled = groups[("us-east-1", "ledger-disabled-key")]
    assert (disabled["key_state"], disabled["row"]) == ("Disabled", 8) and disabled["key_read_at"]
    assert document["summary"]["eu-west-1"] == {"COMPLIANT": 1, "NON_COMPLIANT": 2, "NOT_APPLICABLE": 1, "SKIPPED": 0}


def test_config_results_of_all_three_compliance_types(evidence: tuple[int, Path, str, set[str]]) -> None:
    _, folder, _, operations = evidence
    document = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    recorded = {r["group_id"]: r for r in document["recorded_results"]}
    assert {r["compliance_type"] for r in recorded.values()} == {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"}
    assert recorded[fleet.VANISHED_GROUP]["live_verdict"] is None  # recorded, but no longer listed
    assert recorded["legacy-unencrypted"]["live_verdict"] == "NON_COMPLIANT"
    assert all(r["recorded_in_period"] is True for r in recorded.values())
    csv_rows = list(csv.DictReader(io.StringIO((folder / "recorded-results.csv").read_text(encoding="utf-8"))))
    assert {r["group_id"] for r in csv_rows} == set(recorded)
    assert "GetComplianceDetailsByConfigRule" in operations


def test_only_reads_are_ever_called(evidence: tuple[int, Path, str, set[str]]) -> None:
    _, _, _, operations = evidence
    assert all(operation.startswith(("Describe", "List", "Get", "Lookup")) for operation in operations), operations
    assert {"GetCallerIdentity", "DescribeReplicationGroups", "DescribeKey", "GetKeyRotationStatus"} <= operations
    assert "LookupEvents" in operations
    assert not operations & {"PutEvaluations", "BatchImportFindings", "StartConfigRulesEvaluation"}


class _Page(HTMLParser):
    """Collects the text, the tags and every attribute that could load something from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.external: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.external += [(tag, name) for name, _ in attrs if name in ("src", "href", "xlink:href", "srcset")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_summary_is_self_contained_and_lists_every_group(
    evidence: tuple[int, Path, str, set[str]],
    account: tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore],
) -> None:
    _, folder, _, _ = evidence
    fleets, _ = account
    page = _Page()
    html = (folder / "summary.html").read_text(encoding="utf-8")
    page.feed(html)
    page.close()
    text = "\n".join(page.text)
    for seeded in fleets.values():
        for group in seeded.groups:
            assert group.group_id in text
    assert "script" not in page.tags and "link" not in page.tags and page.external == []
    assert "svg" in page.tags and page.tags.count("rect") >= 4 and "style" in page.tags
    assert "url(" not in html and "@import" not in html
    assert HOSTILE_TAG in text  # shown as text ...
    assert "<script>" not in html and "<b>bold" not in html  # ... never as markup
    compliant = sum(1 for (region, _), v in expected(fleets).items() if region == "us-east-1" and v == "COMPLIANT")
    assert f"us-east-1: {compliant} COMPLIANT" in text  # the chart's tooltip on the us-east-1 bar
    assert PRINCIPAL in text


def test_a_non_empty_folder_is_refused_unless_forced(
    aws_env: str,
    account: tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fleets, _ = account
    (tmp_path / "notes.txt").write_text("keep me")
    argv = ["evidence", "--output-dir", str(tmp_path), *flags(fleets)]
    with recording() as log:
        assert main(argv) == scan_report.EXIT_ERROR
    assert "is not empty" in capsys.readouterr().err and log.calls == []
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert main([*argv, "--force"]) == scan_report.EXIT_NON_COMPLIANT
    assert {p.name for p in tmp_path.iterdir()} == {"notes.txt"} | FILES - {"recorded-results.csv"}
    assert (tmp_path / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (["--period-start", "2026-13-01"], "argument --period-start"),
        (["--period-end", "20261128"], "argument --period-end"),
    ],
)
def test_a_bad_period_is_a_usage_error(
    period: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["evidence", "--output-dir", str(tmp_path / "out"), *period])
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_a_reversed_period_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["evidence", "--output-dir", str(tmp_path / "out"), "--period-start", "2026-11-02", "--period-end"]
    assert main([*argv, "2026-11-01"]) == scan_report.EXIT_ERROR
    assert "--period-start 2026-11-02 is after --period-end 2026-11-01" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_recorded_results_denied_is_named_and_incomplete(
    aws_env: str,
    account: tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AccessDenied from GetComplianceDetailsByConfigRule, injected with a botocore before-call hook on the CLI's
    session: the folder is still written, the gap is named, and the exit code says incomplete."""
    fleets, _ = account
    original = session.open_session

    def denying_session(profile: str | None) -> Any:
        session = original(profile)

        def deny(**_: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "denied"}},
                "GetComplianceDetailsByConfigRule",
            )

        session.events.register("before-call.config.GetComplianceDetailsByConfigRule", deny)
        return session

    monkeypatch.setattr(session, "open_session", denying_session)
    folder = tmp_path / "evidence"
    code = main(["evidence", "--output-dir", str(folder), "--rule-name", fleet.RULE_NAME, *flags(fleets)])
    err = capsys.readouterr().err
    assert code == scan_report.EXIT_ERROR
    assert f"config:GetComplianceDetailsByConfigRule was denied in us-east-1, eu-west-1 for {PRINCIPAL}" in err
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False
    document = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    skipped = [g for g in document["groups"] if g["skipped"]]
    assert {g["group_id"] for g in skipped} == {"(recorded results)"}
    assert document["problems"] and "Traceback" not in err
    assert_follows_the_schema(document)  # an incomplete pack speaks it too
    assert document["complete"] is False and skipped[0]["compliance"] is None


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(vocabulary.schema())


def test_evidence_json_follows_the_schema_with_typed_parameters(
    evidence: tuple[int, Path, str, set[str]],
    account: tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore],
    validator: jsonschema.Draft202012Validator,
) -> None:
    _, folder, _, _ = evidence
    fleets, _ = account
    document = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    validator.validate(document)
    approved = [arn for seeded in fleets.values() for arn in seeded.parameters["approvedKmsKeyArns"].split(",")]
    wanted = {"approvedKmsKeyArns": approved, "requireKeyRotation": False, "exemptionTagKey": fleet.EXEMPTION_TAG}
    assert document["parameters"] == wanted
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"] == wanted
    for group in document["groups"]:  # one word for one fact: compliance, null when skipped (as in scan)
        assert "verdict" not in group and (group["compliance"] is None) == group["skipped"]
    groups = {g["group_id"]: g for g in document["groups"]}
    assert (groups["ledger-disabled-key"]["row"], groups["ledger-disabled-key"]["row_id"]) == (8, "key-not-enabled")
    durable = groups["events-durable-default-key"]  # StorageEncryptionType set on moto's backend (not modelled)
    assert (durable["storage_encryption"], durable["durability"], durable["row"]) == ("sse-elasticache", "async", 3)
    assert groups["orders"]["key_use"] == "USED" and groups["orders"]["key_use_calls"] == 3


def test_an_evidence_group_with_a_field_renamed_or_mistyped_is_refused(
    evidence: tuple[int, Path, str, set[str]], validator: jsonschema.Draft202012Validator
) -> None:
    """The schema holds every column the code writes, required and typed, and nothing else."""
    _, folder, _, _ = evidence
    good = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
    validator.validate(good)
    assert set(good["groups"][0]) == {
        *evidence_pack.EVIDENCE_COLUMNS,
        *evidence_pack.KEY_USE_GROUP_COLUMNS,
        *evidence_pack.CONFIG_COLUMNS,
        "compliance",
        "skipped",
    }

    def rename(group: dict[str, Any]) -> None:
        group["listed"] = group.pop("listed_at")

    breakages = {
        "a column renamed": rename,
        "row past the table": lambda g: g.__setitem__("row", len(ROWS) + 1),
        "row as text": lambda g: g.__setitem__("row", "8"),
        "unknown row id": lambda g: g.__setitem__("row_id", "key-disabled"),
        "lower-case compliance": lambda g: g.__setitem__("compliance", "compliant"),
        "a verdict column again": lambda g: g.__setitem__("verdict", "COMPLIANT"),
        "a timestamp without its zone": lambda g: g.__setitem__("listed_at", "2026-12-01T10:00:00"),
        "skipped but judged": lambda g: g.__setitem__("skipped", True),
        "a key-use status the proof never says": lambda g: g.__setitem__("key_use", "UNUSED"),
    }
    for name, breakage in breakages.items():
        broken = json.loads(json.dumps(good))
        breakage(broken["groups"][0])
        assert not validator.is_valid(broken), name


@pytest.mark.parametrize("earlier", [False, True], ids=["new-folder", "forced-over-an-earlier-pack"])
def test_a_full_disk_leaves_nothing_half_written_and_says_so_in_one_sentence(
    aws_env: str,
    account: tuple[dict[str, fleet.SeededFleet], mock_aws.ConfigResultsStore],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    earlier: bool,
) -> None:
    fleets, _ = account
    folder = tmp_path / "evidence"
    argv = ["evidence", "--output-dir", str(folder), "--no-key-use", *flags(fleets)]
    kept: dict[str, bytes] = {}
    if earlier:
        assert main(argv) == scan_report.EXIT_NON_COMPLIANT
        kept = {p.name: p.read_bytes() for p in folder.iterdir()}
        argv.append("--force")
    capsys.readouterr()
    fill_disk_under(monkeypatch, tmp_path)
    assert main(argv) == scan_report.EXIT_ERROR
    err = capsys.readouterr().err
    assert err == (
        f"cmk-rule evidence: error: cannot write {folder}: No space left on device; nothing of this run was left in "
        "it\n"
    )
    if earlier:  # the earlier pack, whole and still sealed by its own manifest
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == kept
    else:
        assert list(tmp_path.iterdir()) == []
