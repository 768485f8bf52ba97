"""Pieces every importer needs to put the export document together (format v1 as JSON data)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from archiver.sources.export_v1.wire import FORMAT_NAME, FORMAT_VERSION
from archiver.sources.importers.base import SchoolInfo

_CLASS = re.compile(r"^\s*(\d{1,2})\s*[-–—]?\s*«?\"?([А-ЯЁа-яёA-Za-z])»?\"?\s*$")


def class_name(raw: str) -> str:
    """``5-А``, ``5А``, ``5 А`` → ``5 «А»`` (as printed); anything else unchanged."""
    found = _CLASS.match(raw)
    return f"{found.group(1)} «{found.group(2).upper()}»" if found else raw.strip()


def person_name(last: str, first: str, middle: str | None) -> str:
    """«Фамилия Имя Отчество» (no patronymic: two words)."""
    return " ".join(part.strip() for part in (last, first, middle or "") if part and part.strip())


def year_digits(name: str) -> tuple[str, ...]:
    """``2025/2026``, ``2025-2026``, ``2025 - 2026 уч. год`` → ``("2025", "2026")``."""
    return tuple(re.findall(r"\d{4}", name))


def year_label(start: date, end: date) -> str:
    """The year's name as printed: ``2025/2026``."""
    return f"{start.year}/{end.year}"


def period_kind(count: int) -> str:
    """The kind of a class's periods from how many there are: 2 halves, otherwise quarters."""
    return "half" if count == 2 else "quarter"


def document(
    *,
    title: str,
    pulled_at: datetime,
    school: SchoolInfo,
    year_name: str,
    start: date,
    end: date,
    periods: list[dict[str, Any]],
    staff: list[dict[str, Any]],
    subjects: list[dict[str, Any]],
    classes: list[dict[str, Any]],
    attendance_codes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The export document (``provenance`` is added by the run)."""
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported_at": pulled_at.isoformat(timespec="seconds"),
        "source_system": title,
        "school": {
            "id": school.id,
            "short_name": school.short_name,
            "full_name": school.full_name,
            "director": {"name": school.director, "position": school.director_position},
        },
        "academic_year": {
            "name": year_name,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "periods": periods,
        },
        "staff": staff,
        "subjects": subjects,
        "classes": classes,
    }
    if school.address:
        doc["school"]["address"] = school.address
    if attendance_codes:
        doc["attendance_codes"] = attendance_codes
    return doc
