"""Building the catalog from the archive, and telling whether it is still up to date.

A rebuild reads the records of one location (the exports first, else the class
documents' embedded data), indexes them into a temporary file and renames it into
place; :func:`ensure_catalog` builds it when there is none.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.archive.catalog.schema import (
    SCHEMA,
    SCHEMA_VERSION,
    CatalogError,
    catalog_meta,
    connect,
    normalize,
    normalize_class,
)
from archiver.archive.record import RecordError, RecordManifest
from archiver.archive.retrieve import (
    EMBEDDING_KINDS,
    complete_records,
    fetch_record,
    journal_data,
    read_manifest,
)
from archiver.errors import ArchiverError
from archiver.files import os_reason
from archiver.kinds import JOURNAL_EXPORT
from archiver.model import JournalExport
from archiver.storage.base import Storage, StorageError
from archiver.storage.locations import Locations


@dataclass(slots=True)
class RebuildResult:
    """What a rebuild found and where it read."""

    path: Path
    location: str
    where: str
    built_at: str
    records: int = 0
    years: int = 0
    classes: int = 0
    students: int = 0
    notes: list[str] = field(default_factory=list)
    """Things the user should know (a location unavailable, a damaged copy replaced)."""
    problems: list[str] = field(default_factory=list)
    """Records that could not be read from any location: the archive needs attention."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (for ``archiver catalog rebuild --json``)."""
        return {
            "catalog": str(self.path),
            "location": self.location,
            "where": self.where,
            "built_at": self.built_at,
            "records": self.records,
            "years": self.years,
            "classes": self.classes,
            "students": self.students,
            "notes": self.notes,
            "problems": self.problems,
        }


def _manifest_anywhere(
    locations: Locations, source: Storage, rid: str, notes: list[str]
) -> RecordManifest | None:
    """The manifest from the listing location, else from another one."""
    errors: list[str] = []
    for location in [source, *[loc for loc in locations.usable() if loc is not source]]:
        try:
            if location is not source and location.stat(f"{rid}/archive-record.json") is None:
                continue
            manifest, _ = read_manifest(location, rid)
        except (StorageError, RecordError) as exc:
            errors.append(str(exc))
            continue
        if location is not source:
            notes.extend(errors)
            notes.append(f"описание записи {rid} прочитано из хранилища «{location.name}»")
        return manifest
    notes.extend(errors)
    return None


