"""Legal holds: records that must not be destroyed whatever their date (an appeal, a court request).

A hold is an entry of the access log (:mod:`archiver.archive.access_log`): hash-chained,
in every location, locked like the log, naming who placed it (``--operator``, the OS
user and host) and why. ``hold_add`` names its target — one record series, a class
(optionally of one academic year) or a pupil (every record holding the pupil's data:
the journals and statements of the pupil's classes and the year's export) —, and
``hold_remove`` names the number of the entry that placed the hold. The holds in
force are those added and not removed; nothing else keeps them, so they cannot be
lost with the working folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver.archive.access_log import AccessLog, AccessRequest, AppendResult
from archiver.archive.catalog.schema import connect
from archiver.archive.record import RecordManifest
from archiver.archive.retrieve import complete_records
from archiver.errors import UsageError
from archiver.kinds import JOURNAL_EXPORT, RECORD_ID

HOLD_ADD = "hold_add"
HOLD_REMOVE = "hold_remove"
SCOPES = {"record": "запись", "class": "класс", "pupil": "обучающийся"}


@dataclass(frozen=True, slots=True)
class Hold:
    """One hold in force: the log entry that placed it, and what it covers."""

    number: int
    """The sequence number of the ``hold_add`` entry (``hold remove`` takes it)."""
    scope: str
    """``record`` (a series), ``class`` or ``pupil``."""
    target: str
    """A record series, a class id or a student id."""
    year: str | None
    """For a class: only this academic year (``2025/2026``); ``None``: every year."""
    reason: str
    operator: str
    at: str

    def describe(self) -> str:
        """«запрет № 12 (класс c5a, 2025/2026): апелляция — Иванова И.И., 01.02.2032»."""
        what = f"{SCOPES[self.scope]} {self.target}" + (f", {self.year}" if self.year else "")
        return f"запрет № {self.number} ({what}): {self.reason} — {self.operator}, {self.at[:10]}"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "number": self.number,
            "scope": self.scope,
            "target": self.target,
            "year": self.year,
            "reason": self.reason,
            "operator": self.operator,
            "at": self.at,
        }


def series_of(record: str) -> str:
    """``<school>/<year>/<class>/<kind>`` of a record id (its version dropped) or a series."""
    return record.rsplit("/", 1)[0] if RECORD_ID.match(record) else record.rstrip("/")


def _what(
    record: str | None, class_id: str | None, year: str | None, pupil: str | None
) -> dict[str, str]:
    given = [x for x in (record, class_id, pupil) if x]
    if len(given) != 1:
        raise UsageError("укажите одно: НОМЕР_ЗАПИСИ, --class ID или --pupil ID")
    if year and not class_id:
        raise UsageError("--year указывается только вместе с --class")
    if record:
        if not RECORD_ID.match(record) and not RECORD_ID.match(f"{record.rstrip('/')}/v1"):
            raise UsageError(f"«{record}» — не номер записи архива (вида школа/год/класс/вид/vN)")
        return {"scope": "record", "target": series_of(record)}
    if class_id:
        return {"scope": "class", "target": class_id, **({"year": year} if year else {})}
    return {"scope": "pupil", "target": str(pupil)}


def place_hold(
    log: AccessLog,
    *,
    reason: str,
    record: str | None = None,
    class_id: str | None = None,
    year: str | None = None,
    pupil: str | None = None,
    operator: str | None = None,
    now: datetime | None = None,
) -> AppendResult:
    """Add a hold (a ``hold_add`` entry in every location); its number is the entry's."""
    what = _what(record, class_id, year, pupil)
    if what["scope"] == "record" and not any(
        complete_records(location, what["target"] + "/") for location in log.locations.usable()
    ):
        raise UsageError(f"записи {what['target']} в архиве нет (номер — из archiver find)")
    request = AccessRequest(
        action=HOLD_ADD,
        what=what,
        reason=reason,
        operator=operator,
    )
    return log.append(request, now=now)


def lift_hold(
    log: AccessLog,
    number: int,
    *,
    reason: str,
    operator: str | None = None,
    now: datetime | None = None,
) -> AppendResult:
    """Remove the hold placed by entry ``number``; :class:`UsageError` when no such hold is in force."""
    if number not in {h.number for h in holds_in_force(log)}:
        raise UsageError(
            f"запрета уничтожения № {number} нет (или он уже снят): archiver hold list"
        )
    request = AccessRequest(
        action=HOLD_REMOVE, what={"hold": str(number)}, reason=reason, operator=operator
    )
    return log.append(request, now=now)


def holds_in_force(log: AccessLog) -> list[Hold]:
    """Every hold added and not removed, read from the access log, oldest first."""
    _, entries = log.entries()
    added: dict[int, Hold] = {}
    for entry in entries:
        doc = entry.doc
        what = doc.get("what") or {}
        if doc.get("action") == HOLD_ADD:
            added[entry.seq] = Hold(
                number=entry.seq,
                scope=str(what.get("scope")),
                target=str(what.get("target")),
                year=what.get("year"),
                reason=str(doc.get("why", "")),
                operator=str((doc.get("who") or {}).get("operator", "")),
                at=str(doc.get("at", "")),
            )
        elif doc.get("action") == HOLD_REMOVE:
            added.pop(int(what.get("hold", 0)), None)
    return list(added.values())


def pupil_classes(catalog: Path, student_id: str) -> set[tuple[str, str, str]]:
    """``(school, academic year, class id)`` of every class the pupil was in, by the catalog."""
    with connect(catalog) as db:
        rows = db.execute(
            "SELECT school_id, academic_year, class_id FROM enrolments WHERE student_id = ?",
            (student_id,),
        ).fetchall()
    return {(str(r[0]), str(r[1]), str(r[2])) for r in rows}


def holds_on(
    manifest: RecordManifest,
    holds: Iterable[Hold],
    classes_of: dict[str, set[tuple[str, str, str]]],
) -> list[Hold]:
    """The holds covering ``manifest``'s record; ``classes_of`` maps held pupils to their classes."""
    series = series_of(manifest.record_id)
    found: list[Hold] = []
    for hold in holds:
        if hold.scope == "record":
            hit = hold.target == series
        elif hold.scope == "class":
            hit = manifest.class_id == hold.target and hold.year in (None, manifest.academic_year)
        else:
            places = classes_of.get(hold.target, set())
            hit = any(
                school == manifest.school_id
                and year == manifest.academic_year
                and (cls == manifest.class_id or manifest.kind == JOURNAL_EXPORT)
                for school, year, cls in places
            )
        if hit:
            found.append(hold)
    return found
