"""Working days for publicity (weekends, holidays, make-up working days) and month arithmetic."""

from datetime import date

import pytest

from promotion.models import CalendarDay
from promotion.workdays import (
    add_months,
    is_working_day,
    month_end,
    months_between,
    next_month_start,
    nth_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        (date(2026, 6, 1), 5, date(2026, 6, 5)),  # Monday: the same week
        (date(2026, 6, 4), 5, date(2026, 6, 10)),  # Thursday: over the weekend
        (date(2026, 6, 6), 5, date(2026, 6, 12)),  # a Saturday start counts from Monday
        (date(2026, 6, 5), 1, date(2026, 6, 5)),  # the start itself is the first working day
        (date(2026, 6, 1), 30, date(2026, 7, 10)),  # longer than one month's calendar window
    ],
)
def test_working_days_skip_weekends(db, start, n, end):
    assert nth_working_day(start, n) == end


def test_a_holiday_on_a_weekday_lengthens_the_period(db):
    CalendarDay.objects.create(day=date(2026, 6, 19), is_working_day=False, note="端午节")
    assert nth_working_day(date(2026, 6, 15), 5) == date(2026, 6, 22)
    assert not is_working_day(date(2026, 6, 19))


def test_a_make_up_saturday_counts_as_a_working_day(db):
    CalendarDay.objects.create(day=date(2026, 6, 13), is_working_day=True, note="调休上班")
    assert nth_working_day(date(2026, 6, 11), 5) == date(2026, 6, 16)  # Thu, Fri, Sat, Mon, Tue
    assert is_working_day(date(2026, 6, 13))


def test_golden_week_with_its_make_up_days(db):
    # The 2025 arrangement: 1–8 October off, Sunday 28 September and Saturday 11 October worked.
    for day in range(1, 9):
        CalendarDay.objects.create(day=date(2025, 10, day), is_working_day=False)
    CalendarDay.objects.create(day=date(2025, 9, 28), is_working_day=True)
    CalendarDay.objects.create(day=date(2025, 10, 11), is_working_day=True)
    assert nth_working_day(date(2025, 9, 27), 5) == date(2025, 10, 10)  # Sun 28, 29, 30, 9, 10
    assert nth_working_day(date(2025, 9, 29), 5) == date(2025, 10, 11)
    assert working_days_between(date(2025, 9, 27), date(2025, 10, 12)) == 6


def test_working_days_between(db):
    assert working_days_between(date(2026, 6, 1), date(2026, 6, 14)) == 10
    assert working_days_between(date(2026, 6, 6), date(2026, 6, 7)) == 0
    assert working_days_between(date(2026, 6, 8), date(2026, 6, 1)) == 0


def test_nth_working_day_needs_a_positive_count(db):
    with pytest.raises(ValueError):
        nth_working_day(date(2026, 6, 1), 0)


def test_month_arithmetic():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 15), -6) == date(2025, 9, 15)
    assert months_between(date(2025, 12, 10), date(2026, 6, 10)) == 6
    assert months_between(date(2025, 12, 11), date(2026, 6, 10)) == 5
    assert months_between(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert month_end(date(2026, 2, 3)) == date(2026, 2, 28)


def test_next_month_start():
    assert next_month_start(date(2026, 12, 31)) == date(2027, 1, 1)
    assert next_month_start(date(2026, 1, 31)) == date(2026, 2, 1)
