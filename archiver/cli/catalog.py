"""``archiver catalog rebuild``: the catalog built anew from the archive's records."""

from __future__ import annotations

import click

from archiver.archive.catalog import rebuild
from archiver.archive.handout import open_archive
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuGroup
from archiver.cli.options import JSON_OPTION, config_option
from archiver.cli.output import echo_json, print_rebuild
from archiver.errors import ExitCode


@click.group("catalog", cls=RuGroup)
def catalog() -> None:
    """Каталог архива: указатель записей, обучающихся, классов и лет (в рабочей папке)."""


@catalog.command("rebuild")
@config_option()
@JSON_OPTION
@pass_cli
def catalog_rebuild(cli: CliContext, as_json: bool) -> None:
    """Построить каталог заново по записям архива.

    Читаются записи основного хранилища (резервного, если основное недоступно) и
    выгрузки журнала каждого года (с проверкой sha256). Архив остаётся
    первоисточником: каталог можно удалить и построить снова в любой момент.
    """
    archive = open_archive(cli.settings)
    result = rebuild(archive.locations, archive.catalog)
    if as_json:
        echo_json(result.to_json())
    else:
        print_rebuild(result)
    if result.problems:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
