"""Security Hub automation rule that suppresses the AWS Config integration's duplicates of this rule's results.

With ``securityHubMode=direct`` the Lambda imports its own findings (richer: key ARN, KeyManager, KeyState). Security
Hub's AWS Config integration *also* turns every Config rule evaluation into a finding, so each replication group then
appears twice. Findings from that integration carry (Security Hub User Guide, "AWS service integrations with Security
Hub CSPM" > AWS Config; observed ASFF of such findings):

* ``ProductName`` = ``Config`` and ``ProductArn`` = ``arn:<partition>:securityhub:<region>::product/aws/config``
* ``Title`` = the rule's name (also in ``ProductFields."aws/config/ConfigRuleName"``)
* ``GeneratorId`` = the rule's ARN, which carries a generated id (also ``ProductFields."aws/config/ConfigRuleArn"``)

(Security Hub User Guide, "AWS service integrations with Security Hub CSPM", section AWS Config, "typical finding".)
``AWS::SecurityHub::AutomationRule`` criteria have no ``ProductFields`` filter, so the rule matches product + Title.
Our own findings are imported under the account's ``default`` product (ProductName ``Default``) and never match.
``CONTAINS`` rather than ``EQUALS`` because the deployed name differs by mode: ``<name>`` (account),
``<name>-conformance-pack-<suffix>`` (conformance pack) and ``OrgConfigRule-<name>-<suffix>`` (organization member
accounts). Suppressed findings keep updating; they are only hidden from the default views.

Automation rules are Regional and act on findings visible to the account that owns them: deploy this in the Security
Hub administrator account (or a standalone account) in each Region.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_securityhub as securityhub
from constructs import Construct

from infra.settings import Settings

CONFIG_PRODUCT_NAME = "Config"


class SuppressConfigIntegrationDuplicates(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        S = securityhub.CfnAutomationRule  # noqa: N806 - short alias for the nested property classes
        self.rule = S(
            self,
            "Rule",
            rule_name=f"Suppress AWS Config duplicates of {settings.rule_name}",
            description=(
                f"The {settings.rule_name} Lambda imports its own findings into Security Hub; this suppresses the "
                "copies that the AWS Config integration creates from the same rule's evaluations."
            ),
            rule_order=500,
            rule_status="ENABLED",
            is_terminal=False,
            criteria=S.AutomationRulesFindingFiltersProperty(
                product_name=[S.StringFilterProperty(comparison="EQUALS", value=CONFIG_PRODUCT_NAME)],
                product_arn=[
                    S.StringFilterProperty(
                        comparison="EQUALS",
                        value=f"arn:{Aws.PARTITION}:securityhub:{Aws.REGION}::product/aws/config",
                    )
                ],
                title=[S.StringFilterProperty(comparison="CONTAINS", value=settings.rule_name)],
            ),
            actions=[
                S.AutomationRulesActionProperty(
                    type="FINDING_FIELDS_UPDATE",
                    finding_fields_update=S.AutomationRulesFindingFieldsUpdateProperty(
                        workflow=S.WorkflowUpdateProperty(status="SUPPRESSED"),
                        note=S.NoteUpdateProperty(
                            text=f"Duplicate of the finding imported directly by {settings.rule_name}.",
                            updated_by="elasticache-cmk-rule",
                        ),
                    ),
                )
            ],
        )
