"""What a verification run found and did: statuses, per-file, per-copy and per-record results.

Everything here is plain data with its JSON form (``archiver verify --json``,
``docs/verify.md``); the statuses are string enums whose values are the JSON words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from archiver.errors import ArchiverError, ExitCode

__all__ = [
    "ArchiveVerifyReport",
    "CopyReport",
    "CopyStatus",
    "FileProblem",
    "Level",
    "LocationReport",
    "Problem",
    "RecordReport",
    "RecordStatus",
    "Repair",
    "Untracked",
    "VerifyError",
    "now_text",
]


class Level(StrEnum):
    """How thoroughly the copies are read."""

    CHEAP = "cheap"
    DEEP = "deep"


class CopyStatus(StrEnum):
    """One location's copy of one record."""

    OK = "ok"
    UNPROTECTED = "unprotected"
    """Complete and right, but not locked as the manifest says."""
    CHANGED = "changed"
    """A file differs from the manifest or is missing."""
    MISSING = "missing"
    """Nothing of the record is there."""
    UNREADABLE = "unreadable"
    UNAVAILABLE = "unavailable"
    """The location could not be used in this run."""


class Problem(StrEnum):
    """What is wrong with one file of one copy."""

    MISSING = "missing"
    CHANGED = "changed"
    UNREADABLE = "unreadable"
    LOCK = "lock"


class RecordStatus(StrEnum):
    """The verdict on one record."""

    OK = "ok"
    UNPROTECTED = "unprotected"
    UNREADABLE = "unreadable"
    DAMAGED = "damaged"
    """One copy is bad, another is good: ``--repair`` can restore it."""
    UNRECOVERABLE = "unrecoverable"
    SIGNATURE_INVALID = "signature_invalid"
    LOST = "lost"
    """Verified before, now in no location, and its retention has not expired."""
    REPAIRED = "repaired"
    REPAIR_FAILED = "repair_failed"
    REPAIR_REFUSED = "repair_refused"


GOOD_COPIES = (CopyStatus.OK, CopyStatus.UNPROTECTED)
"""Copies that match the manifest (a repair may take them as its source)."""
BAD_COPIES = (CopyStatus.CHANGED, CopyStatus.MISSING)
"""Copies that a repair restores."""
HOPELESS = (
    RecordStatus.UNRECOVERABLE,
    RecordStatus.LOST,
    RecordStatus.REPAIR_REFUSED,
    RecordStatus.REPAIR_FAILED,
)
"""Records that need a person: no good copy, lost, or a repair refused or failed."""


class VerifyError(ArchiverError):
    """The verification cannot run at all (no location can be read)."""

    exit_code = ExitCode.FAILURE


def now_text(now: datetime | None = None) -> str:
    """An instant as the reports and the history write it (UTC, microseconds)."""
    return (now or datetime.now(UTC)).isoformat(timespec="microseconds")


def short(digest: str | None) -> str:
    """The first 16 hex digits of a hash, for a person."""
    return f"{digest[:16]}…" if digest else "—"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """What is wrong with one file of one copy."""

    path: str
    """Path inside the record's bag."""
    problem: Problem
    message: str
    expected_sha256: str | None = None
    actual_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CopyReport:
    """One location's copy of one record."""

    location: str
    url: str
    status: CopyStatus
    problems: list[FileProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Repair:
    """One file restored in one location (also a line of the repair log)."""

    at: str
    record_id: str
    location: str
    path: str
    url: str
    problem: str
    previous_sha256: str | None
    sha256: str
    source: str
    source_url: str
    version_id: str | None
    created: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class RecordReport:
    """The verdict on one record."""

    record_id: str
    status: RecordStatus
    copies: list[CopyReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signature: str | None = None
    """``ok``, ``invalid``, ``unsigned`` (the export) or ``None`` (not checked)."""
    repairs: list[Repair] = field(default_factory=list)
    timestamp: dict[str, str] | None = None
    """Deep check: the newest document timestamp (``tsa_not_after``, ``algorithm``), if any."""

    def copy(self, location: str) -> CopyReport | None:
        return next((c for c in self.copies if c.location == location), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "status": self.status,
            "copies": {c.location: c.status for c in self.copies},
            "signature": self.signature,
            "timestamp": self.timestamp,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class Untracked:
    """An object under the archive that is part of no record's bag."""

    location: str
    key: str
    url: str
    reason: str
    """``unknown``, ``extra_file`` (in a record's folder) or ``unfinished_record``
    (a record folder without ``bagit.txt`` anywhere: an interrupted ``archiver store``)."""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "url": self.url, "reason": self.reason}


@dataclass(slots=True)
class LocationReport:
    """One configured location in a run."""

    name: str
    where: str
    error: str | None = None
    """Why the location could not be used (``None``: it was checked)."""


@dataclass(slots=True)
class ArchiveVerifyReport:
    """Everything one verification run of the archive found and did."""

    level: Level
    repair: bool
    sample: float | None
    started_at: str
    locations: list[LocationReport]
    records_total: int = 0
    records: list[RecordReport] = field(default_factory=list)
    untracked: list[Untracked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    finished_at: str = ""
    seconds: float = 0.0
    bytes_read: int = 0

    @property
    def repairs(self) -> list[Repair]:
        return [r for record in self.records for r in record.repairs]

    @property
    def clean(self) -> bool:
        """Nothing wrong was found (a repaired copy was wrong: not clean)."""
        return (
            all(loc.error is None for loc in self.locations)
            and all(r.status == RecordStatus.OK for r in self.records)
            and not self.untracked
        )

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for record in self.records:
            found[record.status] = found.get(record.status, 0) + 1
        return found

    def per_location(self, name: str) -> dict[str, Any]:
        """What is wrong in one location: changed, missing, unreadable, unprotected, untracked."""
        location = next(loc for loc in self.locations if loc.name == name)
        view: dict[str, Any] = {
            "name": name,
            "where": location.where,
            "available": location.error is None,
            "error": location.error,
        }
        for status in (
            CopyStatus.CHANGED,
            CopyStatus.MISSING,
            CopyStatus.UNREADABLE,
            CopyStatus.UNPROTECTED,
        ):
            view[status] = [
                {
                    "record_id": record.record_id,
                    "url": copy.url,
                    "repaired": record.status == RecordStatus.REPAIRED
                    and any(r.location == name for r in record.repairs),
                    "files": [p.to_json() for p in copy.problems],
                }
                for record in self.records
                for copy in record.copies
                if copy.location == name and copy.status == status
            ]
        view["untracked"] = [u.to_json() for u in self.untracked if u.location == name]
        return view

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "repair": self.repair,
            "sample": self.sample,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": round(self.seconds, 3),
            "bytes_read": self.bytes_read,
            "clean": self.clean,
            "records_total": self.records_total,
            "records_checked": sum(1 for r in self.records if r.status != RecordStatus.LOST),
            "counts": self.counts(),
            "locations": [self.per_location(loc.name) for loc in self.locations],
            "records": [r.to_json() for r in self.records],
            "unrecoverable": [r.record_id for r in self.records if r.status in HOPELESS],
            "repairs": [r.to_json() for r in self.repairs],
            "notes": self.notes,
        }
