"""The adapted curriculum of the demo school (ФАООП УО, variant 1) and its lesson topics.

Weekly hours follow the federal model curriculum for a five-day week, slightly
rounded. Topics are listed per subject and grade (or band of grades) in the
order they are taught, grouped in sections; :func:`topics` flattens them. The
topics are data, in ``archiver/demo/data/topics.toml`` (package data, read with
:mod:`importlib.resources`).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

SUBJECTS: dict[str, str] = {
    "rus": "Русский язык",
    "read": "Чтение",
    "litread": "Чтение (литературное чтение)",
    "speech": "Речевая практика",
    "math": "Математика",
    "world": "Мир природы и человека",
    "nature": "Природоведение",
    "bio": "Биология",
    "geo": "География",
    "hworld": "Мир истории",
    "hist": "История отечества",
    "social": "Основы социальной жизни",
    "inf": "Информатика",
    "art": "Рисование",
    "music": "Музыка",
    "craft": "Ручной труд",
    "prof": "Профильный труд",
    "pe": "Адаптивная физкультура",
    "logo": "Логопедические занятия",
    "rhythm": "Ритмика",
    "crafts": "Декоративно-прикладное творчество",
    "careers": "Мир профессий",
}
"""Subject id → name, in the order subjects are listed in the export."""


@dataclass(frozen=True, slots=True)
class CoursePlan:
    """One subject of a grade's weekly plan."""

    subject: str
    hours: int
    group: str
    """Who teaches it: ``primary`` is the class's own teacher, the rest are subject teachers."""
    marked: bool = True
    """Whether marks are recorded (correctional courses carry none)."""
    double: bool = False
    """Taught in double lessons (two consecutive slots)."""


GROUP_POSITIONS: dict[str, str] = {
    "primary": "учитель начальных классов",
    "rus": "учитель русского языка и литературы",
    "math": "учитель математики и информатики",
    "nat": "учитель биологии и географии",
    "hist": "учитель истории и обществознания",
    "prof": "учитель профильного труда",
    "pe": "учитель адаптивной физической культуры",
    "music": "учитель музыки",
    "art": "учитель изобразительного искусства",
    "logo": "учитель-логопед",
}
"""Teacher group → position of its teachers."""

PROFILES: tuple[str, ...] = (
    "столярное дело",
    "швейное дело",
    "цветоводство и декоративное садоводство",
)
"""Profiles of Профильный труд; a teacher teaches one of them."""

_JUNIOR = (
    CoursePlan("rus", 3, "primary"),
    CoursePlan("read", 3, "primary"),
    CoursePlan("speech", 2, "primary"),
    CoursePlan("math", 3, "primary"),
    CoursePlan("world", 2, "primary"),
    CoursePlan("art", 1, "primary"),
    CoursePlan("music", 2, "music"),
    CoursePlan("craft", 2, "primary"),
    CoursePlan("pe", 3, "pe"),
    CoursePlan("logo", 2, "logo", marked=False),
    CoursePlan("rhythm", 1, "music", marked=False),
)
_PRIMARY = (
    CoursePlan("rus", 4, "primary"),
    CoursePlan("read", 4, "primary"),
    CoursePlan("speech", 2, "primary"),
    CoursePlan("math", 4, "primary"),
    CoursePlan("world", 1, "primary"),
    CoursePlan("art", 1, "primary"),
    CoursePlan("music", 1, "music"),
    CoursePlan("craft", 1, "primary"),
    CoursePlan("pe", 3, "pe"),
    CoursePlan("logo", 2, "logo", marked=False),
    CoursePlan("rhythm", 1, "music", marked=False),
)


def weekly_plan(grade: int) -> tuple[CoursePlan, ...]:
    """The subjects of ``grade`` (0 is the preparatory class) with their weekly hours."""
    if grade <= 1:
        return _JUNIOR
    if grade <= 4:
        return _PRIMARY
    core = (
        CoursePlan("rus", 4, "rus"),
        CoursePlan("litread", 4, "rus"),
        CoursePlan("math", 4, "math"),
    )
    if grade == 5:
        rest: tuple[CoursePlan, ...] = (
            CoursePlan("nature", 2, "nat"),
            CoursePlan("social", 1, "hist"),
            CoursePlan("art", 2, "art"),
            CoursePlan("music", 1, "music"),
            CoursePlan("pe", 2, "pe"),
            CoursePlan("prof", 6, "prof", double=True),
        )
    elif grade == 6:
        rest = (
            CoursePlan("nature", 2, "nat"),
            CoursePlan("geo", 2, "nat"),
            CoursePlan("hworld", 2, "hist"),
            CoursePlan("social", 2, "hist"),
            CoursePlan("pe", 2, "pe"),
            CoursePlan("prof", 6, "prof", double=True),
        )
    else:
        rest = (
            CoursePlan("inf", 1, "math"),
            CoursePlan("bio", 2, "nat"),
            CoursePlan("geo", 2, "nat"),
            CoursePlan("hist", 2, "hist"),
            CoursePlan("social", 2, "hist"),
            CoursePlan("pe", 2, "pe"),
            CoursePlan("prof", 7 if grade == 7 else 8, "prof", double=True),
        )
    return core + rest


