"""``archiver pull epos|dnevnik``: a school's year from its journal system into an export file."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option
from archiver.cli.output import echo_json
from archiver.cli.progress import ProgressDisplay
from archiver.errors import UsageError
from archiver.progress import ProgressCallback
from archiver.settings import Settings
from archiver.sources.http_messages import seconds_text
from archiver.sources.importers import IMPORTERS, PullOutcome, run_pull
from archiver.yearend import EXPORT_COPY, RUN_FILE, work_folder

SYSTEMS = click.Choice(sorted(IMPORTERS))


def read_token(token_file: Path | None, system: str) -> str:
    """The token: from the file, else typed at a prompt that does not echo it."""
    if token_file is not None:
        try:
            return token_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError as exc:
            raise UsageError(f"файл с токеном {token_file} не найден") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"файл с токеном {token_file} не читается: {exc}") from exc
    if not sys.stdin.isatty():
        raise UsageError(
            f"нужен токен {IMPORTERS[system]}: укажите файл с ним (--token-file ФАЙЛ) или "
            "запустите команду в терминале, чтобы вставить его"
        )
    entered: str = click.prompt(
        f"Токен {IMPORTERS[system]} (скопируйте из браузера; ввод не отображается)",
        hide_input=True,
        err=True,
    )
    return entered


def _on_retry(attempt: int, delay: float, reason: str) -> None:
    click.echo(f"{reason}; повтор через {seconds_text(delay)} (попытка {attempt + 1})", err=True)


def pull_export(
    settings: Settings,
    system: str,
    out: Path,
    *,
    token_file: Path | None,
    year: str | None = None,
    capture: Path | None = None,
    progress: ProgressCallback | None = None,
) -> PullOutcome:
    """Run a pull with the settings' ``[source]`` (shared by ``pull`` and ``year-end --from``)."""
    source = settings.require_source(system)
    token = read_token(token_file, system)
    return run_pull(
        system,
        source,
        token,
        out,
        year=year,
        capture=capture,
        progress=progress,
        on_retry=_on_retry,
    )


def pull_for_year_end(
    settings: Settings,
    system: str,
    token_file: Path | None,
    working: Path,
    correction: str | None = None,
) -> tuple[bytes, str]:
    """``year-end --from``: the year pulled into ``<working>/pulls/``; its bytes and file name.

    When the year's run was started from an earlier pull of the same system (an
    interrupted or finished run), that pull's export is used again, so a rerun
    continues instead of meeting «documents of another export»; ``--correction``
    takes the new pull instead.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = working / "pulls" / f"{system}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    progress = ProgressDisplay(False, {"pull": "Загрузка классов из системы журнала"})
    try:
        outcome = pull_export(settings, system, out, token_file=token_file, progress=progress)
    finally:
        progress.close()
    print_notes(outcome)
    click.echo(f"Выгрузка из системы журнала записана: {outcome.out}", err=True)
    export = outcome.report.export
    if export is not None and correction is None:
        folder = work_folder(working, export)
        try:
            run = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
            earlier = (folder / EXPORT_COPY).read_bytes()
        except (OSError, ValueError):
            return outcome.raw, out.name
        if str(run.get("source", "")).startswith(f"{system}-") and earlier != outcome.raw:
            click.echo(
                f"Год уже начат по выгрузке {run['source']}: работа продолжается по ней. "
                'Чтобы архивировать новую выгрузку, добавьте --correction "причина".',
                err=True,
            )
            return earlier, str(run["source"])
    return outcome.raw, out.name


def print_notes(outcome: PullOutcome) -> None:
    """What the system lacks, and warnings (stderr)."""
    for text in outcome.notes.missing:
        click.echo(f"Нет в системе: {text}", err=True)
    for text in outcome.notes.warnings:
        click.echo(f"Предупреждение: {text}", err=True)
    for problem in outcome.report.warnings:
        click.echo(f"Предупреждение: {problem}", err=True)


@click.command("pull", cls=RuCommand)
@click.argument("system", type=SYSTEMS, metavar="СИСТЕМА")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Куда записать выгрузку (рядом — папка <имя>-responses с ответами системы).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Файл с токеном; без него токен спрашивается (ввод не отображается).",
)
@click.option(
    "--year", metavar="ГОД", help="Учебный год, например 2025/2026 (по умолчанию текущий)."
)
@click.option(
    "--capture",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="ПАПКА",
    help="Сохранить ответы системы без персональных данных (для проверки импорта).",
)
@config_option()
@click.option("--json", "as_json", is_flag=True, help="Итог — в формате JSON.")
@pass_cli
def pull(
    cli: CliContext,
    system: str,
    out: Path,
    token_file: Path | None,
    year: str | None,
    capture: Path | None,
    as_json: bool,
) -> None:
    """Загрузить учебный год школы из системы электронного журнала в файл выгрузки.

    СИСТЕМА: epos — ЭПОС.Школа, МЭШ и их региональные версии; dnevnik — Дневник.ру.
    Адрес системы и школа — в разделе [source] файла настроек (docs/sources.md).
    Войдите в систему в браузере и передайте archiver токен (--token-file или по запросу).
    """
    progress = ProgressDisplay(as_json, {"pull": "Загрузка классов"})
    try:
        outcome = pull_export(
            cli.settings,
            system,
            out,
            token_file=token_file,
            year=year,
            capture=capture,
            progress=progress,
        )
    finally:
        progress.close()
    summary = outcome.report.summary
    if as_json:
        echo_json(
            {
                "out": str(outcome.out),
                "responses": str(outcome.responses),
                "requests": outcome.requests,
                "missing": outcome.notes.missing,
                "warnings": outcome.notes.warnings + [str(p) for p in outcome.report.warnings],
                "counts": outcome.notes.counts,
                "summary": asdict(summary) if summary is not None else None,
            }
        )
        return
    print_notes(outcome)
    click.echo(f"Выгрузка записана: {outcome.out}")
    click.echo(f"Ответы системы ({outcome.requests} запросов, с SHA-256): {outcome.responses}")
    if summary is not None:
        click.echo(
            f"Классов: {summary.classes}, учеников: {summary.students} "
            f"(выбыло {summary.students_left}), уроков: {summary.lessons}, "
            f"отметок: {summary.marks}, пропусков: {summary.absences}"
        )
    for name, n in outcome.notes.counts.items():
        click.echo(f"  {name}: {n}")
    if capture is not None:
        click.echo(f"Ответы без персональных данных: {capture}")
