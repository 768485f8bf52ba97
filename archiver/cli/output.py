"""Small helpers shared by the commands for printing to the user."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from archiver.errors import ExitCode

if TYPE_CHECKING:
    from archiver.archive.access_log import AppendResult
    from archiver.archive.catalog import RebuildResult
    from archiver.model import JournalExport
    from archiver.sources.report import Summary, ValidationReport


def echo_json(data: Any) -> None:
    """Print ``data`` as pretty JSON (UTF-8, Cyrillic as is)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def warn(text: str) -> None:
    """A line for the person on stderr."""
    click.echo(f"Внимание: {text}", err=True)


def summary_lines(summary: Summary) -> list[str]:
    """The Russian summary of a valid export, line by line."""
    exported = datetime.fromisoformat(summary.exported_at).strftime("%d.%m.%Y %H:%M")
    return [
        f"Школа: {summary.school}",
        f"Учебный год: {summary.academic_year} (источник: {summary.source_system}, "
        f"выгружено {exported})",
        f"Классов: {summary.classes} (с отметками: {summary.classes_with_marks}), "
        f"кружков: {summary.clubs}, групп внеурочной деятельности: {summary.extracurricular}",
        f"Учеников: {summary.students} (выбыли в течение года: {summary.students_left}, "
        f"прибыли: {summary.students_joined})",
        f"Курсов: {summary.courses}, уроков: {summary.lessons}, отметок: {summary.marks}",
        f"Пропусков уроков: {summary.absences} (по болезни: {summary.absences_illness}), "
        f"опозданий: {summary.late}",
    ]


def print_validation_report(report: ValidationReport) -> None:
    """Print a validation report for a person: summary or errors, then warnings."""
    for problem in report.errors:
        click.echo(f"Ошибка: {problem}", err=True)
    if report.summary is not None:
        click.echo(f"Выгрузка {report.source} прочитана без ошибок.")
        for line in summary_lines(report.summary):
            click.echo(line)
    for problem in report.warnings:
        click.echo(f"Предупреждение: {problem}")
    if report.warnings:
        click.echo(f"Предупреждений: {len(report.warnings)}")
    elif report.ok:
        click.echo("Предупреждений нет.")
    if report.errors and (len(report.errors) > 1 or report.errors[0].path):
        click.echo(
            f"Выгрузка {report.source} не принята: ошибок {len(report.errors)}, "
            f"предупреждений {len(report.warnings)}.",
            err=True,
        )


def accepted_export(report: ValidationReport, as_json: bool) -> JournalExport:
    """The export of a valid report; else the report printed (JSON or text) and exit «bad input»."""
    if report.ok and report.export is not None:
        return report.export
    if as_json:
        echo_json(report.to_json())
    else:
        print_validation_report(report)
    raise SystemExit(ExitCode.BAD_INPUT)


def print_rebuild(result: RebuildResult, *, err: bool = False) -> None:
    """What a catalog rebuild found and built."""
    for note in result.notes:
        warn(note)
    for problem in result.problems:
        click.echo(f"Ошибка: {problem}", err=True)
    click.echo(
        f"Каталог построен: записей {result.records}, учебных лет {result.years}, "
        f"классов {result.classes}, обучающихся {result.students}; "
        f"по хранилищу «{result.location}» ({result.where}); файл {result.path}",
        err=err,
    )


def print_logged(appended: AppendResult) -> None:
    """The access log entry a handed-out document got."""
    for note in appended.notes:
        warn(note)
    click.echo(
        f"Обращение записано в журнал доступа: № {appended.seq} "
        f"(хранилища: {', '.join(appended.written)})"
    )
