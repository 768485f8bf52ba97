"""The catalog: a local SQLite index of the archive's records, students, classes and years.

The archive in the storage locations stays the source of truth; the catalog is only
an index that makes «find the pupil Семёнов of 2026» a matter of seconds. It lives in
the working-state folder (``state_dir(config)/catalog.sqlite``) and can be thrown away
and rebuilt from the archive at any time:

1. list the complete records of the primary location (the secondary one when the
   primary is unavailable) and read every ``archive-record.json``;
2. of every school and academic year take the latest version of the
   ``journal_export`` record, read the export (its sha256 checked against the
   manifest; a damaged copy is replaced by the other location's) and index its
   students (id, full name, birth date), classes, enrolments, the year and exam
   marks per subject and the teachers' council decisions;
3. of a year whose export is no longer in the archive (it is kept 5 years, the
   summary statements of final marks 25) or cannot be read, index every class from
   the class's slice of the export embedded in its documents: the summary statement
   of final marks first, else the journal bundle. Twenty years on, the statements are
   what is left, and they carry everything ``find`` and ``extract`` need. Each class
   remembers the record its data was read from.

A rebuild writes a new file next to the old one and renames it into place, so a
reader never sees a half-built catalog and running it twice gives the same index.

Names are searched case- and ё/е-insensitively: every name is stored also in a
normalized form (:func:`normalize`: Unicode NFKC, casefold, ё → е), and queries are
normalized the same way in Python (SQLite's own ``lower()`` knows only ASCII).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.archive.record import RecordError, RecordManifest
from archiver.archive.retrieve import (
    EMBEDDING_KINDS,
    complete_records,
    fetch_record,
    journal_data,
    read_manifest,
)
from archiver.errors import ArchiverError, UsageError
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, JOURNAL_EXPORT
from archiver.model import ClassKind, JournalExport
from archiver.storage.base import Storage, StorageError
from archiver.storage.locations import Locations

CATALOG_FILE = "catalog.sqlite"
SCHEMA_VERSION = "2"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
  record_id TEXT PRIMARY KEY,
  series TEXT NOT NULL,
  school_id TEXT NOT NULL,
  academic_year TEXT NOT NULL,
  class_id TEXT,
  class_name TEXT,
  kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  latest INTEGER NOT NULL,
  title TEXT NOT NULL,
  file_name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  retain_until TEXT NOT NULL,
  source_export_sha256 TEXT NOT NULL,
  correction TEXT,
  replaces TEXT
);
CREATE INDEX records_class ON records (school_id, academic_year, class_id, kind, latest);
CREATE TABLE years (
  school_id TEXT NOT NULL,
  academic_year TEXT NOT NULL,
  export_record_id TEXT,
  export_sha256 TEXT,
  exported_at TEXT NOT NULL,
  source_system TEXT NOT NULL,
  school_short_name TEXT NOT NULL,
  school_full_name TEXT NOT NULL,
  school_address TEXT,
  director_name TEXT NOT NULL,
  director_position TEXT NOT NULL,
  PRIMARY KEY (school_id, academic_year)
);
CREATE TABLE classes (
  school_id TEXT NOT NULL,
  academic_year TEXT NOT NULL,
  class_id TEXT NOT NULL,
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL,
  grade INTEGER NOT NULL,
  kind TEXT NOT NULL,
  marks_recorded INTEGER NOT NULL,
  position INTEGER NOT NULL,
  data_record_id TEXT NOT NULL,
  data_sha256 TEXT NOT NULL,
  data_kind TEXT NOT NULL,
  PRIMARY KEY (school_id, academic_year, class_id)
);
CREATE TABLE students (
  school_id TEXT NOT NULL,
  academic_year TEXT NOT NULL,
  student_id TEXT NOT NULL,
  last_name TEXT NOT NULL,
  first_name TEXT NOT NULL,
  middle_name TEXT,
  full_name TEXT NOT NULL,
  birth_date TEXT,
  name_norm TEXT NOT NULL,
  PRIMARY KEY (school_id, academic_year, student_id)
);
CREATE INDEX students_id ON students (student_id);
CREATE TABLE enrolments (
  school_id TEXT NOT NULL,
  academic_year TEXT NOT NULL,
  class_id TEXT NOT NULL,
  student_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  enrolled TEXT NOT NULL,
  left_on TEXT,
  left_reason TEXT,
  PRIMARY KEY (school_id, academic_year, class_id, student_id)
);
CREATE INDEX enrolments_student ON enrolments (school_id, student_id);
CREATE TABLE final_marks (
  school_id TEXT NOT NULL,
  academic_year TEXT NOT NULL,
  class_id TEXT NOT NULL,
  student_id TEXT NOT NULL,
  course_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  subject_name TEXT NOT NULL,
  position INTEGER NOT NULL,
  year_mark TEXT,
  exam_mark TEXT,
  PRIMARY KEY (school_id, academic_year, class_id, student_id, course_id)
);
CREATE TABLE promotions (
  school_id TEXT NOT NULL,
  academic_year TEXT NOT NULL,
  class_id TEXT NOT NULL,
  student_id TEXT NOT NULL,
  decision TEXT NOT NULL,
  protocol TEXT,
  PRIMARY KEY (school_id, academic_year, class_id, student_id)
);
"""


