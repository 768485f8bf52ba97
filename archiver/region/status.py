"""Status of a region: per school, how many classes stand in each state and the days left to 30 June.

Read only, in this process (no engine): for each school, what ``archiver status``
shows (:func:`archiver.status.year_status`: from the archive itself, so the same on any
computer with the school's settings and storage), counted by state. Schools are looked at
in a few threads, since most of the time goes into listing the storage locations.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from archiver.errors import ArchiverError
from archiver.region.model import SchoolEntry
from archiver.settings import load_settings
from archiver.status import year_status
from archiver.storage.open import open_locations
from archiver.yearend import STATE_TEXT, VERIFIED

__all__ = ["SchoolStatus", "region_status"]


@dataclass
class SchoolStatus:
    """Where one school's year stands."""

    id: str
    name: str = ""
    academic_year: str | None = None
    deadline: date | None = None
    days_left: int | None = None
    states: dict[str, int] = field(default_factory=dict)
    """Classes per state (:data:`archiver.yearend.STATE_TEXT`'s keys)."""
    problem: str | None = None
    """Why the school's status could not be read (not run yet, storage unavailable …)."""

    @property
    def classes(self) -> int:
        return sum(self.states.values())

    @property
    def complete(self) -> bool:
        """Every class verified in both copies."""
        return (
            self.problem is None and self.classes > 0 and self.states.get(VERIFIED) == self.classes
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "academic_year": self.academic_year,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "days_left": self.days_left,
            "classes": self.classes,
            "states": self.states,
            "complete": self.complete,
            "problem": self.problem,
        }

    def to_text(self) -> str:
        title = f"{self.id} ({self.name})" if self.name else self.id
        if self.problem is not None:
            return f"{title}: {self.problem}"
        counts = ", ".join(
            f"{STATE_TEXT[state]}: {n}" for state, n in self.states.items() if state in STATE_TEXT
        )
        left = self.days_left if self.days_left is not None else 0
        when = f"до 30 июня дней: {left}" if left >= 0 else f"срок прошёл {-left} дн. назад"
        verdict = "всё в архиве и проверено" if self.complete else "не завершено"
        return (
            f"{title}, {self.academic_year}: {verdict}; классов {self.classes} ({counts}); {when}"
        )


def school_status(
    entry: SchoolEntry, year: str | None = None, today: date | None = None
) -> SchoolStatus:
    """One school's :class:`SchoolStatus` (its problem filled in instead of raising)."""
    found = SchoolStatus(entry.id)
    try:
        settings = load_settings(entry.config)
        locations = open_locations(settings.require_storage())
        status = year_status(settings.working_dir(create=False), locations, year, today)
    except ArchiverError as exc:
        found.problem = str(exc)
        return found
    found.name = status.export.school.short_name
    found.academic_year = status.export.academic_year.name
    found.deadline = status.deadline
    found.days_left = status.days_left
    for standing in status.classes:
        found.states[standing.state] = found.states.get(standing.state, 0) + 1
    return found


def region_status(
    entries: list[SchoolEntry], year: str | None = None, today: date | None = None, threads: int = 8
) -> list[SchoolStatus]:
    """Every school's :class:`SchoolStatus`, in the region file's order."""
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(entries)))) as pool:
        return list(pool.map(lambda e: school_status(e, year, today), entries))
