"""From the domain model to what the templates print: plain, JSON-ready structures.

Everything here is pure: the same class gives the same structures. Templates
(Typst for the class documents, Jinja2 HTML for WeasyPrint's) only lay them out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from archiver.model import (
    ILLNESS_CODES,
    LATE_CODES,
    ClassKind,
    Course,
    JournalExport,
    Lesson,
    Period,
    PeriodKind,
    SchoolClass,
    Student,
)
from archiver.wording import ru_date

GRID_COLUMNS = 25
"""Lesson columns per grid page: more would make a cell too narrow for two marks."""

MONTHS_NOMINATIVE = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip

MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


def ru_date_long(day: date) -> str:
    """«20 июня 2026 г.»"""
    return f"{day.day} {MONTHS_GENITIVE[day.month - 1]} {day.year} г."


def initial(name: str) -> str:
    """«Ольга» → «О.», a double name «Мария-Луиза» → «М.-Л.»."""
    return "-".join(f"{part[0]}." for part in name.split("-") if part)


def short_name(full_name: str) -> str:
    """«Кузнецова Ольга Петровна» → «О. П. Кузнецова» (for signature blocks)."""
    parts = full_name.split()
    if len(parts) < 2:
        return full_name
    initials = " ".join(initial(p) for p in parts[1:])
    return f"{initials} {parts[0]}"


def surname_initials(full_name: str) -> str:
    """«Кузнецова Мария-Луиза Петровна» → «Кузнецова М.-Л. П.» (contents, headings)."""
    parts = full_name.split()
    if len(parts) < 2:
        return full_name
    return f"{parts[0]} {' '.join(initial(p) for p in parts[1:])}"


def _collation(text: str | None) -> str:
    """Russian dictionary order: case-insensitive, «ё» sorts with «е»."""
    return (text or "").casefold().replace("ё", "е")


def ordered_students(school_class: SchoolClass) -> list[Student]:
    """The class list in alphabetical order: surname, then name, then patronymic.

    Whatever the export's order; full ties keep a stable order by birth date and id.
    """
    return sorted(
        school_class.students,
        key=lambda s: (
            _collation(s.last_name),
            _collation(s.first_name),
            _collation(s.middle_name),
            s.last_name,
            s.first_name,
            s.middle_name or "",
            s.birth_date or date.min,
            s.id,
        ),
    )


_LEFT_VERB = re.compile(r"^\s*выбы(?:л|ла|ли|л\(а\))\b[\s:,]*", re.IGNORECASE)
_ORDER = re.compile(r"[,;]?\s*(приказ\b.*)$", re.IGNORECASE)


def leaving(student: Student) -> tuple[str, str]:
    """A leaver's line and the order it rests on, for the statement's two columns.

    ``left_reason`` «выбыл в МАОУ «СОШ № 3», приказ № 45» → («выбыл(а) 12.02.2026 в
    МАОУ «СОШ № 3»», «приказ № 45»): the verb once, the order in the protocol column.
    """
    if not student.left:
        return "", ""
    reason = _LEFT_VERB.sub("", student.left_reason or "").strip()
    order = ""
    found = _ORDER.search(reason)
    if found:
        order = found[1].strip().rstrip(".")
        reason = reason[: found.start()].strip().rstrip(",;")
    line = left_phrase(student) + (f" {reason}" if reason else "")
    return line, order


def left_phrase(student: Student) -> str:
    """«выбыл(а) 12.02.2026», or nothing for a pupil who stayed."""
    return f"выбыл(а) {ru_date(student.left)}" if student.left else ""


_KIND_WORDS = {
    ClassKind.CLUB: re.compile(r"^\s*кружок\s+", re.IGNORECASE),
    ClassKind.EXTRACURRICULAR: re.compile(
        r"^\s*(?:группа\s+)?(?:внеурочной\s+деятельности\s+)?(?=«)", re.IGNORECASE
    ),
}


def class_title(school_class: SchoolClass) -> str:
    """How the class is named in a document title: «5 «А» класса», or the group's own name.

    A group's name without the kind the title already says: «Кружок «Умелые руки»» is
    titled «… кружка «Умелые руки»», not «… кружка Кружок «Умелые руки»».
    """
    if school_class.kind is ClassKind.CLASS:
        return f"{school_class.name} класса"
    pattern = _KIND_WORDS.get(school_class.kind)
    name = pattern.sub("", school_class.name).strip() if pattern else school_class.name
    name = name or school_class.name
    return f"«{name}»" if "«" not in name else name


def retention_phrase(years: int, legal_basis: str) -> str:
    """«5 лет, ст. 695 Перечня»: the term and, when the policy names it, the list's item."""
    from archiver.numbers import plural_form

    text = f"{years} {plural_form(years, 'год', 'года', 'лет')}"
    basis = legal_basis.strip()
    if basis:
        if "перечн" not in basis.casefold():
            basis += " Перечня"
        text += f", {basis}"
    return text


