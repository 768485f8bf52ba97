"""The wire models: pydantic models of the export's JSON, format version 1.

They check the structure (types, required keys, allowed values) and are the
source of the JSON Schema shipped in ``archiver/data/schemas``; what they cannot
check is in :mod:`archiver.sources.export_v1.checks`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from archiver.data import builtin

FORMAT_NAME = "school-journal-export"
FORMAT_VERSION = 1
SCHEMA_FILE = builtin("schemas") / "journal-export-v1.schema.json"


def parse_date(value: Any) -> Any:
    """A ``YYYY-MM-DD`` string as a date; anything else unchanged (the schema reports it)."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _parse_timestamp(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


IsoDate = Annotated[date, BeforeValidator(parse_date)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_parse_timestamp)]
Id = Annotated[str, Field(min_length=1)]
Text = Annotated[str, Field(min_length=1)]


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class DirectorV1(_Wire):
    """The school's director."""

    name: Text
    position: Text


class SchoolV1(_Wire):
    """The school."""

    id: Id
    short_name: Text
    full_name: Text
    address: str | None = None
    director: DirectorV1


class PeriodV1(_Wire):
    """An assessment period."""

    id: Id
    name: Text
    kind: Literal["quarter", "half", "year"]
    start: IsoDate
    end: IsoDate


class AcademicYearV1(_Wire):
    """The academic year."""

    name: Text
    start: IsoDate
    end: IsoDate
    periods: list[PeriodV1]


class StaffV1(_Wire):
    """A member of staff."""

    id: Id
    name: Text
    position: str


class SubjectV1(_Wire):
    """A subject."""

    id: Id
    name: Text


class StudentV1(_Wire):
    """A student in one class list."""

    id: Id
    last_name: Text
    first_name: Text
    middle_name: str | None = None
    birth_date: IsoDate | None = None
    enrolled: IsoDate
    left: IsoDate | None = None
    left_reason: str | None = None


class LessonV1(_Wire):
    """A lesson."""

    id: Id
    date: IsoDate
    number: Annotated[int, Field(ge=0)]
    topic: str
    homework: str = ""
    teacher: Id | None = None


class MarkV1(_Wire):
    """A current mark."""

    student: Id
    lesson: Id
    value: Text
    note: str | None = None


class AttendanceV1(_Wire):
    """An attendance entry."""

    student: Id
    lesson: Id
    code: Text


class PeriodMarkV1(_Wire):
    """A period mark."""

    student: Id
    period: Id
    value: Text


class FinalMarkV1(_Wire):
    """A year or exam mark."""

    student: Id
    value: Text


class CourseV1(_Wire):
    """A subject taught to a class."""

    id: Id
    subject: Id
    teacher: Id
    lessons: list[LessonV1]
    marks: list[MarkV1]
    attendance: list[AttendanceV1]
    period_marks: list[PeriodMarkV1]
    year_marks: list[FinalMarkV1]
    exam_marks: list[FinalMarkV1] = []


class PromotionV1(_Wire):
    """A teachers' council decision."""

    student: Id
    decision: Text
    protocol: str | None = None


class ClassV1(_Wire):
    """A class, club or extracurricular group."""

    id: Id
    name: Text
    grade: Annotated[int, Field(ge=0, le=12)]
    kind: Literal["class", "club", "extracurricular"]
    marks_recorded: bool
    period_ids: list[Id]
    class_teacher: Id | None = None
    students: list[StudentV1]
    courses: list[CourseV1]
    promotion: list[PromotionV1] = []


class ExportV1(_Wire):
    """A school's academic year in journal export format version 1."""

    model_config = ConfigDict(
        strict=True,
        frozen=True,
        extra="ignore",
        title="Journal export, format version 1",
    )

    format: Literal["school-journal-export"]
    format_version: Literal[1]
    exported_at: Timestamp
    source_system: Text
    school: SchoolV1
    academic_year: AcademicYearV1
    grading_scale: list[Text] | None = None
    attendance_codes: dict[str, str] | None = None
    staff: list[StaffV1]
    subjects: list[SubjectV1]
    classes: list[ClassV1]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of format version 1, as shipped in ``archiver/data/schemas``."""
    schema = ExportV1.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://archiver.example/schemas/journal-export-v1.schema.json"
    schema["description"] = (
        "One school's academic year exported from an electronic class journal. "
        "Extra keys are allowed and ignored. References, duplicate ids and dates "
        "are checked by the reader beyond this schema (see docs/journal-export.md)."
    )
    return schema


def json_schema_text() -> str:
    """The shipped schema file's exact text (regenerate with ``python -m archiver.sources.export_v1``)."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
