"""Calendar arithmetic of the pipeline: months and quarters (report periods, waits), and working days
(工作日) for publicity periods: Monday to Friday, except the public holidays recorded as
`CalendarDay(is_working_day=False)`, plus the weekend days worked in their place (调休) recorded as
`CalendarDay(is_working_day=True)`. The State Council publishes the year's arrangement each winter;
county staff enter it in the admin, so nothing here knows any holiday by name."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from promotion.models import CalendarDay

# Exceptions are read a month at a time: a run of holidays (Golden Week: 7 days) never hides a working
# day for longer, so a publicity period of a few working days needs one or two queries.
_WINDOW_DAYS = 31


def _exceptions(start: date, end: date) -> dict[date, bool]:
    return dict(CalendarDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "is_working_day"))


def is_working_day(day: date, exceptions: dict[date, bool] | None = None) -> bool:
    """Whether `day` is a working day; `exceptions` (day → is working) saves the query when known."""
    if exceptions is None:
        exceptions = _exceptions(day, day)
    return exceptions.get(day, day.weekday() < 5)


def nth_working_day(start: date, n: int) -> date:
    """The n-th working day counting from `start` (which counts as the first if it is a working day).
    A publicity period of N working days starting on `start` ends on `nth_working_day(start, N)`."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day, counted = start, 0
    window_end = start - timedelta(days=1)
    exceptions: dict[date, bool] = {}
    while True:
        if day > window_end:
            window_end = day + timedelta(days=_WINDOW_DAYS - 1)
            exceptions = _exceptions(day, window_end)
        if is_working_day(day, exceptions):
            counted += 1
            if counted == n:
                return day
        day += timedelta(days=1)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie in [start, end], both included (0 when end is before start)."""
    if end < start:
        return 0
    exceptions = _exceptions(start, end)
    return sum(is_working_day(start + timedelta(days=i), exceptions) for i in range((end - start).days + 1))


# --- months and quarters ----------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month_start(day: date) -> date:
    """The first day of the month after `day`'s (cheaper than add_months where it runs per period)."""
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier); a day the target month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (negative when `end` comes first)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and add_months(start, months) > end:
        months -= 1
    return months


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * quarter - 2, 1)


def next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)
