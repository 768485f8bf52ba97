"""``archiver year-end``: the whole year's archive in one run, resumable."""

from __future__ import annotations

import time
from pathlib import Path

import click

from archiver.check import CheckFailed, run_checks
from archiver.cli.check import print_checks
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import PASSPHRASE_FILE_OPTION, class_option, config_option
from archiver.cli.output import accepted_export, echo_json
from archiver.cli.progress import year_end_display
from archiver.cli.sign import signer_secret
from archiver.demo.keys import demo_timestamping
from archiver.errors import ArchiverError, ExitCode, InputError, UsageError
from archiver.lock import LockBusy
from archiver.model import JournalExport
from archiver.progress import DONE, START, ProgressEvent
from archiver.render.batch import select_classes
from archiver.sources.export_v1 import read_export
from archiver.status import standings_after_failure
from archiver.storage.base import Storage
from archiver.storage.open import open_locations
from archiver.yearend import REPORT_TEXT, documents_root, run_year_end, work_folder

BEFORE_ANY_WORK = (LockBusy, CheckFailed, InputError, UsageError)
"""Refusals raised before anything was rendered, signed or stored: no class changed."""


def load_raw(source: str, max_bytes: int) -> tuple[bytes, str]:
    """The export's bytes and display name (a file's base name, or the URL)."""
    from archiver.sources.http import is_url, load_source

    raw, name = load_source(source, max_bytes=max_bytes)
    return raw, (name if is_url(source) else Path(name).name)


@click.command("year-end", cls=RuCommand)
@click.option(
    "--source",
    metavar="ФАЙЛ|URL",
    help="Выгрузка журнала: файл или адрес https://… (токен — в ARCHIVER_SOURCE_TOKEN).",
)
@click.option(
    "--from",
    "pull_from",
    type=click.Choice(["epos", "dnevnik"]),
    metavar="СИСТЕМА",
    help="Вместо --source: загрузить год из системы журнала (epos, dnevnik; см. archiver pull).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="С --from: файл с токеном системы (иначе токен спрашивается).",
)
@config_option()
@class_option
@click.option(
    "--correction",
    metavar="ПРИЧИНА",
    help="Выгрузка исправлена: новые версии документов изменившихся классов (прежние остаются).",
)
@click.option("--workers", type=click.IntRange(1, 64), metavar="N", help="Процессов вёрстки.")
@PASSPHRASE_FILE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Ход работы — строками JSON, итог — JSON.")
@pass_cli
def year_end(
    cli: CliContext,
    source: str | None,
    pull_from: str | None,
    token_file: Path | None,
    class_ids: tuple[str, ...],
    correction: str | None,
    workers: int | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Архивировать учебный год: проверка → вёрстка → подпись → две копии → проверка.

    Прерванный запуск продолжается с места остановки: сделанное не повторяется.
    Классы, документы которых по тем же данным уже в архиве, не трогаются («без
    изменений»); после исправления выгрузки с --correction новые версии получают
    только документы изменившихся классов. Перед вёрсткой выполняются проверки
    «archiver check»; одновременно идёт только один запуск на школу и год.

    Если ключ подписи — только у директора ([signer] mode = "director", по
    умолчанию), запуск останавливается на «ждёт подписи директора» (код выхода 3):
    директор подписывает командой «archiver sign --review», затем запустите
    year-end снова — документы будут сохранены в обе копии и проверены.
    """
    settings = cli.settings
    storage = settings.require_storage()
    working = settings.working_dir()
    progress = year_end_display(as_json)
    progress(ProgressEvent("validate", START, 0, 1))
    started = time.monotonic()
    limit = settings.archive.max_export_bytes
    if pull_from is not None:  # the year pulled from the journal system first (archiver pull)
        from archiver.cli.pull import pull_for_year_end

        if source is not None:
            raise UsageError("укажите либо --source, либо --from, но не оба")
        raw, name = pull_for_year_end(settings, pull_from, token_file, working, correction)
    elif source is None:
        raise UsageError("укажите выгрузку (--source ФАЙЛ|URL) или систему журнала (--from epos)")
    else:
        raw, name = load_raw(source, limit)
    report = read_export(raw, name=name, max_bytes=limit)
    progress(ProgressEvent("validate", DONE, 1, 1))
    export = accepted_export(report, as_json)
    validated = time.monotonic() - started
    ids = select_classes(export, class_ids)
    locations = open_locations(storage)
    signature = settings.signature
    asked: list[str] = []

    def secret() -> str:  # asked once: by the checks before rendering, used again for signing
        if not asked:
            progress.close()
            asked.append(signer_secret(signature, passphrase_file))
        return asked[0]

    def preflight(signing: bool) -> None:
        progress.close()
        checks = run_checks(
            settings,
            locations,
            secret=secret if signing else None,
            timestamping=demo_timestamping(signature),
        )
        if checks.blocking:
            raise CheckFailed(checks)
        if not as_json:
            click.echo(
                "Проверка перед архивированием: "
                + ("всё в порядке." if checks.ok else "есть замечания:"),
                err=True,
            )
            if not checks.ok:
                print_checks(checks, err=True)

    try:
        result = run_year_end(
            report,
            raw,
            name,
            working_dir=working,
            signature=signature,
            locations=locations,
            secret=secret,
            timestamping=demo_timestamping(signature),
            class_ids=ids,
            correction=correction,
            zone=storage.timezone,
            doc_options=settings.documents,
            workers=workers,
            progress=progress,
            validate_seconds=validated,
            preflight=preflight,
        )
    except BEFORE_ANY_WORK:
        progress.close()
        raise
    except (ArchiverError, KeyboardInterrupt) as exc:
        progress.close()
        _say_where_classes_stand(
            export,
            documents_root(work_folder(working, export)),
            ids,
            locations,
            interrupted=isinstance(exc, KeyboardInterrupt),
        )
        raise
    progress.close()
    if as_json:
        echo_json(result.to_json())
    else:
        click.echo(result.to_text(), nl=False)
        click.echo(f"Отчёт сохранён: {result.work_dir / REPORT_TEXT}")
    if not result.ok:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
    if result.waiting:
        raise SystemExit(ExitCode.WAITING_FOR_SIGNATURE)


def _say_where_classes_stand(
    export: JournalExport,
    documents: Path,
    ids: list[str],
    locations: list[Storage],
    *,
    interrupted: bool = False,
) -> None:
    """After a failure or Ctrl-C: which classes are complete and which are not."""
    if interrupted:
        click.echo("\nОстанавливаю работу (Ctrl-C)…", err=True)
    states = standings_after_failure(export, documents, ids, locations)
    if states is not None:
        click.echo(
            "Работа прервана. Что успело сделаться:"
            if interrupted
            else "Работа не завершена. Состояние классов:",
            err=True,
        )
        for s in states:
            click.echo(f"  {s.name}: {s.text}", err=True)
    if interrupted:
        click.echo(
            "Запустите ту же команду снова — работа продолжится, сделанное не повторится.",
            err=True,
        )
    elif states is not None:
        click.echo(
            "Устраните причину и запустите ту же команду снова: сделанное не повторится.", err=True
        )
