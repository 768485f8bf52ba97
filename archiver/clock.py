"""The library's clock: what "now" is, passed down as a parameter instead of read everywhere.

Retention, disposal and renewal compare dates with "now". The library never calls
``datetime.now()`` for those decisions itself: it asks the :class:`Clock` it was given.
The CLI makes one from the environment (:func:`clock_from_env`): the real clock, or
— for tests and rehearsals only — a fixed day set by ``ARCHIVER_TODAY=YYYY-MM-DD``.

A moved clock cannot move retention. It decides what archiver *lists* (a disposal
draft «as of 2032», the records whose timestamps are due), and archiver's own checks;
but deleting is done only by a location that agrees: S3 Object Lock refuses with the
server's real clock, and a local folder is emptied only after such a location has
accepted, or when the computer's real clock has passed the date too
(see :mod:`archiver.archive.dispose.execute`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from archiver.errors import UsageError

TODAY_ENV = "ARCHIVER_TODAY"
"""Test and rehearsal only: the day archiver takes for today (``YYYY-MM-DD``)."""


@dataclass(frozen=True, slots=True)
class Clock:
    """The real clock, or a fixed day (noon of it in the zone asked for)."""

    fixed: date | None = None

    @property
    def simulated(self) -> bool:
        """Whether this clock is set to a day by hand (tests, rehearsals)."""
        return self.fixed is not None

    def now(self, zone: tzinfo = UTC) -> datetime:
        """The current instant in ``zone``."""
        if self.fixed is None:
            return datetime.now(zone)
        return datetime.combine(self.fixed, time(12, 0), tzinfo=zone)

    def today(self, zone: tzinfo = UTC) -> date:
        """Today's date in ``zone``."""
        return self.now(zone).date()


REAL = Clock()
"""The computer's clock."""


def real_now(zone: tzinfo = UTC) -> datetime:
    """The computer's real time, whatever clock the library was given (the last guard of deletion)."""
    return datetime.now(zone)


def clock_from_env() -> Clock:
    """``ARCHIVER_TODAY`` when set (tests, rehearsals), else the real clock."""
    text = os.environ.get(TODAY_ENV, "").strip()
    if not text:
        return REAL
    try:
        return Clock(date.fromisoformat(text))
    except ValueError as exc:
        raise UsageError(
            f"переменная окружения {TODAY_ENV}: нужна дата в виде ГГГГ-ММ-ДД, а не «{text}»"
        ) from exc
