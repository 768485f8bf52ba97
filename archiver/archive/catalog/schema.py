"""The catalog file: its SQLite tables, the search forms of names, and opening it read-only.

The normalized forms (:func:`normalize`, :func:`normalize_class`) are stored next to
the names and computed the same way for a query.
"""

from __future__ import annotations

import contextlib
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from archiver.errors import ArchiverError, ExitCode

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

    exit_code = ExitCode.FAILURE


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