def _insert_export(
    db: sqlite3.Connection,
    export: JournalExport,
    manifest: RecordManifest,
    only_class: str | None = None,
) -> None:
    """Index the classes of ``export`` (or only ``only_class``), read from the record ``manifest``.

    ``export`` is a whole export (a ``journal_export`` record) or one class's slice of
    it embedded in a document; a year's row comes from the first of them indexed.
    """
    school_id = manifest.school_id
    year = manifest.academic_year
    school = export.school
    whole = manifest.kind == JOURNAL_EXPORT
    db.execute(
        "INSERT OR IGNORE INTO years VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            school_id,
            year,
            manifest.record_id if whole else None,
            manifest.sha256 if whole else None,
            export.exported_at.isoformat(),
            export.source_system,
            school.short_name,
            school.full_name,
            school.address,
            school.director.name,
            school.director.position,
        ),
    )
    subjects = {s.id: s.name for s in export.subjects}
    first = _count(
        db,
        "SELECT COUNT(*) FROM classes WHERE school_id = ? AND academic_year = ?",
        (school_id, year),
    )
    classes = [c for c in export.classes if only_class is None or c.id == only_class]
    for position, school_class in enumerate(classes, start=first):
        db.execute(
            "INSERT INTO classes VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                school_id,
                year,
                school_class.id,
                school_class.name,
                normalize_class(school_class.name),
                school_class.grade,
                school_class.kind.value,
                int(school_class.marks_recorded),
                position,
                manifest.record_id,
                manifest.sha256,
                manifest.kind,
            ),
        )
        for n, student in enumerate(school_class.students):
            db.execute(
                "INSERT OR IGNORE INTO students VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    school_id,
                    year,
                    student.id,
                    student.last_name,
                    student.first_name,
                    student.middle_name,
                    student.full_name,
                    student.birth_date.isoformat() if student.birth_date else None,
                    normalize(student.full_name),
                ),
            )
            db.execute(
                "INSERT INTO enrolments VALUES (?,?,?,?,?,?,?,?)",
                (
                    school_id,
                    year,
                    school_class.id,
                    student.id,
                    n,
                    student.enrolled.isoformat(),
                    student.left.isoformat() if student.left else None,
                    student.left_reason,
                ),
            )
        for position_course, course in enumerate(school_class.courses):
            years = {m.student: m.value for m in course.year_marks}
            exams = {m.student: m.value for m in course.exam_marks}
            for student_id in sorted(set(years) | set(exams)):
                db.execute(
                    "INSERT INTO final_marks VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        school_id,
                        year,
                        school_class.id,
                        student_id,
                        course.id,
                        course.subject,
                        subjects.get(course.subject, course.subject),
                        position_course,
                        years.get(student_id),
                        exams.get(student_id),
                    ),
                )
        for promotion in school_class.promotion:
            db.execute(
                "INSERT OR REPLACE INTO promotions VALUES (?,?,?,?,?,?)",
                (
                    school_id,
                    year,
                    school_class.id,
                    promotion.student,
                    promotion.decision,
                    promotion.protocol,
                ),
            )


def _insert_record(db: sqlite3.Connection, manifest: RecordManifest, latest: bool) -> None:
    series = manifest.record_id.rsplit("/", 1)[0]
    db.execute(
        "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            manifest.record_id,
            series,
            manifest.school_id,
            manifest.academic_year,
            manifest.class_id,
            manifest.class_name,
            manifest.kind,
            manifest.version,
            int(latest),
            manifest.title,
            manifest.file_name,
            manifest.size,
            manifest.sha256,
            manifest.stored_at,
            manifest.retain_until,
            manifest.source_export_sha256,
            manifest.correction_reason,
            manifest.replaces,
        ),
    )


def latest_by_series(manifests: list[RecordManifest]) -> dict[str, RecordManifest]:
    """The highest version of every record series (``<school>/<year>/<class>/<kind>``)."""
    latest: dict[str, RecordManifest] = {}
    for manifest in manifests:
        series = manifest.record_id.rsplit("/", 1)[0]
        if series not in latest or latest[series].version < manifest.version:
            latest[series] = manifest
    return latest


def rebuild(locations: Locations, path: Path, *, now: datetime | None = None) -> RebuildResult:
    """Build the catalog from the archive into ``path`` (a temporary file renamed into place)."""
    source = locations.first()
    built_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    result = RebuildResult(path, source.name, source.where, built_at)
    if source is not locations.all[0]:
        result.notes.extend(locations.fallback_notes())
        result.notes.append(f"каталог построен по хранилищу «{source.name}» ({source.where})")
    manifests: list[RecordManifest] = []
    for rid in complete_records(source):
        manifest = _manifest_anywhere(locations, source, rid, result.notes)
        if manifest is None:
            result.problems.append(f"описание записи {rid} не читается ни в одном хранилище")
            continue
        manifests.append(manifest)
    latest = latest_by_series(manifests)
    latest_ids = {m.record_id for m in latest.values()}

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        db = sqlite3.connect(tmp)
        try:
            db.executescript(SCHEMA)
            for manifest in manifests:
                _insert_record(db, manifest, manifest.record_id in latest_ids)
            _index_journal_data(db, locations, list(latest.values()), result)
            meta = {
                "schema_version": SCHEMA_VERSION,
                "built_at": built_at,
                "location": source.name,
                "where": source.where,
            }
            db.executemany("INSERT INTO meta VALUES (?,?)", sorted(meta.items()))
            db.commit()
            result.records = len(manifests)
            result.years = _count(db, "SELECT COUNT(*) FROM years")
            result.classes = _count(db, "SELECT COUNT(*) FROM classes")
            result.students = _count(
                db, "SELECT COUNT(*) FROM (SELECT DISTINCT school_id, student_id FROM students)"
            )
        finally:
            db.close()
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except sqlite3.Error as exc:
        raise CatalogError(f"не удалось записать каталог {path}: {exc}") from exc
    except OSError as exc:
        raise CatalogError(f"не удалось записать каталог {path}: {os_reason(exc)}") from exc
    finally:
        tmp.unlink(missing_ok=True)  # a local temporary file, not part of the archive
    return result


