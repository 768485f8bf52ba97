"""Names every stage shares: the kinds of records and documents, and how ids become
file and folder names.

These are low on purpose: render names its files with them, the archive lays out
records with them, retrieval and verify parse record ids with them. Nothing here
imports a stage.
"""

from __future__ import annotations

import re
from pathlib import Path

from archiver.model import ClassKind, JournalExport, SchoolClass

CLASS_JOURNAL = "class_journal"
"""A class's print bundle (journal), kept 5 years."""
FINAL_MARKS = "final_marks"
"""A class's summary statement, kept 25 years: of final marks, or of the teachers' council
decisions for a class without marks (see :func:`keeps_statement`)."""
JOURNAL_EXPORT = "journal_export"
"""The journal export itself, as received."""
INVENTORY = "inventory"
"""The inventory of a school's files of one year (опись дел), kept as long as the longest it lists."""
EXTRACT_KIND = "student_extract"
"""A student's extract (выписка): made on request, handed out, not stored as a record."""
DOCUMENT_KINDS = (CLASS_JOURNAL, FINAL_MARKS)
"""Kinds rendered per class."""
DISPOSAL_ACT = "disposal_act"
"""An approved act «о выделении к уничтожению …» (``archiver dispose approve``)."""
PD_DESTRUCTION_ACT = "pd_destruction_act"
"""The act on the destruction of personal data with its log extract (``dispose execute``)."""
KINDS = (
    CLASS_JOURNAL,
    FINAL_MARKS,
    JOURNAL_EXPORT,
    INVENTORY,
    DISPOSAL_ACT,
    PD_DESTRUCTION_ACT,
)
"""Kinds stored as archive records."""

EXPORT_FOLDER = "_export"
"""Class folder of the journal export's records (``safe_name`` never starts with ``_``)."""
INVENTORY_FOLDER = "_inventory"
"""Class folder of the year's inventory records (not a class, like :data:`EXPORT_FOLDER`)."""
LOG_FOLDER = "_access-log"
"""Folder of the access log in every location (not a school: ``safe_name`` never starts with ``_``)."""

RECORD_ID = re.compile(r"^[^/]+/[^/]+/[^/]+/(?P<kind>[a-z_]+)/v(?P<version>[1-9]\d*)$")
"""A record id: ``<school>/<year>/<class>/<kind>/v<N>``."""


def safe_name(text: str) -> str:
    """A file-system-safe form of an id: letters, digits, dot, dash and underscore."""
    cleaned = re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE).strip("._")
    return cleaned or "class"


def keeps_statement(school_class: SchoolClass) -> bool:
    """Whether a class gets a 25-year summary statement (a ``final_marks`` record).

    Every class proper does: of final marks, or, where no marks are recorded (1st grade,
    I доп.), of the teachers' council decisions. Clubs and groups promote nobody.
    """
    return school_class.kind is ClassKind.CLASS


def export_attachment_name(class_id: str) -> str:
    """The name of the class's journal data embedded in each of its documents."""
    return f"journal-export-{safe_name(class_id)}.json"


def year_folder(export: JournalExport) -> str:
    """``2025-2026`` for the academic year 2025/2026."""
    return safe_name(export.academic_year.name.replace("/", "-"))


def document_paths(out_dir: Path, export: JournalExport, class_id: str) -> dict[str, Path]:
    """Where a class's documents go: ``DIR/<year>/<class>/<class>-<kind>.pdf``."""
    folder = out_dir / year_folder(export) / safe_name(class_id)
    name = safe_name(class_id)
    return {
        CLASS_JOURNAL: folder / f"{name}-class-journal.pdf",
        FINAL_MARKS: folder / f"{name}-final-marks.pdf",
    }


def inventory_path(out_dir: Path, export: JournalExport) -> Path:
    """Where the year's inventory goes: ``DIR/<year>/<school>-inventory.pdf``."""
    return out_dir / year_folder(export) / f"{safe_name(export.school.id)}-inventory.pdf"
