"""Limits of a readable export: size, nesting, length of ids and texts, invisible characters.

An export is data from another system (or an attacker): before its meaning is looked
at, every value is checked to be something archiver can safely turn into file
names, PDF metadata and signatures. Errors (nothing is archived): nesting deeper than
:data:`MAX_DEPTH`, an ``id`` longer than :data:`MAX_ID` characters, any text longer
than :data:`MAX_TEXT`, control characters (a line break or tab is allowed in free
text, never in an id). Warnings (kept as they are): characters that change the
direction of text or are invisible (RTL overrides, zero-width spaces), which make
two different names look the same.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from archiver.sources.report import Problem, ProblemSink

MAX_DEPTH = 32
"""Deepest nesting of objects and lists (the format itself needs 6)."""
MAX_ID = 64
"""Longest ``id`` (characters): ids become folder and file names."""
MAX_TEXT = 10_000
"""Longest text value (characters), e.g. a lesson topic."""
DEFAULT_MAX_EXPORT_BYTES = 200 * 1024 * 1024
"""Largest export read by default (``[archive] max_export_mb``)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ID_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060-\u2064\ufeff\u00ad\u180e]")


def _char(text: str, match: re.Match[str]) -> str:
    char = match.group(0)
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}{' ' + name if name else ''} в позиции {match.start() + 1}"


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_limits(doc: Any, sink: ProblemSink) -> bool:
    """Check every value of the parsed document; ``False`` when it is too deep to read further."""
    too_deep = False
    stack: list[tuple[str, Any, int]] = [("", doc, 0)]
    while stack:
        path, node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                sink.error(
                    path,
                    "too_deep",
                    f"вложенность объектов и списков глубже {MAX_DEPTH} уровней; "
                    "такая выгрузка не читается",
                )
                too_deep = True
                continue
            items = node.items() if isinstance(node, dict) else enumerate(node)
            children = []
            for key, value in items:
                if isinstance(key, str) and len(key) > MAX_TEXT:
                    sink.error(path, "too_long", f"имя ключа длиннее {MAX_TEXT} символов")
                    continue
                children.append((_child(path, key), value, depth + 1))
                if key == "id" and isinstance(value, str):
                    _check_id(_child(path, key), value, sink)
            stack.extend(reversed(children))
        elif isinstance(node, str) and not path.endswith(".id") and path != "id":
            _check_text(path, node, sink)
    return not too_deep


def _check_id(path: str, value: str, sink: ProblemSink) -> None:
    if len(value) > MAX_ID:
        sink.error(
            path,
            "too_long",
            f"идентификатор длиннее {MAX_ID} символов ({len(value)}); идентификаторы "
            "становятся именами папок и файлов архива",
        )
    if match := _ID_CONTROL.search(value):
        sink.error(
            path,
            "control_character",
            f"в идентификаторе управляющий символ {_char(value, match)}",
        )
    _warn_invisible(path, value, sink)


def _check_text(path: str, value: str, sink: ProblemSink) -> None:
    if len(value) > MAX_TEXT:
        sink.error(path, "too_long", f"текст длиннее {MAX_TEXT} символов ({len(value)})")
    if match := _CONTROL.search(value):
        sink.error(path, "control_character", f"в тексте управляющий символ {_char(value, match)}")
    _warn_invisible(path, value, sink)


def _warn_invisible(path: str, value: str, sink: ProblemSink) -> None:
    if match := _BIDI.search(value):
        sink.warning(
            path,
            "bidi_character",
            f"символ смены направления текста {_char(value, match)}: напечатанное может "
            "выглядеть иначе, чем записано",
        )
    if match := _INVISIBLE.search(value):
        sink.warning(
            path,
            "invisible_character",
            f"невидимый символ {_char(value, match)}: два разных значения могут выглядеть одинаково",
        )


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


def deep_nesting(text: str) -> Problem:
    """Where a document too deep for the JSON parser first goes deeper than :data:`MAX_DEPTH`.

    Called only when parsing failed with :class:`RecursionError`: a scan of the text
    (strings skipped by the regular expression) keeps the path of the open containers.
    """
    stack: list[list[Any]] = []  # [kind, key or index, expecting key]
    pending: str | None = None
    for token in _TOKENS.finditer(text):
        tok = token.group(0)
        top = stack[-1] if stack else None
        if tok in "[{":
            if len(stack) >= MAX_DEPTH:
                path = ""
                for kind, key, _ in stack:
                    if kind == "[":
                        path = _child(path, int(key))
                    elif key is not None:
                        path = _child(path, str(key))
                line = text.count("\n", 0, token.start()) + 1
                return Problem(
                    path,
                    "too_deep",
                    f"вложенность объектов и списков глубже {MAX_DEPTH} уровней "
                    f"(строка {line}); такая выгрузка не читается",
                )
            stack.append([tok, 0 if tok == "[" else None, tok == "{"])
        elif tok in "]}":
            if stack:
                stack.pop()
        elif tok == ",":
            if top is not None and top[0] == "[":
                top[1] += 1
            elif top is not None:
                top[2] = True
        elif tok == ":":
            if top is not None and top[0] == "{":
                top[1] = pending
                top[2] = False
        elif top is not None and top[0] == "{" and top[2]:
            pending = tok[1:-1]
    return Problem("", "too_deep", f"вложенность объектов и списков глубже {MAX_DEPTH} уровней")