class CatalogError(ArchiverError):
    """The catalog cannot be built or read."""

    exit_code = 1


def normalize(text: str) -> str:
    """The search form of a name: NFKC, casefolded, ё → е, single spaces.

    «СЕМЁНОВ» and «семенов», «Артём» and «артем» give the same form.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(folded.split())


def normalize_class(text: str) -> str:
    """The comparison form of a class name: «5 «А»», «5а» and «5 А» give «5а»."""
    return "".join(ch for ch in normalize(text) if ch.isalnum())


def normalize_year(text: str) -> str:
    """``2025-2026`` and ``2025/2026`` both become ``2025/2026``."""
    return text.strip().replace("-", "/").replace("–", "/")


def catalog_path(state: Path) -> Path:
    """The catalog file in the working-state folder."""
    return state / CATALOG_FILE


# -- building


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
        raise CatalogError(f"не удалось записать каталог {path}: {exc.strerror}") from exc
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


# -- reading


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """Open the catalog read-only."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CatalogError(f"каталог {path} не открывается: {exc}") from exc
    db.row_factory = sqlite3.Row
    try:
        yield db
    except sqlite3.Error as exc:
        raise CatalogError(
            f"каталог {path} повреждён или устарел ({exc}); постройте его заново: "
            "archiver catalog rebuild"
        ) from exc
    finally:
        db.close()


def catalog_meta(path: Path) -> dict[str, str] | None:
    """The catalog's meta table, or ``None`` when there is no usable catalog at ``path``."""
    if not path.is_file():
        return None
    try:
        with connect(path) as db:
            rows = db.execute("SELECT key, value FROM meta").fetchall()
    except CatalogError:
        return None
    meta = {str(r["key"]): str(r["value"]) for r in rows}
    return meta if meta.get("schema_version") == SCHEMA_VERSION else None


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


