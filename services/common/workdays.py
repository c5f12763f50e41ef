"""Polish public holidays and working days, for the demo's dates and the console's warnings about them."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own names
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def polish_holidays(year: int) -> frozenset[date]:
    """Public holidays in Poland (ustawa o dniach wolnych od pracy), Christmas Eve included from 2025."""
    easter = _easter(year)
    fixed = {(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11), (12, 25), (12, 26)}
    if year >= 2025:
        fixed.add((12, 24))
    return frozenset({date(year, month, day) for month, day in fixed} | {
        easter, easter + timedelta(days=1), easter + timedelta(days=49), easter + timedelta(days=60)})


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday: a day the city office is open."""
    return day.weekday() < 5 and day not in polish_holidays(day.year)
