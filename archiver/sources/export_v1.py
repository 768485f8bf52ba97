"""Reader of the journal export, format version 1.

Reading goes in three steps, and every step reports all it finds, not only the
first problem:

1. bytes → text → JSON (a file that is not UTF-8, not JSON or truncated stops
   here with one problem naming the position);
2. structure: the pydantic wire models below (types, required keys, allowed
   values). They are also the source of the shipped JSON Schema;
3. meaning: duplicate ids, dangling references, dates outside the academic
   year or the student's enrolment, unknown mark values and attendance codes.
   These checks walk the raw JSON defensively, so they also run when the
   structure has errors and the whole list comes out in one run.

Only a document without errors is turned into the domain model
(:mod:`archiver.model`).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from archiver import model
from archiver.sources.report import Problem, ProblemSink, Summary, ValidationReport

FORMAT_NAME = "school-journal-export"
FORMAT_VERSION = 1
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "journal-export-v1.schema.json"


# --------------------------------------------------------------------------- wire models


def _parse_date(value: Any) -> Any:
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


IsoDate = Annotated[date, BeforeValidator(_parse_date)]
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
    """The JSON Schema of format version 1, as shipped in ``archiver/schemas``."""
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


# --------------------------------------------------------------------------- paths and messages


def json_path(loc: tuple[int | str, ...]) -> str:
    """Render a location tuple as a JSON path: ``("classes", 3, "id")`` → ``classes[3].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _ru_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "логическое значение"
    if isinstance(value, int | float):
        return "число"
    if isinstance(value, str):
        return "строка"
    if isinstance(value, list):
        return "список"
    if isinstance(value, dict):
        return "объект"
    return type(value).__name__


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_MESSAGES = {
    "string_type": "ожидалась строка",
    "int_type": "ожидалось целое число",
    "bool_type": "ожидалось true или false",
    "list_type": "ожидался список",
    "dict_type": "ожидался объект",
    "model_type": "ожидался объект",
    "model_attributes_type": "ожидался объект",
    "date_type": "ожидалась дата в виде ГГГГ-ММ-ДД",
    "datetime_type": "ожидалась отметка времени ISO 8601 со смещением, например "
    "2026-06-20T10:00:00+05:00",
}


