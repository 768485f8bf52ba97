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

The package follows those steps: :mod:`.school` (the pieces and the shared state),
:mod:`.classes` (1, 2), :mod:`.timetable` (3), :mod:`.lessons` (4),
:mod:`.attendance` and :mod:`.marks` (5) and :mod:`.export` (the document and its
bytes).
"""

from __future__ import annotations

from typing import Any

from archiver.demo.generator.attendance import attendance_and_marks, whole_day_absences
from archiver.demo.generator.classes import (
    MAX_CLASSES,
    MIN_CLASSES,
    fill_clubs,
    layout,
    make_pupils,
)
from archiver.demo.generator.export import document, export_bytes
from archiver.demo.generator.lessons import make_club_lessons, make_lessons, substitutions
from archiver.demo.generator.marks import final_marks, promote
from archiver.demo.generator.school import Course, School, Teacher
from archiver.demo.generator.timetable import build_timetable, make_staff
from archiver.errors import UsageError

__all__ = ["MAX_CLASSES", "MIN_CLASSES", "export_bytes", "generate_export"]


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
    return _run(School(seed, classes))


def _run(school: School) -> dict[str, Any]:
    """The steps of the generation in order; the export document."""
    layout(school)
    make_pupils(school)
    fill_clubs(school)
    make_staff(school)
    for group in school.class_groups:
        build_timetable(school, group)
    for group in school.class_groups:
        make_lessons(school, group)
    extra = [g for g in school.groups if g.kind != "class"]
    for group, (subject, weekdays, leader) in zip(
        extra,
        (("crafts", (1, 3), 0), ("careers", (2,), 1)),
        strict=False,
    ):
        educator_id = school.educators[leader][0]
        teacher = Teacher(educator_id, school.educators[leader][1], "воспитатель", "educator")
        course = Course(
            f"{group.id}-{subject}", subject, len(weekdays), "educator", False, False, teacher
        )
        group.courses.append(course)
        group.class_teacher = teacher
        make_club_lessons(school, group, weekdays, course)
    substitutions(school)
    whole_day_absences(school)
    for group in school.groups:
        attendance_and_marks(school, group)
        if group.kind == "class":
            if group.marks_recorded:
                final_marks(school, group)
            promote(group)
    return document(school)