@dataclass(frozen=True, slots=True)
class ClassEntry:
    """A student's place in one class of one academic year, and that class's records."""

    academic_year: str
    class_id: str
    class_name: str
    class_kind: str
    grade: int
    marks_recorded: bool
    enrolled: str
    left: str | None
    left_reason: str | None
    class_journal: str | None
    """Record id of the latest version of the class's journal bundle, if archived."""
    final_marks: str | None
    """Record id of the latest version of the summary statement of final marks, if archived."""
    journal_export: str | None
    """Record id of the year's export, while it is archived."""
    data_record: str
    """Record id the entry was read from: the export, or a class document's embedded data."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "academic_year": self.academic_year,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "class_kind": self.class_kind,
            "grade": self.grade,
            "marks_recorded": self.marks_recorded,
            "enrolled": self.enrolled,
            "left": self.left,
            "left_reason": self.left_reason,
            "records": {
                CLASS_JOURNAL: self.class_journal,
                FINAL_MARKS: self.final_marks,
                JOURNAL_EXPORT: self.journal_export,
            },
            "data_record": self.data_record,
        }


@dataclass(frozen=True, slots=True)
class StudentMatch:
    """A student found in the catalog, with every class they were in."""

    school_id: str
    school_name: str
    student_id: str
    last_name: str
    first_name: str
    middle_name: str | None
    full_name: str
    birth_date: str | None
    entries: tuple[ClassEntry, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (for ``archiver find --json``)."""
        return {
            "school_id": self.school_id,
            "school_name": self.school_name,
            "student_id": self.student_id,
            "full_name": self.full_name,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "middle_name": self.middle_name,
            "birth_date": self.birth_date,
            "classes": [e.to_json() for e in self.entries],
        }


def find_students(
    path: Path,
    query: str,
    *,
    year: str | None = None,
    class_filter: str | None = None,
    school_id: str | None = None,
) -> list[StudentMatch]:
    """Students whose name contains every word of ``query`` (or whose id is ``query``).

    Case- and ё/е-insensitive; ``year`` (``2025/2026``) and ``class_filter`` (a class id
    or name, e.g. ``5a`` or «5 «А»») keep only the matching classes, and the students
    who have one.
    """
    words = normalize(query).split()
    if not words:
        raise UsageError("пустой запрос: укажите фамилию, имя или их часть")
    wanted_year = normalize_year(year) if year else None
    wanted_class = class_filter.strip() if class_filter else None
    with connect(path) as db:
        condition = " AND ".join("instr(name_norm, ?) > 0" for _ in words)
        sql = (
            f"SELECT DISTINCT school_id, student_id FROM students WHERE ({condition}) "
            "OR student_id = ?"
        )
        params: list[Any] = [*words, query.strip()]
        if school_id is not None:
            sql = f"SELECT * FROM ({sql}) WHERE school_id = ?"
            params.append(school_id)
        found = db.execute(sql, params).fetchall()
        matches = []
        for row in found:
            match = _student(db, str(row["school_id"]), str(row["student_id"]))
            entries = tuple(
                e
                for e in match.entries
                if (wanted_year is None or e.academic_year == wanted_year)
                and (
                    wanted_class is None
                    or e.class_id == wanted_class
                    or normalize_class(e.class_name) == normalize_class(wanted_class)
                )
            )
            if entries:
                matches.append(_replace_entries(match, entries))
    return sorted(
        matches,
        key=lambda m: (
            normalize(m.last_name),
            normalize(m.first_name),
            m.birth_date or "",
            m.student_id,
        ),
    )


def _replace_entries(match: StudentMatch, entries: tuple[ClassEntry, ...]) -> StudentMatch:
    return StudentMatch(
        school_id=match.school_id,
        school_name=match.school_name,
        student_id=match.student_id,
        last_name=match.last_name,
        first_name=match.first_name,
        middle_name=match.middle_name,
        full_name=match.full_name,
        birth_date=match.birth_date,
        entries=entries,
    )


