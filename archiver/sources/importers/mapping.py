"""Mapping tables: a system's mark values and attendance codes → the export's.

The tables are data (``mappings/<system>.toml`` in this package), and a school
overrides them like its templates: a folder named by ``[source] mappings`` in
``archiver.toml`` holding its own ``<system>.toml``, whose keys replace or add to
the built-in ones. A value no table knows is kept verbatim and reported as a
warning; nothing is dropped.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from archiver.errors import InputError
from archiver.sources.importers.base import Notes


@dataclass(frozen=True, slots=True)
class Mapping:
    """One system's tables."""

    system: str
    marks: dict[str, str]
    attendance: dict[str, str]
    files: tuple[str, ...]
    """Where the tables came from (for messages and provenance)."""

    def mark(self, value: str, notes: Notes, where: str) -> str:
        """The printed mark for ``value``; an unknown value verbatim, with a warning."""
        key = value.strip()
        if key in self.marks:
            return self.marks[key]
        notes.warn(
            f"{where}: отметка «{key}» не описана в таблице соответствий ({self.files[-1]}); "
            "сохранена как есть"
        )
        return key

    def attendance_code(self, value: str, notes: Notes, where: str) -> str | None:
        """The code for ``value``; ``None``: present; an unknown value verbatim, with a warning."""
        key = value.strip()
        if key in self.attendance:
            return self.attendance[key] or None
        notes.warn(
            f"{where}: отметка посещаемости «{key}» не описана в таблице соответствий "
            f"({self.files[-1]}); сохранена как есть"
        )
        return key


def _read(path: Path | resources.abc.Traversable, shown: str) -> dict[str, dict[str, str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"таблица соответствий {shown} не читается: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{shown}: ошибка в таблице соответствий: {exc}") from exc
    tables: dict[str, dict[str, str]] = {}
    for name in ("marks", "attendance"):
        table = data.get(name, {})
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise InputError(f"{shown}: [{name}] должна быть таблицей строк «значение = код»")
        tables[name] = {str(k).strip(): v.strip() for k, v in table.items()}
    return tables


def load_mapping(system: str, folder: Path | None) -> Mapping:
    """The built-in tables of ``system``, with the school's ``folder/<system>.toml`` on top."""
    builtin = resources.files(__package__) / "mappings" / f"{system}.toml"
    base = _read(builtin, f"встроенная таблица {system}.toml")
    files = [f"встроенная {system}.toml"]
    if folder is not None:
        own = folder / f"{system}.toml"
        if own.is_file():
            for name, table in _read(own, str(own)).items():
                base[name] = {**base[name], **table}
            files.append(str(own))
    return Mapping(system, base["marks"], base["attendance"], tuple(files))
