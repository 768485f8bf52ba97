"""The ``archiver`` command: the group, and the one place where errors become messages."""

from __future__ import annotations

import os
import sys
import traceback

import click

from archiver import __version__
from archiver.cli import i18n
from archiver.cli.catalog import catalog
from archiver.cli.context import config_option
from archiver.cli.demo import demo
from archiver.cli.demo_data import demo_data
from archiver.cli.extract import extract
from archiver.cli.find import find
from archiver.cli.get import get
from archiver.cli.i18n import RuGroup
from archiver.cli.init import init
from archiver.cli.keys import keys
from archiver.cli.log import log
from archiver.cli.render import render
from archiver.cli.sign import check_signature, sign
from archiver.cli.status import status
from archiver.cli.store import store
from archiver.cli.validate import validate
from archiver.cli.verify import verify
from archiver.cli.year_end import year_end
from archiver.errors import ArchiverError, ExitCode

i18n.install()

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(
    cls=RuGroup,
    context_settings=CONTEXT_SETTINGS,
)
@click.version_option(__version__, "-V", "--version", prog_name="archiver")
@config_option(root=True)
def cli() -> None:
    """Архив электронного классного журнала: проверка выгрузки, печатные формы, подпись, хранение.

    Файл настроек: --config ФАЙЛ (перед командой или после неё), иначе переменная
    окружения ARCHIVER_CONFIG, иначе ./archiver.toml.
    """


cli.add_command(validate)
cli.add_command(demo_data)
cli.add_command(render)
cli.add_command(store)
cli.add_command(sign)
cli.add_command(check_signature)
cli.add_command(keys)
cli.add_command(year_end)
cli.add_command(status)
cli.add_command(init)
cli.add_command(demo)
cli.add_command(catalog)
cli.add_command(find)
cli.add_command(get)
cli.add_command(extract)
cli.add_command(log)
cli.add_command(verify)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: runs the CLI and maps errors to exit codes."""
    try:
        cli.main(args=argv, prog_name="archiver", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Прервано.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("Прервано.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except ArchiverError as exc:
        click.echo(f"Ошибка: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: say so in one line, details only on request
        if os.environ.get("ARCHIVER_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"Внутренняя ошибка archiver ({type(exc).__name__}: {exc}). "
            "Сообщите разработчикам; подробности: ARCHIVER_DEBUG=1.",
            err=True,
        )
        sys.exit(ExitCode.FAILURE)
    sys.exit(ExitCode.SUCCESS)
