"""``archiver store``: signed documents and their export into the archive, in two copies."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from archiver.archive.store import (
    COMPLETED,
    STORED,
    UNCHANGED,
    RecordResult,
    find_documents,
    store_records,
)
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import DOCUMENTS_ARGUMENT, JSON_OPTION, config_option
from archiver.cli.output import accepted_export, echo_json
from archiver.cli.progress import ProgressDisplay
from archiver.kinds import CLASS_JOURNAL, INVENTORY, JOURNAL_EXPORT
from archiver.progress import STEP, ProgressEvent
from archiver.sources.export_v1 import read_export
from archiver.sources.http import load_source
from archiver.storage.open import open_locations

STATUS_TEXT = {
    STORED: "Сохранено",
    UNCHANGED: "Уже в архиве, без изменений",
    COMPLETED: "Дописано (предыдущий запуск был прерван)",
}
COPY_TEXT = {"written": "записано", "completed": "дописано", "present": "уже было"}


def _what(result: RecordResult) -> str:
    if result.kind == JOURNAL_EXPORT:
        return f"выгрузка журнала {result.file_name}"
    if result.kind == INVENTORY:
        return f"опись дел {result.file_name}"
    what = "журнал" if result.kind == CLASS_JOURNAL else "сводная ведомость"
    return f"{what} {result.class_name}"


def _print_result(result: RecordResult) -> None:
    until = datetime.fromisoformat(result.retain_until).strftime("%d.%m.%Y")
    line = f"{STATUS_TEXT[result.status]}: {_what(result)}, версия {result.version}, хранить до {until}"
    if result.correction and result.status != UNCHANGED:
        line += f" (исправление: {result.correction})"
    click.echo(line)
    for copy in result.copies:
        click.echo(f"    {copy.location}: {copy.url} ({COPY_TEXT.get(copy.status, copy.status)})")


@click.command("store", cls=RuCommand)
@DOCUMENTS_ARGUMENT
@click.option(
    "--source",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ВЫГРУЗКА",
    help="Выгрузка электронного журнала, по которой сделаны документы (сохраняется тоже).",
)
@config_option()
@click.option(
    "--correction",
    metavar="ПРИЧИНА",
    help="Сохранить изменённый документ новой версией (старая остаётся в архиве).",
)
@JSON_OPTION
@pass_cli
def store(
    cli: CliContext,
    paths: tuple[Path, ...],
    source: Path,
    correction: str | None,
    as_json: bool,
) -> None:
    """Сохранить подписанные документы и выгрузку в архив, в двух копиях в разных местах.

    ПАПКА — папка, подготовленная командой «archiver render» (ищутся файлы
    *-class-journal.pdf и *-final-marks.pdf), или отдельные файлы документов.
    Повторный запуск ничего не меняет в уже сохранённом и дописывает прерванное.
    """
    settings = cli.settings
    storage = settings.require_storage()
    raw, _ = load_source(str(source), max_bytes=settings.archive.max_export_bytes)
    report = read_export(raw, name=str(source), max_bytes=settings.archive.max_export_bytes)
    export = accepted_export(report, as_json)
    documents = find_documents(paths)
    locations = open_locations(storage)

    def line(event: ProgressEvent) -> str | None:
        if event.event == "location":
            where = next(loc.where for loc in locations if loc.name == event.location)
            return f"Хранилище «{event.location}» доступно: {where}"
        if event.event == STEP:
            status = STATUS_TEXT.get(event.status or "", event.status)
            return f"[{event.done}/{event.total}] {status}: {event.item}"
        return None

    progress = ProgressDisplay(as_json, {}, lines=line)
    results = store_records(
        export,
        raw,
        source.name,
        documents,
        locations,
        correction=correction,
        zone=storage.timezone,
        policies_folder=settings.documents.retention_policies,
        progress=progress,
        trust_roots=settings.signature.trust_roots,
    )
    if as_json:
        echo_json([r.to_json() for r in results])
        return
    for result in results:
        _print_result(result)
    counts = {s: sum(1 for r in results if r.status == s) for s in (STORED, UNCHANGED, COMPLETED)}
    click.echo(
        f"Готово: записей {len(results)} (новых {counts[STORED]}, без изменений "
        f"{counts[UNCHANGED]}, дописано {counts[COMPLETED]}); копии: "
        + ", ".join(f"«{loc.name}» {loc.where}" for loc in locations)
    )
