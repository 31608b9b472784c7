"""How AWS access errors are told apart and explained: denied (a missing permission) or rejected (a Region the
account has not enabled).

Shared by the collection, which stops early on a denied ``ec2:DescribeRegions``, and the report, which turns the
errors of a finished scan into one sentence per missing permission.
"""

from __future__ import annotations

from cmk_rule.errors import AwsCallError

PERMISSIONS_DOC = 'see "Permissions of cmk-rule scan and evidence" in docs/iam.md'

DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException", "AuthorizationError"}
)
# In one Region while the credentials work elsewhere, these mean the Region is not enabled for the account.
REJECTED_CODES = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "ExpiredToken", "ExpiredTokenException"}
)


def kind_of_code(code: str | None) -> str | None:
    """ "denied", "rejected", or None for an AWS error code that is not about access."""
    if code in DENIED_CODES:
        return "denied"
    if code in REJECTED_CODES:
        return "rejected"
    return None


def access_kind(error: AwsCallError) -> str | None:
    """:func:`kind_of_code` of the error's AWS error code."""
    return kind_of_code(error.code)
