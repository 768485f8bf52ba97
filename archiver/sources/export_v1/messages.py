"""Russian messages: JSON paths, values as shown to the user, pydantic errors translated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from archiver.sources.report import Problem
from archiver.wording import expected_type, shown, type_name


def json_path(loc: tuple[int | str, ...]) -> str:
    """Render a location tuple as a JSON path: ``("classes", 3, "id")`` → ``classes[3].id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _structure_message(error: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(error["type"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "missing_key", "обязательный ключ отсутствует"
    expected = expected_type(kind)
    if expected is not None:
        return "wrong_type", f"{expected}, а не {type_name(value)} {shown(value)}"
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
