"""The export document the generation ends with, and its bytes.

:func:`document` lays the generated school out as a journal export (format
version 1); :func:`export_bytes` writes it as deterministic UTF-8 JSON, one list
item per line.
"""

from __future__ import annotations

import json
from typing import Any

from archiver.demo import calendar as cal
from archiver.demo import curriculum as cur
from archiver.demo.generator.school import Group, School
from archiver.model import DEFAULT_ATTENDANCE_CODES, DEFAULT_GRADING_SCALE

SOURCE_SYSTEM = "ЭПОС.Школа"
SCHOOL: dict[str, Any] = {
    "id": "demo-perm-si",
    "short_name": "КГБОУ «Сосновоборская школа-интернат»",
    "full_name": (
        "Краевое государственное бюджетное общеобразовательное учреждение "
        "«Сосновоборская специальная (коррекционная) школа-интернат для обучающихся "
        "с ограниченными возможностями здоровья»"
    ),
    "address": "Пермский край, пос. Сосновый Бор, ул. Школьная, д. 12",
}


def document(school: School) -> dict[str, Any]:
    staff: list[dict[str, Any]] = [
        {"id": "adm1", "name": school.director, "position": "директор"},
        {
            "id": "adm2",
            "name": school.deputy,
            "position": "заместитель директора по учебно-воспитательной работе",
        },
    ]
    staff += [{"id": t.id, "name": t.name, "position": t.position} for t in school.staff.teachers]
    staff += [{"id": i, "name": n, "position": "воспитатель"} for i, n in school.educators]
    used = {c.subject for g in school.groups for c in g.courses}
    periods = [
        {
            "id": q.id,
            "name": q.name,
            "kind": "quarter",
            "start": q.start.isoformat(),
            "end": q.end.isoformat(),
        }
        for q in cal.QUARTERS
    ]
    periods.append(
        {
            "id": cal.YEAR_PERIOD_ID,
            "name": cal.YEAR_PERIOD_NAME,
            "kind": "year",
            "start": cal.YEAR_START.isoformat(),
            "end": cal.YEAR_END.isoformat(),
        }
    )
    return {
        "format": "school-journal-export",
        "format_version": 1,
        "exported_at": cal.EXPORTED_AT,
        "source_system": SOURCE_SYSTEM,
        "school": {**SCHOOL, "director": {"name": school.director, "position": "директор"}},
        "academic_year": {
            "name": cal.YEAR_NAME,
            "start": cal.YEAR_START.isoformat(),
            "end": cal.YEAR_END.isoformat(),
            "periods": periods,
        },
        "grading_scale": list(DEFAULT_GRADING_SCALE),
        "attendance_codes": dict(DEFAULT_ATTENDANCE_CODES),
        "staff": staff,
        "subjects": [{"id": k, "name": v} for k, v in cur.SUBJECTS.items() if k in used],
        "classes": [class_record(g) for g in school.groups],
    }


def class_record(group: Group) -> dict[str, Any]:
    assessed = group.kind == "class" and group.marks_recorded
    out: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "grade": group.grade,
        "kind": group.kind,
        "marks_recorded": group.marks_recorded,
        "period_ids": [q.id for q in cal.QUARTERS] if assessed else [],
        "class_teacher": group.class_teacher.id if group.class_teacher else None,
        "students": [p.record() for p in group.pupils],
        "courses": [],
    }
    for course in group.courses:
        item: dict[str, Any] = {
            "id": course.id,
            "subject": course.subject,
            "teacher": course.teacher.id,
            "lessons": [lesson.record() for lesson in course.lessons],
            "marks": [_drop_empty_note(m) for m in course.marks],
            "attendance": course.attendance,
            "period_marks": course.period_marks,
            "year_marks": course.year_marks,
        }
        if course.exam_marks:
            item["exam_marks"] = course.exam_marks
        out["courses"].append(item)
    if group.kind == "class":
        out["promotion"] = group.promotion
    return out


def _drop_empty_note(mark: dict[str, Any]) -> dict[str, Any]:
    if "note" in mark and not mark["note"]:
        return {k: v for k, v in mark.items() if k != "note"}
    return mark


def export_bytes(data: dict[str, Any]) -> bytes:
    """The export as UTF-8 JSON: one list item per line, deterministic, ending with a newline."""
    out: list[str] = []
    _write(data, 0, out)
    out.append("\n")
    return "".join(out).encode("utf-8")


def _flat(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not isinstance(v, dict | list) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(v, dict | list) for v in value)
    return True


def _write(value: Any, depth: int, out: list[str]) -> None:
    if _flat(value):
        out.append(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
        return
    pad = "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + pad + json.dumps(key, ensure_ascii=False) + ": ")
            _write(item, depth + 1, out)
        out.append("\n" + "  " * depth + "}")
    else:
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + pad)
            _write(item, depth + 1, out)
        out.append("\n" + "  " * depth + "]")
