#!/usr/bin/env python3
"""CDK app: the stacks for the deployment mode and Regions in context (``-c deploymentMode=... -c regions=...``),
checked by cdk-nag; ``npx cdk deploy --all`` deploys them in dependency order.

cdk-nag v3 is a CDK policy-validation plugin (``Validations.of(app).add_plugins``), no longer an Aspect: any
unacknowledged AwsSolutions finding fails ``cdk synth`` / ``cdk deploy``. Acknowledgments: infra/nag_suppressions.py.
"""

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra import create_stacks
from infra.settings import SettingsError

app = cdk.App()
try:
    create_stacks(app)
except SettingsError as error:
    sys.exit(f"Invalid CDK context: {error}")
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
