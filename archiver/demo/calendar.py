"""The 2025/2026 school calendar of the demo school (Perm krai, five-day week).

Quarters end before the breaks; lessons are held Monday to Friday except on the
public holidays of the Russian production calendar and during the breaks.
First-graders and the preparatory class have an extra week of rest in February,
as the ministry recommends for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

YEAR_NAME = "2025/2026"
YEAR_START = date(2025, 9, 1)
YEAR_END = date(2026, 5, 31)
EXPORTED_AT = "2026-06-20T10:00:00+05:00"


@dataclass(frozen=True, slots=True)
class Quarter:
    """An assessment quarter (четверть)."""

    id: str
    name: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        """Whether ``day`` lies within the quarter (inclusive)."""
        return self.start <= day <= self.end


QUARTERS: tuple[Quarter, ...] = (
    Quarter("q1", "1 четверть", date(2025, 9, 1), date(2025, 10, 24)),
    Quarter("q2", "2 четверть", date(2025, 11, 5), date(2025, 12, 26)),
    Quarter("q3", "3 четверть", date(2026, 1, 12), date(2026, 3, 20)),
    Quarter("q4", "4 четверть", date(2026, 4, 1), date(2026, 5, 26)),
)
YEAR_PERIOD_ID = "year"
YEAR_PERIOD_NAME = "Учебный год"

LAST_LESSON_DAY = QUARTERS[-1].end

BREAKS: tuple[tuple[date, date], ...] = (
    (date(2025, 10, 27), date(2025, 11, 4)),  # autumn
    (date(2025, 12, 29), date(2026, 1, 11)),  # winter
    (date(2026, 3, 23), date(2026, 3, 31)),  # spring
)
"""School breaks (каникулы), inclusive."""

EXTRA_BREAK_JUNIOR: tuple[date, date] = (date(2026, 2, 16), date(2026, 2, 22))
"""Additional February break of the preparatory class and the 1st grade."""

PUBLIC_HOLIDAYS: frozenset[date] = frozenset(
    {
        date(2025, 11, 3),  # day off moved from Saturday 1 November
        date(2025, 11, 4),  # День народного единства
        date(2025, 12, 31),
        *(date(2026, 1, d) for d in range(1, 12)),  # New Year holidays and Christmas
        date(2026, 2, 23),  # День защитника Отечества
        date(2026, 3, 9),  # 8 March falls on a Sunday
        date(2026, 5, 1),  # Праздник Весны и Труда
        date(2026, 5, 11),  # 9 May falls on a Saturday
    }
)
"""Non-working public holidays of the year (those inside breaks included)."""

PROMOTION_COUNCIL = "протокол педсовета № 7 от 27.05.2026"
GRADUATION_COUNCIL = "протокол педсовета № 8 от 19.06.2026"


def in_break(day: date, grade: int) -> bool:
    """Whether ``day`` falls in a break for a class of ``grade``."""
    if any(start <= day <= end for start, end in BREAKS):
        return True
    return grade <= 1 and EXTRA_BREAK_JUNIOR[0] <= day <= EXTRA_BREAK_JUNIOR[1]


def is_school_day(day: date, grade: int) -> bool:
    """Whether a class of ``grade`` has lessons on ``day``."""
    return (
        YEAR_START <= day <= LAST_LESSON_DAY
        and day.weekday() < 5
        and day not in PUBLIC_HOLIDAYS
        and not in_break(day, grade)
    )


def school_days(grade: int, start: date = YEAR_START, end: date = LAST_LESSON_DAY) -> list[date]:
    """All school days of a class of ``grade`` from ``start`` to ``end`` (inclusive), in order."""
    days = []
    day = start
    while day <= end:
        if is_school_day(day, grade):
            days.append(day)
        day += timedelta(days=1)
    return days


def quarter_index(day: date) -> int:
    """The index (0..3) of the quarter containing ``day``; -1 outside the quarters."""
    for i, quarter in enumerate(QUARTERS):
        if quarter.contains(day):
            return i
    return -1
