"""What the ``archiver`` group hands to every command: where the settings file is, its settings read once.

The root group and each command that reads settings accept ``--config ФАЙЛ`` (the
command's wins; the root's falls back to ``$ARCHIVER_CONFIG``, then
``./archiver.toml``). A command receives the :class:`CliContext` with
:data:`pass_cli` and reads ``cli.settings`` (the file must exist) or
``cli.settings_or_defaults()`` (the built-in defaults when no file was named and
there is no ``./archiver.toml``). The file is read on first use and only once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from archiver.settings import DEFAULT_CONFIG, Settings, default_settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])
CONFIG_ENV = "ARCHIVER_CONFIG"


@dataclass
class CliContext:
    """The settings file named on the command line (or in the environment) and its settings."""

    config: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)

    def use_config(self, path: Path) -> None:
        """Read the settings from ``path`` (a command's ``--config`` over the root's)."""
        if path != self.config:
            self.config, self._settings = path, None

    @property
    def settings(self) -> Settings:
        """The settings of the named file, else of ``./archiver.toml``; :class:`ConfigError` without one."""
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def has_config(self) -> bool:
        """Whether a settings file was named or ``./archiver.toml`` is there."""
        return self.config is not None or Path(DEFAULT_CONFIG).exists()

    def settings_or_defaults(self) -> Settings:
        """:attr:`settings`, or the built-in defaults when there is no settings file at all."""
        return self.settings if self.has_config() else default_settings()


pass_cli = click.make_pass_decorator(CliContext, ensure=True)
"""Passes the :class:`CliContext` as the command's first argument."""


def _remember(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(CliContext).use_config(value)


def config_option(*, root: bool = False) -> Callable[[F], F]:
    """``--config ФАЙЛ``, remembered in the :class:`CliContext` (the root's also from ``$ARCHIVER_CONFIG``)."""
    return click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="ФАЙЛ",
        envvar=CONFIG_ENV if root else None,
        show_envvar=root,
        expose_value=False,
        is_eager=root,
        callback=_remember,
        help="Файл настроек (по умолчанию ./archiver.toml).",
    )
