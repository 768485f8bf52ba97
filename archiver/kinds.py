"""Names every stage shares: the kinds of records and documents, and how ids become
file and folder names.

These are low on purpose: render names its files with them, the archive lays out
records with them, retrieval and verify parse record ids with them. Nothing here
imports a stage.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
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


_SAFE = re.compile(r"[^\w.-]+", flags=re.UNICODE)
MAX_NAME = 64
"""Longest file name part :func:`safe_name` makes (well below the file systems' 255 bytes)."""


def safe_name(text: str) -> str:
    """A file-system-safe form of an id: letters, digits, dot, dash and underscore.

    Injective: an id that is already safe (ASCII-lower-case-insensitive file systems
    included: no capital letters, NFC, not starting or ending with ``.``/``_``, short)
    stays as it is; any other id is cleaned and gets ``~`` and 12 hex digits of its
    SHA-256. A safe id never contains ``~``, so ``c5a.`` (``c5a~…``) and ``c5a`` can
    never share a folder, nor can ``5A`` and ``5a`` on a case-insensitive disk.
    """
    cleaned = _SAFE.sub("_", text).strip("._")
    if (
        cleaned == text
        and text == text.lower()
        and unicodedata.normalize("NFC", text) == text
        and len(text.encode("utf-8")) <= MAX_NAME
    ):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    short = cleaned.encode("utf-8")[:MAX_NAME].decode("utf-8", "ignore").strip("._")
    return f"{short or 'id'}~{digest}"


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
    return {kind: folder / document_file_name(class_id, kind) for kind in DOCUMENT_KINDS}


def document_file_name(class_id: str, kind: str) -> str:
    """``<class>-class-journal.pdf`` or ``<class>-final-marks.pdf``."""
    suffix = "class-journal" if kind == CLASS_JOURNAL else "final-marks"
    return f"{safe_name(class_id)}-{suffix}.pdf"


def inventory_path(out_dir: Path, export: JournalExport) -> Path:
    """Where the year's inventory goes: ``DIR/<year>/<school>-inventory.pdf``."""
    return out_dir / year_folder(export) / f"{safe_name(export.school.id)}-inventory.pdf"
