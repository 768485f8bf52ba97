"""Reading an export: bytes → JSON → structure → meaning → domain model.

Every step reports all it finds; only a document without errors is turned into
the domain model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archiver.files import os_reason
from archiver.sources.export_v1.build import to_model
from archiver.sources.export_v1.checks import SemanticChecker
from archiver.sources.export_v1.limits import (
    DEFAULT_MAX_EXPORT_BYTES,
    check_limits,
    deep_nesting,
)
from archiver.sources.export_v1.messages import structure_problems
from archiver.sources.export_v1.wire import FORMAT_NAME, FORMAT_VERSION, ExportV1
from archiver.sources.report import Problem, ProblemSink, Summary, ValidationReport
from archiver.wording import shown, type_name


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"строка {line}, столбец {column} (символ {offset + 1})"


def parse_json(raw: bytes) -> tuple[Any, Problem | None]:
    """Decode UTF-8 JSON; on failure return one problem naming the position."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        return None, Problem(
            "",
            "not_utf8",
            f"файл не в кодировке UTF-8: недопустимый байт 0x{raw[exc.start]:02X}; "
            f"{_position(before, len(before))}, байт {exc.start + 1}",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return None, Problem("", "not_json", "файл пуст, а должен содержать документ JSON")
    try:
        return json.loads(text), None
    except RecursionError:
        return None, deep_nesting(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            what = "файл обрывается раньше конца документа JSON (усечён?)"
        else:
            what = "файл не является корректным JSON"
        reason = _JSON_REASONS.get(exc.msg, exc.msg)
        return None, Problem("", "not_json", f"{what}: {reason}; {_position(text, exc.pos)}")


_JSON_REASONS = {
    "Expecting value": "ожидалось значение",
    "Expecting ',' delimiter": "ожидалась запятая",
    "Expecting ':' delimiter": "ожидалось двоеточие",
    "Expecting property name enclosed in double quotes": "ожидалось имя ключа в двойных кавычках",
    "Unterminated string starting at": "незакрытая строка",
    "Invalid control character at": "недопустимый управляющий символ",
    "Extra data": "лишние данные после конца документа",
    "Invalid \\escape": "недопустимая escape-последовательность",
}


def _check_format(doc: Any) -> Problem | None:
    """The top-level keys that decide whether the document can be read at all."""
    if not isinstance(doc, dict):
        return Problem("", "format", f"документ должен быть объектом JSON, а не {type_name(doc)}")
    fmt = doc.get("format")
    if fmt != FORMAT_NAME:
        given = "отсутствует" if fmt is None else f"= {shown(fmt)}"
        return Problem(
            "format",
            "format",
            f'это не выгрузка электронного журнала: ключ format {given}, ожидалось "{FORMAT_NAME}"',
        )
    version = doc.get("format_version")
    if version is None:
        return Problem("format_version", "format_version", "обязательный ключ отсутствует")
    if version != FORMAT_VERSION or isinstance(version, bool):
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            message = (
                f"выгрузка в формате версии {version}, а эта версия archiver читает только версию "
                f"{FORMAT_VERSION}; обновите archiver"
            )
        else:
            message = f"неизвестная версия формата {shown(version)}; поддерживается версия {FORMAT_VERSION}"
        return Problem("format_version", "format_version", message)
    return None


def read_export(
    source: Path | str | bytes,
    *,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_EXPORT_BYTES,
) -> ValidationReport:
    """Read and validate an export from a file path or from bytes.

    Never raises for bad input: every problem lands in the returned report, and
    ``report.export`` holds the domain model only when there are no errors. A file
    (or bytes) over ``max_bytes`` is refused, a file before it is read.
    """
    if isinstance(source, bytes):
        report = ValidationReport(source=name or "<данные>")
        raw = source
    else:
        path = Path(source)
        report = ValidationReport(source=name or str(path))
        try:
            size = path.stat().st_size
            if size > max_bytes:
                report.errors.append(too_big(str(path), size, max_bytes))
                return report
            raw = path.read_bytes()
        except FileNotFoundError:
            report.errors.append(Problem("", "not_found", f"файл {path} не найден"))
            return report
        except IsADirectoryError:
            report.errors.append(
                Problem("", "not_found", f"{path} — это папка, а нужен файл выгрузки")
            )
            return report
        except OSError as exc:
            report.errors.append(
                Problem("", "unreadable", f"файл {path} не читается: {os_reason(exc)}")
            )
            return report
    if len(raw) > max_bytes:
        report.errors.append(too_big(report.source, len(raw), max_bytes))
        return report
    return validate_document(raw, report)


def too_big(name: str, size: int, max_bytes: int) -> Problem:
    """The problem of an export over the size limit."""
    mb = 1024 * 1024
    return Problem(
        "",
        "too_big",
        f"файл выгрузки {name} слишком велик: {size / mb:.1f} МБ, допустимо не более "
        f"{max_bytes / mb:.0f} МБ (настройка [archive] max_export_mb); файл не прочитан",
    )


def validate_document(raw: bytes, report: ValidationReport) -> ValidationReport:
    """Fill ``report`` with the problems of the document ``raw`` (and the model when valid)."""
    doc, problem = parse_json(raw)
    if problem is None:
        problem = _check_format(doc)
    if problem is not None:
        report.errors.append(problem)
        return report
    sink = ProblemSink()
    if not check_limits(doc, sink):
        report.errors.extend(sink.errors)
        report.warnings.extend(sink.warnings)
        return report
    wire: ExportV1 | None = None
    try:
        wire = ExportV1.model_validate(doc)
    except ValidationError as exc:
        sink.extend_errors(structure_problems(exc))
    SemanticChecker(doc, sink).run()
    report.errors.extend(sink.errors)
    report.warnings.extend(sink.warnings)
    if wire is not None and not report.errors:
        report.export = to_model(wire)
        report.summary = Summary.of(report.export)
    return report
