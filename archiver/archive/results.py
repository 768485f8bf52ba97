"""What the store operation reports: the outcome of each record and of each of its copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STORED = "stored"
"""A new record, written to every location."""
UNCHANGED = "unchanged"
"""The same document was already stored in every location: nothing was written."""
COMPLETED = "completed"
"""An earlier, interrupted run had started this record; this run finished it."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    """One location's copy of a record."""

    location: str
    url: str
    status: str
    """``written`` (this run wrote it), ``completed`` (finished a partial copy) or ``present``."""
    version_ids: dict[str, str] = field(default_factory=dict)
    """S3 version id of every file of the record, by path inside the record."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "location": self.location,
            "url": self.url,
            "status": self.status,
            "version_ids": self.version_ids,
        }


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The outcome for one record."""

    record_id: str
    kind: str
    class_id: str | None
    class_name: str | None
    version: int
    status: str
    source: str
    file_name: str
    sha256: str
    retain_until: str
    lock_mode: str
    correction: str | None
    copies: tuple[CopyResult, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (for ``archiver store --json``)."""
        return {
            "record_id": self.record_id,
            "kind": self.kind,
            "class_id": self.class_id,
            "version": self.version,
            "status": self.status,
            "source": self.source,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "retain_until": self.retain_until,
            "lock_mode": self.lock_mode,
            "correction": self.correction,
            "copies": [copy.to_json() for copy in self.copies],
        }
