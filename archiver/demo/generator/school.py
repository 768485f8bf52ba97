"""The school being generated: its pieces (pupils, teachers, lessons, courses, classes),
the staff that hires teachers as the timetable needs them, and :class:`School`, the
state every stage of the generation works on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from archiver.demo import calendar as cal
from archiver.demo import curriculum as cur
from archiver.demo import names

TEACHER_CAPACITY = 24
"""Weekly hours a subject teacher takes on before another teacher of the subject is hired."""


@dataclass(slots=True)
class Pupil:
    """A pupil of the school (one person, listed in a class and maybe in a club)."""

    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    male: bool
    level: int
    enrolled: date = cal.YEAR_START
    left: date | None = None
    left_reason: str | None = None
    id: str = ""
    levels: dict[str, int] = field(default_factory=dict)
    exempt_from: date | None = None
    """Exempt from physical education (освобождён) from this date on."""
    failing: str | None = None
    """The subject this pupil fails this year (year mark 2)."""
    absences: dict[date, str] = field(default_factory=dict)
    """Whole days missed: date → attendance code."""

    def active_on(self, day: date) -> bool:
        """Whether the pupil may have entries on ``day`` (the leaving day itself is avoided)."""
        return self.enrolled <= day and (self.left is None or day < self.left)

    def record(self) -> dict[str, Any]:
        """The pupil as an item of a class list."""
        out: dict[str, Any] = {
            "id": self.id,
            "last_name": self.last_name,
            "first_name": self.first_name,
        }
        if self.middle_name is not None:
            out["middle_name"] = self.middle_name
        out["birth_date"] = self.birth_date.isoformat()
        out["enrolled"] = self.enrolled.isoformat()
        out["left"] = self.left.isoformat() if self.left else None
        if self.left_reason is not None:
            out["left_reason"] = self.left_reason
        return out

    def sort_key(self) -> tuple[str, str, str, str]:
        """Alphabetical order of a class list."""
        return (
            names.sort_key(self.last_name),
            names.sort_key(self.first_name),
            names.sort_key(self.middle_name or ""),
            self.birth_date.isoformat(),
        )


@dataclass(slots=True)
class Teacher:
    """A member of the teaching staff."""

    id: str
    name: str
    position: str
    group: str
    profile: str | None = None
    load: int = 0
    busy: set[tuple[int, int]] = field(default_factory=set)
    """(weekday, slot) cells of the weekly timetable taken by this teacher."""
    class_teacher: bool = False


@dataclass(slots=True)
class Lesson:
    """A lesson being generated."""

    date: date
    number: int
    id: str = ""
    topic: str = ""
    homework: str = ""
    kind: str = "regular"
    teacher: str | None = None

    def record(self) -> dict[str, Any]:
        """The lesson as an export item."""
        out: dict[str, Any] = {
            "id": self.id,
            "date": self.date.isoformat(),
            "number": self.number,
            "topic": self.topic,
            "homework": self.homework,
        }
        if self.teacher is not None:
            out["teacher"] = self.teacher
        return out


@dataclass(slots=True)
class Course:
    """A subject taught to one class."""

    id: str
    subject: str
    hours: int
    group: str
    marked: bool
    double: bool
    teacher: Teacher
    lessons: list[Lesson] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)
    attendance: list[dict[str, Any]] = field(default_factory=list)
    period_marks: list[dict[str, Any]] = field(default_factory=list)
    year_marks: list[dict[str, Any]] = field(default_factory=list)
    exam_marks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Group:
    """A class, a club or an extracurricular group."""

    id: str
    name: str
    grade: int
    kind: str
    marks_recorded: bool
    pupils: list[Pupil] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    class_teacher: Teacher | None = None
    day_counts: list[int] = field(default_factory=lambda: [0] * 5)
    grid: dict[tuple[int, int], Course] = field(default_factory=dict)
    promotion: list[dict[str, Any]] = field(default_factory=list)


class Staff:
    """Hires staff as the timetable needs them and hands out ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken_names: set[str] = set()
        self.teachers: list[Teacher] = []
        self.by_group: dict[str, list[Teacher]] = {}
        self.profile_count = 0

    def name(self, male: bool) -> str:
        return names.staff_name(self.rng, male, self.taken_names)

    def hire(self, group: str) -> Teacher:
        """A new teacher of ``group``."""
        profile = None
        position = cur.GROUP_POSITIONS[group]
        male_share = {"pe": 0.5, "math": 0.25, "hist": 0.2}.get(group, 0.08)
        if group == "prof":
            profile = cur.PROFILES[self.profile_count % len(cur.PROFILES)]
            self.profile_count += 1
            position = f"{position} ({profile})"
            male_share = 0.9 if profile == "столярное дело" else 0.05
        teacher = Teacher(
            id=f"t{len(self.teachers) + 1:02d}",
            name=self.name(self.rng.random() < male_share),
            position=position,
            group=group,
            profile=profile,
        )
        self.teachers.append(teacher)
        self.by_group.setdefault(group, []).append(teacher)
        return teacher

    def take(self, group: str, hours: int) -> Teacher:
        """The teacher of ``group`` with the least load that can take ``hours`` more."""
        fitting = [t for t in self.by_group.get(group, []) if t.load + hours <= TEACHER_CAPACITY]
        teacher = min(fitting, key=lambda t: t.load) if fitting else self.hire(group)
        teacher.load += hours
        return teacher


class School:
    """The school being generated: its classes and staff, and the one random generator.

    Every stage of the generation works on it and draws from :attr:`rng` in a fixed
    order, so the same seed and number of classes give the same school.
    """

    def __init__(self, seed: int, classes: int) -> None:
        self.rng = random.Random(seed)
        self.classes = classes
        """How many lists the export holds: the classes, the club and the group."""
        self.groups: list[Group] = []
        self.staff = Staff(self.rng)
        self.director = ""
        self.deputy = ""
        self.educators: list[tuple[str, str]] = []
        """(id, name) of the boarding school's educators (воспитатели)."""
        self.general_days = cal.school_days(5)
        """The school days of grades 2–9 (the preparatory class and the 1st grade have an extra February break)."""

    @property
    def class_groups(self) -> list[Group]:
        """The classes proper (not the club and the group)."""
        return [g for g in self.groups if g.kind == "class"]

    @property
    def assessed(self) -> list[Group]:
        """The classes whose marks are recorded (grades 2–9)."""
        return [g for g in self.groups if g.kind == "class" and g.marks_recorded]
