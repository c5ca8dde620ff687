"""The quarterly report (季度报告) of a League unit: being written (issue 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from branches.models import Organization
    from reports.document import ReportDocument
    from reports.periods import Period
    from reports.selectors import Progress


def build_quarterly(unit: Organization, period: Period, *, progress: Progress | None = None) -> ReportDocument:
    raise NotImplementedError
