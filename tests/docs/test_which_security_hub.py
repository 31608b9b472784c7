"""The "Which Security Hub" section of docs/security-hub.md against botocore's own Security Hub model.

Our findings can only go to Security Hub CSPM (ASFF, BatchImportFindings); the OCSF-based Security Hub's operations
(the *V2 ones) import nothing.
"""

from __future__ import annotations

import botocore.session

from tests.docs.pages import page, section


def test_findings_can_only_be_imported_into_security_hub_cspm() -> None:
    model = botocore.session.get_session().get_service_model("securityhub")
    v2 = [name for name in model.operation_names if name.endswith("V2")]
    assert "GetFindingsV2" in v2 and "BatchUpdateFindingsV2" in v2  # the new Security Hub is in this model
    assert [name for name in v2 if "Import" in name or ("Create" in name and "Finding" in name)] == []
    assert "Security Hub CSPM" in model.operation_model("BatchImportFindings").documentation
    text = section("Which Security Hub", page("security-hub.md"))
    assert "Security Hub CSPM" in text and "OCSF" in text and "BatchImportFindingsV2" in text
