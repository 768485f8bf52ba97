"""ЭПОС.Школа and the other systems of the МЭШ family: the teacher-side web API.

The routes and response shapes are those seen in open client code (the teacher
routes of МЭШ under ``/api/ej/…`` with the ``Auth-Token`` and ``Profile-Id``
headers); they were not checked against a live system (docs/sources.md). The walk:
the account's profile → academic year → classes → assessment periods → groups
(one course each) → pupils with those who left and their period and year marks →
for each group its schedule items (lessons, topics, homework, substitutions),
marks (deleted ones left out, replaced ones superseded) and attendance. What the
system does not give (promotion decisions, enrolment dates) is reported as missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from archiver.progress import ProgressCallback, StageProgress
from archiver.settings import EposSource
from archiver.sources.importers.assemble import (
    class_name,
    document,
    period_kind,
    person_name,
    year_digits,
    year_label,
)
from archiver.sources.importers.base import (
    ApiClient,
    Notes,
    Pulled,
    PullInputError,
    SchoolInfo,
    Shape,
)
from archiver.sources.importers.mapping import Mapping

CORE = "/api/ej/core/teacher/v1"
PLAN = "/api/ej/plan/teacher/v1"
PROFILE = f"{CORE}/teacher_profiles/{{id}}"
YEARS = f"{CORE}/academic_years"
CLASSES = f"{CORE}/class_units"
PERIODS = f"{CORE}/attestation_periods_schedules"
GROUPS = f"{CORE}/groups"
TEACHERS = f"{CORE}/teacher_profiles"
STUDENTS = f"{CORE}/student_profiles"
SCHEDULE = f"{PLAN}/schedule_items"
MARKS = f"{CORE}/marks"
ATTENDANCE = f"{CORE}/attendances"
PER_PAGE = 100


# -- response shapes (the fields read; others are ignored)


class Person(Shape):
    id: int
    last_name: str
    first_name: str
    middle_name: str | None = None


class Profile(Person):
    assigned_group_ids: tuple[int, ...] = ()


class AcademicYear(Shape):
    id: int
    name: str
    begin_date: date
    end_date: date
    current_year: bool = False


class ClassUnit(Shape):
    id: int
    name: str
    class_level_id: int
    mentor_ids: tuple[int, ...] = ()


class Period(Shape):
    id: int
    name: str
    begin_date: date
    end_date: date
    is_year: bool = False


class PeriodSchedule(Shape):
    id: int
    class_unit_ids: list[int]
    periods: list[Period]


class Group(Shape):
    id: int
    name: str
    subject_id: int
    subject_name: str
    class_unit_ids: list[int]
    teacher_ids: tuple[int, ...] = ()


class Grade(Shape):
    origin: str | None = None
    five: float | None = None


class MarkValue(Shape):
    grade: Grade


class FinalMark(Shape):
    id: int
    subject_id: int
    attestation_period_id: int | None = None
    is_year_mark: bool = False
    values: list[MarkValue]
    deleted_at: datetime | None = None


class Student(Person):
    birth_date: date | None = None
    class_unit_id: int
    enrolled_on: date | None = None
    deleted_at: datetime | None = None
    left_reason: str | None = None
    final_marks: tuple[FinalMark, ...] = ()


class Homework(Shape):
    description: str


class ScheduleItem(Shape):
    id: int
    group_id: int
    date: date
    lesson_number: int
    teacher_id: int | None = None
    replaced_teacher_id: int | None = None
    topic_name: str | None = None
    homeworks: tuple[Homework, ...] = ()
    is_cancelled: bool = False


class Mark(Shape):
    id: int
    student_profile_id: int
    schedule_lesson_id: int
    values: list[MarkValue]
    weight: int = 1
    comment: str | None = None
    deleted_at: datetime | None = None
    replaces_mark_id: int | None = None


class Attendance(Shape):
    id: int
    student_profile_id: int
    schedule_lesson_id: int
    absence_reason_id: int | None = None
    is_late: bool = False
    deleted_at: datetime | None = None


# -- the walk


def _grade_text(value: MarkValue) -> str:
    if value.grade.origin is not None and value.grade.origin.strip():
        return value.grade.origin
    if value.grade.five is not None:
        five = value.grade.five
        return str(int(five)) if five == int(five) else str(five)
    return "?"


@dataclass
class _Context:
    api: ApiClient
    mapping: Mapping
    notes: Notes
    year: AcademicYear


class EposImporter:
    """The МЭШ-family importer (:class:`~archiver.sources.importers.base.Importer`)."""

    system: ClassVar[str] = "epos"
    title: ClassVar[str] = "ЭПОС.Школа"

    def __init__(self, options: EposSource, mapping: Mapping) -> None:
        self.options = options
        self.mapping = mapping
        self.title = options.title  # type: ignore[misc]

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Auth-Token": token, "Profile-Id": self.options.profile_id}

    def pull(
        self,
        api: ApiClient,
        school: SchoolInfo,
        year: str | None,
        progress: ProgressCallback | None,
    ) -> Pulled:
        notes = Notes()
        profile = api.get(PROFILE, Profile, path=PROFILE.format(id=self.options.profile_id))
        account = {
            "profile_id": self.options.profile_id,
            "name": person_name(profile.last_name, profile.first_name, profile.middle_name),
        }
        years: list[AcademicYear] = api.get(YEARS, list[AcademicYear])
        chosen = self._year(years, year or self.options.academic_year)
        ctx = _Context(api, self.mapping, notes, chosen)
        units: list[ClassUnit] = api.pages(
            CLASSES, ClassUnit, params={"academic_year_id": chosen.id}, per_page=PER_PAGE
        )
        if self.options.classes:
            wanted = set(self.options.classes)
            units = [u for u in units if str(u.id) in wanted or u.name in wanted]
        if not units:
            raise PullInputError(
                f"{self.title}: учётной записи не видно ни одного класса за {chosen.name}"
            )
        schedules: list[PeriodSchedule] = api.get(
            PERIODS, list[PeriodSchedule], params={"academic_year_id": chosen.id}
        )
        groups: list[Group] = api.pages(
            GROUPS,
            Group,
            params={"academic_year_id": chosen.id, "class_unit_ids": [u.id for u in units]},
            per_page=PER_PAGE,
        )
        stage = StageProgress(progress, "pull")
        stage.start(len(units))
        all_periods: dict[str, dict[str, Any]] = {}
        classes: list[dict[str, Any]] = []
        teacher_ids: set[int] = set()
        subjects: dict[str, str] = {}
        for unit in units:
            built = self._class(ctx, unit, schedules, groups, all_periods, teacher_ids, subjects)
            classes.append(built)
            stage.step(built["name"])
        stage.finish()
        teachers: list[Person] = api.pages(
            TEACHERS,
            Person,
            params={"academic_year_id": chosen.id, "ids": sorted(teacher_ids)},
            per_page=PER_PAGE,
        )
        staff = [
            {
                "id": f"t{t.id}",
                "name": person_name(t.last_name, t.first_name, t.middle_name),
                "position": "учитель",
            }
            for t in teachers
        ]
        missing = teacher_ids - {t.id for t in teachers}
        for ident in sorted(missing):
            notes.lacks(f"{TEACHERS}: нет учителя с id {ident}, на которого ссылаются уроки")
        notes.lacks(
            "решения педсовета о переводе: в известных маршрутах системы их нет — "
            "сводная ведомость выйдет без них"
        )
        doc = document(
            title=self.title,
            pulled_at=datetime.now().astimezone(),
            school=school,
            year_name=year_label(chosen.begin_date, chosen.end_date),
            start=chosen.begin_date,
            end=chosen.end_date,
            periods=sorted(all_periods.values(), key=lambda p: (p["kind"], p["start"])),
            staff=staff,
            subjects=[{"id": k, "name": v} for k, v in sorted(subjects.items())],
            classes=classes,
        )
        return Pulled(doc, account, notes)

    def _year(self, years: list[AcademicYear], wanted: str | None) -> AcademicYear:
        if wanted:
            digits = year_digits(wanted)
            for y in years:
                if year_digits(y.name) == digits or (
                    (str(y.begin_date.year), str(y.end_date.year)) == digits
                ):
                    return y
            names = ", ".join(y.name for y in years) or "нет ни одного"
            raise PullInputError(
                f"{self.title}: учебного года {wanted} в системе нет; есть: {names}"
            )
        current = [y for y in years if y.current_year]
        if len(current) != 1:
            raise PullInputError(
                f"{self.title}: система не отметила один текущий учебный год; укажите год "
                "(--year 2025/2026 или [source.epos] academic_year)"
            )
        return current[0]

    def _class(
        self,
        ctx: _Context,
        unit: ClassUnit,
        schedules: list[PeriodSchedule],
        groups: list[Group],
        all_periods: dict[str, dict[str, Any]],
        teacher_ids: set[int],
        subjects: dict[str, str],
    ) -> dict[str, Any]:
        api, notes, year = ctx.api, ctx.notes, ctx.year
        where = f"класс {unit.name}"
        periods = next(
            (
                [p for p in s.periods if not p.is_year]
                for s in schedules
                if unit.id in s.class_unit_ids
            ),
            [],
        )
        if not periods:
            notes.lacks(f"{PERIODS}: для класса {unit.name} нет учебных периодов")
        kind = period_kind(len(periods))
        for p in periods:
            all_periods[f"p{p.id}"] = {
                "id": f"p{p.id}",
                "name": p.name,
                "kind": kind,
                "start": p.begin_date.isoformat(),
                "end": p.end_date.isoformat(),
            }
        students: list[Student] = api.pages(
            STUDENTS,
            Student,
            params={
                "academic_year_id": year.id,
                "class_unit_ids": unit.id,
                "with_final_marks": True,
                "with_deleted": True,
            },
            per_page=PER_PAGE,
        )
        students = [s for s in students if s.class_unit_id == unit.id]
        pupils = {s.id for s in students}
        if any(s.enrolled_on is None for s in students):
            notes.lacks(
                f"{STUDENTS}: дата зачисления не передаётся — для учеников без неё указано "
                "начало учебного года"
            )
        mentor = unit.mentor_ids[0] if unit.mentor_ids else None
        if mentor is None:
            notes.lacks(f"{CLASSES}: у класса {unit.name} не указан классный руководитель")
        else:
            teacher_ids.add(mentor)
        courses = []
        by_subject: dict[int, str] = {}
        for group in (g for g in groups if unit.id in g.class_unit_ids):
            subjects[f"s{group.subject_id}"] = group.subject_name
            course = self._course(ctx, group, pupils, teacher_ids, f"{where}, {group.name}")
            by_subject.setdefault(group.subject_id, course["id"])
            courses.append(course)
        period_ids = [f"p{p.id}" for p in periods]
        self._final_marks(ctx, students, courses, by_subject, period_ids, where)
        return {
            "id": f"c{unit.id}",
            "name": class_name(unit.name),
            "grade": unit.class_level_id,
            "kind": "class",
            "marks_recorded": unit.class_level_id >= 2,
            "period_ids": period_ids,
            "class_teacher": f"t{mentor}" if mentor is not None else None,
            "students": [_student(s, year) for s in students],
            "courses": courses,
        }

    def _course(
        self, ctx: _Context, group: Group, pupils: set[int], teacher_ids: set[int], where: str
    ) -> dict[str, Any]:
        api, notes, year = ctx.api, ctx.notes, ctx.year
        span = {"from": year.begin_date.isoformat(), "to": year.end_date.isoformat()}
        items: list[ScheduleItem] = api.pages(
            SCHEDULE, ScheduleItem, params={"group_id": group.id, **span}, per_page=PER_PAGE
        )
        teacher = group.teacher_ids[0] if group.teacher_ids else None
        lessons = []
        for item in sorted(items, key=lambda i: (i.date, i.lesson_number, i.id)):
            if item.is_cancelled:
                notes.count("отменённые уроки (не печатаются)")
                continue
            lesson: dict[str, Any] = {
                "id": f"l{item.id}",
                "date": item.date.isoformat(),
                "number": item.lesson_number,
                "topic": (item.topic_name or "").strip(),
                "homework": "; ".join(h.description.strip() for h in item.homeworks),
            }
            if teacher is None and item.teacher_id is not None:
                teacher = item.teacher_id
            if item.teacher_id is not None and item.teacher_id != teacher:
                lesson["teacher"] = f"t{item.teacher_id}"
                teacher_ids.add(item.teacher_id)
                notes.count("замены")
            lessons.append(lesson)
        if teacher is None:
            raise PullInputError(f"{self.title}: {where}: у группы не указан учитель")
        teacher_ids.add(teacher)
        known = {x["id"] for x in lessons}
        marks = self._marks(ctx, group, pupils, known, where)
        absences = self._attendance(ctx, group, pupils, known, where, span)
        return {
            "id": f"g{group.id}",
            "subject": f"s{group.subject_id}",
            "teacher": f"t{teacher}",
            "lessons": lessons,
            "marks": marks,
            "attendance": absences,
            "period_marks": [],
            "year_marks": [],
        }

    def _marks(
        self, ctx: _Context, group: Group, pupils: set[int], lessons: set[str], where: str
    ) -> list[dict[str, Any]]:
        year, notes = ctx.year, ctx.notes
        got: list[Mark] = ctx.api.pages(
            MARKS,
            Mark,
            params={
                "group_ids": group.id,
                "created_at_from": year.begin_date.strftime("%d.%m.%Y"),
                "created_at_to": year.end_date.strftime("%d.%m.%Y"),
                "with_deleted": True,
            },
            per_page=PER_PAGE,
        )
        replaced = {m.replaces_mark_id for m in got if m.replaces_mark_id and not m.deleted_at}
        out = []
        for m in got:
            if m.deleted_at is not None:
                notes.count("удалённые отметки (не печатаются)")
                continue
            if m.id in replaced:
                notes.count("заменённые отметки (печатается новая)")
                continue
            if m.student_profile_id not in pupils:
                continue  # a pupil of another class in the same group
            lesson = f"l{m.schedule_lesson_id}"
            if lesson not in lessons:
                notes.warn(
                    f"{MARKS}: {where}: отметка {m.id} относится к уроку "
                    f"{m.schedule_lesson_id}, которого нет в расписании; она осталась в "
                    "сохранённых ответах системы, но в выгрузку не попала"
                )
                notes.count("отметки без урока")
                continue
            note = [f"вес {m.weight}"] if m.weight != 1 else []
            if m.comment and m.comment.strip():
                note.append(m.comment.strip())
            for value in m.values:
                entry: dict[str, Any] = {
                    "student": f"st{m.student_profile_id}",
                    "lesson": lesson,
                    "value": ctx.mapping.mark(
                        _grade_text(value), notes, f"{MARKS}: отметка {m.id}"
                    ),
                }
                if note:
                    entry["note"] = "; ".join(note)
                out.append(entry)
        return out

    def _attendance(
        self,
        ctx: _Context,
        group: Group,
        pupils: set[int],
        lessons: set[str],
        where: str,
        span: dict[str, str],
    ) -> list[dict[str, Any]]:
        notes = ctx.notes
        got: list[Attendance] = ctx.api.pages(
            ATTENDANCE, Attendance, params={"group_ids": group.id, **span}, per_page=PER_PAGE
        )
        out = []
        for a in got:
            if a.deleted_at is not None or a.student_profile_id not in pupils:
                continue
            lesson = f"l{a.schedule_lesson_id}"
            if lesson not in lessons:
                notes.warn(
                    f"{ATTENDANCE}: {where}: пропуск {a.id} относится к уроку "
                    f"{a.schedule_lesson_id}, которого нет в расписании; в выгрузку не попал"
                )
                continue
            key = str(a.absence_reason_id) if a.absence_reason_id is not None else "late"
            if a.absence_reason_id is None and not a.is_late:
                key = "none"
            code = ctx.mapping.attendance_code(key, notes, f"{ATTENDANCE}: запись {a.id}")
            if code is not None:
                out.append({"student": f"st{a.student_profile_id}", "lesson": lesson, "code": code})
        return out

    def _final_marks(
        self,
        ctx: _Context,
        students: Iterable[Student],
        courses: list[dict[str, Any]],
        by_subject: dict[int, str],
        period_ids: list[str],
        where: str,
    ) -> None:
        notes = ctx.notes
        course_of = {c["id"]: c for c in courses}
        for s in students:
            for f in s.final_marks:
                if f.deleted_at is not None:
                    continue
                course = course_of.get(by_subject.get(f.subject_id, ""))
                if course is None:
                    notes.warn(
                        f"{STUDENTS}: {where}: итоговая отметка {f.id} по предмету "
                        f"{f.subject_id}, которого нет в классе; в выгрузку не попала"
                    )
                    continue
                for value in f.values:
                    text = ctx.mapping.mark(
                        _grade_text(value), notes, f"{STUDENTS}: итоговая отметка {f.id}"
                    )
                    if f.is_year_mark:
                        course["year_marks"].append({"student": f"st{s.id}", "value": text})
                    elif f"p{f.attestation_period_id}" in period_ids:
                        course["period_marks"].append(
                            {
                                "student": f"st{s.id}",
                                "period": f"p{f.attestation_period_id}",
                                "value": text,
                            }
                        )
                    else:
                        notes.warn(
                            f"{STUDENTS}: {where}: итоговая отметка {f.id} за неизвестный "
                            f"период {f.attestation_period_id}; в выгрузку не попала"
                        )


def _student(s: Student, year: AcademicYear) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f"st{s.id}",
        "last_name": s.last_name,
        "first_name": s.first_name,
        "enrolled": (s.enrolled_on or year.begin_date).isoformat(),
        "left": s.deleted_at.date().isoformat() if s.deleted_at is not None else None,
    }
    if s.middle_name:
        out["middle_name"] = s.middle_name
    if s.birth_date is not None:
        out["birth_date"] = s.birth_date.isoformat()
    if s.left_reason:
        out["left_reason"] = s.left_reason
    return out
