"""The data a 25-year summary statement embeds: format ``archiver-class-statement``, version 1.

A summary statement (of final marks, or of the teachers' council decisions for a
class without marks) is kept 25 years, the journal data it was made from only 5.
So the statement embeds only what it certifies (152-ФЗ: no more personal data, and
for no longer, than needed): the school and year, the class and its class teacher,
each pupil's name, joining and leaving, the period, year and exam marks it prints,
the lessons missed (all / for illness) and the council's decision. No lessons, no
current marks, no attendance codes, no birth dates.

This module is the format's one definition: the pydantic wire models (the source of
the JSON Schema shipped in ``archiver/data/schemas``, regenerate it with
``python -m archiver.sources.statement_v1``), :func:`statement_data` (the model →
the embedded JSON, used by render) and :func:`read_statement` (the embedded JSON →
a reduced domain model, used by retrieval, the catalog and the extract once the
year's export and journal bundles are gone).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archiver import model
from archiver.data import builtin
from archiver.errors import ArchiverError, ExitCode
from archiver.kinds import safe_name
from archiver.sources.export_v1.build import academic_year_model, school_model
from archiver.sources.export_v1.wire import (
    AcademicYearV1,
    FinalMarkV1,
    IsoDate,
    PeriodMarkV1,
    PromotionV1,
    SchoolV1,
    Timestamp,
)

STATEMENT_FORMAT = "archiver-class-statement"
STATEMENT_VERSION = 1
SCHEMA_FILE = builtin("schemas") / "class-statement-v1.schema.json"
FINAL_MARKS_STATEMENT = "final_marks"
"""The statement of final marks (a class with marks)."""
DECISIONS_STATEMENT = "decisions"
"""The statement of the council's decisions (a class without marks: 1st grade, I доп.)."""

Id = Annotated[str, Field(min_length=1)]
Text = Annotated[str, Field(min_length=1)]


class StatementError(ArchiverError):
    """A statement's embedded data cannot be read."""

    exit_code = ExitCode.PROBLEMS_FOUND


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class StatementClassV1(_Wire):
    """The class the statement is of."""

    id: Id
    name: Text
    grade: int
    marks_recorded: bool
    class_teacher: str | None = None
    """The class teacher's full name, as printed at the signature line."""
    first_lesson: IsoDate | None = None
    last_lesson: IsoDate | None = None
    """The date span of the class's lessons (крайние даты of the year's file)."""


class StatementStudentV1(_Wire):
    """A pupil as the statement prints them."""

    id: Id
    last_name: Text
    first_name: Text
    middle_name: str | None = None
    enrolled: IsoDate
    left: IsoDate | None = None
    left_reason: str | None = None
    missed: int = Field(ge=0)
    """Lessons missed in the year (lateness is not an absence)."""
    missed_illness: int = Field(ge=0)
    """Of them, for illness."""


class StatementSubjectV1(_Wire):
    """A subject's marks as printed: the ended periods', the year's and the exam's."""

    course: Id
    subject: Id
    name: Text
    period_marks: list[PeriodMarkV1]
    year_marks: list[FinalMarkV1]
    exam_marks: list[FinalMarkV1] = []


class StatementV1(_Wire):
    """The data embedded in a summary statement (``statement-<class>.json``)."""

    format: Literal["archiver-class-statement"]
    format_version: Literal[1]
    statement: Literal["final_marks", "decisions"]
    exported_at: Timestamp
    source_system: Text
    school: SchoolV1
    academic_year: AcademicYearV1
    """Only the periods whose marks are printed (those ended on the export date)."""
    school_class: StatementClassV1 = Field(alias="class")
    students: list[StatementStudentV1]
    subjects: list[StatementSubjectV1]
    promotion: list[PromotionV1]


def statement_attachment_name(class_id: str) -> str:
    """The embedded file's name in the class's summary statement."""
    return f"statement-{safe_name(class_id)}.json"


def statement_kind(school_class: model.SchoolClass) -> str:
    """Which statement a class gets: of final marks, or of decisions (no marks recorded)."""
    return FINAL_MARKS_STATEMENT if school_class.marks_recorded else DECISIONS_STATEMENT


