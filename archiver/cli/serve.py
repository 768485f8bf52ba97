"""``archiver serve``: the web service on the archive and working folder of archiver.toml."""

from __future__ import annotations

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option


@click.command("serve", cls=RuCommand)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="АДРЕС",
    help="Адрес, на котором слушать.",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    metavar="ПОРТ",
    help="Порт (0 — любой свободный).",
)
@config_option()
@pass_cli
def serve(cli: CliContext, host: str, port: int) -> None:
    """Запустить веб-службу архива: страницы для администратора, директора, архивиста и аудитора.

    Перед запуском обновляет базу данных службы (учётные записи, сессии). Вход —
    по учётным записям, созданным командой «archiver users add». Остановить — Ctrl-C.
    Работа за HTTPS (nginx) — см. docs/service.md.
    """
    from archiver.web.server import serve as run_server

    settings = cli.settings
    settings.require_storage()

    def ready(url: str) -> None:
        click.echo(f"Веб-служба архива: {url}  (остановить — Ctrl-C)", err=True)

    run_server(settings, host, port, ready=ready)
