"""Marks (step 5 of the generation): of present pupils lesson by lesson, then the period,
year and exam marks derived from them, and the teachers' council decisions.
"""

from __future__ import annotations

from archiver.demo import calendar as cal
from archiver.demo.generator.school import Course, Group, Lesson, Pupil, School

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
EASIER_SUBJECTS = frozenset({"pe", "music", "art", "craft", "prof"})
"""Subjects where this school's teachers mark one level higher."""


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


def mark_lesson(
    school: School,
    course: Course,
    lesson: Lesson,
    present: list[Pupil],
    per_lesson: int,
    counts: dict[tuple[str, int], int],
    last_osv_week: dict[str, tuple[int, int]],
) -> None:
    rng = school.rng
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
                        "value": mark_value(school, pupil, course.subject, True),
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
                    "value": mark_value(school, pupil, course.subject, kind != "all"),
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
                        "value": mark_value(school, pupil, course.subject, False),
                        "note": part,
                    }
                )
            counts[pupil.id, q] = counts.get((pupil.id, q), 0) + 2
        else:
            marks.append(
                {
                    "student": pupil.id,
                    "lesson": lesson.id,
                    "value": mark_value(school, pupil, course.subject, False),
                }
            )
            counts[pupil.id, q] = counts.get((pupil.id, q), 0) + 1


def mark_value(school: School, pupil: Pupil, subject: str, checking: bool) -> str:
    """A numeric mark for ``pupil`` in ``subject`` (a checking work is marked stricter)."""
    rng = school.rng
    if pupil.failing == subject:
        level = 0
    else:
        level = pupil.levels[subject]
        if subject in EASIER_SUBJECTS:
            level = min(5, level + 1)
        if checking and rng.random() < 0.35:
            level = max(1, level - 1)
    return rng.choices(MARK_VALUES, cum_weights=_CUM[level])[0]


def final_marks(school: School, group: Group) -> None:
    lesson_quarter: dict[str, int] = {}
    for course in group.courses:
        if not course.marked:
            continue
        for lesson in course.lessons:
            lesson_quarter[lesson.id] = cal.quarter_index(lesson.date)
        keep_failing(course, group, lesson_quarter)
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
                exam = mark_value(school, pupil, "prof", True)
                course.exam_marks.append(
                    {"student": pupil.id, "value": exam if exam in ("3", "4", "5") else "3"}
                )


def keep_failing(course: Course, group: Group, lesson_quarter: dict[str, int]) -> None:
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


def promote(group: Group) -> None:
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
        group.promotion.append({"student": pupil.id, "decision": decision, "protocol": protocol})