def _count(db: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> int:
    row = db.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _index_journal_data(
    db: sqlite3.Connection,
    locations: Locations,
    latest: list[RecordManifest],
    result: RebuildResult,
) -> None:
    """Index every year from its export, or class by class from the documents' embedded data."""
    covered: set[tuple[str, str]] = set()
    exports = sorted(
        (m for m in latest if m.kind == JOURNAL_EXPORT),
        key=lambda m: (m.school_id, m.academic_year),
    )
    for manifest in exports:
        export = _read_data(locations, manifest, result)
        if export is not None:
            _insert_export(db, export, manifest)
            covered.add((manifest.school_id, manifest.academic_year))
    documents: dict[tuple[str, str, str], list[RecordManifest]] = {}
    for manifest in latest:
        key = (manifest.school_id, manifest.academic_year)
        if manifest.kind in EMBEDDING_KINDS and manifest.class_id and key not in covered:
            documents.setdefault((*key, manifest.class_id), []).append(manifest)
    told: set[tuple[str, str]] = set()
    for (school_id, year, class_id), candidates in sorted(documents.items()):
        if (school_id, year) not in told:
            told.add((school_id, year))
            result.notes.append(
                f"выгрузки журнала школы {school_id} за {year} учебный год в архиве нет "
                "(или она не читается): классы взяты из данных, вложенных в их документы"
            )
        candidates.sort(key=lambda m: EMBEDDING_KINDS.index(m.kind))
        for manifest in candidates:
            export = _read_data(locations, manifest, result)
            if export is not None:
                _insert_export(db, export, manifest, only_class=class_id)
                break


def _read_data(
    locations: Locations, manifest: RecordManifest, result: RebuildResult
) -> JournalExport | None:
    rid = manifest.record_id
    try:
        fetched = fetch_record(locations, rid)
        export = journal_data(fetched)
    except ArchiverError as exc:
        result.problems.append(f"запись {rid} не прочитана: {exc}")
        return None
    result.notes.extend(n for n in fetched.notes if n not in result.notes)
    return export


# -- up to date?


def catalogued_record_ids(path: Path) -> set[str]:
    """The latest version of every record series the catalog was built from."""
    with connect(path) as db:
        return {str(r[0]) for r in db.execute("SELECT record_id FROM records WHERE latest = 1")}


def archived_record_ids(location: Storage) -> set[str]:
    """The latest version of every record series now in ``location`` (listing only).

    Differs from :func:`catalogued_record_ids` when a year or a correction has been
    stored, or a record disposed of, since the catalog was built.
    """
    latest: dict[str, tuple[int, str]] = {}
    for rid in complete_records(location):
        series, _, version = rid.rpartition("/v")
        number = int(version)
        if series not in latest or latest[series][0] < number:
            latest[series] = (number, rid)
    return {rid for _, rid in latest.values()}


def ensure_catalog(locations: Locations, path: Path) -> RebuildResult | None:
    """Build the catalog when there is none (or of an older layout); ``None`` when it was there."""
    if catalog_meta(path) is None:
        return rebuild(locations, path)
    return None
