"""Every record of the archive, with where each copy lies and in what state (``archiver list``).

The records are those complete in at least one location (their ``bagit.txt`` is
there); each one's facts come from its ``archive-record.json`` (read from the first
location that holds it complete). For every configured location the copy's state is
told from what the location reports about the document and the marker — without
reading the documents (that is ``archiver verify``'s work):

* ``ok`` — complete, the document of the size (and, where the location keeps one,
  the sha256) the manifest gives, locked where the location enforces retention;
* ``incomplete`` — the document is there but not the marker (an interrupted store);
* ``missing`` — the document is not there;
* ``damaged`` — its size or sha256 differs from the manifest's;
* ``unprotected`` — S3 reports no lock, or one shorter than the record's retention;
* ``unavailable`` — the location cannot be reached.

Superseded versions (a correction stored a newer one) say so (:mod:`.versions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver.archive.catalog import normalize_class, normalize_year
from archiver.archive.record import MARKER, RecordError, RecordManifest
from archiver.archive.retrieve import complete_records, read_manifest
from archiver.archive.versions import Supersession, supersessions
from archiver.errors import UsageError
from archiver.kinds import KINDS, RECORD_ID
from archiver.storage.base import ObjectInfo, Storage, StorageError, lock_strength
from archiver.storage.locations import Locations
from archiver.storage.s3 import S3Storage

OK = "ok"
INCOMPLETE = "incomplete"
MISSING = "missing"
DAMAGED = "damaged"
UNPROTECTED = "unprotected"
UNAVAILABLE = "unavailable"
STATE_TEXT = {
    OK: "на месте",
    INCOMPLETE: "неполная (запись не завершена)",
    MISSING: "нет",
    DAMAGED: "повреждена",
    UNPROTECTED: "не защищена блокировкой на весь срок",
    UNAVAILABLE: "хранилище недоступно",
}
"""The Russian words of each copy state."""


@dataclass(frozen=True, slots=True)
class CopyState:
    """One location's copy of a record."""

    location: str
    state: str
    url: str
    """Where the document lies: a path, or ``s3://bucket/key``."""
    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None
    """The S3 version of the document object."""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "location": self.location,
            "state": self.state,
            "url": self.url,
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ListedRecord:
    """A record: its manifest, whether it was superseded, and its copies."""

    manifest: RecordManifest
    superseded: Supersession | None
    copies: tuple[CopyState, ...]

    @property
    def ok(self) -> bool:
        """Whether every copy is in place (an unavailable location is not counted against it)."""
        return all(c.state in (OK, UNAVAILABLE) for c in self.copies)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (for ``archiver list --json``)."""
        m = self.manifest
        return {
            "record_id": m.record_id,
            "kind": m.kind,
            "title": m.title,
            "school_id": m.school_id,
            "academic_year": m.academic_year,
            "class_id": m.class_id,
            "class_name": m.class_name,
            "version": m.version,
            "latest": self.superseded is None,
            "superseded_by": self.superseded.to_json() if self.superseded else None,
            "correction": m.correction_reason,
            "replaces": m.replaces,
            "file_name": m.file_name,
            "size": m.size,
            "sha256": m.sha256,
            "sha512": m.sha512,
            "stored_at": m.stored_at,
            "retain_until": m.retain_until,
            "lock_mode": m.lock_mode,
            "copies": [c.to_json() for c in self.copies],
        }


def _wanted(rid: str, year: str | None, kind: str | None) -> bool:
    match = RECORD_ID.match(rid)
    if match is None:
        return False
    year_part = rid.split("/")[1]
    return (kind is None or match.group("kind") == kind) and (
        year is None or year_part == year.replace("/", "-")
    )


def _copy_state(location: Storage, manifest: RecordManifest) -> CopyState:
    rid = manifest.record_id
    key = f"{rid}/{manifest.payload_path}"
    url = location.url(key)
    bucket = location.bucket if isinstance(location, S3Storage) else None
    object_key = url.removeprefix(f"s3://{bucket}/") if bucket is not None else None

    def state(name: str, info: ObjectInfo | None = None, detail: str = "") -> CopyState:
        version = info.version_id if info is not None else None
        return CopyState(location.name, name, url, bucket, object_key, version, detail)

    try:
        info = location.stat(key)
        marker = location.stat(f"{rid}/{MARKER}")
    except StorageError as exc:
        return state(UNAVAILABLE, detail=str(exc))
    if info is None:
        return state(MISSING, detail="документа нет")
    if info.size != manifest.size:
        return state(DAMAGED, info, f"размер {info.size} байт вместо {manifest.size}")
    if info.checksum_sha256 is not None and info.checksum_sha256 != manifest.sha256:
        return state(DAMAGED, info, f"sha256 {info.checksum_sha256[:16]}… вместо записанного")
    if marker is None:
        return state(INCOMPLETE, info, f"нет {MARKER}")
    if location.enforces_retention and (
        info.retain_until is None
        or info.retain_until < manifest.retain_until_instant
        or lock_strength(info.lock_mode) < lock_strength(manifest.lock_mode)
    ):
        return state(
            UNPROTECTED, info, f"блокировка {info.lock_mode or 'нет'} до {info.retain_until}"
        )
    return state(OK, info)


def list_records(
    locations: Locations,
    *,
    year: str | None = None,
    class_filter: str | None = None,
    kind: str | None = None,
) -> tuple[list[ListedRecord], list[str]]:
    """The records (oldest series first, versions in order) and notes on what could not be read.

    ``year`` (``2025/2026``), ``class_filter`` (a class id or name, compared as
    :func:`~archiver.archive.catalog.normalize_class` does) and ``kind`` narrow the list.
    """
    if kind is not None and kind not in KINDS:
        raise UsageError(f"неизвестный вид записи «{kind}»; допустимо: {', '.join(KINDS)}")
    wanted_year = normalize_year(year) if year else None
    usable = locations.usable()
    if not usable:
        locations.first()  # raises: no location is available
    notes = locations.fallback_notes()
    holders: dict[str, Storage] = {}
    for location in usable:
        try:
            found = complete_records(location)
        except StorageError as exc:
            notes.append(str(exc))
            continue
        for rid in found:
            if _wanted(rid, wanted_year, kind):
                holders.setdefault(rid, location)
    manifests: list[RecordManifest] = []
    for rid in sorted(holders, key=lambda r: (r.rpartition("/v")[0], int(r.rpartition("/v")[2]))):
        try:
            manifest, _ = read_manifest(holders[rid], rid)
        except (StorageError, RecordError) as exc:
            notes.append(f"описание записи {rid} не читается: {exc}")
            continue
        manifests.append(manifest)
    replaced = supersessions(manifests)
    listed: list[ListedRecord] = []
    for manifest in manifests:
        if class_filter is not None and not (
            manifest.class_id == class_filter.strip()
            or normalize_class(manifest.class_name or "") == normalize_class(class_filter)
        ):
            continue
        copies = tuple(
            _copy_state(loc, manifest)
            if locations.available(loc)
            else CopyState(
                loc.name,
                UNAVAILABLE,
                loc.url(f"{manifest.record_id}/{manifest.payload_path}"),
                detail=locations.unavailable.get(loc.name, ""),
            )
            for loc in locations.all
        )
        listed.append(ListedRecord(manifest, replaced.get(manifest.record_id), copies))
    return listed, notes


__all__ = ["STATE_TEXT", "CopyState", "ListedRecord", "list_records"]
