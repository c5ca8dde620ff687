"""A generated report as plain data: sections of headline figures, tables and charts.

Every channel renders the same document — the page, the PDF and the .xlsx — so their figures
cannot disagree; and it is stored as JSON in the archive, which is how a closed period's figures
stay as they were when the period closed (see reports/selectors.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Cell = int | float | str | None
ChartKind = Literal["bar", "hbar", "stacked", "line", "funnel", "pie"]


@dataclass
class Figure:
    """One headline number ("members: 10,098")."""

    label: str
    value: Cell
    note: str = ""


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    # Optional: the League unit each row is about (its pk), so the page can link a row to that unit's
    # own dashboard (drilling down the tree). Printed channels ignore it.
    row_units: list[int | None] | None = None
    footer: list[Cell] | None = None  # a totals row, when the rows add up


@dataclass
class Series:
    name: str
    values: list[int | float | None]


@dataclass
class Chart:
    kind: ChartKind
    title: str
    labels: list[str]
    series: list[Series]


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportDocument:
    kind: str  # reports.models.ReportKind
    title: str
    scope_label: str
    period_key: str
    period_label: str
    generated_at: str  # ISO 8601, when the figures were computed
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportDocument:
        sections = [
            Section(
                key=s["key"],
                title=s["title"],
                figures=[Figure(**f) for f in s["figures"]],
                tables=[Table(**t) for t in s["tables"]],
                charts=[
                    Chart(
                        kind=c["kind"],
                        title=c["title"],
                        labels=c["labels"],
                        series=[Series(**x) for x in c["series"]],
                    )
                    for c in s["charts"]
                ],
                notes=s["notes"],
            )
            for s in data["sections"]
        ]
        return cls(**{**data, "sections": sections})
