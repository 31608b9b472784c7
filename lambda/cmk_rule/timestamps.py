"""The one timestamp format the project writes: ISO 8601 in UTC, milliseconds, ``Z`` (``2016-07-13T21:50:00.373Z``).

It is what AWS Config prints in its events and what the ASFF schema's ``CreatedAt``/``UpdatedAt`` examples use
(https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html), and what
spreadsheets and auditors parse. Used by the Security Hub reporter, the CLI's reports and its sample events.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_z(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (a naive datetime is taken as local time)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
