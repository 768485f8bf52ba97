"""One class's slice of the export, written back in format version 1.

Embedded in each of the class's PDFs (see :mod:`archiver.render`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from archiver import model
from archiver.sources.export_v1.wire import FORMAT_NAME, FORMAT_VERSION


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_wire_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _wire_value(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        out = {}
        for name, spec in value.__dataclass_fields__.items():
            if not spec.init:
                continue  # derived lookups
            item = getattr(value, name)
            if item is None and name != "left":
                continue  # optional keys: absent rather than null
            out[name] = _wire_value(item)
        return out
    return value  # str, int, bool, and StrEnum members (which are str)


def class_slice(export: model.JournalExport, class_id: str) -> dict[str, Any]:
    """A self-contained format-v1 document holding one class and what it refers to.

    Embedded in each of the class's PDFs so that the archive stays machine-readable
    without archiver; it validates with this reader.
    """
    school_class = export.classes_by_id[class_id]
    staff_ids = {school_class.class_teacher} | {c.teacher for c in school_class.courses}
    staff_ids |= {lesson.teacher for c in school_class.courses for lesson in c.lessons}
    subject_ids = {c.subject for c in school_class.courses}
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported_at": export.exported_at.isoformat(),
        "source_system": export.source_system,
        "school": _wire_value(export.school),
        "academic_year": _wire_value(export.academic_year),
        "grading_scale": list(export.grading_scale),
        "attendance_codes": dict(export.attendance_codes),
        "staff": [_wire_value(s) for s in export.staff if s.id in staff_ids],
        "subjects": [_wire_value(s) for s in export.subjects if s.id in subject_ids],
        "classes": [_wire_value(school_class)],
    }


FINAL_MARKS_KIND = "final_marks"
""":data:`archiver.kinds.FINAL_MARKS` (kinds imports the model, so the name is repeated here)."""


_KNOWN: tuple[model.JournalExport, dict[tuple[str, str], str]] | None = None
"""The hashes worked out for the last export asked about (it is kept, so its id stays its)."""
_KNOWN_LOCK = threading.Lock()


def document_data_sha256(export: model.JournalExport, class_id: str, kind: str) -> str:
    """A hash of the class's data a document of ``kind`` shows (not of the export file).

    Two exports give the same hash for a document when the data it is made from is
    the same, whenever the export was made (``exported_at`` is left out): a correction
    of one class gives new versions of that class's documents only. The summary
    statement of final marks does not show current marks, lesson topics or homework,
    so a fixed current mark changes the journal's hash and not the statement's.

    A year-end asks for each document's hash several times (planning, standings,
    storing): the last export's hashes are remembered (the model is immutable).
    """
    global _KNOWN
    with _KNOWN_LOCK:
        if _KNOWN is None or _KNOWN[0] is not export:
            _KNOWN = (export, {})
        known = _KNOWN[1]
        if (class_id, kind) not in known:
            known[(class_id, kind)] = _data_sha256(export, class_id, kind)
        return known[(class_id, kind)]


def _data_sha256(export: model.JournalExport, class_id: str, kind: str) -> str:
    data = class_slice(export, class_id)
    del data["exported_at"]
    if kind == FINAL_MARKS_KIND:
        for school_class in data["classes"]:
            for course in school_class.get("courses", []):
                course.pop("marks", None)
                for lesson in course.get("lessons", []):
                    for key in ("topic", "homework", "teacher"):
                        lesson.pop(key, None)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
