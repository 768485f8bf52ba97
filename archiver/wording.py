"""How values are written for people, in Russian: dates, and values and their types in the
messages about bad input (the journal export's JSON and the settings file's TOML alike)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

__all__ = [
    "as_run",
    "expected_type",
    "local_time",
    "program",
    "ru_date",
    "set_program",
    "shown",
    "toml_error",
    "type_name",
]

_PROGRAM = ["archiver"]


def ru_date(day: date) -> str:
    """``ДД.ММ.ГГГГ``, as dates are written in Russian documents."""
    return day.strftime("%d.%m.%Y")


def local_time(
    moment: datetime | str,
    zone: tzinfo | None = None,
    *,
    seconds: bool = False,
    offset: bool = False,
) -> str:
    """``ДД.ММ.ГГГГ ЧЧ:ММ`` in the school's time zone (``[storage] timezone``), else this computer's.

    Every time a person reads (reports, the access log, the signature mark, the lock's
    holder) goes through here. ``moment`` is an aware datetime or ISO 8601 text; a naive
    one is taken as UTC. ``seconds`` adds the seconds, ``offset`` the UTC offset (``+0500``).
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    text = local.strftime("%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M")
    return f"{text} {local.strftime('%z')}" if offset else text


def program() -> str:
    """How the user runs archiver: ``archiver`` when it is on PATH, else as it was started.

    Messages that advise a command print it this way (``.venv/bin/archiver status`` when
    archiver was started as ``.venv/bin/archiver`` and is not on PATH). The command line
    sets it once at start (:func:`set_program`).
    """
    return _PROGRAM[0]


def set_program(name: str) -> None:
    """Set what :func:`program` says (the command line, at start)."""
    _PROGRAM[0] = name


def as_run(text: str, commands: Iterable[str]) -> str:
    """``text`` with every «archiver COMMAND» written as the user runs archiver (:func:`program`)."""
    name = program()
    if name == "archiver":
        return text
    names = "|".join(re.escape(c) for c in sorted(commands, key=len, reverse=True))
    return re.sub(rf"(?<![\w/.-])archiver(?= (?:{names})\b)", lambda _: name, text)


def shown(value: Any) -> str:
    """A value as the user wrote it (JSON notation), cut to 60 characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def type_name(value: Any, mapping: str = "объект") -> str:
    """What kind of value it is: «строка», «число» … (``mapping``: «объект» in JSON, «таблица» in TOML)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "логическое значение"
    if isinstance(value, int | float):
        return "число"
    if isinstance(value, str):
        return "строка"
    if isinstance(value, list):
        return "список"
    if isinstance(value, dict):
        return mapping
    if isinstance(value, datetime | date | time):
        return "дата или время"
    return type(value).__name__


_EXPECTED = {
    "string_type": "ожидалась строка",
    "int_type": "ожидалось целое число",
    "bool_type": "ожидалось true или false",
    "list_type": "ожидался список",
    "tuple_type": "ожидался список",
    "date_type": "ожидалась дата в виде ГГГГ-ММ-ДД",
    "datetime_type": "ожидалась отметка времени ISO 8601 со смещением, например "
    "2026-06-20T10:00:00+05:00",
}
_MAPPING_TYPES = ("dict_type", "model_type", "model_attributes_type")


def expected_type(kind: str, mapping: str = "ожидался объект") -> str | None:
    """pydantic's type error ``kind`` in words («ожидалась строка»); None for other errors.

    ``mapping`` is what a table-like value is called: «ожидался объект» (JSON) or
    «ожидалась таблица» (TOML).
    """
    if kind in _MAPPING_TYPES:
        return mapping
    return _EXPECTED.get(kind)


_TOML_FIXED = {
    "Cannot overwrite a value": "значение уже задано, второй раз его задать нельзя",
    "Escaped character is not a Unicode scalar value": "escape-последовательность не задаёт символ Юникода",
    "Expected '=' after a key in a key/value pair": "после имени параметра ожидался знак «=»",
    "Expected ']' at the end of a table declaration": "в заголовке раздела не хватает «]»",
    "Expected ']]' at the end of an array declaration": "в заголовке списка разделов не хватает «]]»",
    "Invalid date or datetime": "неверная дата или время",
    "Invalid hex value": "неверное шестнадцатеричное число",
    "Invalid initial character for a key part": "имя параметра начинается с недопустимого символа",
    "Invalid statement": "строка не является ни параметром, ни заголовком раздела",
    "Invalid value": "неверное значение (строки пишутся в кавычках)",
    "Unclosed array": "список не закрыт: не хватает «]»",
    "Unclosed inline table": "таблица в строке не закрыта: не хватает «}»",
    "Unescaped '\\' in a string": "обратная косая черта «\\» в строке: удвойте её или используйте одинарные кавычки",
    "Unterminated string": "строка не закрыта: не хватает кавычки",
}
_TOML_PATTERNS = (
    (re.compile(r"^Cannot declare (.+) twice$"), "раздел {0} объявлен дважды"),
    (
        re.compile(r"^Cannot mutate immutable namespace (.+)$"),
        "нельзя дополнить уже заданную таблицу {0}",
    ),
    (re.compile(r"^Cannot redefine namespace (.+)$"), "раздел {0} уже задан иначе"),
    (re.compile(r"^Duplicate inline table key (.+)$"), "параметр {0} повторяется в таблице"),
    (re.compile(r"^Found invalid character (.+)$"), "недопустимый символ {0}"),
    (re.compile(r"^Illegal character (.+)$"), "недопустимый символ {0}"),
    (re.compile(r"^Expected (.+)$"), "ожидалось {0}"),
)
_TOML_WHERE = re.compile(
    r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$"
)


def toml_error(message: str) -> str:
    """A TOML syntax error of :mod:`tomllib` in Russian, with its line and column."""
    match = _TOML_WHERE.match(message)
    what = match.group("what") if match else message
    text = _TOML_FIXED.get(what)
    if text is None:
        for pattern, template in _TOML_PATTERNS:
            found = pattern.match(what)
            if found:
                name = found.group(1)
                if name.startswith("("):  # a key path as a tuple: ('storage', 'primary')
                    name = "[" + ".".join(re.findall(r"'([^']*)'", name)) + "]"
                text = template.format(name)
                break
    text = text or what
    if match is None:
        return text
    if match.group("line"):
        return f"строка {match.group('line')}, столбец {match.group('column')}: {text}"
    return f"в конце файла: {text}"
