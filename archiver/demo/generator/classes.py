"""The class list and its pupils (steps 1 and 2 of the generation).

The classes: a preparatory class, a 1st grade, assessed classes 2–9 (parallel
classes «А», «Б», … when there are many), a club and an extracurricular group. The
pupils: Russian names and plausible birth dates, one pupil who leaves and one who
joins during the year (more in large schools), the pupils who fail a subject or are
exempt from physical education, and the members of the club and the group.
"""

from __future__ import annotations

from datetime import date, timedelta

from archiver.demo import calendar as cal
from archiver.demo import curriculum as cur
from archiver.demo import names
from archiver.demo.generator.school import Group, Pupil, School
from archiver.wording import ru_date

MIN_CLASSES = 3
MAX_CLASSES = 200

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

LEVEL_WEIGHTS = {1: 10, 2: 22, 3: 35, 4: 23, 5: 10}


def layout(school: School) -> None:
    """Create the classes, clubs and groups (without pupils)."""
    if school.classes == MIN_CLASSES:
        specs = [(1, 0), (5, 0)]
    else:
        specs = [(0, 0), (1, 0)]
        for i in range(school.classes - 4):
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
        school.groups.append(group)
    school.groups.append(Group("club1", "Кружок «Умелые руки»", 0, "club", False))
    if school.classes > MIN_CLASSES:
        school.groups.append(
            Group(
                "ext1",
                "Группа внеурочной деятельности «Мир профессий»",
                0,
                "extracurricular",
                False,
            )
        )


def new_pupil(school: School, grade: int, taken: set[tuple[str, str]]) -> Pupil:
    rng = school.rng
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
    middle = None if rng.random() < 0.04 else names.patronymic(rng.choice(names.FATHER_NAMES), male)
    older = rng.choices((0, 1, 2), (70, 25, 5))[0]
    born_from = date(2025 - 8 - grade - older, 9, 1)
    born = born_from + timedelta(days=rng.randrange(365))
    level = rng.choices(tuple(LEVEL_WEIGHTS), tuple(LEVEL_WEIGHTS.values()))[0]
    pupil = Pupil(last, first, middle, born, male, level)
    for subject in cur.SUBJECTS:
        shift = rng.choices((-1, 0, 1), (20, 60, 20))[0]
        pupil.levels[subject] = min(5, max(1, level + shift))
    return pupil


def make_pupils(school: School) -> None:
    rng = school.rng
    taken: dict[str, set[tuple[str, str]]] = {}
    for group in school.class_groups:
        taken[group.id] = set()
        for _ in range(rng.randint(8, 12)):
            group.pupils.append(new_pupil(school, group.grade, taken[group.id]))
    everyone = [p for g in school.class_groups for p in g.pupils]
    ensure_name_features(school, everyone)

    # movers: one who leaves and one who joins per six assessed classes
    pool = school.assessed or school.class_groups
    movers = max(1, len(pool) // 6)
    for group in rng.sample(pool, min(movers, len(pool))):
        pupil = rng.choice(group.pupils)
        left = rng.choice(
            [d for d in school.general_days if date(2025, 11, 10) <= d <= date(2026, 4, 24)]
        )
        pupil.left = left
        verb = "выбыл" if pupil.male else "выбыла"
        order = f"приказ № {10 + (left - cal.YEAR_START).days // 5} от {ru_date(left)}"
        if rng.random() < 0.5:
            pupil.left_reason = f"{verb} в МБОУ «СОШ № {rng.randint(1, 12)}», {order}"
        else:
            town = rng.choice(("г. Соликамск", "г. Кунгур", "г. Чайковский", "г. Лысьва"))
            pupil.left_reason = f"{verb} в связи с переменой места жительства ({town}), {order}"
    for group in rng.sample(pool, min(movers, len(pool))):
        if len(group.pupils) >= 12:
            group.pupils.remove(rng.choice([p for p in group.pupils if p.left is None]))
        pupil = new_pupil(school, group.grade, taken[group.id])
        pupil.enrolled = rng.choice(
            [d for d in school.general_days if date(2025, 10, 1) <= d <= date(2026, 4, 15)]
        )
        group.pupils.append(pupil)

    number = 0
    for group in school.class_groups:
        group.pupils.sort(key=Pupil.sort_key)
        for pupil in group.pupils:
            number += 1
            pupil.id = f"s{number:04d}"

    steady = [
        (g, p)
        for g in school.assessed
        for p in g.pupils
        if p.left is None and p.enrolled == cal.YEAR_START
    ]
    weak_pool = [(g, p) for g, p in steady if 2 <= g.grade <= 8]
    for i, (_, pupil) in enumerate(
        rng.sample(weak_pool, min(len(weak_pool), 1 + len(school.assessed) // 15))
    ):
        pupil.failing = ("math", "rus")[i % 2]
    exempt_pool = [(g, p) for g, p in steady if p.failing is None]
    for _, pupil in rng.sample(exempt_pool, min(len(exempt_pool), 1 + len(school.assessed) // 12)):
        pupil.exempt_from = cal.QUARTERS[2].start


def ensure_name_features(school: School, pupils: list[Pupil]) -> None:
    """At least a few double surnames, pupils without a middle name and names with ё."""
    rng = school.rng
    while sum("-" in p.last_name for p in pupils) < 2:
        pupil = rng.choice(pupils)
        pupil.last_name = names.surname_for(names.hyphenated_surname(rng), pupil.male)
    while sum(p.middle_name is None for p in pupils) < 3:
        rng.choice(pupils).middle_name = None
    if not any("ё" in f"{p.last_name}{p.first_name}".lower() for p in pupils):
        pupil = rng.choice(pupils)
        pupil.first_name = "Артём" if pupil.male else "Алёна"


def fill_clubs(school: School) -> None:
    """Pupils of the school's classes who attend the club and the group."""
    rng = school.rng
    used: set[str] = set()
    for group, grades in (("club1", range(2, 7)), ("ext1", range(7, 10))):
        target = next((g for g in school.groups if g.id == group), None)
        if target is None:
            continue
        candidates = [
            p
            for g in school.class_groups
            if g.grade in grades
            for p in g.pupils
            if p.left is None and p.enrolled == cal.YEAR_START and p.id not in used
        ]
        if len(candidates) < 6:
            candidates = [
                p
                for g in school.class_groups
                for p in g.pupils
                if p.left is None and p.enrolled == cal.YEAR_START and p.id not in used
            ]
        members = rng.sample(candidates, min(len(candidates), rng.randint(8, 12)))
        used.update(p.id for p in members)
        target.pupils = sorted(members, key=Pupil.sort_key)
        grade_of = {p.id: g.grade for g in school.class_groups for p in g.pupils}
        target.grade = min(grade_of[p.id] for p in members)
