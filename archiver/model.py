"""The immutable domain model of one school's academic year.

Everything downstream of the sources (render, sign, store, catalog) reads these
objects only, never the wire format. Instances are frozen; collections are
tuples or read-only mappings. Lookups by id go through the ``*_by_id``
mappings built once at construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

DEFAULT_GRADING_SCALE: tuple[str, ...] = ("5", "4", "3", "2", "1", "зач", "незач", "н/а", "осв")
"""Mark values allowed when the export does not list its own ``grading_scale``."""

DEFAULT_ATTENDANCE_CODES: Mapping[str, str] = MappingProxyType(
    {
        "н": "отсутствовал",
        "б": "по болезни",
        "у": "по уважительной причине",
        "п": "без уважительной причины",
        "оп": "опоздал",
    }
)
"""Attendance codes used when the export does not list its own ``attendance_codes``."""

ILLNESS_CODES: frozenset[str] = frozenset({"б"})
"""Attendance codes that mean an absence for illness."""

LATE_CODES: frozenset[str] = frozenset({"оп"})
"""Attendance codes that mean the student came late (present, not an absence)."""


T = TypeVar("T")


def _index(items: tuple[T, ...], key: str) -> Mapping[str, T]:
    return MappingProxyType({getattr(item, key): item for item in items})


class PeriodKind(StrEnum):
    """The kind of an assessment period."""

    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


class ClassKind(StrEnum):
    """What a class list stands for."""

    CLASS = "class"
    CLUB = "club"
    EXTRACURRICULAR = "extracurricular"


@dataclass(frozen=True, slots=True)
class Director:
    """The head of the school, who signs the archive."""

    name: str
    position: str


@dataclass(frozen=True, slots=True)
class School:
    """The school whose journal is archived."""

    id: str
    short_name: str
    full_name: str
    director: Director
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """An assessment period (quarter, half or the whole year)."""

    id: str
    name: str
    kind: PeriodKind
    start: date
    end: date

    def ended_by(self, moment: datetime) -> bool:
        """Whether the period had ended on or before ``moment`` (in the moment's own date)."""
        return self.end <= moment.date()


@dataclass(frozen=True, slots=True)
class AcademicYear:
    """The academic year, e.g. 2025/2026, with its periods."""

    name: str
    start: date
    end: date
    periods: tuple[Period, ...]
    periods_by_id: Mapping[str, Period] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods_by_id", _index(self.periods, "id"))

    @property
    def closing_year(self) -> int:
        """The calendar year in which the academic year (and so its files) closes."""
        return self.end.year


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A teacher, educator or other member of staff."""

    id: str
    name: str
    position: str


@dataclass(frozen=True, slots=True)
class Subject:
    """A subject of the curriculum."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Student:
    """A pupil as listed in one class; the same id names the same person school-wide."""

    id: str
    last_name: str
    first_name: str
    enrolled: date
    middle_name: str | None = None
    birth_date: date | None = None
    left: date | None = None
    left_reason: str | None = None

    @property
    def full_name(self) -> str:
        """«Фамилия Имя Отчество» (without the middle name where there is none)."""
        parts = [self.last_name, self.first_name]
        if self.middle_name:
            parts.append(self.middle_name)
        return " ".join(parts)

    def enrolled_on(self, day: date) -> bool:
        """Whether the student belonged to the class on ``day``."""
        return self.enrolled <= day and (self.left is None or day <= self.left)


@dataclass(frozen=True, slots=True)
class Lesson:
    """One lesson of a course; ``teacher`` is set when a substitute taught it."""

    id: str
    date: date
    number: int
    topic: str
    homework: str = ""
    teacher: str | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """A current mark; several may exist for one student and lesson."""

    student: str
    lesson: str
    value: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Attendance:
    """An attendance entry (absence or lateness) of a student at a lesson."""

    student: str
    lesson: str
    code: str


@dataclass(frozen=True, slots=True)
class PeriodMark:
    """A student's mark for an assessment period."""

    student: str
    period: str
    value: str


@dataclass(frozen=True, slots=True)
class FinalMark:
    """A year mark (годовая) or an exam mark (экзаменационная) of a student."""

    student: str
    value: str


@dataclass(frozen=True, slots=True)
class Course:
    """One subject taught to one class, with its lessons and records."""

    id: str
    subject: str
    teacher: str
    lessons: tuple[Lesson, ...]
    marks: tuple[Mark, ...]
    attendance: tuple[Attendance, ...]
    period_marks: tuple[PeriodMark, ...]
    year_marks: tuple[FinalMark, ...]
    exam_marks: tuple[FinalMark, ...] = ()
    lessons_by_id: Mapping[str, Lesson] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lessons_by_id", _index(self.lessons, "id"))


@dataclass(frozen=True, slots=True)
class Promotion:
    """The teachers' council decision on a student at year end."""

    student: str
    decision: str
    protocol: str | None = None


@dataclass(frozen=True, slots=True)
class SchoolClass:
    """A class, a club or an extracurricular group with its students and courses."""

    id: str
    name: str
    grade: int
    kind: ClassKind
    marks_recorded: bool
    period_ids: tuple[str, ...]
    students: tuple[Student, ...]
    courses: tuple[Course, ...]
    class_teacher: str | None = None
    promotion: tuple[Promotion, ...] = ()
    students_by_id: Mapping[str, Student] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "students_by_id", _index(self.students, "id"))


@dataclass(frozen=True, slots=True)
class JournalExport:
    """One school's academic year as exported from its electronic journal."""

    format_version: int
    exported_at: datetime
    source_system: str
    school: School
    academic_year: AcademicYear
    staff: tuple[StaffMember, ...]
    subjects: tuple[Subject, ...]
    classes: tuple[SchoolClass, ...]
    grading_scale: tuple[str, ...] = DEFAULT_GRADING_SCALE
    attendance_codes: Mapping[str, str] = field(default_factory=lambda: DEFAULT_ATTENDANCE_CODES)
    staff_by_id: Mapping[str, StaffMember] = field(init=False, repr=False, compare=False)
    subjects_by_id: Mapping[str, Subject] = field(init=False, repr=False, compare=False)
    classes_by_id: Mapping[str, SchoolClass] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "staff_by_id", _index(self.staff, "id"))
        object.__setattr__(self, "subjects_by_id", _index(self.subjects, "id"))
        object.__setattr__(self, "classes_by_id", _index(self.classes, "id"))
