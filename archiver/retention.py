"""Retention policies (data in ``retention_policies/*.toml``) and the retain-until rule.

Russian archival practice counts a retention period from 1 January of the year
after the file is closed; the year's journal closes in the calendar year in
which the academic year ends. So the 2025/2026 journal kept 5 years may be
destroyed from 2032-01-01 (school local time) on.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from pathlib import Path

from archiver.data import builtin
from archiver.errors import ArchiverError, ExitCode


class PolicyError(ArchiverError):
    """A retention policy file is missing or wrong."""

    exit_code = ExitCode.BAD_INPUT


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long one kind of record is kept, and on what legal basis."""

    kind: str
    title: str
    years: int
    legal_basis: str = ""
    lock_mode: str = "COMPLIANCE"
    case_index: str = ""
    """The file's index in the school's nomenclature (индекс дела), for the disposal act."""

    def describe(self) -> str:
        """«5 лет (ст. 695 Перечня ...)» for printing on a title sheet."""
        from archiver.numbers import plural_form

        text = f"{self.years} {plural_form(self.years, 'год', 'года', 'лет')}"
        if self.legal_basis:
            text += f" ({self.legal_basis})"
        return text


def retain_until(closing_year: int, years: int, zone: tzinfo) -> datetime:
    """The first instant at which a record closed in ``closing_year`` may be destroyed.

    Counting starts on 1 January of the year after closing; ``years`` full years
    later, at local midnight, the retention has expired.
    """
    if years < 0:
        raise ValueError("years must not be negative")
    return datetime.combine(date(closing_year + 1 + years, 1, 1), time(0, 0), tzinfo=zone)


def policies_dir() -> Path:
    """``$ARCHIVER_POLICIES`` or the built-in policies (package data)."""
    override = os.environ.get("ARCHIVER_POLICIES")
    return Path(override) if override else builtin("retention_policies")


def load_policy(kind: str, folder: Path | None = None) -> RetentionPolicy:
    """Read the policy of one record kind from ``<folder>/<kind>.toml``."""
    path = (folder or policies_dir()) / f"{kind}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"нет политики хранения для «{kind}»: файл {path} не найден") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: ошибка в файле политики хранения: {exc}") from exc
    years = data.get("years")
    if not isinstance(years, int) or isinstance(years, bool) or years <= 0:
        raise PolicyError(f"{path}: years: нужен срок хранения в годах (целое число больше 0)")
    mode = data.get("lock_mode", "COMPLIANCE")
    if mode not in ("COMPLIANCE", "GOVERNANCE"):
        raise PolicyError(
            f'{path}: lock_mode: допустимо "COMPLIANCE" или "GOVERNANCE", а не {mode!r}'
        )
    return RetentionPolicy(
        kind=kind,
        title=str(data.get("title", kind)),
        years=years,
        legal_basis=str(data.get("legal_basis", "")),
        lock_mode=mode,
        case_index=str(data.get("case_index", "")),
    )
