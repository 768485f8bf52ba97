"""Lessons, their topics and homework, and substitutions (step 4 of the generation).

Lessons fall on the school days of the calendar in the cells of the class's
timetable; a course's topics come from the curriculum, spread evenly over its
lessons, with checking lessons at the end of each quarter; teachers fall ill and
others (or the deputy head) take their lessons.
"""

from __future__ import annotations

import random
from datetime import date

from archiver.demo import calendar as cal
from archiver.demo import curriculum as cur
from archiver.demo.generator.school import Course, Group, Lesson, School

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


def make_lessons(school: School, group: Group) -> None:
    for day in cal.school_days(group.grade):
        weekday = day.weekday()
        for slot in range(1, group.day_counts[weekday] + 1):
            group.grid[weekday, slot].lessons.append(Lesson(day, slot))
    for course in group.courses:
        for i, lesson in enumerate(course.lessons):
            lesson.id = f"{course.id}-l{i + 1:03d}"
        plan_course(school, course, group)


def make_club_lessons(
    school: School, group: Group, weekdays: tuple[int, ...], course: Course
) -> None:
    pupil_ids = {p.id for p in group.pupils}
    member_classes = [g for g in school.class_groups if any(p.id in pupil_ids for p in g.pupils)]
    slots = {wd: 1 + max(g.day_counts[wd] for g in member_classes) for wd in weekdays}
    for day in cal.school_days(group.grade, CLUB_START, CLUB_END):
        if day.weekday() in slots:
            course.lessons.append(Lesson(day, slots[day.weekday()]))
    for i, lesson in enumerate(course.lessons):
        lesson.id = f"{course.id}-l{i + 1:03d}"
    plan_course(school, course, group)


def plan_course(school: School, course: Course, group: Group) -> None:
    """Topics, checking lessons and homework of a course."""
    rng = school.rng
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
        plan_homework(course, group, by_quarter, rng)


def plan_homework(
    course: Course, group: Group, by_quarter: list[list[int]], rng: random.Random
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


def substitutions(school: School) -> None:
    """Teachers fall ill or go to courses; others (or the deputy head) take their lessons."""
    rng = school.rng
    days = school.general_days
    away: set[tuple[str, date]] = set()
    teachers = school.staff.teachers
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
    for group in school.class_groups:
        for course in group.courses:
            teacher = course.teacher
            for lesson in course.lessons:
                if (teacher.id, lesson.date) not in away:
                    continue
                cell = (lesson.date.weekday(), lesson.number)
                same = [t for t in school.staff.by_group[teacher.group] if t is not teacher]
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
