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
The Title criterion matches exactly this rule's deployed names, never a substring (a short rule name under CONTAINS
would suppress other rules' findings): ``EQUALS <name>`` in account mode; ``PREFIX <name>-conformance-pack-`` for a
pack's rule (``<name>-conformance-pack-<suffix>``, in one account or in every member account of an organization pack)
and ``PREFIX OrgConfigRule-<name>-`` for an organization rule's member-account copies. Suppressed findings keep
updating; they are only hidden from the default views.

Opt-in (``suppressConfigIntegrationDuplicates=true``): only the Security Hub administrator account may create
automation rules (Security Hub User Guide, "Automation rules",
https://docs.aws.amazon.com/securityhub/latest/userguide/automation-rules.html), so creating it by default would roll
back the deployment in every Security Hub member account. Rules are Regional and act on the findings the owning account
sees: deploy the stack with it where that account is the Security Hub administrator (or a standalone account).
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_securityhub as securityhub
from constructs import Construct

from infra.modes import DeploymentMode
from infra.settings import Settings

CONFIG_PRODUCT_NAME = "Config"


def title_filter(settings: Settings) -> tuple[str, str]:
    """(comparison, value) matching the Config integration findings' Title for this deployment mode."""
    if settings.mode is DeploymentMode.ACCOUNT:
        return "EQUALS", settings.rule_name
    if settings.mode is DeploymentMode.ORGANIZATION:
        return "PREFIX", f"OrgConfigRule-{settings.rule_name}-"
    return "PREFIX", f"{settings.rule_name}-conformance-pack-"


class SuppressConfigIntegrationDuplicates(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        S = securityhub.CfnAutomationRule  # noqa: N806 - short alias for the nested property classes
        comparison, title = title_filter(settings)
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
                title=[S.StringFilterProperty(comparison=comparison, value=title)],
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
