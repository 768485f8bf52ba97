"""The ``archiver`` command: the group, and the one place where errors become messages."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import sys
import traceback
from types import FrameType

import click

from archiver import __version__
from archiver.cli import i18n
from archiver.cli.context import config_option
from archiver.cli.i18n import RuGroup
from archiver.errors import ArchiverError, ExitCode
from archiver.wording import as_run, set_program

i18n.install()

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

COMMANDS = {
    "validate": "archiver.cli.validate:validate",
    "demo-data": "archiver.cli.demo_data:demo_data",
    "render": "archiver.cli.render:render",
    "store": "archiver.cli.store:store",
    "sign": "archiver.cli.sign:sign",
    "check-signature": "archiver.cli.check_signature:check_signature",
    "keys": "archiver.cli.keys:keys",
    "year-end": "archiver.cli.year_end:year_end",
    "status": "archiver.cli.status:status",
    "init": "archiver.cli.init:init",
    "demo": "archiver.cli.demo:demo",
    "catalog": "archiver.cli.catalog:catalog",
    "find": "archiver.cli.find:find",
    "get": "archiver.cli.get:get",
    "list": "archiver.cli.list_records:list_command",
    "extract": "archiver.cli.extract:extract",
    "log": "archiver.cli.log:log",
    "verify": "archiver.cli.verify:verify",
    "pull": "archiver.cli.pull:pull",
    "check": "archiver.cli.check:check",
    "renew": "archiver.cli.renew:renew",
    "dispose": "archiver.cli.dispose:dispose",
    "hold": "archiver.cli.hold:hold",
    "region": "archiver.cli.region:region",
    "serve": "archiver.cli.serve:serve",
    "users": "archiver.cli.users:users",
}
"""Command name → ``module:attribute``, imported when the command is used (or help lists it).

A command's module brings its stage's libraries (pyHanko, WeasyPrint, boto3 …); loading
only the one asked for keeps ``archiver validate`` and friends quick to start.
"""


class LazyGroup(RuGroup):
    """The root group: its commands are imported on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command) and command.name == cmd_name, target
        return command


@click.group(
    cls=LazyGroup,
    context_settings=CONTEXT_SETTINGS,
)
@click.version_option(__version__, "-V", "--version", prog_name="archiver")
@config_option(root=True)
def cli() -> None:
    """Архив электронного классного журнала: проверка выгрузки, печатные формы, подпись, хранение.

    Файл настроек: --config ФАЙЛ (перед командой или после неё), иначе переменная
    окружения ARCHIVER_CONFIG, иначе ./archiver.toml.
    """


INTERRUPTED = "Прервано."
_interrupted = False


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: the first stops the command cleanly (KeyboardInterrupt), the second at once.

    The first unwinds the command: worker pools kill their workers, the command says
    what was finished. A second Ctrl-C while that happens kills the workers left and
    exits with 130 without another word of Python.
    """
    global _interrupted
    if _interrupted:
        from archiver.parallel import kill_workers

        kill_workers()
        os.write(2, f"\n{INTERRUPTED}\n".encode())
        os._exit(ExitCode.INTERRUPTED)
    _interrupted = True
    raise KeyboardInterrupt


def program_name(started_as: str) -> str:
    """How the user runs archiver: ``archiver`` when that is on PATH, else the path it was started by.

    Messages advising a command print it so (``.venv/bin/archiver status``): the README's
    commands and the messages agree whether or not the virtualenv is activated.
    """
    on_path = shutil.which("archiver")
    if not started_as.endswith("archiver") or os.sep not in started_as:
        return "archiver"
    if on_path and os.path.realpath(on_path) == os.path.realpath(started_as):
        return "archiver"
    relative = os.path.relpath(started_as)
    return relative if not relative.startswith("..") else os.path.abspath(started_as)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: runs the CLI and maps errors to exit codes."""
    set_program(program_name(sys.argv[0] if sys.argv else ""))
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        cli.main(args=argv, prog_name="archiver", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # saying so is not interrupted again
        click.echo(INTERRUPTED, err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except ArchiverError as exc:
        click.echo(f"Ошибка: {as_run(str(exc), COMMANDS)}", err=True)
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
