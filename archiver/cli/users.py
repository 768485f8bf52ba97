"""``archiver users add|list|lock|unlock``: accounts of the web service."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuGroup
from archiver.cli.options import config_option
from archiver.cli.sign import read_secret
from archiver.web.roles import ROLE_TEXT, ROLES


def _ready(cli: CliContext) -> None:
    from archiver.web.config import migrate, setup

    setup(cli.settings)
    migrate()


@click.group("users", cls=RuGroup)
def users() -> None:
    """Учётные записи веб-службы (archiver serve) и их роли."""


@users.command("add")
@click.argument("name", metavar="ИМЯ")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="Роль учётной записи.")
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Прочитать пароль из первой строки файла (иначе он спрашивается без вывода на экран).",
)
@click.option(
    "--replace", is_flag=True, help="Если запись уже есть — задать ей новый пароль и роль."
)
@config_option()
@pass_cli
def users_add(
    cli: CliContext, name: str, role: str, password_file: Path | None, replace: bool
) -> None:
    """Добавить учётную запись ИМЯ с ролью: administrator, director, archivist или auditor."""
    from archiver.web.accounts import add_user

    _ready(cli)
    password = read_secret("ARCHIVER_USER_PASSWORD", "Пароль новой учётной записи", password_file)
    add_user(name, role, password, replace=replace)
    click.echo(
        f"Учётная запись «{name}» ({ROLE_TEXT[role]}) {'обновлена' if replace else 'добавлена'}."
    )


@users.command("list")
@config_option()
@pass_cli
def users_list(cli: CliContext) -> None:
    """Показать учётные записи и их роли."""
    from archiver.web.accounts import list_users

    _ready(cli)
    for account in list_users():
        state = "" if account.active else "  (заблокирована)"
        click.echo(f"{account.name}  {ROLE_TEXT.get(account.role or '', 'нет роли')}{state}")


@users.command("lock")
@click.argument("name", metavar="ИМЯ")
@config_option()
@pass_cli
def users_lock(cli: CliContext, name: str) -> None:
    """Заблокировать учётную запись (она не удаляется: журнал доступа её называет)."""
    from archiver.web.accounts import set_active

    _ready(cli)
    set_active(name, False)
    click.echo(f"Учётная запись «{name}» заблокирована.")


@users.command("unlock")
@click.argument("name", metavar="ИМЯ")
@config_option()
@pass_cli
def users_unlock(cli: CliContext, name: str) -> None:
    """Разблокировать учётную запись (и сбросить счётчик неудачных входов)."""
    from archiver.web.accounts import set_active

    _ready(cli)
    set_active(name, True)
    from axes.utils import reset

    reset(username=name)
    click.echo(f"Учётная запись «{name}» разблокирована.")
