"""``archiver hold add|remove|list``: legal holds that keep records from disposal (an appeal, a court)."""

from __future__ import annotations

import click

from archiver.archive.handout import open_archive
from archiver.archive.holds import holds_in_force, lift_hold, place_hold
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuGroup
from archiver.cli.options import JSON_OPTION, OPERATOR_OPTION, config_option
from archiver.cli.output import echo_json, print_logged

HOLD_REASON = click.option(
    "--reason",
    required=True,
    metavar="ПРИЧИНА",
    help="Основание (апелляция, запрос суда …); записывается в журнал доступа.",
)


@click.group("hold", cls=RuGroup)
def hold() -> None:
    """Запреты уничтожения (legal hold): записи под запретом не попадают в акт и не уничтожаются.

    Запрет и его снятие записываются в журнал доступа архива (кто, когда, почему).
    """


@hold.command("add")
@click.argument("record", required=False, metavar="[НОМЕР_ЗАПИСИ]")
@click.option("--class", "class_id", metavar="ID", help="Все записи класса (id класса).")
@click.option("--year", metavar="ГОД", help="Вместе с --class: только этот учебный год.")
@click.option("--pupil", metavar="ID", help="Все записи с данными обучающегося (его id).")
@HOLD_REASON
@OPERATOR_OPTION
@config_option()
@JSON_OPTION
@pass_cli
def hold_add(
    cli: CliContext,
    record: str | None,
    class_id: str | None,
    year: str | None,
    pupil: str | None,
    reason: str,
    operator: str | None,
    as_json: bool,
) -> None:
    """Запретить уничтожение записи (всех её версий), записей класса или обучающегося."""
    archive = open_archive(cli.settings)
    logged = place_hold(
        archive.access_log(),
        reason=reason,
        record=record,
        class_id=class_id,
        year=year,
        pupil=pupil,
        operator=operator,
    )
    if as_json:
        echo_json({"hold": logged.seq, "locations": list(logged.written)})
        return
    click.echo(f"Запрет уничтожения № {logged.seq} установлен.")
    print_logged(logged)


@hold.command("remove")
@click.argument("number", type=int, metavar="НОМЕР_ЗАПРЕТА")
@HOLD_REASON
@OPERATOR_OPTION
@config_option()
@pass_cli
def hold_remove(cli: CliContext, number: int, reason: str, operator: str | None) -> None:
    """Снять запрет уничтожения (номер — из archiver hold list)."""
    archive = open_archive(cli.settings)
    logged = lift_hold(archive.access_log(), number, reason=reason, operator=operator)
    click.echo(f"Запрет уничтожения № {number} снят.")
    print_logged(logged)


@hold.command("list")
@config_option()
@JSON_OPTION
@pass_cli
def hold_list(cli: CliContext, as_json: bool) -> None:
    """Показать действующие запреты уничтожения."""
    archive = open_archive(cli.settings)
    holds = holds_in_force(archive.access_log())
    if as_json:
        echo_json([h.to_json() for h in holds])
        return
    if not holds:
        click.echo("Действующих запретов уничтожения нет.")
    for item in holds:
        click.echo(item.describe())
