"""``archiver check``: the settings, both storage locations, the signer and the templates, before anyone signs."""

from __future__ import annotations

import click

from archiver.check import CheckReport, run_checks
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import JSON_OPTION, config_option
from archiver.cli.output import echo_json
from archiver.cli.sign import signer_secret
from archiver.demo.keys import demo_timestamping
from archiver.errors import ExitCode
from archiver.storage.open import open_locations


def print_checks(report: CheckReport, *, err: bool = False) -> None:
    """One line per check: «в порядке» or what is wrong."""
    for item in report.items:
        mark = "в порядке" if item.ok else ("ВНИМАНИЕ" if not item.blocking else "ОШИБКА")
        click.echo(f"  {item.name}: {mark} — {item.message}", err=err)


@click.command("check", cls=RuCommand)
@config_option()
@click.option(
    "--no-signer", is_flag=True, help="Не проверять ключ подписи (не спрашивать пароль или PIN)."
)
@JSON_OPTION
@pass_cli
def check(cli: CliContext, no_signer: bool, as_json: bool) -> None:
    """Проверить всё перед архивированием, ничего не подписывая и не сохраняя.

    Файл настроек; оба хранилища доступны и в них можно писать (S3: корзина есть,
    блокировка объектов включена, ключи доступа действуют); ключ подписи или токен
    открывается, сертификат действует и не истекает в ближайшие 30 дней; служба
    штампов времени отвечает; сроки хранения и шаблоны документов загружаются.
    Те же проверки выполняет year-end перед вёрсткой.

    \b
    Примеры:
      archiver check
      archiver check --no-signer --json
    """
    settings = cli.settings
    locations = open_locations(settings.require_storage())
    signature = settings.signature
    report = run_checks(
        settings,
        locations,
        secret=None if no_signer else (lambda: signer_secret(signature)),
        timestamping=demo_timestamping(signature),
    )
    if as_json:
        echo_json(report.to_json())
    else:
        click.echo("Проверка перед архивированием:")
        print_checks(report)
        click.echo("Итог: " + ("всё в порядке." if report.ok else "есть замечания, см. выше."))
    if not report.ok:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
