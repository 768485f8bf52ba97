"""Options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path

import click

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Файл настроек (по умолчанию ./archiver.toml).",
)
"""``--config ФАЙЛ`` → ``config_path: Path | None``."""

class_option = click.option(
    "--class",
    "class_ids",
    multiple=True,
    metavar="ID",
    help="Только этот класс (можно несколько раз).",
)
"""``--class ID`` (repeatable) → ``class_ids: tuple[str, ...]``."""