def _student(db: sqlite3.Connection, school_id: str, student_id: str) -> StudentMatch:
    """A student's name as of the latest year, and every class entry."""
    person = db.execute(
        "SELECT s.*, y.school_short_name FROM students s JOIN years y "
        "USING (school_id, academic_year) WHERE s.school_id = ? AND s.student_id = ? "
        "ORDER BY s.academic_year DESC LIMIT 1",
        (school_id, student_id),
    ).fetchone()
    rows = db.execute(
        """
        SELECT e.*, c.name AS class_name, c.kind, c.grade, c.marks_recorded,
               y.export_record_id, c.data_record_id,
               (SELECT record_id FROM records r WHERE r.school_id = e.school_id
                  AND r.academic_year = e.academic_year AND r.class_id = e.class_id
                  AND r.kind = 'class_journal' AND r.latest = 1) AS class_journal,
               (SELECT record_id FROM records r WHERE r.school_id = e.school_id
                  AND r.academic_year = e.academic_year AND r.class_id = e.class_id
                  AND r.kind = 'final_marks' AND r.latest = 1) AS final_marks
        FROM enrolments e
        JOIN classes c USING (school_id, academic_year, class_id)
        JOIN years y USING (school_id, academic_year)
        WHERE e.school_id = ? AND e.student_id = ?
        ORDER BY e.academic_year, (c.kind != 'class'), c.position
        """,
        (school_id, student_id),
    ).fetchall()
    entries = tuple(
        ClassEntry(
            academic_year=str(r["academic_year"]),
            class_id=str(r["class_id"]),
            class_name=str(r["class_name"]),
            class_kind=str(r["kind"]),
            grade=int(r["grade"]),
            marks_recorded=bool(r["marks_recorded"]),
            enrolled=str(r["enrolled"]),
            left=r["left_on"],
            left_reason=r["left_reason"],
            class_journal=r["class_journal"],
            final_marks=r["final_marks"],
            journal_export=r["export_record_id"],
            data_record=str(r["data_record_id"]),
        )
        for r in rows
    )
    return StudentMatch(
        school_id=school_id,
        school_name=str(person["school_short_name"]),
        student_id=student_id,
        last_name=str(person["last_name"]),
        first_name=str(person["first_name"]),
        middle_name=person["middle_name"],
        full_name=str(person["full_name"]),
        birth_date=person["birth_date"],
        entries=entries,
    )


def student_data_records(path: Path, student_id: str) -> dict[str, list[str]]:
    """School id → the records holding the data of the classes proper the student was in.

    Oldest year first; a year's export serves all its classes, so it is listed once.
    Schools where the student was only in clubs are listed with no records.
    """
    with connect(path) as db:
        rows = db.execute(
            "SELECT e.school_id, e.academic_year, c.kind, c.data_record_id FROM enrolments e "
            "JOIN classes c USING (school_id, academic_year, class_id) WHERE e.student_id = ? "
            "ORDER BY e.school_id, e.academic_year, c.position",
            (student_id,),
        ).fetchall()
    found: dict[str, list[str]] = {}
    for row in rows:
        records = found.setdefault(str(row["school_id"]), [])
        if is_class(str(row["kind"])) and row["data_record_id"] not in records:
            records.append(str(row["data_record_id"]))
    return found


def final_marks_records(path: Path, school_id: str) -> dict[tuple[str, str], str]:
    """(academic year, class id) → the latest summary statement of final marks of the school."""
    with connect(path) as db:
        rows = db.execute(
            "SELECT academic_year, class_id, record_id FROM records "
            "WHERE school_id = ? AND kind = ? AND latest = 1",
            (school_id, FINAL_MARKS),
        ).fetchall()
    return {(str(r[0]), str(r[1])): str(r[2]) for r in rows}


def is_class(kind: str) -> bool:
    """Whether a class entry is a class proper (not a club or extracurricular group)."""
    return kind == ClassKind.CLASS.value


__all__ = [
    "CATALOG_FILE",
    "CatalogError",
    "ClassEntry",
    "RebuildResult",
    "StudentMatch",
    "archived_record_ids",
    "catalog_meta",
    "catalog_path",
    "catalogued_record_ids",
    "ensure_catalog",
    "final_marks_records",
    "find_students",
    "is_class",
    "latest_by_series",
    "normalize",
    "normalize_class",
    "normalize_year",
    "rebuild",
    "student_data_records",
]


def ensure_catalog(locations: Locations, path: Path) -> RebuildResult | None:
    """Build the catalog when there is none (or of an older layout); ``None`` when it was there."""
    if catalog_meta(path) is None:
        return rebuild(locations, path)
    return None
