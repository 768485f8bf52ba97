"""``archiver status``: where every class of the year stands before the 30 June deadline."""

from __future__ import annotations

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option
from archiver.cli.output import echo_json
from archiver.status import run_folder, year_status
from archiver.storage.open import open_locations
from archiver.yearend import STATE_TEXT


@click.command("status", cls=RuCommand)
@config_option()
@click.option(
    "--year", metavar="ГОД", help="Учебный год, например 2025/2026 (по умолчанию последний)."
)
@click.option("--json", "as_json", is_flag=True, help="Вывести в формате JSON.")
@pass_cli
def status(cli: CliContext, year: str | None, as_json: bool) -> None:
    """Показать, где стоит каждый класс учебного года и что запускать дальше."""
    settings = cli.settings_or_defaults()
    working_dir = settings.working_dir(create=False)
    work_dir = run_folder(working_dir, year)
    locations = open_locations(cli.settings.require_storage())
    found = year_status(working_dir, work_dir, locations)
    export, states = found.export, found.classes
    if as_json:
        echo_json(
            {
                "academic_year": export.academic_year.name,
                "deadline": found.deadline.isoformat(),
                "classes": [
                    {"class_id": s.class_id, "name": s.name, "state": s.state} for s in states
                ],
            }
        )
        return
    click.echo(f"{export.school.short_name}, {export.academic_year.name} учебный год")
    left = found.days_left
    when = f"осталось дней: {left}" if left >= 0 else f"срок прошёл {-left} дн. назад"
    click.echo(f"Срок архивирования: {found.deadline.strftime('%d.%m.%Y')} ({when})")
    width = max(len(s.name) for s in states)
    for s in states:
        click.echo(f"  {s.name.ljust(width)}  {STATE_TEXT[s.state]}")
    step = found.next_step
    if step is None:
        click.echo("Все классы в архиве в двух копиях и проверены.")
        return
    click.echo(f"Дальше: {step}")