def _structure_message(error: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(error["type"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "missing_key", "обязательный ключ отсутствует"
    if kind in _TYPE_MESSAGES:
        return "wrong_type", f"{_TYPE_MESSAGES[kind]}, а не {_json_type(value)} {_shown(value)}"
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace(" or ", " или ")
        return "wrong_value", f"недопустимое значение {_shown(value)}; допустимо: {allowed}"
    if kind == "string_too_short":
        return "empty_string", "пустая строка недопустима"
    if kind in {"greater_than_equal", "less_than_equal"}:
        return "out_of_range", f"значение {_shown(value)} вне допустимого диапазона"
    if kind == "timezone_aware":
        return "wrong_value", "в отметке времени нет смещения от UTC (например +05:00)"
    return "wrong_value", f"недопустимое значение {_shown(value)}"


def structure_problems(error: ValidationError) -> list[Problem]:
    """Translate pydantic's errors into problems with JSON paths and Russian messages."""
    problems = []
    for item in error.errors(include_url=False):
        code, message = _structure_message(item)
        problems.append(Problem(json_path(tuple(item["loc"])), code, message))
    return problems


# --------------------------------------------------------------------------- semantic checks


def _items(container: Any, key: str, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(path, item)`` for each object item of the list ``container[key]``."""
    if not isinstance(container, dict):
        return
    value = container.get(key)
    if not isinstance(value, list):
        return
    for i, item in enumerate(value):
        if isinstance(item, dict):
            yield f"{path}.{key}[{i}]" if path else f"{key}[{i}]", item


def _str(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) and value else None


def _date(item: dict[str, Any], key: str) -> date | None:
    parsed = _parse_date(item.get(key))
    return parsed if isinstance(parsed, date) else None


def _check_unique_ids(
    items: list[tuple[str, dict[str, Any]]], what: str, sink: ProblemSink
) -> dict[str, str]:
    """Report repeated ids within one list; return id → path of its first occurrence."""
    seen: dict[str, str] = {}
    for path, item in items:
        item_id = _str(item, "id")
        if item_id is None:
            continue
        if item_id in seen:
            sink.error(
                f"{path}.id",
                "duplicate_id",
                f'повторный идентификатор {what} "{item_id}" (уже есть в {seen[item_id]})',
            )
        else:
            seen[item_id] = path
    return seen


class _Enrolment:
    __slots__ = ("enrolled", "left")

    def __init__(self, enrolled: date | None, left: date | None) -> None:
        self.enrolled = enrolled
        self.left = left

    def covers(self, day: date) -> bool:
        if self.enrolled is not None and day < self.enrolled:
            return False
        return self.left is None or day <= self.left

    def describe(self) -> str:
        since = (
            f"зачислен {_ru_date(self.enrolled)}" if self.enrolled else "дата зачисления неизвестна"
        )
        return f"{since}, выбыл {_ru_date(self.left)}" if self.left else since


class _SemanticChecker:
    """Checks what the schema cannot: references, uniqueness and dates."""

    def __init__(self, doc: dict[str, Any], sink: ProblemSink) -> None:
        self.doc = doc
        self.sink = sink
        year = doc.get("academic_year")
        year = year if isinstance(year, dict) else {}
        self.year_start = _date(year, "start")
        self.year_end = _date(year, "end")
        scale = doc.get("grading_scale")
        self.scale = (
            frozenset(v for v in scale if isinstance(v, str))
            if isinstance(scale, list)
            else frozenset(model.DEFAULT_GRADING_SCALE)
        )
        codes = doc.get("attendance_codes")
        self.codes = (
            frozenset(codes)
            if isinstance(codes, dict)
            else frozenset(model.DEFAULT_ATTENDANCE_CODES)
        )
        self.staff = _check_unique_ids(list(_items(doc, "staff", "")), "сотрудника", sink)
        self.subjects = _check_unique_ids(list(_items(doc, "subjects", "")), "предмета", sink)
        self.periods: dict[str, tuple[str, date | None, date | None]] = {}
        # student id → (path, identity) of its first listing, to compare the others with
        self.people: dict[str, tuple[str, tuple[Any, ...]]] = {}

    def run(self) -> None:
        self.check_year()
        classes = list(_items(self.doc, "classes", ""))
        _check_unique_ids(classes, "класса", self.sink)
        for path, school_class in classes:
            self.check_class(path, school_class)

    # -- the year and its periods

    def in_year(self, day: date) -> bool:
        if self.year_start is not None and day < self.year_start:
            return False
        return not (self.year_end is not None and day > self.year_end)

    def year_text(self) -> str:
        if self.year_start and self.year_end:
            return f"учебного года ({_ru_date(self.year_start)} – {_ru_date(self.year_end)})"
        return "учебного года"

    def check_year(self) -> None:
        if self.year_start and self.year_end and self.year_start > self.year_end:
            self.sink.error(
                "academic_year.end", "date_order", "конец учебного года раньше его начала"
            )
        periods = list(_items(self.doc.get("academic_year"), "periods", "academic_year"))
        _check_unique_ids(periods, "периода", self.sink)
        by_kind: dict[str, list[tuple[date, date, str]]] = defaultdict(list)
        for path, period in periods:
            start, end = _date(period, "start"), _date(period, "end")
            period_id = _str(period, "id")
            if period_id is not None and period_id not in self.periods:
                self.periods[period_id] = (str(period.get("kind")), start, end)
            for key, day in (("start", start), ("end", end)):
                if day is not None and not self.in_year(day):
                    self.sink.error(
                        f"{path}.{key}",
                        "date_outside_year",
                        f"дата {_ru_date(day)} вне {self.year_text()}",
                    )
            if start and end:
                if start > end:
                    self.sink.error(f"{path}.end", "date_order", "конец периода раньше его начала")
                else:
                    by_kind[str(period.get("kind"))].append((start, end, path))
        for spans in by_kind.values():
            spans.sort()
            for (_, end_a, path_a), (start_b, _, path_b) in itertools.pairwise(spans):
                if start_b <= end_a:
                    self.sink.error(
                        path_b,
                        "period_overlap",
                        f"период пересекается с периодом того же вида {path_a}",
                    )

    # -- a class

    def check_class(self, path: str, school_class: dict[str, Any]) -> None:
        sink = self.sink
        kind = school_class.get("kind")
        teacher = school_class.get("class_teacher")
        if kind == "class" and teacher is None:
            sink.error(
                f"{path}.class_teacher",
                "missing_key",
                "обязательный ключ отсутствует (у класса должен быть классный руководитель)",
            )
        self.check_ref(f"{path}.class_teacher", teacher, self.staff, "сотрудник")
        period_ids = school_class.get("period_ids")
        class_periods: set[str] = set()
        if isinstance(period_ids, list):
            for i, period_id in enumerate(period_ids):
                if self.check_ref(f"{path}.period_ids[{i}]", period_id, self.periods, "период"):
                    class_periods.add(period_id)

        students = list(_items(school_class, "students", path))
        _check_unique_ids(students, "ученика в списке класса", sink)
        enrolment: dict[str, _Enrolment] = {}
        for student_path, student in students:
            student_id = _str(student, "id")
            span = self.check_student(student_path, student)
            if student_id is not None and student_id not in enrolment:
                enrolment[student_id] = span

        marks_recorded = school_class.get("marks_recorded")
        courses = list(_items(school_class, "courses", path))
        _check_unique_ids(courses, "курса", sink)
        for course_path, course in courses:
            self.check_course(
                course_path, course, enrolment, class_periods, marks_recorded is not False
            )

        seen: dict[str, str] = {}
        for item_path, item in _items(school_class, "promotion", path):
            student_id = self.check_student_ref(
                f"{item_path}.student", item.get("student"), enrolment
            )
            if student_id is not None:
                self.check_repeat(seen, student_id, item_path, "решение педсовета об ученике")

    def check_student(self, path: str, student: dict[str, Any]) -> _Enrolment:
        sink = self.sink
        enrolled, left = _date(student, "enrolled"), _date(student, "left")
        if enrolled is not None and self.year_end is not None and enrolled > self.year_end:
            sink.error(
                f"{path}.enrolled",
                "date_outside_year",
                f"дата зачисления {_ru_date(enrolled)} позже конца {self.year_text()}",
            )
        if left is not None:
            if not self.in_year(left):
                sink.error(
                    f"{path}.left",
                    "date_outside_year",
                    f"дата выбытия {_ru_date(left)} вне {self.year_text()}",
                )
            if enrolled is not None and left < enrolled:
                sink.error(f"{path}.left", "date_order", "дата выбытия раньше даты зачисления")
        birth = _date(student, "birth_date")
        if birth is not None and self.year_start is not None and birth >= self.year_start:
            sink.error(
                f"{path}.birth_date",
                "date_order",
                f"дата рождения {_ru_date(birth)} не раньше начала учебного года",
            )
        student_id = _str(student, "id")
        if student_id is not None:
            identity = tuple(
                student.get(k) for k in ("last_name", "first_name", "middle_name", "birth_date")
            )
            first = self.people.get(student_id)
            if first is None:
                self.people[student_id] = (path, identity)
            elif first[1] != identity:
                sink.error(
                    path,
                    "inconsistent_student",
                    f'ученик "{student_id}" записан иначе, чем в {first[0]} '
                    "(фамилия, имя, отчество и дата рождения должны совпадать)",
                )
        return _Enrolment(enrolled, left)

    def check_course(
        self,
        path: str,
        course: dict[str, Any],
        enrolment: dict[str, _Enrolment],
        class_periods: set[str],
        marks_recorded: bool,
    ) -> None:
        sink = self.sink
        self.check_ref(f"{path}.subject", course.get("subject"), self.subjects, "предмет")
        self.check_ref(f"{path}.teacher", course.get("teacher"), self.staff, "сотрудник")
        lessons = list(_items(course, "lessons", path))
        lesson_ids = _check_unique_ids(lessons, "урока", sink)
        lesson_dates: dict[str, date] = {}
        homework = 0
        for lesson_path, lesson in lessons:
            day = _date(lesson, "date")
            lesson_id = _str(lesson, "id")
            if day is not None:
                if not self.in_year(day):
                    sink.error(
                        f"{lesson_path}.date",
                        "date_outside_year",
                        f"дата урока {_ru_date(day)} вне {self.year_text()}",
                    )
                if lesson_id is not None and lesson_id not in lesson_dates:
                    lesson_dates[lesson_id] = day
            if "teacher" in lesson and lesson["teacher"] is not None:
                self.check_ref(f"{lesson_path}.teacher", lesson["teacher"], self.staff, "сотрудник")
            if isinstance(lesson.get("homework"), str) and lesson["homework"].strip():
                homework += 1
        if not marks_recorded and homework:
            sink.warning(
                f"{path}.lessons",
                "homework_not_recorded",
                f"в классе без отметок (marks_recorded: false) записано домашних заданий: {homework}; "
                "они сохранены, но не печатаются",
            )

        marks = list(_items(course, "marks", path))
        for item_path, item in marks:
            self.check_entry(item_path, item, enrolment, lesson_ids, lesson_dates, "отметка")
            self.check_value(item_path, item)
        if not marks_recorded and marks:
            sink.warning(
                f"{path}.marks",
                "marks_not_recorded",
                f"в классе без отметок (marks_recorded: false) записано отметок: {len(marks)}; "
                "они сохранены, но не печатаются",
            )
        attendance_seen: dict[tuple[str | None, str | None], str] = {}
        for item_path, item in _items(course, "attendance", path):
            self.check_entry(
                item_path, item, enrolment, lesson_ids, lesson_dates, "запись посещаемости"
            )
            code = item.get("code")
            if isinstance(code, str) and code and code not in self.codes:
                sink.warning(
                    f"{item_path}.code",
                    "unknown_attendance_code",
                    f'код посещаемости "{code}" не описан в attendance_codes; сохранён как есть',
                )
            pair = (_str(item, "student"), _str(item, "lesson"))
            if pair[0] and pair[1]:
                first = attendance_seen.setdefault(pair, item_path)
                if first != item_path:
                    sink.warning(
                        item_path,
                        "duplicate_attendance",
                        "вторая запись посещаемости того же ученика на том же уроке "
                        f"(первая: {first})",
                    )

        seen: dict[str, str] = {}
        for item_path, item in _items(course, "period_marks", path):
            student_id = self.check_student_ref(
                f"{item_path}.student", item.get("student"), enrolment
            )
            period_id = item.get("period")
            if (
                self.check_ref(f"{item_path}.period", period_id, self.periods, "период")
                and period_id not in class_periods
            ):
                sink.error(
                    f"{item_path}.period",
                    "unknown_ref",
                    f'период "{period_id}" не входит в периоды аттестации класса (period_ids)',
                )
            if student_id is not None and isinstance(period_id, str):
                self.check_repeat(
                    seen, f"{student_id}\x00{period_id}", item_path, "отметка за период"
                )
            self.check_value(item_path, item)
        for list_key, what in (
            ("year_marks", "годовая отметка"),
            ("exam_marks", "экзаменационная отметка"),
        ):
            seen = {}
            for item_path, item in _items(course, list_key, path):
                student_id = self.check_student_ref(
                    f"{item_path}.student", item.get("student"), enrolment
                )
                if student_id is not None:
                    self.check_repeat(seen, student_id, item_path, what)
                self.check_value(item_path, item)

    def check_entry(
        self,
        path: str,
        item: dict[str, Any],
        enrolment: dict[str, _Enrolment],
        lesson_ids: Mapping[str, str],
        lesson_dates: dict[str, date],
        what: str,
    ) -> None:
        """A mark or attendance entry: student and lesson exist, the lesson falls in the enrolment."""
        student_id = self.check_student_ref(f"{path}.student", item.get("student"), enrolment)
        lesson_id = item.get("lesson")
        if not self.check_ref(f"{path}.lesson", lesson_id, lesson_ids, "урок этого курса"):
            return
        day = lesson_dates.get(lesson_id) if isinstance(lesson_id, str) else None
        if student_id is None or day is None:
            return
        span = enrolment[student_id]
        if not span.covers(day):
            self.sink.error(
                path,
                "outside_enrolment",
                f'{what} за урок {_ru_date(day)} вне периода обучения ученика "{student_id}" ({span.describe()})',
            )

    def check_value(self, path: str, item: dict[str, Any]) -> None:
        value = item.get("value")
        if isinstance(value, str) and value and value not in self.scale:
            self.sink.warning(
                f"{path}.value",
                "unknown_mark_value",
                f'отметка "{value}" не входит в шкалу оценок; сохранена как есть',
            )

    def check_repeat(self, seen: dict[str, str], key: str, path: str, what: str) -> None:
        if key in seen:
            self.sink.error(path, "duplicate_entry", f"повторная {what} (первая: {seen[key]})")
        else:
            seen[key] = path

    def check_ref(self, path: str, value: Any, known: Mapping[str, Any], what: str) -> bool:
        """Report a reference to a missing id; True when ``value`` names a known id."""
        if not isinstance(value, str) or not value:
            return False  # a type problem: reported by the structure step
        if value not in known:
            self.sink.error(path, "unknown_ref", f'неизвестный {what} "{value}"')
            return False
        return True

    def check_student_ref(
        self, path: str, value: Any, enrolment: dict[str, _Enrolment]
    ) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        if value not in enrolment:
            self.sink.error(
                path, "unknown_ref", f'неизвестный ученик "{value}" (нет в списке класса)'
            )
            return None
        return value


# --------------------------------------------------------------------------- model building


def to_model(wire: ExportV1) -> model.JournalExport:
    """Turn a validated wire document into the domain model."""
    year = wire.academic_year
    return model.JournalExport(
        format_version=wire.format_version,
        exported_at=wire.exported_at,
        source_system=wire.source_system,
        school=model.School(
            id=wire.school.id,
            short_name=wire.school.short_name,
            full_name=wire.school.full_name,
            address=wire.school.address,
            director=model.Director(wire.school.director.name, wire.school.director.position),
        ),
        academic_year=model.AcademicYear(
            name=year.name,
            start=year.start,
            end=year.end,
            periods=tuple(
                model.Period(p.id, p.name, model.PeriodKind(p.kind), p.start, p.end)
                for p in year.periods
            ),
        ),
        staff=tuple(model.StaffMember(s.id, s.name, s.position) for s in wire.staff),
        subjects=tuple(model.Subject(s.id, s.name) for s in wire.subjects),
        classes=tuple(_class_model(c) for c in wire.classes),
        grading_scale=(
            tuple(wire.grading_scale)
            if wire.grading_scale is not None
            else model.DEFAULT_GRADING_SCALE
        ),
        attendance_codes=(
            MappingProxyType(dict(wire.attendance_codes))
            if wire.attendance_codes is not None
            else model.DEFAULT_ATTENDANCE_CODES
        ),
    )


def _class_model(c: ClassV1) -> model.SchoolClass:
    return model.SchoolClass(
        id=c.id,
        name=c.name,
        grade=c.grade,
        kind=model.ClassKind(c.kind),
        marks_recorded=c.marks_recorded,
        period_ids=tuple(c.period_ids),
        class_teacher=c.class_teacher,
        students=tuple(
            model.Student(
                id=s.id,
                last_name=s.last_name,
                first_name=s.first_name,
                middle_name=s.middle_name or None,
                birth_date=s.birth_date,
                enrolled=s.enrolled,
                left=s.left,
                left_reason=s.left_reason,
            )
            for s in c.students
        ),
        courses=tuple(_course_model(k) for k in c.courses),
        promotion=tuple(model.Promotion(p.student, p.decision, p.protocol) for p in c.promotion),
    )


def _course_model(k: CourseV1) -> model.Course:
    return model.Course(
        id=k.id,
        subject=k.subject,
        teacher=k.teacher,
        lessons=tuple(
            model.Lesson(x.id, x.date, x.number, x.topic, x.homework, x.teacher) for x in k.lessons
        ),
        marks=tuple(model.Mark(x.student, x.lesson, x.value, x.note) for x in k.marks),
        attendance=tuple(model.Attendance(x.student, x.lesson, x.code) for x in k.attendance),
        period_marks=tuple(model.PeriodMark(x.student, x.period, x.value) for x in k.period_marks),
        year_marks=tuple(model.FinalMark(x.student, x.value) for x in k.year_marks),
        exam_marks=tuple(model.FinalMark(x.student, x.value) for x in k.exam_marks),
    )


# --------------------------------------------------------------------------- reading


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"строка {line}, столбец {column} (символ {offset + 1})"


def parse_json(raw: bytes) -> tuple[Any, Problem | None]:
    """Decode UTF-8 JSON; on failure return one problem naming the position."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        return None, Problem(
            "",
            "not_utf8",
            f"файл не в кодировке UTF-8: недопустимый байт 0x{raw[exc.start]:02X}; "
            f"{_position(before, len(before))}, байт {exc.start + 1}",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return None, Problem("", "not_json", "файл пуст, а должен содержать документ JSON")
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            what = "файл обрывается раньше конца документа JSON (усечён?)"
        else:
            what = "файл не является корректным JSON"
        reason = _JSON_REASONS.get(exc.msg, exc.msg)
        return None, Problem("", "not_json", f"{what}: {reason}; {_position(text, exc.pos)}")


_JSON_REASONS = {
    "Expecting value": "ожидалось значение",
    "Expecting ',' delimiter": "ожидалась запятая",
    "Expecting ':' delimiter": "ожидалось двоеточие",
    "Expecting property name enclosed in double quotes": "ожидалось имя ключа в двойных кавычках",
    "Unterminated string starting at": "незакрытая строка",
    "Invalid control character at": "недопустимый управляющий символ",
    "Extra data": "лишние данные после конца документа",
    "Invalid \\escape": "недопустимая escape-последовательность",
}


def _check_format(doc: Any) -> Problem | None:
    """The top-level keys that decide whether the document can be read at all."""
    if not isinstance(doc, dict):
        return Problem("", "format", f"документ должен быть объектом JSON, а не {_json_type(doc)}")
    fmt = doc.get("format")
    if fmt != FORMAT_NAME:
        shown = "отсутствует" if fmt is None else f"= {_shown(fmt)}"
        return Problem(
            "format",
            "format",
            f'это не выгрузка электронного журнала: ключ format {shown}, ожидалось "{FORMAT_NAME}"',
        )
    version = doc.get("format_version")
    if version is None:
        return Problem("format_version", "format_version", "обязательный ключ отсутствует")
    if version != FORMAT_VERSION or isinstance(version, bool):
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            message = (
                f"выгрузка в формате версии {version}, а эта версия archiver читает только версию "
                f"{FORMAT_VERSION}; обновите archiver"
            )
        else:
            message = f"неизвестная версия формата {_shown(version)}; поддерживается версия {FORMAT_VERSION}"
        return Problem("format_version", "format_version", message)
    return None


def read_export(source: Path | str | bytes, *, name: str | None = None) -> ValidationReport:
    """Read and validate an export from a file path or from bytes.

    Never raises for bad input: every problem lands in the returned report, and
    ``report.export`` holds the domain model only when there are no errors.
    """
    if isinstance(source, bytes):
        report = ValidationReport(source=name or "<данные>")
        raw = source
    else:
        path = Path(source)
        report = ValidationReport(source=name or str(path))
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            report.errors.append(Problem("", "not_found", f"файл {path} не найден"))
            return report
        except IsADirectoryError:
            report.errors.append(
                Problem("", "not_found", f"{path} — это папка, а нужен файл выгрузки")
            )
            return report
        except OSError as exc:
            report.errors.append(
                Problem("", "unreadable", f"файл {path} не читается: {exc.strerror}")
            )
            return report
    return validate_document(raw, report)


def validate_document(raw: bytes, report: ValidationReport) -> ValidationReport:
    """Fill ``report`` with the problems of the document ``raw`` (and the model when valid)."""
    doc, problem = parse_json(raw)
    if problem is None:
        problem = _check_format(doc)
    if problem is not None:
        report.errors.append(problem)
        return report
    sink = ProblemSink()
    wire: ExportV1 | None = None
    try:
        wire = ExportV1.model_validate(doc)
    except ValidationError as exc:
        sink.extend_errors(structure_problems(exc))
    _SemanticChecker(doc, sink).run()
    report.errors.extend(sink.errors)
    report.warnings.extend(sink.warnings)
    if wire is not None and not report.errors:
        report.export = to_model(wire)
        report.summary = Summary.of(report.export)
    return report


if __name__ == "__main__":  # regenerate the shipped JSON Schema
    SCHEMA_FILE.write_text(json_schema_text(), encoding="utf-8")


# --------------------------------------------------------------------------- writing back


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
