"""Дневник.ру: the partner API (``api.dnevnik.ru/v2``, header ``Access-Token``).

The routes are the documented whole-class calls (as used by open client code such as
pydnevnikruapi): the school's edu groups, a group's reporting periods, persons,
subjects, lessons and marks by date range (fetched month by month), the lesson log
(attendance) per subject, and final marks. The response shapes follow that code and
the partner documentation; they were not checked against the live service
(docs/sources.md). The system does not say who the class teacher is (taken from
``[source.dnevnik] class_teachers``) nor when a pupil who left did so (reported as
missing); a course's teacher is the one who gave most of its lessons, and a lesson
given by another teacher is printed as a substitution.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from archiver.progress import ProgressCallback, StageProgress
from archiver.settings import DnevnikSource
from archiver.sources.importers.assemble import (
    class_name,
    document,
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

ME = "/users/me"
GROUPS = "/schools/{school}/edu-groups"
PERIODS = "/edu-groups/{group}/reporting-periods"
PERSONS = "/edu-groups/{group}/persons"
SUBJECTS = "/edu-groups/{group}/subjects"
LESSONS = "/edu-groups/{group}/lessons/{start}/{end}"
MARKS = "/edu-groups/{group}/marks/{start}/{end}"
LOG = "/lesson-log-entries/group/{group}"
FINALS = "/edu-groups/{group}/final-marks"
PERSON = "/persons/{person}"

_KINDS = {"Quarter": "quarter", "Semester": "half", "HalfYear": "half"}


class Me(Shape):
    id: int
    person_id: int | None = Field(None, alias="personId")
    name: str | None = None


class EduGroup(Shape):
    id: int
    name: str
    type: str
    parallel: int | None = None
    studyyear: int


class ReportingPeriod(Shape):
    id: int
    type: str
    number: int = 0
    name: str | None = None
    start: datetime
    finish: datetime


class Person(Shape):
    id: int
    first_name: str = Field(alias="firstName")
    last_name: str = Field(alias="lastName")
    middle_name: str | None = Field(None, alias="middleName")
    birthday: datetime | None = None


class Subject(Shape):
    id: int
    name: str


class Homework(Shape):
    text: str


class Lesson(Shape):
    id: int
    date: datetime
    number: int
    subject: Subject
    title: str | None = None
    teachers: tuple[int, ...] = ()
    homework: Homework | None = None


class Mark(Shape):
    id: int
    value: str
    text_value: str | None = Field(None, alias="textValue")
    person: int
    lesson: int | None = None


class LogEntry(Shape):
    person: int
    lesson: int
    status: str


class FinalMark(Shape):
    person: int
    subject: int
    period: int | None = None
    is_year: bool = Field(False, alias="isYearMark")
    value: str


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """The year cut into calendar months (the date windows of lessons and marks)."""
    out = []
    first = start
    while first <= end:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        out.append((first, min(end, following - timedelta(days=1))))
        first = following
    return out


class DnevnikImporter:
    """The Дневник.ру importer (:class:`~archiver.sources.importers.base.Importer`)."""

    system: ClassVar[str] = "dnevnik"
    title: ClassVar[str] = "Дневник.ру"

    def __init__(self, options: DnevnikSource, mapping: Mapping) -> None:
        self.options = options
        self.mapping = mapping

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Access-Token": token}

    def pull(
        self,
        api: ApiClient,
        school: SchoolInfo,
        year: str | None,
        progress: ProgressCallback | None,
    ) -> Pulled:
        notes = Notes()
        me: Me = api.get(ME, Me)
        account = {"user_id": me.id, "person_id": me.person_id, "name": me.name}
        groups: list[EduGroup] = api.get(
            GROUPS, list[EduGroup], path=GROUPS.format(school=self.options.school_id)
        )
        groups = [g for g in groups if g.type == "Group"]
        wanted = year or self.options.academic_year
        if wanted:
            digits = year_digits(wanted)
            study = int(digits[0]) if digits else -1
        else:
            study = max((g.studyyear for g in groups), default=-1)
        groups = [g for g in groups if g.studyyear == study]
        if self.options.classes:
            chosen = set(self.options.classes)
            groups = [g for g in groups if str(g.id) in chosen or g.name in chosen]
        if not groups:
            raise PullInputError(
                f"{self.title}: в школе {self.options.school_id} не видно ни одного класса "
                f"за {wanted or 'текущий год'}"
            )
        stage = StageProgress(progress, "pull")
        stage.start(len(groups))
        periods: dict[str, dict[str, Any]] = {}
        bounds: list[tuple[date, date]] = []
        classes: list[dict[str, Any]] = []
        teacher_ids: set[int] = set()
        subjects: dict[str, str] = {}
        for group in groups:
            built = self._class(api, group, notes, periods, bounds, teacher_ids, subjects)
            classes.append(built)
            stage.step(built["name"])
        stage.finish()
        staff = []
        for ident in sorted(teacher_ids):
            p: Person = api.get(PERSON, Person, path=PERSON.format(person=ident))
            staff.append(
                {
                    "id": f"t{ident}",
                    "name": person_name(p.last_name, p.first_name, p.middle_name),
                    "position": "учитель",
                }
            )
        notes.lacks(
            "решения педсовета о переводе: партнёрский API Дневник.ру их не отдаёт — "
            "сводная ведомость выйдет без них"
        )
        start = min(b[0] for b in bounds)
        end = max(b[1] for b in bounds)
        doc = document(
            title=self.title,
            pulled_at=datetime.now().astimezone(),
            school=school,
            year_name=year_label(start, end),
            start=start,
            end=end,
            periods=sorted(periods.values(), key=lambda p: (p["kind"], p["start"])),
            staff=staff,
            subjects=[{"id": k, "name": v} for k, v in sorted(subjects.items())],
            classes=classes,
        )
        return Pulled(doc, account, notes)

    def _class(
        self,
        api: ApiClient,
        group: EduGroup,
        notes: Notes,
        all_periods: dict[str, dict[str, Any]],
        bounds: list[tuple[date, date]],
        teacher_ids: set[int],
        subjects_seen: dict[str, str],
    ) -> dict[str, Any]:
        gid = group.id
        where = f"класс {group.name}"
        got: list[ReportingPeriod] = api.get(
            PERIODS, list[ReportingPeriod], path=PERIODS.format(group=gid)
        )
        terms = [p for p in got if p.type in _KINDS]
        if not got:
            raise PullInputError(f"{self.title}: {where}: нет учебных периодов ({PERIODS})")
        start = min(p.start.date() for p in got)
        end = max(p.finish.date() for p in got)
        bounds.append((start, end))
        for p in terms:
            all_periods[f"p{p.id}"] = {
                "id": f"p{p.id}",
                "name": p.name
                or f"{p.number} {'четверть' if p.type == 'Quarter' else 'полугодие'}",
                "kind": _KINDS[p.type],
                "start": p.start.date().isoformat(),
                "end": p.finish.date().isoformat(),
            }
        for p in got:
            if p.type not in _KINDS and p.type != "Year":
                notes.warn(f"{PERIODS}: {where}: период вида «{p.type}» не поддерживается")
        persons: list[Person] = api.get(PERSONS, list[Person], path=PERSONS.format(group=gid))
        pupils = {p.id: p for p in persons}
        subjects: list[Subject] = api.get(SUBJECTS, list[Subject], path=SUBJECTS.format(group=gid))
        lessons: list[Lesson] = []
        marks: list[Mark] = []
        for a, b in _months(start, end):
            window = {"group": gid, "start": a.isoformat(), "end": b.isoformat()}
            lessons += api.get(LESSONS, list[Lesson], path=LESSONS.format(**window))
            marks += api.get(MARKS, list[Mark], path=MARKS.format(**window))
        finals: list[FinalMark] = api.get(FINALS, list[FinalMark], path=FINALS.format(group=gid))
        log: dict[int, list[LogEntry]] = {}
        for s in subjects:
            log[s.id] = api.get(
                LOG,
                list[LogEntry],
                path=LOG.format(group=gid),
                params={"subject": s.id, "from": start.isoformat(), "to": end.isoformat()},
            )
        # pupils who left: they appear in the journal but no longer in the list
        seen = {m.person for m in marks} | {e.person for es in log.values() for e in es}
        seen |= {f.person for f in finals}
        leavers = sorted(seen - set(pupils))
        for ident in leavers:
            pupils[ident] = api.get(PERSON, Person, path=PERSON.format(person=ident))
            notes.lacks(
                f"{PERSONS}: {where}: ученик {ident} есть в журнале, но не в списке класса "
                "(выбыл?); дата выбытия системой не передаётся — впишите её исправлением"
            )
        courses = self._courses(
            group, subjects, lessons, marks, log, finals, set(pupils), all_periods, notes
        )
        for course in courses:
            teacher_ids.add(int(course["teacher"][1:]))
            teacher_ids.update(int(x["teacher"][1:]) for x in course["lessons"] if "teacher" in x)
            subjects_seen[course["subject"]] = next(
                s.name for s in subjects if f"s{s.id}" == course["subject"]
            )
        head = self.options.class_teachers.get(str(gid))
        if head is None:
            notes.lacks(
                f"{where}: Дневник.ру не передаёт классного руководителя — укажите его в "
                f'archiver.toml: [source.dnevnik] class_teachers = {{ "{gid}" = "id" }}'
            )
        else:
            teacher_ids.add(int(head))
        return {
            "id": f"c{gid}",
            "name": class_name(group.name),
            "grade": group.parallel if group.parallel is not None else 0,
            "kind": "class",
            "marks_recorded": (group.parallel or 0) >= 2,
            "period_ids": [f"p{p.id}" for p in terms],
            "class_teacher": f"t{head}" if head is not None else None,
            "students": [_student(p, start, ident in leavers) for ident, p in pupils.items()],
            "courses": courses,
        }

    def _courses(
        self,
        group: EduGroup,
        subjects: list[Subject],
        lessons: list[Lesson],
        marks: list[Mark],
        log: dict[int, list[LogEntry]],
        finals: list[FinalMark],
        pupils: set[int],
        periods: dict[str, dict[str, Any]],
        notes: Notes,
    ) -> list[dict[str, Any]]:
        courses = []
        lesson_subject = {x.id: x.subject.id for x in lessons}
        for s in subjects:
            own = sorted(
                (x for x in lessons if x.subject.id == s.id), key=lambda x: (x.date, x.number)
            )
            if not own:
                notes.warn(f"{LESSONS}: класс {group.name}: по предмету «{s.name}» нет уроков")
                continue
            counts = Counter(t for x in own for t in x.teachers[:1])
            if not counts:
                raise PullInputError(
                    f"{self.title}: класс {group.name}, «{s.name}»: у уроков не указан учитель"
                )
            teacher = counts.most_common(1)[0][0]
            course_lessons = []
            for x in own:
                item: dict[str, Any] = {
                    "id": f"l{x.id}",
                    "date": x.date.date().isoformat(),
                    "number": x.number,
                    "topic": (x.title or "").strip(),
                    "homework": x.homework.text.strip() if x.homework else "",
                }
                if x.teachers and x.teachers[0] != teacher:
                    item["teacher"] = f"t{x.teachers[0]}"
                    notes.count("замены")
                course_lessons.append(item)
            course_marks = []
            for m in marks:
                if m.lesson is None or lesson_subject.get(m.lesson) != s.id:
                    continue
                raw = m.text_value or m.value
                course_marks.append(
                    {
                        "student": f"st{m.person}",
                        "lesson": f"l{m.lesson}",
                        "value": self.mapping.mark(raw, notes, f"{MARKS}: отметка {m.id}"),
                    }
                )
            absences = []
            for e in log.get(s.id, []):
                if lesson_subject.get(e.lesson) != s.id:
                    continue
                code = self.mapping.attendance_code(
                    e.status, notes, f"{LOG}: ученик {e.person}, урок {e.lesson}"
                )
                if code is not None:
                    absences.append(
                        {"student": f"st{e.person}", "lesson": f"l{e.lesson}", "code": code}
                    )
            period_marks, year_marks = [], []
            for f in finals:
                if f.subject != s.id or f.person not in pupils:
                    continue
                value = self.mapping.mark(f.value, notes, f"{FINALS}: ученик {f.person}")
                if f.is_year:
                    year_marks.append({"student": f"st{f.person}", "value": value})
                elif f"p{f.period}" in periods:
                    period_marks.append(
                        {"student": f"st{f.person}", "period": f"p{f.period}", "value": value}
                    )
                else:
                    notes.warn(
                        f"{FINALS}: отметка ученика {f.person} за неизвестный период {f.period}"
                    )
            courses.append(
                {
                    "id": f"c{group.id}-s{s.id}",
                    "subject": f"s{s.id}",
                    "teacher": f"t{teacher}",
                    "lessons": course_lessons,
                    "marks": course_marks,
                    "attendance": absences,
                    "period_marks": period_marks,
                    "year_marks": year_marks,
                }
            )
        return courses


def _student(p: Person, start: date, left: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f"st{p.id}",
        "last_name": p.last_name,
        "first_name": p.first_name,
        "enrolled": start.isoformat(),
        "left": None,
    }
    if left:
        out["left_reason"] = "выбыл (дата системой не передана)"
    if p.middle_name:
        out["middle_name"] = p.middle_name
    if p.birthday is not None:
        out["birth_date"] = p.birthday.date().isoformat()
    return out
