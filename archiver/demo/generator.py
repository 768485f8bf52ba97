"""Deterministic generator of a demo school's journal export (format version 1).

The school is a fictional type VIII (correctional) boarding school in Perm krai;
its academic year 2025/2026 is exported from «ЭПОС.Школа» after the year has
ended. Everything comes from one ``random.Random(seed)``, consumed in a fixed
order, so the same ``seed`` and ``classes`` always give the same bytes.

How the data is made, in order:

1. the class list: a preparatory class, a 1st grade, assessed classes 2–9
   (parallel classes «А», «Б», … when there are many), a club and an
   extracurricular group;
2. pupils with Russian names and plausible birth dates, one pupil who leaves
   and one who joins during the year (more in large schools);
3. staff and a weekly timetable per class, built so that no teacher is in two
   rooms at once; double lessons of Профильный труд;
4. lessons on the school days of the calendar, with topics from the
   curriculum, homework, and substitutions while a teacher is ill;
5. attendance (illnesses over several days, sporadic absences and lateness)
   and marks of present pupils only, then period, year and exam marks derived
   from them, and the teachers' council decisions.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from archiver.demo import calendar as cal
from archiver.demo import curriculum as cur
from archiver.demo import names
from archiver.errors import UsageError
from archiver.model import DEFAULT_ATTENDANCE_CODES, DEFAULT_GRADING_SCALE

MIN_CLASSES = 3
MAX_CLASSES = 200

SOURCE_SYSTEM = "ЭПОС.Школа"
SCHOOL: dict[str, Any] = {
    "id": "demo-perm-si",
    "short_name": "КГБОУ «Сосновоборская школа-интернат»",
    "full_name": (
        "Краевое государственное бюджетное общеобразовательное учреждение "
        "«Сосновоборская специальная (коррекционная) школа-интернат для обучающихся "
        "с ограниченными возможностями здоровья»"
    ),
    "address": "Пермский край, пос. Сосновый Бор, ул. Школьная, д. 12",
}

LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ"
LETTER_IDS = (
    "a",
    "b",
    "v",
    "g",
    "d",
    "e",
    "zh",
    "z",
    "i",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "r",
    "s",
    "t",
    "u",
    "f",
    "h",
    "ts",
    "ch",
    "sh",
    "sch",
    "ee",
    "yu",
    "ya",
)
ASSESSED_GRADE_ORDER = (5, 9, 2, 7, 3, 8, 4, 6)
"""Which grades a small school has first; beyond eight classes parallels are added."""

TEACHER_CAPACITY = 24
"""Weekly hours a subject teacher takes on before another teacher of the subject is hired."""

MARK_VALUES = ("5", "4", "3", "2", "1")
MARK_WEIGHTS: dict[int, tuple[int, ...]] = {
    0: (0, 2, 28, 64, 6),  # a pupil failing the subject
    1: (2, 18, 66, 13, 1),
    2: (4, 28, 58, 9, 1),
    3: (10, 40, 44, 6, 0),
    4: (20, 50, 27, 3, 0),
    5: (40, 45, 14, 1, 0),
}
"""Level of a pupil in a subject → weights of the marks ``5 4 3 2 1``."""
LEVEL_WEIGHTS = {1: 10, 2: 22, 3: 35, 4: 23, 5: 10}
EASIER_SUBJECTS = frozenset({"pe", "music", "art", "craft", "prof"})
"""Subjects where this school's teachers mark one level higher."""

ABSENT_CODES = frozenset({"н", "б", "у", "п"})
EMPTY_HOMEWORK_RARE: dict[str, tuple[str, ...]] = {
    "world": (
        "наблюдать за погодой",
        "нарисовать осенние листья",
        "рассказать о домашнем животном",
    ),
    "speech": ("рассказать о своей семье", "выучить стихотворение", "составить 3 предложения"),
    "craft": ("принести природный материал", "принести цветную бумагу", "принести пластилин"),
}
NORMS_TOPICS = (
    ("Сдача нормативов: бег 30 м", "Сдача нормативов: прыжок в длину с места"),
    (
        "Контрольное упражнение: наклон вперёд из положения сидя",
        "Контрольное упражнение: поднимание туловища из положения лёжа",
    ),
    (
        "Лыжная подготовка: прохождение дистанции 500 м на время",
        "Лыжная подготовка: прохождение дистанции 1 км",
    ),
    ("Сдача нормативов: челночный бег 3×10 м", "Сдача нормативов: метание мяча в цель"),
)
CLUB_START = date(2025, 9, 15)
CLUB_END = date(2026, 5, 22)


# --------------------------------------------------------------------------- the pieces


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


# --------------------------------------------------------------------------- helpers


def round_half_up(total: int, count: int) -> int:
    """``total / count`` rounded to an integer, .5 upwards, in exact integer arithmetic."""
    return (2 * total + count) // (2 * count)


def _mark_cum_weights() -> dict[int, list[int]]:
    out = {}
    for level, weights in MARK_WEIGHTS.items():
        running, cum = 0, []
        for w in weights:
            running += w
            cum.append(running)
        out[level] = cum
    return out


_CUM = _mark_cum_weights()


class _Staff:
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