def lesson_dates(school_class: SchoolClass) -> tuple[date, date] | None:
    """The first and the last lesson date of a class (крайние даты of its journal)."""
    days = [lesson.date for course in school_class.courses for lesson in course.lessons]
    return (min(days), max(days)) if days else None


def home_classes(export: JournalExport) -> dict[str, str]:
    """Student id → the name of the class (not club or group) the pupil belongs to."""
    found: dict[str, str] = {}
    for school_class in export.classes:
        if school_class.kind is ClassKind.CLASS:
            for student in school_class.students:
                found.setdefault(student.id, school_class.name)
    return found


def assessment_periods(export: JournalExport, school_class: SchoolClass) -> list[Period]:
    """The periods a class's pages are split by.

    The class's own assessment periods; for a class without them (1st grade, clubs)
    the year's quarters, else halves, else the whole year as one period.
    """
    periods_by_id = export.academic_year.periods_by_id
    own = [periods_by_id[p] for p in school_class.period_ids if p in periods_by_id]
    if own:
        return sorted(own, key=lambda p: (p.start, p.end))
    for kind in (PeriodKind.QUARTER, PeriodKind.HALF):
        found = [p for p in export.academic_year.periods if p.kind is kind]
        if found:
            return sorted(found, key=lambda p: (p.start, p.end))
    year = export.academic_year
    return [Period("year", f"{year.name} учебный год", PeriodKind.YEAR, year.start, year.end)]


def split_lessons_by_period(
    lessons: Iterable[Lesson], periods: Sequence[Period]
) -> list[list[Lesson]]:
    """Assign every lesson to a period; nothing is dropped.

    A period's pages run from its start until the next period starts, so a lesson
    in a break (a make-up lesson) lands in the period before it; a lesson before
    the first period lands in the first.
    """
    buckets: list[list[Lesson]] = [[] for _ in periods]
    for lesson in sorted(lessons, key=lambda x: (x.date, x.number, x.id)):
        index = 0
        for i, period in enumerate(periods):
            if period.start <= lesson.date:
                index = i
        buckets[index].append(lesson)
    return buckets


@dataclass(frozen=True, slots=True)
class Names:
    """Resolves staff and subject ids to names for printing."""

    export: JournalExport

    def staff(self, staff_id: str | None) -> str:
        if staff_id is None:
            return ""
        member = self.export.staff_by_id.get(staff_id)
        return member.name if member else staff_id

    def subject(self, subject_id: str) -> str:
        subject = self.export.subjects_by_id.get(subject_id)
        return subject.name if subject else subject_id


def student_rows(school_class: SchoolClass) -> list[dict[str, object]]:
    """The class list: number, full name, birth date, joining and leaving dates."""
    rows = []
    for n, student in enumerate(ordered_students(school_class), start=1):
        rows.append(
            {
                "id": student.id,
                "n": n,
                "name": student.full_name,
                "birth_date": ru_date(student.birth_date) if student.birth_date else "",
                "enrolled": ru_date(student.enrolled),
                "left": ru_date(student.left) if student.left else "",
                "left_reason": student.left_reason or "",
            }
        )
    return rows


def _cell_text(marks: list[str], codes: list[str]) -> str:
    return " ".join([*codes, *marks])


