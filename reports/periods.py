"""Reporting periods: a calendar month (the monthly progress report) or quarter (the quarterly report)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

MONTH = "month"
QUARTER = "quarter"
_KEY = re.compile(r"^(?P<year>\d{4})-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2]))$")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years the records and the reports cover


class PeriodOutOfRange(ValueError):
    """A period written the right way, but in a year outside FIRST_YEAR–LAST_YEAR."""


@dataclass(frozen=True, order=True)
class Period:
    kind: str  # MONTH or QUARTER
    year: int
    number: int  # 1–12 for a month, 1–4 for a quarter

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        number = day.month if kind == MONTH else (day.month - 1) // 3 + 1
        return cls(kind, day.year, number)

    @classmethod
    def parse(cls, key: str) -> Period:
        """'2026-11' is a month, '2026-Q4' a quarter; anything else raises ValueError (PeriodOutOfRange
        for a year outside FIRST_YEAR–LAST_YEAR)."""
        match = _KEY.match(key or "")
        if not match:
            raise ValueError(key)
        if not FIRST_YEAR <= int(match["year"]) <= LAST_YEAR:
            raise PeriodOutOfRange(key)
        if match["quarter"]:
            return cls(QUARTER, int(match["year"]), int(match["quarter"]))
        return cls(MONTH, int(match["year"]), int(match["month"]))

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}" if self.kind == QUARTER else f"{self.year}-{self.number:02d}"

    @property
    def first_month(self) -> int:
        return self.number if self.kind == MONTH else 3 * self.number - 2

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        """The period's last day (inclusive)."""
        return self.next().start - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == QUARTER:
            return _("Q%(quarter)s %(year)s") % {"quarter": self.number, "year": self.year}
        return _("%(month)s/%(year)s") % {"month": self.number, "year": self.year}

    def next(self) -> Period:
        last = 12 if self.kind == MONTH else 4
        if self.number == last:
            return Period(self.kind, self.year + 1, 1)
        return Period(self.kind, self.year, self.number + 1)

    def previous(self) -> Period:
        last = 12 if self.kind == MONTH else 4
        if self.number == 1:
            return Period(self.kind, self.year - 1, last)
        return Period(self.kind, self.year, self.number - 1)

    def months(self) -> list[Period]:
        """The calendar months the period covers, in order."""
        count = 1 if self.kind == MONTH else 3
        return [Period(MONTH, self.year, self.first_month + i) for i in range(count)]

    def is_closed(self, today: date) -> bool:
        return self.end < today

    def __str__(self) -> str:
        return self.key