# --------------------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, seed: int, classes: int) -> None:
        self.rng = random.Random(seed)
        self.classes = classes
        self.groups: list[Group] = []
        self.staff = _Staff(self.rng)
        self.director = ""
        self.deputy = ""
        self.educators: list[tuple[str, str]] = []
        self.deputy_busy: set[tuple[date, int]] = set()
        self.general_days = cal.school_days(5)

    # -- 1. the classes

    def layout(self) -> None:
        """Create the classes, clubs and groups (without pupils)."""
        if self.classes == MIN_CLASSES:
            specs = [(1, 0), (5, 0)]
        else:
            specs = [(0, 0), (1, 0)]
            for i in range(self.classes - 4):
                if i < len(ASSESSED_GRADE_ORDER):
                    specs.append((ASSESSED_GRADE_ORDER[i], 0))
                else:
                    k = i - len(ASSESSED_GRADE_ORDER)
                    specs.append((2 + k % 8, 1 + k // 8))
        for grade, letter in sorted(specs):
            if grade == 0:
                group = Group("c0", "1 доп.", 0, "class", False)
            else:
                group = Group(
                    f"c{grade}{LETTER_IDS[letter]}",
                    f"{grade} «{LETTERS[letter]}»",
                    grade,
                    "class",
                    grade >= 2,
                )
            self.groups.append(group)
        self.groups.append(Group("club1", "Кружок «Умелые руки»", 0, "club", False))
        if self.classes > MIN_CLASSES:
            self.groups.append(
                Group(
                    "ext1",
                    "Группа внеурочной деятельности «Мир профессий»",
                    0,
                    "extracurricular",
                    False,
                )
            )

    @property
    def class_groups(self) -> list[Group]:
        return [g for g in self.groups if g.kind == "class"]

    @property
    def assessed(self) -> list[Group]:
        return [g for g in self.groups if g.kind == "class" and g.marks_recorded]

    # -- 2. the pupils

    def new_pupil(self, grade: int, taken: set[tuple[str, str]]) -> Pupil:
        rng = self.rng
        while True:
            male = rng.random() < 0.58
            if rng.random() < 0.02:
                surname = names.hyphenated_surname(rng)
            else:
                surname = rng.choice(names.SURNAMES)
            last = names.surname_for(surname, male)
            first = rng.choice(names.MALE_NAMES if male else names.FEMALE_NAMES)
            if (last, first) not in taken:
                taken.add((last, first))
                break
        middle = (
            None if rng.random() < 0.04 else names.patronymic(rng.choice(names.FATHER_NAMES), male)
        )
        older = rng.choices((0, 1, 2), (70, 25, 5))[0]
        born_from = date(2025 - 8 - grade - older, 9, 1)
        born = born_from + timedelta(days=rng.randrange(365))
        level = rng.choices(tuple(LEVEL_WEIGHTS), tuple(LEVEL_WEIGHTS.values()))[0]
        pupil = Pupil(last, first, middle, born, male, level)
        for subject in cur.SUBJECTS:
            shift = rng.choices((-1, 0, 1), (20, 60, 20))[0]
            pupil.levels[subject] = min(5, max(1, level + shift))
        return pupil

    def make_pupils(self) -> None:
        rng = self.rng
        taken: dict[str, set[tuple[str, str]]] = {}
        for group in self.class_groups:
            taken[group.id] = set()
            for _ in range(rng.randint(8, 12)):
                group.pupils.append(self.new_pupil(group.grade, taken[group.id]))
        everyone = [p for g in self.class_groups for p in g.pupils]
        self.ensure_name_features(everyone)

        # movers: one who leaves and one who joins per six assessed classes
        pool = self.assessed or self.class_groups
        movers = max(1, len(pool) // 6)
        for group in rng.sample(pool, min(movers, len(pool))):
            pupil = rng.choice(group.pupils)
            left = rng.choice(
                [d for d in self.general_days if date(2025, 11, 10) <= d <= date(2026, 4, 24)]
            )
            pupil.left = left
            verb = "выбыл" if pupil.male else "выбыла"
            order = f"приказ № {10 + (left - cal.YEAR_START).days // 5} от {cal.ru_date(left)}"
            if rng.random() < 0.5:
                pupil.left_reason = f"{verb} в МБОУ «СОШ № {rng.randint(1, 12)}», {order}"
            else:
                town = rng.choice(("г. Соликамск", "г. Кунгур", "г. Чайковский", "г. Лысьва"))
                pupil.left_reason = f"{verb} в связи с переменой места жительства ({town}), {order}"
        for group in rng.sample(pool, min(movers, len(pool))):
            if len(group.pupils) >= 12:
                group.pupils.remove(rng.choice([p for p in group.pupils if p.left is None]))
            pupil = self.new_pupil(group.grade, taken[group.id])
            pupil.enrolled = rng.choice(
                [d for d in self.general_days if date(2025, 10, 1) <= d <= date(2026, 4, 15)]
            )
            group.pupils.append(pupil)

        number = 0
        for group in self.class_groups:
            group.pupils.sort(key=Pupil.sort_key)
            for pupil in group.pupils:
                number += 1
                pupil.id = f"s{number:04d}"

        steady = [
            (g, p)
            for g in self.assessed
            for p in g.pupils
            if p.left is None and p.enrolled == cal.YEAR_START
        ]
        weak_pool = [(g, p) for g, p in steady if 2 <= g.grade <= 8]
        for i, (_, pupil) in enumerate(
            rng.sample(weak_pool, min(len(weak_pool), 1 + len(self.assessed) // 15))
        ):
            pupil.failing = ("math", "rus")[i % 2]
        exempt_pool = [(g, p) for g, p in steady if p.failing is None]
        for _, pupil in rng.sample(
            exempt_pool, min(len(exempt_pool), 1 + len(self.assessed) // 12)
        ):
            pupil.exempt_from = cal.QUARTERS[2].start

    def ensure_name_features(self, pupils: list[Pupil]) -> None:
        """At least a few double surnames, pupils without a middle name and names with ё."""
        rng = self.rng
        while sum("-" in p.last_name for p in pupils) < 2:
            pupil = rng.choice(pupils)
            pupil.last_name = names.surname_for(names.hyphenated_surname(rng), pupil.male)
        while sum(p.middle_name is None for p in pupils) < 3:
            rng.choice(pupils).middle_name = None
        if not any("ё" in f"{p.last_name}{p.first_name}".lower() for p in pupils):
            pupil = rng.choice(pupils)
            pupil.first_name = "Артём" if pupil.male else "Алёна"

    def fill_clubs(self) -> None:
        """Pupils of the school's classes who attend the club and the group."""
        rng = self.rng
        used: set[str] = set()
        for group, grades in (("club1", range(2, 7)), ("ext1", range(7, 10))):
            target = next((g for g in self.groups if g.id == group), None)
            if target is None:
                continue
            candidates = [
                p
                for g in self.class_groups
                if g.grade in grades
                for p in g.pupils
                if p.left is None and p.enrolled == cal.YEAR_START and p.id not in used
            ]
            if len(candidates) < 6:
                candidates = [
                    p
                    for g in self.class_groups
                    for p in g.pupils
                    if p.left is None and p.enrolled == cal.YEAR_START and p.id not in used
                ]
            members = rng.sample(candidates, min(len(candidates), rng.randint(8, 12)))
            used.update(p.id for p in members)
            target.pupils = sorted(members, key=Pupil.sort_key)
            grade_of = {p.id: g.grade for g in self.class_groups for p in g.pupils}
            target.grade = min(grade_of[p.id] for p in members)

    # -- 3. staff and timetables

    def make_staff(self) -> None:
        staff = self.staff
        self.director = staff.name(False)
        self.deputy = staff.name(False)
        for group in self.class_groups:
            primary = None
            if group.grade <= 4:
                primary = staff.hire("primary")
                primary.class_teacher = True
                group.class_teacher = primary
            for plan in cur.weekly_plan(group.grade):
                if plan.group == "primary":
                    assert primary is not None
                    teacher = primary
                    teacher.load += plan.hours
                else:
                    teacher = staff.take(plan.group, plan.hours)
                group.courses.append(
                    Course(
                        id=f"{group.id}-{plan.subject}",
                        subject=plan.subject,
                        hours=plan.hours,
                        group=plan.group,
                        marked=plan.marked,
                        double=plan.double,
                        teacher=teacher,
                    )
                )
            if group.class_teacher is None:
                options = [
                    c.teacher
                    for c in group.courses
                    if c.group in ("rus", "math", "nat", "hist", "prof")
                    and not c.teacher.class_teacher
                ]
                chosen = self.rng.choice(options) if options else group.courses[0].teacher
                chosen.class_teacher = True
                group.class_teacher = chosen
        count = max(3, (len(self.class_groups) + 1) // 2)
        self.educators = [
            (f"v{i + 1:02d}", staff.name(self.rng.random() < 0.1)) for i in range(count)
        ]

    def build_timetable(self, group: Group) -> None:
        """Place every weekly hour of the class so that no teacher is in two places at once."""
        rng = self.rng
        total = sum(c.hours for c in group.courses)
        base, extra = divmod(total, 5)
        group.day_counts = [base + (1 if d < extra else 0) for d in range(5)]
        free = {(d, s) for d in range(5) for s in range(1, group.day_counts[d] + 1)}
        doubles: list[Course] = []
        singles: list[Course] = []
        for course in group.courses:
            pairs = course.hours // 2 if course.double else 0
            doubles.extend([course] * pairs)
            singles.extend([course] * (course.hours - 2 * pairs))
        for course in doubles:
            options = []
            for d, s in sorted(free):
                if (d, s + 1) in free and not course.teacher.busy & {(d, s), (d, s + 1)}:
                    same_day = any(group.grid.get((d, k)) is course for k in range(1, 8))
                    options.append((10 * same_day + (s < 3) + rng.random(), d, s))
            if not options:
                self.reassign(course, group)
                self.build_timetable_retry(group)
                return
            _, d, s = min(options)
            for cell in ((d, s), (d, s + 1)):
                free.discard(cell)
                group.grid[cell] = course
                course.teacher.busy.add(cell)
        rng.shuffle(singles)
        singles.sort(key=lambda c: (c.group == "primary", -c.teacher.load))
        for course in singles:
            options = []
            for d, s in sorted(free):
                if (d, s) in course.teacher.busy:
                    continue
                on_day = sum(group.grid.get((d, k)) is course for k in range(1, 8))
                options.append((8 * on_day + _slot_penalty(course.subject, s) + rng.random(), d, s))
            if options:
                _, d, s = min(options)
                cell = (d, s)
            else:
                found = self.swap_for(course, group, free)
                if found is None:
                    self.reassign(course, group)
                    cell = min(free)
                else:
                    cell = found
            free.discard(cell)
            group.grid[cell] = course
            course.teacher.busy.add(cell)

    def build_timetable_retry(self, group: Group) -> None:
        """Start the class's timetable again (after a course got a new teacher)."""
        for cell, course in group.grid.items():
            course.teacher.busy.discard(cell)
        group.grid.clear()
        self.build_timetable(group)

    def swap_for(
        self, course: Course, group: Group, free: set[tuple[int, int]]
    ) -> tuple[int, int] | None:
        """Move a placed single lesson to a free cell so that ``course`` fits; the freed cell."""
        for target in sorted(free):
            for cell in sorted(group.grid):
                other = group.grid[cell]
                if other.double or other is course or cell in course.teacher.busy:
                    continue
                if target in other.teacher.busy:
                    continue
                other.teacher.busy.discard(cell)
                other.teacher.busy.add(target)
                group.grid[target] = other
                del group.grid[cell]
                free.discard(target)
                free.add(cell)
                return cell
        return None

    def reassign(self, course: Course, group: Group) -> None:
        """Give ``course`` to a newly hired teacher of its group (the old one is fully booked)."""
        old = course.teacher
        new = self.staff.hire(course.group)
        for cell, placed in group.grid.items():
            if placed is course:
                old.busy.discard(cell)
                new.busy.add(cell)
        old.load -= course.hours
        new.load += course.hours
        course.teacher = new

    # -- 4. lessons

    def make_lessons(self, group: Group) -> None:
        for day in cal.school_days(group.grade):
            weekday = day.weekday()
            for slot in range(1, group.day_counts[weekday] + 1):
                group.grid[weekday, slot].lessons.append(Lesson(day, slot))
        for course in group.courses:
            for i, lesson in enumerate(course.lessons):
                lesson.id = f"{course.id}-l{i + 1:03d}"
            self.plan_course(course, group)

    def make_club_lessons(self, group: Group, weekdays: tuple[int, ...], course: Course) -> None:
        pupil_ids = {p.id for p in group.pupils}
        member_classes = [g for g in self.class_groups if any(p.id in pupil_ids for p in g.pupils)]
        slots = {wd: 1 + max(g.day_counts[wd] for g in member_classes) for wd in weekdays}
        for day in cal.school_days(group.grade, CLUB_START, CLUB_END):
            if day.weekday() in slots:
                course.lessons.append(Lesson(day, slots[day.weekday()]))
        for i, lesson in enumerate(course.lessons):
            lesson.id = f"{course.id}-l{i + 1:03d}"
        self.plan_course(course, group)

    def plan_course(self, course: Course, group: Group) -> None:
        """Topics, checking lessons and homework of a course."""
        rng = self.rng
        lessons = course.lessons
        n = len(lessons)
        if n == 0:
            return
        by_quarter: list[list[int]] = [[] for _ in cal.QUARTERS]
        for i, lesson in enumerate(lessons):
            q = cal.quarter_index(lesson.date)
            if q >= 0:
                by_quarter[q].append(i)
        checking = group.marks_recorded and course.marked
        kind = cur.CONTROL_KIND.get(course.subject) if checking else None
        for q, idx in enumerate(by_quarter):
            if len(idx) < 6 or kind is None:
                continue
            if kind in ("dictation", "test"):
                lessons[idx[-3]].kind = kind
                lessons[idx[-2]].kind = "errors"
            elif kind == "reading" and q in (1, 3):
                lessons[idx[-2]].kind = "reading"
            elif kind in ("reading", "summary"):
                lessons[idx[-1]].kind = "summary"
            elif kind == "norms":
                lessons[idx[len(idx) // 3]].kind = "norms"
                lessons[idx[-2]].kind = "norms"
            elif kind == "practical":
                lessons[idx[-1]].kind = "practical"
        profile = course.teacher.profile
        topic_list = cur.topics(course.subject, group.grade, profile)
        suffixes = cur.REPEAT_SUFFIXES.get(course.subject, cur.DEFAULT_SUFFIXES)
        regular = [i for i, lesson in enumerate(lessons) if lesson.kind == "regular"]
        section_at: list[str] = [topic_list[0][0]] * n
        fillers = cur.FILLERS.get(course.subject, ()) if group.grade >= 2 else ()
        previous, repeat, filled = -1, 0, 0
        for j, i in enumerate(regular):
            t = j * len(topic_list) // len(regular)
            repeat = repeat + 1 if t == previous else 0
            previous = t
            section, topic = topic_list[t]
            if repeat == 0:
                lessons[i].topic = topic
            elif repeat == len(suffixes) + 1 and fillers:
                lessons[i].topic = fillers[filled % len(fillers)]
                filled += 1
            else:
                lessons[i].topic = f"{topic}. {suffixes[(repeat - 1) % len(suffixes)]}"
            section_at[i] = section
        section = topic_list[0][0]
        norms_seen: dict[int, int] = {}
        for i, lesson in enumerate(lessons):
            if lesson.kind == "regular":
                section = section_at[i]
                continue
            q = cal.quarter_index(lesson.date)
            final = q == len(cal.QUARTERS) - 1
            if lesson.kind == "dictation":
                lesson.topic = (
                    "Итоговый контрольный диктант"
                    if final
                    else f"Контрольный диктант по теме «{section}»"
                )
            elif lesson.kind == "test":
                lesson.topic = (
                    "Итоговая контрольная работа"
                    if final
                    else f"Контрольная работа по теме «{section}»"
                )
            elif lesson.kind == "errors":
                lesson.topic = "Работа над ошибками"
            elif lesson.kind == "reading":
                lesson.topic = "Проверка техники чтения"
            elif lesson.kind == "summary":
                lesson.topic = (
                    "Повторение изученного за год"
                    if final
                    else f"Обобщающий урок по разделу «{section}»"
                )
            elif lesson.kind == "norms":
                k = norms_seen.get(q, 0)
                norms_seen[q] = k + 1
                lesson.topic = NORMS_TOPICS[q][min(k, 1)]
            elif lesson.kind == "practical":
                lesson.topic = f"Контрольная практическая работа за {q + 1} четверть"
        if group.marks_recorded:
            self.plan_homework(course, group, by_quarter, rng)

    def plan_homework(
        self, course: Course, group: Group, by_quarter: list[list[int]], rng: random.Random
    ) -> None:
        style = cur.HOMEWORK_STYLE.get(course.subject)
        if style is None:
            return
        lessons = course.lessons
        n = len(lessons)
        last_of_quarter = {idx[-1] for idx in by_quarter if idx}
        empty_share = 0.4 if group.grade == 2 else 0.15
        senior = group.grade >= 5
        for i, lesson in enumerate(lessons):
            if i in last_of_quarter or lesson.kind not in ("regular", "errors"):
                continue
            if i + 1 < n and lessons[i + 1].date == lesson.date:
                continue  # first half of a double lesson: homework is set at the second
            if style == "rare":
                if rng.random() < 0.08:
                    lesson.homework = rng.choice(EMPTY_HOMEWORK_RARE[course.subject])
                continue
            if style == "social":
                if rng.random() < 0.25:
                    lesson.homework = "повторить записи в тетради"
                continue
            if rng.random() < empty_share:
                continue
            page = 3 + i * (260 if senior else 130) // n
            paragraph = 1 + i * max(8, n // 2) // n
            r = rng.random()
            if style == "rus":
                exercise = 1 + i * (320 if senior else 220) // n
                if r < 0.75:
                    lesson.homework = f"упр. {exercise}, с. {page}"
                elif r < 0.9:
                    lesson.homework = f"выучить правило, с. {page}; упр. {exercise}"
                else:
                    lesson.homework = f"словарные слова, с. {page}"
            elif style == "read":
                if r < 0.5:
                    lesson.homework = f"с. {page}–{page + 2}, читать"
                elif r < 0.7:
                    lesson.homework = f"выразительное чтение, с. {page}–{page + 1}"
                elif r < 0.85 or not senior:
                    lesson.homework = f"ответить на вопросы, с. {page + 2}"
                else:
                    lesson.homework = f"пересказ, с. {page}–{page + 3}"
            elif style == "math":
                number = 1 + i * (900 if senior else 450) // n
                if r < 0.7:
                    lesson.homework = f"№ {number}, с. {page}"
                else:
                    lesson.homework = f"№ {number}, {number + 2}, с. {page}"
            elif style == "pages":
                lesson.homework = f"с. {page}–{page + 2}, ответить на вопросы"
            elif style == "para":
                lesson.homework = (
                    f"§ {paragraph}, вопросы 1–3" if r < 0.5 else f"§ {paragraph}, пересказ"
                )
            elif style == "geo":
                what = ("вопросы", "работа с картой", "контурная карта")[int(r * 3)]
                lesson.homework = f"§ {paragraph}, {what}"
            elif style == "hist":
                what = ("пересказ", "выучить даты", "вопросы 1–4")[int(r * 3)]
                lesson.homework = f"§ {paragraph}, {what}"

    # -- substitutions

    def substitutions(self) -> None:
        """Teachers fall ill or go to courses; others (or the deputy head) take their lessons."""
        rng = self.rng
        days = self.general_days
        away: set[tuple[str, date]] = set()
        teachers = self.staff.teachers
        for teacher in teachers:
            if rng.random() < 0.35:
                start = rng.randrange(len(days) - 6)
                for day in days[start : start + rng.randint(2, 5)]:
                    away.add((teacher.id, day))
            if rng.random() < 0.15:
                away.add((teacher.id, rng.choice(days)))
        if not away:
            start = rng.randrange(len(days) - 6)
            for day in days[start : start + 3]:
                away.add((teachers[0].id, day))
        taken: set[tuple[str, date, int]] = set()
        for group in self.class_groups:
            for course in group.courses:
                teacher = course.teacher
                for lesson in course.lessons:
                    if (teacher.id, lesson.date) not in away:
                        continue
                    cell = (lesson.date.weekday(), lesson.number)
                    same = [t for t in self.staff.by_group[teacher.group] if t is not teacher]
                    others = [t for t in teachers if t.group != teacher.group]
                    rng.shuffle(same)
                    rng.shuffle(others)
                    for candidate in same + others:
                        if (
                            cell not in candidate.busy
                            and (candidate.id, lesson.date) not in away
                            and (candidate.id, lesson.date, lesson.number) not in taken
                        ):
                            lesson.teacher = candidate.id
                            taken.add((candidate.id, lesson.date, lesson.number))
                            break
                    else:
                        if ("adm2", lesson.date, lesson.number) not in taken:
                            lesson.teacher = "adm2"
                            taken.add(("adm2", lesson.date, lesson.number))

    # -- 5. attendance and marks

    def whole_day_absences(self) -> None:
        """Illnesses over several consecutive school days, and a rare day off with a reason."""
        rng = self.rng
        days = self.general_days
        weights = [3 if d.month in (10, 11, 1, 2, 3) else 1 for d in days]
        for group in self.class_groups:
            for pupil in group.pupils:
                episodes = rng.choices((0, 1, 2, 3), (30, 40, 22, 8))[0]
                for _ in range(episodes):
                    start = rng.choices(range(len(days)), weights)[0]
                    for day in days[start : start + rng.randint(3, 8)]:
                        if pupil.active_on(day):
                            pupil.absences[day] = "б"
                if rng.random() < 0.25:
                    day = rng.choice(days)
                    if pupil.active_on(day) and day not in pupil.absences:
                        pupil.absences[day] = "у"

    def attendance_and_marks(self, group: Group) -> None:
        rng = self.rng
        pupils = group.pupils
        for course in group.courses:
            marking = group.marks_recorded and course.marked
            per_lesson = max(
                1, round((3 + min(course.hours, 3)) * len(pupils) / (course.hours * 8))
            )
            counts: dict[tuple[str, int], int] = {}
            last_osv_week: dict[str, tuple[int, int]] = {}
            for lesson in course.lessons:
                day = lesson.date
                absent: set[str] = set()
                present: list[Pupil] = []
                for pupil in pupils:
                    if not pupil.active_on(day):
                        continue
                    code = pupil.absences.get(day)
                    if code is None:
                        r = rng.random()
                        if r < 0.004:
                            code = "н"
                        elif r < 0.0055:
                            code = "п"
                        elif r < 0.0075:
                            code = "у"
                        elif r < (0.03 if lesson.number == 1 else 0.011):
                            code = "оп"
                    if code is not None:
                        course.attendance.append(
                            {"student": pupil.id, "lesson": lesson.id, "code": code}
                        )
                    if code in ABSENT_CODES:
                        absent.add(pupil.id)
                    else:
                        present.append(pupil)
                if marking and present:
                    self.mark_lesson(course, lesson, present, per_lesson, counts, last_osv_week)

    def mark_lesson(
        self,
        course: Course,
        lesson: Lesson,
        present: list[Pupil],
        per_lesson: int,
        counts: dict[tuple[str, int], int],
        last_osv_week: dict[str, tuple[int, int]],
    ) -> None:
        rng = self.rng
        day = lesson.date
        q = cal.quarter_index(day)
        marks = course.marks
        if course.subject == "pe":
            exempt = [p for p in present if p.exempt_from is not None and day >= p.exempt_from]
            for pupil in exempt:
                week = day.isocalendar()[:2]
                if last_osv_week.get(pupil.id) != week:
                    last_osv_week[pupil.id] = week
                    marks.append({"student": pupil.id, "lesson": lesson.id, "value": "осв"})
            if exempt:
                present = [p for p in present if p not in exempt]
        kind = lesson.kind
        if kind == "regular" and course.subject == "rus" and rng.random() < 0.07:
            kind, note = "all", "словарный диктант"
        elif kind == "regular" and course.subject == "math" and rng.random() < 0.06:
            kind, note = "all", "самостоятельная работа"
        else:
            note = {
                "test": "контрольная работа",
                "reading": "техника чтения",
                "summary": "тест",
                "practical": "практическая работа",
            }.get(kind, "")
        if kind == "norms":
            for pupil in present:
                fail = rng.random() < 0.03 + 0.03 * (5 - pupil.levels["pe"])
                marks.append(
                    {
                        "student": pupil.id,
                        "lesson": lesson.id,
                        "value": "незач" if fail else "зач",
                        "note": "нормативы",
                    }
                )
            return
        if kind == "dictation":
            for pupil in present:
                for part in ("диктант", "грамматическое задание"):
                    marks.append(
                        {
                            "student": pupil.id,
                            "lesson": lesson.id,
                            "value": self.value(pupil, course.subject, True),
                            "note": part,
                        }
                    )
                counts[pupil.id, q] = counts.get((pupil.id, q), 0) + 2
            return
        if kind in ("all", "test", "reading", "summary", "practical"):
            for pupil in present:
                marks.append(
                    {
                        "student": pupil.id,
                        "lesson": lesson.id,
                        "value": self.value(pupil, course.subject, kind != "all"),
                        "note": note,
                    }
                )
                counts[pupil.id, q] = counts.get((pupil.id, q), 0) + 1
            return
        k = min(len(present), max(0, per_lesson + rng.choice((-1, 0, 0, 1))))
        order = sorted(present, key=lambda p: counts.get((p.id, q), 0) + 2.0 * rng.random())[:k]
        chosen = {p.id for p in order}
        for pupil in present:
            if pupil.id not in chosen:
                continue
            if rng.random() < 0.025:
                for part in ("ответ у доски", "работа в тетради"):
                    marks.append(
                        {
                            "student": pupil.id,
                            "lesson": lesson.id,
                            "value": self.value(pupil, course.subject, False),
                            "note": part,
                        }
                    )
                counts[pupil.id, q] = counts.get((pupil.id, q), 0) + 2
            else:
                marks.append(
                    {
                        "student": pupil.id,
                        "lesson": lesson.id,
                        "value": self.value(pupil, course.subject, False),
                    }
                )
                counts[pupil.id, q] = counts.get((pupil.id, q), 0) + 1

    def value(self, pupil: Pupil, subject: str, checking: bool) -> str:
        """A numeric mark for ``pupil`` in ``subject`` (a checking work is marked stricter)."""
        rng = self.rng
        if pupil.failing == subject:
            level = 0
        else:
            level = pupil.levels[subject]
            if subject in EASIER_SUBJECTS:
                level = min(5, level + 1)
            if checking and rng.random() < 0.35:
                level = max(1, level - 1)
        return rng.choices(MARK_VALUES, cum_weights=_CUM[level])[0]

    # -- period, year and exam marks, promotion

    def final_marks(self, group: Group) -> None:
        lesson_quarter: dict[str, int] = {}
        for course in group.courses:
            if not course.marked:
                continue
            for lesson in course.lessons:
                lesson_quarter[lesson.id] = cal.quarter_index(lesson.date)
            self.keep_failing(course, group, lesson_quarter)
            numeric: dict[tuple[str, int], list[int]] = {}
            osv: set[tuple[str, int]] = set()
            for mark in course.marks:
                key = (mark["student"], lesson_quarter[mark["lesson"]])
                if mark["value"].isdigit():
                    numeric.setdefault(key, []).append(int(mark["value"]))
                elif mark["value"] == "осв":
                    osv.add(key)
            for pupil in group.pupils:
                quarter_values: list[str] = []
                for q, quarter in enumerate(cal.QUARTERS):
                    if pupil.enrolled > quarter.end or (
                        pupil.left is not None and pupil.left <= quarter.end
                    ):
                        continue
                    values = numeric.get((pupil.id, q))
                    if values:
                        value = str(max(2, round_half_up(sum(values), len(values))))
                    elif (pupil.id, q) in osv:
                        value = "осв"
                    else:
                        continue
                    quarter_values.append(value)
                    course.period_marks.append(
                        {"student": pupil.id, "period": quarter.id, "value": value}
                    )
                if pupil.left is not None or not quarter_values:
                    continue
                digits = [int(v) for v in quarter_values if v.isdigit()]
                year = str(round_half_up(sum(digits), len(digits))) if digits else "осв"
                course.year_marks.append({"student": pupil.id, "value": year})
                if group.grade == 9 and course.subject == "prof":
                    exam = self.value(pupil, "prof", True)
                    course.exam_marks.append(
                        {"student": pupil.id, "value": exam if exam in ("3", "4", "5") else "3"}
                    )

    def keep_failing(self, course: Course, group: Group, lesson_quarter: dict[str, int]) -> None:
        """Make a failing pupil's quarter means stay below 2.5 (so the year mark is 2)."""
        for pupil in group.pupils:
            if pupil.failing != course.subject:
                continue
            for q in range(len(cal.QUARTERS)):
                own = [
                    m
                    for m in course.marks
                    if m["student"] == pupil.id
                    and lesson_quarter[m["lesson"]] == q
                    and m["value"].isdigit()
                ]
                for mark in own:
                    values = [int(m["value"]) for m in own]
                    if 2 * sum(values) < 5 * len(values):
                        break
                    if int(mark["value"]) >= 3:
                        mark["value"] = "2"

    def promote(self, group: Group) -> None:
        for pupil in group.pupils:
            if pupil.left is not None:
                continue
            ending = "" if pupil.male else "а"
            if group.grade == 9:
                decision = f"выпущен{ending}, выдано свидетельство об обучении"
                protocol = cal.GRADUATION_COUNCIL
            else:
                failed = any(
                    m["student"] == pupil.id and m["value"] == "2"
                    for c in group.courses
                    for m in c.year_marks
                )
                to = "во 2 класс" if group.grade == 1 else f"в {group.grade + 1} класс"
                moved = "переведён" if pupil.male else "переведена"
                decision = f"{'условно ' if failed else ''}{moved} {to}"
                protocol = cal.PROMOTION_COUNCIL
            group.promotion.append(
                {"student": pupil.id, "decision": decision, "protocol": protocol}
            )

    # -- the whole run

    def run(self) -> dict[str, Any]:
        self.layout()
        self.make_pupils()
        self.fill_clubs()
        self.make_staff()
        for group in self.class_groups:
            self.build_timetable(group)
        for group in self.class_groups:
            self.make_lessons(group)
        extra = [g for g in self.groups if g.kind != "class"]
        for group, (subject, weekdays, leader) in zip(
            extra,
            (("crafts", (1, 3), 0), ("careers", (2,), 1)),
            strict=False,
        ):
            educator_id = self.educators[leader][0]
            teacher = Teacher(educator_id, self.educators[leader][1], "воспитатель", "educator")
            course = Course(
                f"{group.id}-{subject}", subject, len(weekdays), "educator", False, False, teacher
            )
            group.courses.append(course)
            group.class_teacher = teacher
            self.make_club_lessons(group, weekdays, course)
        self.substitutions()
        self.whole_day_absences()
        for group in self.groups:
            self.attendance_and_marks(group)
            if group.kind == "class":
                if group.marks_recorded:
                    self.final_marks(group)
                self.promote(group)
        return self.document()

    def document(self) -> dict[str, Any]:
        staff: list[dict[str, Any]] = [
            {"id": "adm1", "name": self.director, "position": "директор"},
            {
                "id": "adm2",
                "name": self.deputy,
                "position": "заместитель директора по учебно-воспитательной работе",
            },
        ]
        staff += [{"id": t.id, "name": t.name, "position": t.position} for t in self.staff.teachers]
        staff += [{"id": i, "name": n, "position": "воспитатель"} for i, n in self.educators]
        used = {c.subject for g in self.groups for c in g.courses}
        periods = [
            {
                "id": q.id,
                "name": q.name,
                "kind": "quarter",
                "start": q.start.isoformat(),
                "end": q.end.isoformat(),
            }
            for q in cal.QUARTERS
        ]
        periods.append(
            {
                "id": cal.YEAR_PERIOD_ID,
                "name": cal.YEAR_PERIOD_NAME,
                "kind": "year",
                "start": cal.YEAR_START.isoformat(),
                "end": cal.YEAR_END.isoformat(),
            }
        )
        return {
            "format": "school-journal-export",
            "format_version": 1,
            "exported_at": cal.EXPORTED_AT,
            "source_system": SOURCE_SYSTEM,
            "school": {**SCHOOL, "director": {"name": self.director, "position": "директор"}},
            "academic_year": {
                "name": cal.YEAR_NAME,
                "start": cal.YEAR_START.isoformat(),
                "end": cal.YEAR_END.isoformat(),
                "periods": periods,
            },
            "grading_scale": list(DEFAULT_GRADING_SCALE),
            "attendance_codes": dict(DEFAULT_ATTENDANCE_CODES),
            "staff": staff,
            "subjects": [{"id": k, "name": v} for k, v in cur.SUBJECTS.items() if k in used],
            "classes": [self.class_record(g) for g in self.groups],
        }

    def class_record(self, group: Group) -> dict[str, Any]:
        assessed = group.kind == "class" and group.marks_recorded
        out: dict[str, Any] = {
            "id": group.id,
            "name": group.name,
            "grade": group.grade,
            "kind": group.kind,
            "marks_recorded": group.marks_recorded,
            "period_ids": [q.id for q in cal.QUARTERS] if assessed else [],
            "class_teacher": group.class_teacher.id if group.class_teacher else None,
            "students": [p.record() for p in group.pupils],
            "courses": [],
        }
        for course in group.courses:
            item: dict[str, Any] = {
                "id": course.id,
                "subject": course.subject,
                "teacher": course.teacher.id,
                "lessons": [lesson.record() for lesson in course.lessons],
                "marks": [_drop_empty_note(m) for m in course.marks],
                "attendance": course.attendance,
                "period_marks": course.period_marks,
                "year_marks": course.year_marks,
            }
            if course.exam_marks:
                item["exam_marks"] = course.exam_marks
            out["courses"].append(item)
        if group.kind == "class":
            out["promotion"] = group.promotion
        return out


def _slot_penalty(subject: str, slot: int) -> float:
    """Main subjects early in the day, practical and correctional ones later."""
    if subject in ("rus", "math", "read", "litread"):
        return max(0, slot - 3) * 1.5
    if subject in ("pe", "music", "art", "craft", "rhythm", "logo", "prof"):
        return max(0, 3 - slot) * 1.0
    return 0.0


def _drop_empty_note(mark: dict[str, Any]) -> dict[str, Any]:
    if "note" in mark and not mark["note"]:
        return {k: v for k, v in mark.items() if k != "note"}
    return mark


# --------------------------------------------------------------------------- public API


def generate_export(*, seed: int = 1, classes: int = 12) -> dict[str, Any]:
    """A demo school's academic year 2025/2026 as a journal export (format version 1).

    ``classes`` counts every list: the preparatory class, the 1st grade, the
    assessed classes, the club and the extracurricular group (3..200). The same
    ``seed`` and ``classes`` always give the same document.
    """
    if isinstance(classes, bool) or not isinstance(classes, int):
        raise UsageError("число классов должно быть целым числом")
    if not MIN_CLASSES <= classes <= MAX_CLASSES:
        raise UsageError(
            f"число классов должно быть от {MIN_CLASSES} до {MAX_CLASSES}, а не {classes}"
        )
    return _Generator(seed, classes).run()


def export_bytes(data: dict[str, Any]) -> bytes:
    """The export as UTF-8 JSON: one list item per line, deterministic, ending with a newline."""
    out: list[str] = []
    _write(data, 0, out)
    out.append("\n")
    return "".join(out).encode("utf-8")


def _flat(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not isinstance(v, dict | list) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(v, dict | list) for v in value)
    return True


def _write(value: Any, depth: int, out: list[str]) -> None:
    if _flat(value):
        out.append(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
        return
    pad = "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + pad + json.dumps(key, ensure_ascii=False) + ": ")
            _write(item, depth + 1, out)
        out.append("\n" + "  " * depth + "}")
    else:
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + pad)
            _write(item, depth + 1, out)
        out.append("\n" + "  " * depth + "]")
