"""``archiver validate``: check a journal export and summarise it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from archiver.cli.i18n import RuCommand
from archiver.cli.output import echo_json
from archiver.errors import ExitCode
from archiver.sources.export_v1 import read_export
from archiver.sources.report import Summary, ValidationReport


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


def print_report(report: ValidationReport) -> None:
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


@click.command("validate", cls=RuCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="ФАЙЛ")
@click.option("--json", "as_json", is_flag=True, help="Вывести отчёт в формате JSON.")
def validate(file: Path, as_json: bool) -> None:
    """Проверить выгрузку журнала и показать её сводку или все ошибки."""
    report = read_export(file)
    if as_json:
        echo_json(report.to_json())
    else:
        print_report(report)
    if not report.ok:
        raise SystemExit(ExitCode.BAD_INPUT)
