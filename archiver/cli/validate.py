"""``archiver validate``: check a journal export and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.i18n import RuCommand
from archiver.cli.output import echo_json, print_validation_report
from archiver.errors import ExitCode
from archiver.sources.export_v1 import read_export


@click.command("validate", cls=RuCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="ФАЙЛ")
@click.option("--json", "as_json", is_flag=True, help="Вывести отчёт в формате JSON.")
def validate(file: Path, as_json: bool) -> None:
    """Проверить выгрузку журнала и показать её сводку или все ошибки."""
    report = read_export(file)
    if as_json:
        echo_json(report.to_json())
    else:
        print_validation_report(report)
    if not report.ok:
        raise SystemExit(ExitCode.BAD_INPUT)
