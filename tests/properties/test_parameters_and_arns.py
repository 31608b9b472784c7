"""Properties of the rule parameters and of every ARN the rule builds from event text.

* Rule parameters are accepted only well formed, or refused with an InvalidParameterError naming the parameter.
* The member-account role ARN is built only from validated parts: a 12-digit ASCII account id and a plain IAM role name
  (no path, no ARN syntax, no unicode, no control characters), in the partition it is given.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cmk_rule.aws import member_role_arn
from cmk_rule.errors import InvalidParameterError, InvalidSettingError
from cmk_rule.parameters import KNOWN_PARAMETERS, parse_rule_parameters
from tests.properties.budget import examples
from tests.properties.model import ACCOUNT, REGION, scalar_garbage, text

ROLE_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
KEY_ARN = re.compile(r"arn:aws:kms:[a-z0-9-]+:\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-fA-F-]{36})", re.ASCII)

role_names = st.one_of(
    st.from_regex(ROLE_NAME, fullmatch=True),
    st.sampled_from(["..", ".", "a/b", "/", "role/../admin", "Rôle", "role\n", "role\r\nx", "\u2028", "r" * 65, "a b"]),
    st.sampled_from(["arn:aws:iam::111111111111:role/x", "*", "role:*", "ｒｏｌｅ", "role\x00"]),
    text,
)
key_entries = st.one_of(
    st.sampled_from(
        [
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
            "11111111-2222-3333-4444-555555555555",
            "mrk-0123456789abcdef0123456789abcdef",
            "alias/orders",
            f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/orders",
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555\n",
            f"arn:aws:kms:{REGION}:١٢٣٤٥٦٧٨٩٠١٢:key/11111111-2222-3333-4444-555555555555",
        ]
    ),
    text,
)


@examples("test_rule_parameters_are_accepted_well_formed_or_refused_by_name", 1500)
@given(
    values=st.dictionaries(
        st.one_of(st.sampled_from(KNOWN_PARAMETERS), text),
        st.one_of(role_names, key_entries.map(lambda k: f"{k}, {k}"), scalar_garbage, st.none()),
        max_size=4,
    ),
    as_json=st.booleans(),
)
def test_rule_parameters_are_accepted_well_formed_or_refused_by_name(values: dict[str, Any], as_json: bool) -> None:
    raw: Any = json.dumps(values) if as_json else values
    try:
        parsed = parse_rule_parameters(raw, partition="aws", region=REGION, account_id=ACCOUNT)
    except InvalidParameterError as error:
        assert error.parameter in values or error.parameter == "ruleParameters", (error.parameter, sorted(values))
        return
    assert set(values) <= set(KNOWN_PARAMETERS)
    for arn in parsed.approved_key_arns:
        assert KEY_ARN.fullmatch(arn), arn
    if parsed.execution_role_name is not None:
        assert ROLE_NAME.fullmatch(parsed.execution_role_name)
    if parsed.exemption_tag_key is not None:
        assert 1 <= len(parsed.exemption_tag_key) <= 128
    assert isinstance(parsed.require_key_rotation, bool)


@examples("test_the_member_role_arn_is_built_only_from_validated_parts", 1500)
@given(role=role_names, account=st.one_of(st.just("111111111111"), st.from_regex(r"\d{12}", fullmatch=True), text))
def test_the_member_role_arn_is_built_only_from_validated_parts(role: str, account: str) -> None:
    try:
        parsed = parse_rule_parameters(
            json.dumps({"executionRoleName": role}), partition="aws", region=REGION, account_id=ACCOUNT
        )
    except InvalidParameterError as error:
        assert error.parameter == "executionRoleName"
        assert not ROLE_NAME.fullmatch(role.strip())
        return
    name = parsed.execution_role_name
    assert name is None or ROLE_NAME.fullmatch(name)
    if name is None:
        return
    try:
        arn = member_role_arn("aws", account, name)
    except InvalidSettingError as error:
        assert error.variable == "accountId"
        assert not re.fullmatch(r"[0-9]{12}", account)
        return
    assert re.fullmatch(r"[0-9]{12}", account)
    assert arn == f"arn:aws:iam::{account}:role/{name}"
    assert arn.count(":") == 5 and arn.count("/") == 1


@examples("test_approved_keys_are_key_arns_or_refused", 1500)
@given(entries=st.lists(key_entries, min_size=1, max_size=4))
def test_approved_keys_are_key_arns_or_refused(entries: list[str]) -> None:
    text_value = ",".join(entries)
    try:
        parsed = parse_rule_parameters(
            json.dumps({"approvedKmsKeyArns": text_value}), partition="aws", region=REGION, account_id=ACCOUNT
        )
    except InvalidParameterError as error:
        assert error.parameter == "approvedKmsKeyArns"
        return
    for arn in parsed.approved_key_arns:
        assert KEY_ARN.fullmatch(arn), arn
        assert ":alias/" not in arn