def max_lessons_per_day(grade: int) -> int:
    """The most lessons a class of ``grade`` has in one day."""
    if grade <= 4:
        return 5
    return 6 if grade <= 6 else 7


# --------------------------------------------------------------------------- how lessons look

CONTROL_KIND: dict[str, str] = {
    "rus": "dictation",
    "math": "test",
    "read": "reading",
    "litread": "reading",
    "nature": "summary",
    "bio": "summary",
    "geo": "summary",
    "hworld": "summary",
    "hist": "summary",
    "social": "summary",
    "inf": "summary",
    "pe": "norms",
    "prof": "practical",
}
"""What the checking lessons at the end of a quarter are, per subject."""

REPEAT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "rus": ("Закрепление", "Упражнения", "Работа с текстом", "Обобщение"),
    "math": ("Закрепление", "Решение примеров", "Решение задач", "Повторение"),
    "read": ("Выразительное чтение", "Ответы на вопросы", "Работа над содержанием"),
    "litread": ("Работа над содержанием", "Выборочное чтение", "Ответы на вопросы"),
    "speech": ("Ролевая игра", "Закрепление"),
    "pe": ("Закрепление", "Совершенствование техники"),
    "prof": (
        "Практическая работа",
        "Изготовление изделия",
        "Самостоятельная работа",
        "Контроль качества изделия",
    ),
    "logo": ("Закрепление",),
    "art": ("Продолжение работы",),
    "craft": ("Продолжение работы",),
    "music": ("Разучивание песни", "Слушание музыки"),
    "rhythm": ("Закрепление",),
    "crafts": ("Продолжение работы",),
    "careers": ("Игра-практикум",),
}
DEFAULT_SUFFIXES: tuple[str, ...] = ("Закрепление", "Повторение")

FILLERS: dict[str, tuple[str, ...]] = {
    "rus": (
        "Развитие речи. Составление рассказа по картинке",
        "Списывание текста с грамматическим заданием",
        "Развитие речи. Изложение по плану",
        "Работа с деформированным текстом",
        "Развитие речи. Сочинение по серии картинок",
        "Словарная работа",
    ),
    "math": (
        "Устный счёт. Решение текстовых задач",
        "Математический диктант",
        "Геометрический материал: построение отрезков",
        "Задачи на сравнение",
        "Устный счёт. Решение примеров в несколько действий",
    ),
    "read": (
        "Внеклассное чтение. Сказки народов России",
        "Внеклассное чтение. Рассказы о животных",
        "Внеклассное чтение. Стихи о природе",
        "Внеклассное чтение. Книги о детях",
    ),
    "litread": (
        "Внеклассное чтение. Рассказы о подростках",
        "Внеклассное чтение. Писатели Урала",
        "Урок развития речи. Пересказ по плану",
        "Внеклассное чтение. Рассказы о войне",
        "Внеклассное чтение. Произведения о природе родного края",
    ),
}
"""Lessons a teacher puts between the lessons of one long topic (развитие речи, внеклассное чтение)."""

HOMEWORK_STYLE: dict[str, str] = {
    "rus": "rus",
    "read": "read",
    "litread": "read",
    "math": "math",
    "nature": "pages",
    "world": "rare",
    "speech": "rare",
    "bio": "para",
    "geo": "geo",
    "hworld": "para",
    "hist": "hist",
    "social": "social",
    "craft": "rare",
}
"""How a subject's homework is written; subjects not listed have none."""

# --------------------------------------------------------------------------- topics

Sections = tuple[tuple[str, tuple[str, ...]], ...]
"""Sections of (section name, topics), in teaching order."""


@functools.cache
def _topics_data() -> tuple[dict[tuple[str, int], Sections], dict[str, Sections]]:
    """``topics.toml`` as (subject, grade) → sections and profile → sections of Профильный труд."""
    text = (resources.files("archiver.demo") / "data" / "topics.toml").read_text("utf-8")
    by_grade: dict[tuple[str, int], Sections] = {}
    by_profile: dict[str, Sections] = {}
    for subject, lists in tomllib.loads(text).items():
        for key, items in lists.items():
            sections: Sections = tuple(
                (str(item["section"]), tuple(str(t) for t in item["topics"])) for item in items
            )
            if subject == "prof":
                by_profile[key] = sections
                continue
            first, _, last = key.partition("-")
            for grade in range(int(first), int(last or first) + 1):
                by_grade[subject, grade] = sections
    return by_grade, by_profile


def topics(subject: str, grade: int, profile: str | None = None) -> list[tuple[str, str]]:
    """``(section, topic)`` pairs of a subject in ``grade``, in teaching order."""
    by_grade, by_profile = _topics_data()
    sections = by_profile[profile or PROFILES[0]] if subject == "prof" else by_grade[subject, grade]
    return [(name, topic) for name, items in sections for topic in items]
