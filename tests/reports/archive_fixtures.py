"""Fixtures of the archive tests (test_archive*, test_schedule*, test_intake*): Celery tasks run in the
test, and a small report builder counting live members. (Generated files go to the test's own folder:
tests/conftest.py.)

Import the fixtures into a test module: `from tests.reports.archive_fixtures import *  # noqa: F403`.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from branches.models import Organization, PartyOrganization
from reports.document import Chart, Figure, ReportDocument, Section, Series, Table
from reports.pdf import render_pdf as real_render_pdf  # the real one: tests replace it

__all__ = ["eager", "live_builder", "quick_pdf", "real_pdf", "sample_document"]


@pytest.fixture
def eager():
    """Tasks run in the test, as a worker would run them (when the transaction's callbacks run)."""
    from leagueadmin.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def sample_document(kind: str, scope, period, members: int = 0) -> ReportDocument:
    return ReportDocument(
        kind=kind,
        title="季度报告" if kind == "quarterly" else "月度进展报告",
        scope_label=scope.name,
        period_key=period.key,
        period_label=period.label,
        generated_at=timezone.now().isoformat(),
        sections=[
            Section(
                key="members",
                title="团员",
                figures=[Figure("团员数", members), Figure("占比 (%)", 37.5)],
                tables=[Table("各支部团员", ["支部", "团员", "占比 (%)"], [["甲一村团支部", members, 37.5]])],
                charts=[Chart("bar", "团员数", ["甲一村团支部"], [Series("团员", [members])])],
            )
        ],
    )


@pytest.fixture
def live_builder(monkeypatch):
    """Stands in for the report builders: counts the scope's members now (so figures move when records
    change) and reports its progress section by section. `live_builder.calls` counts the builds."""
    from members.models import Member

    class Builder:
        calls = 0
        fail_with: BaseException | None = None

        def __call__(self, kind, scope, period, *, progress=None):
            self.calls += 1
            if self.fail_with is not None:
                raise self.fail_with
            for done in range(1, 21):
                if progress:
                    progress(done, 20)
            if isinstance(scope, PartyOrganization):
                members = Member.objects.filter(branch__party_organization=scope).count()
            else:
                assert isinstance(scope, Organization)
                members = Member.objects.filter(branch__path__startswith=scope.path).count()
            return sample_document(kind, scope, period, members)

    builder = Builder()
    monkeypatch.setattr("reports.selectors.build_document", builder)
    return builder


@pytest.fixture(autouse=True)
def quick_pdf(monkeypatch):
    """A stand-in PDF keeps the tests fast; the PDF itself is tested in test_pdf*.py, and the tests
    that read it ask for `real_pdf`."""
    monkeypatch.setattr("reports.pdf.render_pdf", lambda document: b"%PDF-1.7 stand-in " + document.title.encode())


@pytest.fixture
def real_pdf(quick_pdf, monkeypatch):
    """WeasyPrint renders the PDF (a second or two)."""
    monkeypatch.setattr("reports.pdf.render_pdf", real_render_pdf)
