"""``archiver status``: where every class of the year stands before the 30 June deadline."""

from __future__ import annotations

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option
from archiver.cli.output import echo_json
from archiver.status import year_status
from archiver.storage.open import open_locations
from archiver.wording import ru_date


@click.command("status", cls=RuCommand)
@config_option()
@click.option(
    "--year",
    metavar="ГОД",
    help="Учебный год: 2025/2026, 2025-2026 или 2025 (по умолчанию последний).",
)
@click.option("--json", "as_json", is_flag=True, help="Вывести в формате JSON.")
@pass_cli
def status(cli: CliContext, year: str | None, as_json: bool) -> None:
    """Показать, где стоит каждый класс учебного года и что запускать дальше.

    Сведения берутся из архива (обе копии), дополняются рабочей папкой этого компьютера.
    """
    settings = cli.settings  # no settings file: say so (not «not run yet»)
    locations = open_locations(settings.require_storage())
    found = year_status(settings.working_dir(create=False), locations, year)
    export, states = found.export, found.classes
    if as_json:
        echo_json(
            {
                "school": {
                    "id": export.school.id,
                    "name": export.school.short_name,
                    "full_name": export.school.full_name,
                },
                "academic_year": export.academic_year.name,
                "deadline": found.deadline.isoformat(),
                "next_step": found.next_step,
                "correction_needed": found.correction_needed,
                "notes": found.notes,
                "inventory": found.inventory,
                "classes": [
                    {
                        "class_id": s.class_id,
                        "name": s.name,
                        "state": s.state,
                        "outdated": s.outdated,
                        "records": s.record_ids,
                    }
                    for s in states
                ],
            }
        )
        return
    click.echo(f"{export.school.short_name}, {export.academic_year.name} учебный год")
    left = found.days_left
    when = f"осталось дней: {left}" if left >= 0 else f"срок прошёл {-left} дн. назад"
    click.echo(f"Срок архивирования: {ru_date(found.deadline)} ({when})")
    width = max(len(s.name) for s in states)
    for s in states:
        click.echo(f"  {s.name.ljust(width)}  {s.text}")
    click.echo(f"Опись дел: {found.inventory_text}")
    for note in found.notes:
        click.echo(f"Внимание: {note}", err=True)
    step = found.next_step
    if step is None:
        click.echo("Все классы и опись дел в архиве в двух копиях и проверены.")
        return
    click.echo(f"Дальше: {step}")
