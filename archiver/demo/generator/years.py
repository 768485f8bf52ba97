"""Earlier academic years of the demo school: the same pupils, one grade lower per year back.

The generator writes the academic year 2025/2026. An archive of two years (to show
and test finding a pupil across years, extracts over several years, a second
year-end run) needs the same children a year earlier: :func:`earlier_year` makes it
from the generated export —

* every date moves back 52 weeks per year (weekdays stay the same; holidays move
  by a day or two, which a demonstration can live with);
* every class moves down a grade (5 «А» becomes 4 «А», ``c5a`` becomes ``c4a``, its
  courses and lessons renamed alike); the preparatory class of the later year is
  left out (its pupils were not at school yet), and a class that lands in the 1st
  grade or the preparatory one loses its marks and homework (none are recorded
  there);
* pupils keep their ids, names and birth dates; a pupil who joined during the later
  year was not there yet and is left out, and a pupil who leaves during the later
  year was still at school in the earlier one;
* the teachers' council decisions are renumbered («переведён в 4 класс» → «в 3 класс»)
  with the protocol dates moved back a year.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, timedelta
from typing import Any

from archiver.demo.calendar import YEAR_START
from archiver.errors import UsageError

BASE_YEAR = YEAR_START.year
"""The first calendar year of the generated academic year (2025)."""
_DATE_KEYS = {"start", "end", "date", "enrolled", "left", "exported_at"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_GRADE_WORD = re.compile(r"\bв(?:о)? (\d+) класс")
_RU_DATE = re.compile(r"(\d\d\.\d\d\.)(\d{4})")
_MARK_KEYS = ("marks", "period_marks", "year_marks", "exam_marks")


def _shift(value: str, back: timedelta) -> str:
    if len(value) == 10:
        return (date.fromisoformat(value) - back).isoformat()
    return (datetime.fromisoformat(value) - back).isoformat()


def _shift_dates(node: Any, back: timedelta) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                _shift(value, back)
                if key in _DATE_KEYS and isinstance(value, str) and _ISO_DATE.match(value)
                else _shift_dates(value, back)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_shift_dates(item, back) for item in node]
    return node


def _rename(node: Any, ids: dict[str, str]) -> Any:
    """Every class id ``old`` or ``old-…`` (courses, lessons) becomes ``new`` / ``new-…``."""
    if isinstance(node, dict):
        return {key: _rename(value, ids) for key, value in node.items()}
    if isinstance(node, list):
        return [_rename(item, ids) for item in node]
    if isinstance(node, str):
        head, dash, rest = node.partition("-")
        if head in ids:
            return ids[head] + dash + rest
    return node


def _class_name(grade: int, name: str) -> str:
    if grade == 0:
        return "1 доп."
    return re.sub(r"^\d+", str(grade), name) if re.match(r"^\d+", name) else name


def _class_id(grade: int, old_id: str, old_grade: int) -> str:
    if grade == 0:
        return "c0"
    return re.sub(rf"^c{old_grade}", f"c{grade}", old_id)


def _keep_students(school_class: dict[str, Any], kept: set[str]) -> None:
    school_class["students"] = [s for s in school_class["students"] if s["id"] in kept]
    for course in school_class["courses"]:
        for key in (*_MARK_KEYS, "attendance"):
            if key in course:
                course[key] = [m for m in course[key] if m["student"] in kept]
    school_class["promotion"] = [
        p for p in school_class.get("promotion", []) if p["student"] in kept
    ]


def _without_marks(school_class: dict[str, Any]) -> None:
    school_class["marks_recorded"] = False
    for course in school_class["courses"]:
        for key in _MARK_KEYS:
            if key in course:
                course[key] = []
        for lesson in course["lessons"]:
            lesson["homework"] = ""


def _earlier_text(text: str, years: int) -> str:
    def grade(match: re.Match[str]) -> str:
        number = int(match.group(1)) - years
        return f"{'во' if number == 2 else 'в'} {number} класс"

    text = _GRADE_WORD.sub(grade, text)
    return _RU_DATE.sub(lambda m: f"{m.group(1)}{int(m.group(2)) - years}", text)


def earlier_year(doc: dict[str, Any], start_year: int) -> dict[str, Any]:
    """The generated export (2025/2026) as the same school's year ``start_year``/``start_year+1``."""
    years = BASE_YEAR - start_year
    if years == 0:
        return doc
    if not 1 <= years <= 3:
        raise UsageError(
            f"демонстрационная выгрузка делается за {BASE_YEAR - 3}…{BASE_YEAR} учебные годы "
            f"(год начала), а не за {start_year}"
        )
    year_start = doc["academic_year"]["start"]
    back = timedelta(weeks=52 * years)
    later = copy.deepcopy(doc)
    joined_later = {
        s["id"] for c in later["classes"] for s in c["students"] if s["enrolled"] > year_start
    }
    kept_classes: list[dict[str, Any]] = []
    renames: dict[str, str] = {}
    for school_class in later["classes"]:
        if school_class["kind"] == "class":
            grade = school_class["grade"] - years
            if grade < 0:
                continue
            new_id = _class_id(grade, school_class["id"], school_class["grade"])
            renames[school_class["id"]] = new_id
            school_class["name"] = _class_name(grade, school_class["name"])
            school_class["grade"] = grade
            if grade <= 1:
                _without_marks(school_class)
        else:
            school_class["grade"] = max(0, school_class["grade"] - years)
        kept_classes.append(school_class)
    pupils = {s["id"] for c in kept_classes if c["kind"] == "class" for s in c["students"]}
    kept = pupils - joined_later
    for school_class in kept_classes:
        _keep_students(school_class, kept)
        for student in school_class["students"]:
            student["left"] = None
            student.pop("left_reason", None)
        for promotion in school_class["promotion"]:
            promotion["decision"] = _earlier_text(promotion["decision"], years)
            if promotion.get("protocol"):
                promotion["protocol"] = _earlier_text(promotion["protocol"], years)
    later["classes"] = [c for c in kept_classes if c["students"]]
    result = _shift_dates(_rename(later, renames), back)  # one pass: c1a→c0 and c2a→c1a at once
    result["academic_year"]["name"] = f"{start_year}/{start_year + 1}"
    assert isinstance(result, dict)
    return result


__all__ = ["BASE_YEAR", "earlier_year"]