# -- the model → the embedded data


def printed_periods(
    export: model.JournalExport, school_class: model.SchoolClass
) -> list[model.Period]:
    """The class's own periods that had ended on the export date (their marks are printed)."""
    periods = [
        export.academic_year.periods_by_id[p]
        for p in school_class.period_ids
        if p in export.academic_year.periods_by_id
    ]
    ended = [p for p in periods if p.ended_by(export.exported_at)]
    return sorted(ended, key=lambda p: (p.start, p.end))


def assessed(course: model.Course) -> bool:
    """Whether a course is in the statement (taught but not assessed ones, e.g. speech therapy, are not)."""
    return bool(course.period_marks or course.year_marks or course.exam_marks)


def missed_lessons(school_class: model.SchoolClass) -> dict[str, tuple[int, int]]:
    """Per pupil: lessons missed in the year (all, for illness); lateness is not an absence."""
    totals: dict[str, tuple[int, int]] = {}
    for course in school_class.courses:
        for entry in course.attendance:
            if entry.code in model.LATE_CODES:
                continue
            total, illness = totals.get(entry.student, (0, 0))
            totals[entry.student] = (total + 1, illness + (entry.code in model.ILLNESS_CODES))
    return totals


def lesson_span(school_class: model.SchoolClass) -> tuple[date, date] | None:
    """The first and the last lesson date of a class (крайние даты), ``None`` without lessons."""
    days = [lesson.date for course in school_class.courses for lesson in course.lessons]
    return (min(days), max(days)) if days else None


