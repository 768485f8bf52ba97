"""Russian messages for click's own texts (usage, errors, help options).

click looks its messages up with :func:`gettext.gettext` bound at import time
in each of its modules; we replace those bindings with a lookup in the table
below, so every line a user reads is in Russian. Texts not in the table stay
as click wrote them.
"""

from __future__ import annotations

from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

RU: dict[str, str] = {
    "Usage:": "Использование:",
    "Options": "Параметры",
    "Commands": "Команды",
    "Show this message and exit.": "Показать эту справку и выйти.",
    "Show the version and exit.": "Показать версию и выйти.",
    "%(prog)s, version %(version)s": "%(prog)s, версия %(version)s",
    "Aborted!": "Прервано.",
    "Error: {message}": "Ошибка: {message}",
    "Try '{command} {option}' for help.": "Справка: '{command} {option}'.",
    "Invalid value for {param_hint}: {message}": "Недопустимое значение {param_hint}: {message}",
    "Invalid value: {message}": "Недопустимое значение: {message}",
    "Missing argument": "Не указан аргумент",
    "Missing option": "Не указан параметр",
    "Missing parameter": "Не указан параметр",
    "Missing parameter: {param_name}": "Не указан параметр: {param_name}",
    "Missing {param_type}": "Не указан {param_type}",
    "Missing command.": "Не указана команда.",
    "No such command {name!r}.": "Нет такой команды {name!r}.",
    "No such option {name!r}.": "Нет такого параметра {name!r}.",
    "No such option: {name}": "Нет такого параметра: {name}",
    "Did you mean {possibility}?": "Может быть, {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Может быть, одно из: {possibilities}?)",
    "Got unexpected extra argument ({args})": "Лишний аргумент ({args})",
    "Got unexpected extra arguments ({args})": "Лишние аргументы ({args})",
    "Option {name!r} requires an argument.": "Параметру {name!r} нужно значение.",
    "Option {name!r} requires {nargs} arguments.": "Параметру {name!r} нужно значений: {nargs}.",
    "Could not open file {filename!r}: {message}": "Не удалось открыть файл {filename!r}: {message}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} не существует.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} — это папка.",
    "{name} {filename!r} is a file.": "{name} {filename!r} — это файл.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} недоступен для чтения.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} недоступен для записи.",
    "file": "Файл",
    "directory": "Папка",
    "path": "Путь",
    "{value!r} is not a valid {number_type}.": "{value!r} — не число.",
    "{value} is not in the range {range}.": "{value} вне диапазона {range}.",
    "{value!r} is not {choice}.": "{value!r} — не {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} — не одно из {choices}.",
    "default: {default}": "по умолчанию: {default}",
    "required": "обязательно",
    "env var: {var}": "переменная окружения: {var}",
    "unknown error": "неизвестная ошибка",
    "Do you want to continue?": "Продолжить?",
    "Confirm the action without prompting.": "Подтвердить действие без вопроса.",
}


def _gettext(message: str) -> str:
    return RU.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return RU.get(singular if n == 1 else plural, singular if n == 1 else plural)


def install() -> None:
    """Make click speak Russian. Idempotent."""
    for module in (
        click.core,
        click.decorators,
        click.exceptions,
        click.formatting,
        click.parser,
        click.termui,
        click.types,
    ):
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]


TYPE_METAVARS = {
    "integer": "ЧИСЛО",
    "integer range": "ЧИСЛО",
    "float": "ЧИСЛО",
    "float range": "ЧИСЛО",
    "text": "ТЕКСТ",
    "path": "ПУТЬ",
    "filename": "ФАЙЛ",
}
"""Russian metavars for options that name none (click would show «INTEGER RANGE»)."""


def _russian_metavars(params: list[click.Parameter]) -> None:
    for param in params:
        if isinstance(param, click.Option) and param.metavar is None and not param.is_flag:
            metavar = TYPE_METAVARS.get(param.type.name)
            if metavar is not None:
                param.metavar = metavar


def _format_examples(ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """«Примеры:» with the command's examples (:mod:`archiver.cli.examples`), unwrapped."""
    from archiver.cli.examples import examples_for

    path = " ".join(ctx.command_path.split()[1:])
    lines = examples_for(path)
    if lines:
        formatter.write_paragraph()
        formatter.write_text("Примеры:")
        for line in lines:
            formatter.write(f"{' ' * (formatter.current_indent + 2)}{line}\n")


class RuCommand(click.Command):
    """A command whose usage line reads «[ПАРАМЕТРЫ]», with Russian metavars and examples."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[ПАРАМЕТРЫ]")
        super().__init__(*args, **kwargs)
        _russian_metavars(self.params)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        _format_examples(ctx, formatter)


class RuGroup(click.Group):
    """A command group with Russian metavars, whose subcommands are :class:`RuCommand`.

    Its list of commands shows each one's first sentence whole (click cuts it to the
    width of the line), and its help ends with examples.
    """

    command_class = RuCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[ПАРАМЕТРЫ]")
        kwargs.setdefault("subcommand_metavar", "КОМАНДА [АРГУМЕНТЫ]...")
        super().__init__(*args, **kwargs)
        _russian_metavars(self.params)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section(RU["Commands"]):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        _format_examples(ctx, formatter)
