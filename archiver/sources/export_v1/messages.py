"""Russian messages: JSON paths, values as shown to the user, pydantic errors translated."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from archiver.sources.report import Problem


def json_path(loc: tuple[int | str, ...]) -> str:
    """Render a location tuple as a JSON path: ``("classes", 3, "id")`` → ``classes[3].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def ru_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def json_type(value: Any) -> str:
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
        return "объект"
    return type(value).__name__


def shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_MESSAGES = {
    "string_type": "ожидалась строка",
    "int_type": "ожидалось целое число",
    "bool_type": "ожидалось true или false",
    "list_type": "ожидался список",
    "dict_type": "ожидался объект",
    "model_type": "ожидался объект",
    "model_attributes_type": "ожидался объект",
    "date_type": "ожидалась дата в виде ГГГГ-ММ-ДД",
    "datetime_type": "ожидалась отметка времени ISO 8601 со смещением, например "
    "2026-06-20T10:00:00+05:00",
}


def _structure_message(error: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(error["type"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "missing_key", "обязательный ключ отсутствует"
    if kind in _TYPE_MESSAGES:
        return "wrong_type", f"{_TYPE_MESSAGES[kind]}, а не {json_type(value)} {shown(value)}"
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace(" or ", " или ")
        return "wrong_value", f"недопустимое значение {shown(value)}; допустимо: {allowed}"
    if kind == "string_too_short":
        return "empty_string", "пустая строка недопустима"
    if kind in {"greater_than_equal", "less_than_equal"}:
        return "out_of_range", f"значение {shown(value)} вне допустимого диапазона"
    if kind == "timezone_aware":
        return "wrong_value", "в отметке времени нет смещения от UTC (например +05:00)"
    return "wrong_value", f"недопустимое значение {shown(value)}"


def structure_problems(error: ValidationError) -> list[Problem]:
    """Translate pydantic's errors into problems with JSON paths and Russian messages."""
    problems = []
    for item in error.errors(include_url=False):
        code, message = _structure_message(item)
        problems.append(Problem(json_path(tuple(item["loc"])), code, message))
    return problems
