"""``archiver init``: a commented archiver.toml that works as it is with two local folders."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.i18n import RuCommand
from archiver.init_config import write_config
from archiver.wording import program


@click.command("init", cls=RuCommand)
@click.argument(
    "folder",
    required=False,
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="[ПАПКА]",
)
def init(folder: Path) -> None:
    """Создать файл настроек archiver.toml с пояснениями и две папки для копий архива."""
    path = write_config(folder)
    click.echo(f"Записан файл настроек {path}.")
    click.echo(
        f"Копии архива: {folder / 'archive-1'} и {folder / 'archive-2'} (замените на NAS и второй носитель)."
    )
    click.echo(
        "Дальше: укажите подписанта в разделе [signer], проверьте настройки командой "
        f"«{program()} check» и запустите «{program()} year-end --source ВЫГРУЗКА»."
    )
