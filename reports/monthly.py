"""The monthly progress report (月度进展报告): being written (issue 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from branches.models import Organization, PartyOrganization
    from reports.document import ReportDocument
    from reports.periods import Period
    from reports.selectors import Progress


def build_monthly(
    scope: Organization | PartyOrganization, period: Period, *, progress: Progress | None = None
) -> ReportDocument:
    raise NotImplementedError
