"""Which version of a record is current: a superseded version names the one that replaced it.

A correction stores a document again as a new version of its record series
(``…/final_marks/v2``); the old version stays in the archive, unchanged, for its
whole retention period. Whoever lists or hands out an old version is told so, in
one wording everywhere: «заменён версией v2 от 05.12.2026 (исправлена отметка)».
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from archiver.archive.record import RecordError, RecordManifest
from archiver.archive.retrieve import complete_records, read_manifest
from archiver.storage.base import Storage, StorageError
from archiver.wording import ru_date


@dataclass(frozen=True, slots=True)
class Supersession:
    """The latest version of a series, as seen from an older version of it."""

    record_id: str
    """The latest version's record id."""
    version: int
    stored_at: str
    """When the latest version was stored (ISO 8601)."""
    reason: str | None
    """Its correction reason (``None`` if its manifest gives none)."""

    def text(self, zone: tzinfo | None = None) -> str:
        """«заменён версией v2 от 05.12.2026 (причина)»: the day in ``zone`` (else as stored)."""
        try:
            moment = datetime.fromisoformat(self.stored_at)
            day = ru_date((moment.astimezone(zone) if zone is not None else moment).date())
        except ValueError:
            day = self.stored_at[:10]
        why = f" ({self.reason})" if self.reason else ""
        return f"заменён версией v{self.version} от {day}{why}"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "record_id": self.record_id,
            "version": self.version,
            "stored_at": self.stored_at,
            "reason": self.reason,
        }


def series_of(record_id: str) -> str:
    """``<school>/<year>/<class>/<kind>`` of ``…/v<N>``."""
    return record_id.rsplit("/", 1)[0]


def supersessions(manifests: Iterable[RecordManifest]) -> dict[str, Supersession]:
    """Record id → its series' latest version, for every version that is not the latest."""
    latest: dict[str, RecordManifest] = {}
    listed = list(manifests)
    for manifest in listed:
        series = series_of(manifest.record_id)
        if series not in latest or latest[series].version < manifest.version:
            latest[series] = manifest
    found: dict[str, Supersession] = {}
    for manifest in listed:
        newest = latest[series_of(manifest.record_id)]
        if newest.version > manifest.version:
            found[manifest.record_id] = Supersession(
                newest.record_id, newest.version, newest.stored_at, newest.correction_reason
            )
    return found


def newer_version(location: Storage, manifest: RecordManifest) -> Supersession | None:
    """The latest complete version of ``manifest``'s series in ``location``, if newer than it.

    Lists only the series' folder; reads the newer version's manifest. A location that
    cannot be listed or read gives ``None`` (the caller has read the record itself already).
    """
    try:
        versions = complete_records(location, series_of(manifest.record_id) + "/")
        if not versions or versions[-1] == manifest.record_id:
            return None
        newest, _ = read_manifest(location, versions[-1])
    except (StorageError, RecordError):
        return None
    if newest.version <= manifest.version:
        return None
    return Supersession(
        newest.record_id, newest.version, newest.stored_at, newest.correction_reason
    )


__all__ = ["Supersession", "newer_version", "series_of", "supersessions"]
