"""How values are written for people, in Russian: dates, and values and their types in the
messages about bad input (the journal export's JSON and the settings file's TOML alike)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

__all__ = ["expected_type", "ru_date", "shown", "type_name"]


def ru_date(day: date) -> str:
    """``ДД.ММ.ГГГГ``, as dates are written in Russian documents."""
    return day.strftime("%d.%m.%Y")


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
