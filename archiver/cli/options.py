"""Options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.context import config_option

__all__ = [
    "DOCUMENTS_ARGUMENT",
    "JSON_OPTION",
    "OPERATOR_OPTION",
    "OUT_OPTION",
    "PASSPHRASE_FILE_OPTION",
    "REASON_OPTION",
    "class_option",
    "config_option",
]

class_option = click.option(
    "--class",
    "class_ids",
    multiple=True,
    metavar="ID",
    help="Только этот класс (можно несколько раз).",
)
"""``--class ID`` (repeatable) → ``class_ids: tuple[str, ...]``."""

JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Вывести результат в формате JSON."
)
REASON_OPTION = click.option(
    "--reason",
    required=True,
    metavar="ПРИЧИНА",
    help="Зачем нужен документ (записывается в журнал доступа).",
)
OPERATOR_OPTION = click.option(
    "--operator",
    metavar="ИМЯ",
    help="Кто выдаёт документ (по умолчанию — пользователь операционной системы).",
)
OUT_OPTION = click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Куда записать документ (существующий файл не перезаписывается).",
)
DOCUMENTS_ARGUMENT = click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path),
    metavar="ПАПКА|ФАЙЛ...",
)
"""Rendered documents: folders made by ``archiver render`` or PDF files → ``paths``."""
PASSPHRASE_FILE_OPTION = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Пароль (PIN-код) ключа — первой строкой файла или дескриптора (/dev/fd/3); "
    "читается один раз. Без него пароль спрашивается без отображения.",
)
"""``--passphrase-file ФАЙЛ`` → ``passphrase_file: Path | None``."""
