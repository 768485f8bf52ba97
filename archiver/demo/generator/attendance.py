"""Attendance (step 5 of the generation): illnesses over several days, sporadic
absences and lateness; the present pupils of each lesson are then marked.
"""

from __future__ import annotations

from archiver.demo.generator.marks import mark_lesson
from archiver.demo.generator.school import Group, Pupil, School

ABSENT_CODES = frozenset({"н", "б", "у", "п"})


def whole_day_absences(school: School) -> None:
    """Illnesses over several consecutive school days, and a rare day off with a reason."""
    rng = school.rng
    days = school.general_days
    weights = [3 if d.month in (10, 11, 1, 2, 3) else 1 for d in days]
    for group in school.class_groups:
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


def attendance_and_marks(school: School, group: Group) -> None:
    rng = school.rng
    pupils = group.pupils
    for course in group.courses:
        marking = group.marks_recorded and course.marked
        per_lesson = max(1, round((3 + min(course.hours, 3)) * len(pupils) / (course.hours * 8)))
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
                mark_lesson(school, course, lesson, present, per_lesson, counts, last_osv_week)