def balanced_chunks(items: Sequence[Any], most: int) -> list[Sequence[Any]]:
    """Split into as few parts of at most ``most`` items as possible, of equal size (±1).

    29 lessons in grids of 25 columns give 15 + 14, not 25 + 4.
    """
    if not items:
        return [items]
    parts = -(-len(items) // most)
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (i < extra)
        out.append(items[start:end])
        start = end
    return out


GRID_PAGE_MM = 150.0
"""Height a grid may take and still be kept on one sheet (the sheet's text area is about 165 mm)."""


def _grid_fits(rows: list[dict[str, object]]) -> bool:
    """Whether a grid surely fits one landscape sheet: then it is never split between two.

    An estimate from its rows (a 9 pt line is 4.2 mm, a name of 30 letters fills a line
    of the name column); a grid that may not fit is allowed to run on.
    """
    height = 14.0  # caption and dates
    for row in rows:
        lines = -(-len(str(row["name"])) // 30) + (1 if row["status"] else 0)
        height += 1.6 + 4.2 * lines
    return height <= GRID_PAGE_MM


def _lesson_note(lesson: Lesson, course: Course, names: Names, notes: list[str]) -> str:
    parts = []
    if lesson.teacher and lesson.teacher != course.teacher:
        parts.append(f"замена: {names.staff(lesson.teacher)}")
    if notes:
        parts.append("отметки: " + "; ".join(notes))
    return "; ".join(parts)


def course_pages(
    export: JournalExport, school_class: SchoolClass, course: Course
) -> dict[str, object]:
    """Everything the Typst template prints for one course: grids and lesson tables per period.

    A period without lessons (one that has not started in a mid-year export) prints
    nothing. The year's and exam marks are the last columns of the last grid.
    """
    names = Names(export)
    students = ordered_students(school_class)
    periods = assessment_periods(export, school_class)
    marks_by_cell: dict[tuple[str, str], list[str]] = defaultdict(list)
    codes_by_cell: dict[tuple[str, str], list[str]] = defaultdict(list)
    notes_by_lesson: dict[str, list[str]] = defaultdict(list)
    if school_class.marks_recorded:
        for mark in course.marks:
            marks_by_cell[(mark.student, mark.lesson)].append(mark.value)
            note = (mark.note or "").strip()
            if note and note not in notes_by_lesson[mark.lesson]:
                notes_by_lesson[mark.lesson].append(note)
    for entry in course.attendance:
        codes_by_cell[(entry.student, entry.lesson)].append(entry.code)
    period_marks = {(m.student, m.period): m.value for m in course.period_marks}
    year_marks = {m.student: m.value for m in course.year_marks}
    exam_marks = {m.student: m.value for m in course.exam_marks}
    with_finals = school_class.marks_recorded and bool(year_marks or exam_marks)

    printed = [
        (period, lessons)
        for period, lessons in zip(
            periods, split_lessons_by_period(course.lessons, periods), strict=True
        )
        if lessons
        or (
            any(key[1] == period.id for key in period_marks) and period.ended_by(export.exported_at)
        )
    ]
    out_periods = []
    for index, (period, lessons) in enumerate(printed):
        show_period_marks = school_class.marks_recorded and period.ended_by(export.exported_at)
        chunks = balanced_chunks(lessons, GRID_COLUMNS)
        grids = []
        for part, chunk in enumerate(chunks, start=1):
            last = part == len(chunks)
            finals_here = last and with_finals and index == len(printed) - 1
            rows = []
            for n, student in enumerate(students, start=1):
                cells: list[str | None] = []
                for lesson in chunk:
                    if not student.enrolled_on(lesson.date):
                        cells.append(None)
                    else:
                        key = (student.id, lesson.id)
                        cells.append(
                            _cell_text(marks_by_cell.get(key, []), codes_by_cell.get(key, []))
                        )
                status = ""
                if chunk and student.left and student.left <= chunk[-1].date:
                    status = left_phrase(student)
                elif chunk and student.enrolled > chunk[0].date:
                    status = f"прибыл(а) {ru_date(student.enrolled)}"
                row: dict[str, object] = {
                    "n": n,
                    "name": student.full_name,
                    "status": status,
                    "cells": cells,
                }
                if last and show_period_marks:
                    row["pm"] = period_marks.get((student.id, period.id), "")
                if finals_here:
                    row["year"] = year_marks.get(student.id, "")
                    row["exam"] = exam_marks.get(student.id, "")
                rows.append(row)
            grids.append(
                {
                    "dates": [lesson.date.strftime("%d.%m") for lesson in chunk],
                    "rows": rows,
                    "period_mark": last and show_period_marks,
                    "period_short": short_period(period.name),
                    "year_mark": finals_here and bool(year_marks),
                    "exam_mark": finals_here and bool(exam_marks),
                    "part": part,
                    "parts": len(chunks),
                    "fits": _grid_fits(rows),
                }
            )
        out_periods.append(
            {
                "name": period.name,
                "span": f"{ru_date(period.start)} – {ru_date(period.end)}",
                "grids": grids,
                "lessons": [
                    {
                        "date": ru_date(lesson.date),
                        "number": lesson.number,
                        "topic": lesson.topic,
                        "homework": lesson.homework if school_class.marks_recorded else "",
                        "note": _lesson_note(
                            lesson, course, names, notes_by_lesson.get(lesson.id, [])
                        ),
                    }
                    for lesson in lessons
                ],
            }
        )
    finals: list[dict[str, str]] = []
    if with_finals and not printed:  # no grid to carry them: a table of their own
        finals = [
            {
                "name": s.full_name,
                "year": year_marks.get(s.id, ""),
                "exam": exam_marks.get(s.id, ""),
            }
            for s in students
        ]
    return {
        "class_name": school_class.name,
        "subject": names.subject(course.subject),
        "teacher": names.staff(course.teacher),
        "marks": school_class.marks_recorded,
        "periods": out_periods,
        "finals": finals,
        "has_exam": bool(exam_marks),
    }


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def attendance_summary(export: JournalExport, school_class: SchoolClass) -> dict[str, object]:
    """Per student and month: lessons missed, and of them for illness; lateness is not absence."""
    year = export.academic_year
    months = _months(year.start, year.end)
    missed: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    illness: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    for course in school_class.courses:
        for entry in course.attendance:
            if entry.code in LATE_CODES:
                continue
            lesson = course.lessons_by_id.get(entry.lesson)
            if lesson is None:
                continue
            key = (entry.student, (lesson.date.year, lesson.date.month))
            missed[key] += 1
            if entry.code in ILLNESS_CODES:
                illness[key] += 1
    rows = []
    for n, student in enumerate(ordered_students(school_class), start=1):
        cells = [(missed.get((student.id, m), 0), illness.get((student.id, m), 0)) for m in months]
        total, total_illness = sum(a for a, _ in cells), sum(b for _, b in cells)
        rows.append(
            {  # no lesson missed is an empty cell, in the months and in the totals alike
                "n": n,
                "name": student.full_name,
                "status": left_phrase(student),
                "cells": [{"missed": a or "", "illness": b or ""} for a, b in cells],
                "total": total or "",
                "total_illness": total_illness or "",
            }
        )
    return {
        "months": [MONTHS_NOMINATIVE[m - 1] for _, m in months],
        "rows": rows,
    }


def missed_totals(school_class: SchoolClass, student: Student) -> tuple[int, int]:
    """Lessons a student missed in the year across the class's courses: (all, for illness)."""
    total = illness = 0
    for course in school_class.courses:
        for entry in course.attendance:
            if entry.student == student.id and entry.code not in LATE_CODES:
                total += 1
                illness += entry.code in ILLNESS_CODES
    return total, illness


FINAL_COLUMNS_PER_TABLE = 30
"""Mark columns per table of the summary statement: wider would not fit a landscape A4 page.
A subject's columns are never split between tables."""

PERIOD_ABBREVIATIONS = {"четверть": "четв.", "полугодие": "полуг.", "триместр": "трим."}


_PERIOD_NAME = re.compile(r"^\s*(\S+)\s+(четверть|полугодие|триместр)\s*$", re.IGNORECASE)
_PERIOD_GROUP = {"четверть": "четверти", "полугодие": "полугодия", "триместр": "триместры"}


def period_numbers(periods: Sequence[Period]) -> tuple[list[str], str]:
    """Column headings of the periods under one group heading: («1», «2», …), «четверти».

    Narrow columns that never break a word; periods named otherwise keep their short
    names and no group heading («»).
    """
    found = [_PERIOD_NAME.match(p.name) for p in periods]
    words = {m[2].casefold() for m in found if m}
    if periods and all(found) and len(words) == 1:
        return [m[1] for m in found if m], _PERIOD_GROUP[words.pop()]
    return [short_period(p.name) for p in periods], ""


def short_period(name: str) -> str:
    """«1 четверть» → «1 четв.»: column headings narrow enough for the summary statement."""
    for word, short in PERIOD_ABBREVIATIONS.items():
        name = name.replace(word, short)
    return name


def final_marks(export: JournalExport, school_class: SchoolClass) -> dict[str, object]:
    """The summary statement of final marks (сводная ведомость итоговых отметок)."""
    names = Names(export)
    periods = [
        p for p in assessment_periods(export, school_class) if p.id in school_class.period_ids
    ]
    shown_periods = [p for p in periods if p.ended_by(export.exported_at)]
    subjects: list[dict[str, Any]] = []
    for course in school_class.courses:
        if not (course.period_marks or course.year_marks or course.exam_marks):
            continue  # e.g. speech therapy: taught, but not assessed
        pm = {(m.student, m.period): m.value for m in course.period_marks}
        ym = {m.student: m.value for m in course.year_marks}
        em = {m.student: m.value for m in course.exam_marks}
        columns = [short_period(p.name) for p in shown_periods] + ["год"] + (["экз."] if em else [])
        numbers, group = period_numbers(shown_periods)
        values = {}
        for student in ordered_students(school_class):
            row = [pm.get((student.id, p.id), "") for p in shown_periods] + [ym.get(student.id, "")]
            if em:
                row.append(em.get(student.id, ""))
            values[student.id] = row
        subjects.append(
            {
                "name": names.subject(course.subject),
                "columns": columns,
                "periods": numbers,
                "group": group,
                "finals": ["год"] + (["экз."] if em else []),
                "values": values,
            }
        )
    chunks: list[list[dict[str, Any]]] = [[]]
    for subject in subjects:
        width = sum(len(s["columns"]) for s in chunks[-1])
        if chunks[-1] and width + len(subject["columns"]) > FINAL_COLUMNS_PER_TABLE:
            chunks.append([])
        chunks[-1].append(subject)
    tables = []
    for chunk in chunks if subjects else []:
        tables.append(
            {
                "subjects": [
                    {k: s[k] for k in ("name", "columns", "periods", "group", "finals")}
                    for s in chunk
                ],
                "rows": [
                    {
                        "n": n,
                        "name": student.full_name,
                        "marks": [v for s in chunk for v in s["values"][student.id]],
                    }
                    for n, student in enumerate(ordered_students(school_class), start=1)
                ],
            }
        )
    decisions = {p.student: p for p in school_class.promotion}
    students = []
    for n, student in enumerate(ordered_students(school_class), start=1):
        total, illness = missed_totals(school_class, student)
        decision = decisions.get(student.id)
        left, order = leaving(student)
        protocol = (decision.protocol or "") if decision else ""
        students.append(
            {
                "n": n,
                "name": student.full_name,
                "missed": total,
                "missed_illness": illness,
                "decision": decision.decision if decision else "",
                "protocol": "; ".join(p for p in (protocol, order) if p),
                "left": left,
            }
        )
    return {
        "tables": tables,
        "students": students,
        "periods_not_ended": [p.name for p in periods if not p.ended_by(export.exported_at)],
        "class_teacher": names.staff(school_class.class_teacher),
        "class_teacher_short": short_name(names.staff(school_class.class_teacher)),
    }
