"""``archiver demo``: the whole year-end run on a generated school, nothing to configure."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archiver.cli.i18n import RuCommand
from archiver.cli.progress import year_end_display
from archiver.demo.run import PRIMARY, SECONDARY, prepare_demo, run_demo, sample_documents
from archiver.errors import ExitCode
from archiver.settings import Settings
from archiver.wording import program
from archiver.yearend import REPORT_TEXT


@click.command("demo", cls=RuCommand)
@click.option(
    "--out",
    "out",
    default="archiver-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="ПАПКА",
    help="Папка демонстрации (повторный запуск продолжает в ней).",
)
@click.option(
    "--classes", default=12, show_default=True, metavar="N", help="Число классов и групп."
)
@click.option("--json", "as_json", is_flag=True, help="Ход работы — строками JSON.")
def demo(out: Path, classes: int, as_json: bool) -> None:
    """Показать всю работу archiver на демонстрационной школе: без настроек и без сети."""
    setup = prepare_demo(out, classes)
    export, keys, config_path = setup.export, setup.keys, setup.config
    if not as_json:
        click.echo(
            f"Демонстрация в папке {out}: школа «{export.school.short_name}», "
            f"классов и групп {len(export.classes)}.",
            err=True,
        )
    result = run_demo(setup, year_end_display(as_json))
    click.echo(result.to_text(), nl=False)
    journal, final = sample_documents(setup, result)
    click.echo("")
    click.echo("Что посмотреть:")
    if journal is not None:
        click.echo(f"  журнал класса (PDF/A, подписан): {journal}")
    if final is not None:
        click.echo(f"  сводная ведомость итоговых отметок: {final}")
    click.echo(f"  отчёт: {result.work_dir / REPORT_TEXT}")
    click.echo(f"  две копии архива: {out / PRIMARY} и {out / SECONDARY}")
    click.echo(f"  проверить подпись: {program()} check-signature --config {config_path} {journal}")
    pyhanko = Path(sys.executable).parent / "pyhanko"
    click.echo(
        f"  она же независимо (pyHanko): "
        f"{pyhanko if pyhanko.exists() else 'pyhanko'} sign validate --pretty-print "
        f"--trust {keys.ca_cert} --trust-replace {journal}"
    )
    click.echo(f"  проверить архив:   {program()} verify --config {config_path}")
    click.echo(f"  где какой класс:   {program()} status --config {config_path}")
    _demo_accounts(setup.settings, out)
    if not result.ok:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)


def _demo_accounts(settings: Settings, out: Path) -> None:
    """The web service's demo accounts, one per role, with their passwords."""
    from archiver.web.accounts import DEMO_ACCOUNTS_FILE, demo_accounts
    from archiver.web.config import migrate, setup
    from archiver.web.roles import ROLE_TEXT

    setup(settings)
    migrate()
    made = demo_accounts(out)
    click.echo("")
    click.echo(
        f"Веб-служба: {program()} serve --config {settings.path}, затем http://127.0.0.1:8080/"
    )
    click.echo(f"  учётные записи (пароли сохранены в {out / DEMO_ACCOUNTS_FILE}):")
    for name, password in made.items():
        role = name.removeprefix("demo-")
        click.echo(f"    {ROLE_TEXT[role]:<14} {name:<20} пароль {password}")
