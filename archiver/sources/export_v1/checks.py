"""The checks of meaning that the schema cannot express.

Duplicate ids, dangling references, dates outside the academic year or the
student's enrolment, unknown mark values and attendance codes. The checks walk
the raw JSON defensively, so they also run when the structure has errors and
the whole list of problems comes out in one run.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from archiver import model
from archiver.sources.export_v1.wire import parse_date
from archiver.sources.report import ProblemSink
from archiver.wording import ru_date, shown


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
    parsed = parse_date(item.get(key))
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


def _check_similar_ids(items: list[tuple[str, dict[str, Any]]], sink: ProblemSink) -> None:
    """Warn about class ids that differ only in case, punctuation or invisible characters.

    They get folders of their own (:func:`archiver.kinds.safe_name` is injective), but a
    person reading the archive could take one for the other.
    """
    seen: dict[str, tuple[str, str]] = {}
    for path, item in items:
        item_id = _str(item, "id")
        if item_id is None:
            continue
        skeleton = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", item_id).casefold())
        other = seen.get(skeleton)
        if other is not None and other[1] != item_id:
            sink.warning(
                f"{path}.id",
                "similar_id",
                f"идентификатор класса {shown(item_id)} похож на {shown(other[1])} "
                f"({other[0]}.id): это разные классы, проверьте выгрузку",
            )
        else:
            seen.setdefault(skeleton, (path, item_id))


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
            f"зачислен {ru_date(self.enrolled)}" if self.enrolled else "дата зачисления неизвестна"
        )
        return f"{since}, выбыл {ru_date(self.left)}" if self.left else since


class SemanticChecker:
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
        _check_similar_ids(classes, self.sink)
        for path, school_class in classes:
            self.check_class(path, school_class)

    # -- the year and its periods

    def in_year(self, day: date) -> bool:
        if self.year_start is not None and day < self.year_start:
            return False
        return not (self.year_end is not None and day > self.year_end)

    def year_text(self) -> str:
        if self.year_start and self.year_end:
            return f"учебного года ({ru_date(self.year_start)} – {ru_date(self.year_end)})"
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
                        f"дата {ru_date(day)} вне {self.year_text()}",
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
                f"дата зачисления {ru_date(enrolled)} позже конца {self.year_text()}",
            )
        if left is not None:
            if not self.in_year(left):
                sink.error(
                    f"{path}.left",
                    "date_outside_year",
                    f"дата выбытия {ru_date(left)} вне {self.year_text()}",
                )
            if enrolled is not None and left < enrolled:
                sink.error(f"{path}.left", "date_order", "дата выбытия раньше даты зачисления")
        birth = _date(student, "birth_date")
        if birth is not None and self.year_start is not None and birth >= self.year_start:
            sink.error(
                f"{path}.birth_date",
                "date_order",
                f"дата рождения {ru_date(birth)} не раньше начала учебного года",
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
                        f"дата урока {ru_date(day)} вне {self.year_text()}",
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
                f'{what} за урок {ru_date(day)} вне периода обучения ученика "{student_id}" ({span.describe()})',
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