def _student(student: model.Student, missed: tuple[int, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": student.id,
        "last_name": student.last_name,
        "first_name": student.first_name,
    }
    if student.middle_name:
        out["middle_name"] = student.middle_name
    out["enrolled"] = student.enrolled.isoformat()
    if student.left is not None:
        out["left"] = student.left.isoformat()
        if student.left_reason:
            out["left_reason"] = student.left_reason
    out["missed"], out["missed_illness"] = missed
    return out


def statement_data(export: model.JournalExport, class_id: str) -> dict[str, Any]:
    """What the class's summary statement embeds: only the data it prints (see the module)."""
    school_class = export.classes_by_id[class_id]
    school = export.school
    year = export.academic_year
    periods = printed_periods(export, school_class) if school_class.marks_recorded else []
    shown = {p.id for p in periods}
    pupils = {s.id for s in school_class.students}
    missed = missed_lessons(school_class)
    teacher = export.staff_by_id.get(school_class.class_teacher or "")
    span = lesson_span(school_class)
    klass: dict[str, Any] = {
        "id": school_class.id,
        "name": school_class.name,
        "grade": school_class.grade,
        "marks_recorded": school_class.marks_recorded,
    }
    if teacher is not None:
        klass["class_teacher"] = teacher.name
    if span is not None:
        klass["first_lesson"], klass["last_lesson"] = (d.isoformat() for d in span)
    subjects = []
    if school_class.marks_recorded:
        names = {s.id: s.name for s in export.subjects}
        for course in school_class.courses:
            if not assessed(course):
                continue
            subjects.append(
                {
                    "course": course.id,
                    "subject": course.subject,
                    "name": names.get(course.subject, course.subject),
                    "period_marks": [
                        {"student": m.student, "period": m.period, "value": m.value}
                        for m in course.period_marks
                        if m.period in shown and m.student in pupils
                    ],
                    "year_marks": [
                        {"student": m.student, "value": m.value}
                        for m in course.year_marks
                        if m.student in pupils
                    ],
                    "exam_marks": [
                        {"student": m.student, "value": m.value}
                        for m in course.exam_marks
                        if m.student in pupils
                    ],
                }
            )
    school_data: dict[str, Any] = {
        "id": school.id,
        "short_name": school.short_name,
        "full_name": school.full_name,
        "director": {"name": school.director.name, "position": school.director.position},
    }
    if school.address:
        school_data["address"] = school.address
    promotion = []
    for p in school_class.promotion:
        entry = {"student": p.student, "decision": p.decision}
        if p.protocol:
            entry["protocol"] = p.protocol
        promotion.append(entry)
    return {
        "format": STATEMENT_FORMAT,
        "format_version": STATEMENT_VERSION,
        "statement": statement_kind(school_class),
        "exported_at": export.exported_at.isoformat(),
        "source_system": export.source_system,
        "school": school_data,
        "academic_year": {
            "name": year.name,
            "start": year.start.isoformat(),
            "end": year.end.isoformat(),
            "periods": [
                {
                    "id": p.id,
                    "name": p.name,
                    "kind": p.kind.value,
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                }
                for p in periods
            ],
        },
        "class": klass,
        "students": [_student(s, missed.get(s.id, (0, 0))) for s in school_class.students],
        "subjects": subjects,
        "promotion": promotion,
    }


def statement_bytes(export: model.JournalExport, class_id: str) -> bytes:
    """:func:`statement_data` as the embedded file's bytes (UTF-8 JSON, deterministic)."""
    data = statement_data(export, class_id)
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


# -- the embedded data → a reduced domain model


CLASS_TEACHER_ID = "class-teacher"
"""The staff id the class teacher gets in the model read from a statement (names only are kept)."""


def read_statement(data: bytes, name: str = "statement") -> model.JournalExport:
    """The embedded data as a one-class export: pupils, marks, decisions; no lessons.

    Raises :class:`StatementError` naming the place when the data is not a
    statement of this format.
    """
    try:
        wire = StatementV1.model_validate_json(data, by_alias=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(корень)"
        raise StatementError(
            f"{name}: вложенные данные ведомости не читаются ({where}: {first['msg']}; "
            f"всего ошибок: {exc.error_count()})"
        ) from exc
    year = wire.academic_year
    klass = wire.school_class
    staff = (
        (model.StaffMember(CLASS_TEACHER_ID, klass.class_teacher, "Классный руководитель"),)
        if klass.class_teacher
        else ()
    )
    courses = tuple(
        model.Course(
            id=s.course,
            subject=s.subject,
            teacher="",
            lessons=(),
            marks=(),
            attendance=(),
            period_marks=tuple(
                model.PeriodMark(m.student, m.period, m.value) for m in s.period_marks
            ),
            year_marks=tuple(model.FinalMark(m.student, m.value) for m in s.year_marks),
            exam_marks=tuple(model.FinalMark(m.student, m.value) for m in s.exam_marks),
        )
        for s in wire.subjects
    )
    school_class = model.SchoolClass(
        id=klass.id,
        name=klass.name,
        grade=klass.grade,
        kind=model.ClassKind.CLASS,
        marks_recorded=klass.marks_recorded,
        period_ids=tuple(p.id for p in year.periods),
        students=tuple(
            model.Student(
                id=s.id,
                last_name=s.last_name,
                first_name=s.first_name,
                middle_name=s.middle_name,
                enrolled=s.enrolled,
                left=s.left,
                left_reason=s.left_reason,
            )
            for s in wire.students
        ),
        courses=courses,
        class_teacher=CLASS_TEACHER_ID if klass.class_teacher else None,
        promotion=tuple(model.Promotion(p.student, p.decision, p.protocol) for p in wire.promotion),
    )
    return model.JournalExport(
        format_version=1,
        exported_at=wire.exported_at,
        source_system=wire.source_system,
        school=school_model(wire.school),
        academic_year=academic_year_model(year),
        staff=staff,
        subjects=tuple(model.Subject(s.subject, s.name) for s in wire.subjects),
        classes=(school_class,),
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the statement's embedded data, as shipped in ``archiver/data/schemas``."""
    schema = StatementV1.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://archiver.example/schemas/class-statement-v1.schema.json"
    schema["description"] = (
        "The data embedded in a class's 25-year summary statement (of final marks, or of the "
        "teachers' council decisions for a class without marks): only what the statement "
        "prints. See docs/documents.md."
    )
    return schema


def json_schema_text() -> str:
    """The shipped schema file's exact text."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(json_schema_text(), encoding="utf-8")
