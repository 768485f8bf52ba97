"""``archiver validate``: check a journal export and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option
from archiver.cli.output import echo_json, print_validation_report
from archiver.errors import ExitCode
from archiver.sources.export_v1 import read_export


@click.command("validate", cls=RuCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="ФАЙЛ")
@click.option("--json", "as_json", is_flag=True, help="Вывести отчёт в формате JSON.")
@config_option()
@pass_cli
def validate(cli: CliContext, file: Path, as_json: bool) -> None:
    """Проверить выгрузку журнала и показать её сводку или все ошибки."""
    limit = cli.settings_or_defaults().archive.max_export_bytes
    report = read_export(file, max_bytes=limit)
    if as_json:
        echo_json(report.to_json())
    else:
        print_validation_report(report)
    if not report.ok:
        raise SystemExit(ExitCode.BAD_INPUT)
