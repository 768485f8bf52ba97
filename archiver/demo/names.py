"""Russian names for the demo school's pupils and staff.

Surnames are stored in their masculine form; :func:`surname_for` gives the
feminine form by the ordinary rules (Семёнов → Семёнова, Островский →
Островская; Седых and Шевчук do not change).
"""

from __future__ import annotations

import random


def _words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text``."""
    return tuple(text.split())


SURNAMES: tuple[str, ...] = _words(
    """
    Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров
    Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов
    Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов
    Воробьёв Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин
    Максимов Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков
    Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев
    Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов
    Казаков Афанасьев Данилов Пономарёв Калинин Голубев Лазарев Чернов Пермяков Мальцев
    Шилов Мехоношин Зубарев Старцев Чащин Новосёлов Плотников Бояршинов Мезенцев Вотинов
    Шестаков Носков Пепеляев Островский Добровольский Седых Черных Долгих Белых Шевчук
    Ткаченко Кравченко Бондаренко
    """
)
"""Masculine surnames, Perm krai ones among the common Russian ones."""

HYPHEN_PARTS: tuple[str, ...] = _words(
    """
    Белов Соколов Орлов Семёнов Лебедев Тарасов Крылов Волков Зубарев Фёдоров
    """
)
"""Surnames that combine into double (hyphenated) ones."""

MALE_NAMES: tuple[str, ...] = _words(
    """
    Александр Алексей Андрей Артём Арсений Богдан Вадим Владимир Владислав Глеб Даниил
    Денис Дмитрий Егор Захар Иван Игорь Илья Кирилл Константин Лев Максим Марк Матвей
    Михаил Никита Николай Павел Пётр Роман Руслан Савелий Семён Сергей Степан Тимофей
    Тимур Фёдор Ярослав Евгений Антон Виктор
    """
)
FEMALE_NAMES: tuple[str, ...] = _words(
    """
    Александра Алёна Алина Анастасия Ангелина Анна Арина Валерия Варвара Василиса
    Вероника Виктория Дарья Диана Ева Екатерина Елизавета Злата Кира Ксения Маргарита
    Мария Милана Надежда Олеся Полина Софья Таисия Ульяна Юлия Яна Алёна Дарья Анастасия
    """
)
STAFF_FEMALE_NAMES: tuple[str, ...] = _words(
    """
    Ольга Татьяна Елена Наталья Ирина Светлана Людмила Галина Марина Надежда Любовь
    Оксана Юлия Анна Валентина Лариса Нина Вера Алёна Ксения Евгения
    """
)
STAFF_MALE_NAMES: tuple[str, ...] = _words(
    """
    Сергей Андрей Владимир Николай Алексей Пётр Фёдор Михаил Игорь Виктор Юрий Олег
    """
)

PATRONYMICS: dict[str, tuple[str, str]] = {
    "Александр": ("Александрович", "Александровна"),
    "Алексей": ("Алексеевич", "Алексеевна"),
    "Анатолий": ("Анатольевич", "Анатольевна"),
    "Андрей": ("Андреевич", "Андреевна"),
    "Антон": ("Антонович", "Антоновна"),
    "Артём": ("Артёмович", "Артёмовна"),
    "Борис": ("Борисович", "Борисовна"),
    "Вадим": ("Вадимович", "Вадимовна"),
    "Валерий": ("Валерьевич", "Валерьевна"),
    "Василий": ("Васильевич", "Васильевна"),
    "Виктор": ("Викторович", "Викторовна"),
    "Виталий": ("Витальевич", "Витальевна"),
    "Владимир": ("Владимирович", "Владимировна"),
    "Геннадий": ("Геннадьевич", "Геннадьевна"),
    "Денис": ("Денисович", "Денисовна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Егор": ("Егорович", "Егоровна"),
    "Иван": ("Иванович", "Ивановна"),
    "Игорь": ("Игоревич", "Игоревна"),
    "Илья": ("Ильич", "Ильинична"),
    "Кирилл": ("Кириллович", "Кирилловна"),
    "Константин": ("Константинович", "Константиновна"),
    "Леонид": ("Леонидович", "Леонидовна"),
    "Максим": ("Максимович", "Максимовна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Николай": ("Николаевич", "Николаевна"),
    "Олег": ("Олегович", "Олеговна"),
    "Павел": ("Павлович", "Павловна"),
    "Пётр": ("Петрович", "Петровна"),
    "Роман": ("Романович", "Романовна"),
    "Руслан": ("Русланович", "Руслановна"),
    "Семён": ("Семёнович", "Семёновна"),
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Степан": ("Степанович", "Степановна"),
    "Фёдор": ("Фёдорович", "Фёдоровна"),
    "Юрий": ("Юрьевич", "Юрьевна"),
}
"""Father's name → (patronymic of a son, patronymic of a daughter)."""

FATHER_NAMES: tuple[str, ...] = tuple(PATRONYMICS)


def surname_for(masculine: str, male: bool) -> str:
    """The surname in the form for a man or a woman (each part of a double surname)."""
    if "-" in masculine:
        return "-".join(surname_for(part, male) for part in masculine.split("-"))
    if male:
        return masculine
    if masculine.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return masculine + "а"
    if masculine.endswith(("ский", "цкий")):
        return masculine[:-2] + "ая"
    return masculine  # Седых, Шевчук, Ткаченко: the same for both


def patronymic(father: str, male: bool) -> str:
    """The patronymic of a son (``male``) or a daughter of ``father``."""
    son, daughter = PATRONYMICS[father]
    return son if male else daughter


def hyphenated_surname(rng: random.Random) -> str:
    """A masculine double surname such as «Соколов-Белов»."""
    first, second = rng.sample(HYPHEN_PARTS, 2)
    return f"{first}-{second}"


def staff_name(rng: random.Random, male: bool, taken: set[str]) -> str:
    """«Фамилия Имя Отчество» of an adult, not yet in ``taken`` (which it joins)."""
    while True:
        first = rng.choice(STAFF_MALE_NAMES if male else STAFF_FEMALE_NAMES)
        name = " ".join(
            (
                surname_for(rng.choice(SURNAMES), male),
                first,
                patronymic(rng.choice(FATHER_NAMES), male),
            )
        )
        if name not in taken:
            taken.add(name)
            return name


def sort_key(text: str) -> str:
    """A key that orders Russian words as a dictionary does (ё next to е)."""
    return text.lower().replace("ё", "е")
