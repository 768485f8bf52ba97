"""``archiver list``: every record of the archive, its hashes, retention and copies."""

from __future__ import annotations

from datetime import datetime, tzinfo

import click

from archiver.archive.handout import open_archive
from archiver.archive.record_list import OK, STATE_TEXT, UNAVAILABLE, ListedRecord, list_records
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.get import KIND_TEXT
from archiver.cli.i18n import RuCommand
from archiver.cli.options import JSON_OPTION, config_option
from archiver.cli.output import echo_json, warn
from archiver.errors import ExitCode
from archiver.kinds import KINDS
from archiver.wording import ru_date


def _day(text: str) -> str:
    try:
        return ru_date(datetime.fromisoformat(text).date())
    except ValueError:
        return text


def _lines(item: ListedRecord, zone: tzinfo) -> list[str]:
    m = item.manifest
    what = KIND_TEXT.get(m.kind, m.kind)
    where = f", {m.class_name}" if m.class_name else ""
    head = f"{m.record_id}  {what}{where}, {m.academic_year}, версия {m.version}"
    if item.superseded is not None:
        head += f" — {item.superseded.text(zone)}"
    elif m.correction_reason:
        head += f" (исправление: {m.correction_reason})"
    lines = [
        head,
        f"    файл {m.file_name}, {m.size} байт; sha256 {m.sha256}",
        f"    хранить до {_day(m.retain_until)} ({m.lock_mode}); сохранена {_day(m.stored_at)}",
    ]
    for copy in item.copies:
        version = f" (VersionId {copy.version_id})" if copy.version_id else ""
        detail = f": {copy.detail}" if copy.detail and copy.state != OK else ""
        mark = "✔" if copy.state == OK else "✘"
        lines.append(
            f"    {mark} {copy.location}: {copy.url}{version} — {STATE_TEXT[copy.state]}{detail}"
        )
    return lines


@click.command("list", cls=RuCommand)
@click.option("--year", metavar="ГОД", help="Только этот учебный год, например 2025/2026.")
@click.option(
    "--class", "class_filter", metavar="КЛАСС", help="Только этот класс (id или название)."
)
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="Только записи этого вида: class_journal (журнал класса), final_marks (сводная "
    "ведомость), journal_export (выгрузка).",
)
@config_option()
@JSON_OPTION
@pass_cli
def list_command(
    cli: CliContext,
    year: str | None,
    class_filter: str | None,
    kind: str | None,
    as_json: bool,
) -> None:
    """Перечислить записи архива: вид, класс, год, версию, хеши, срок хранения и копии.

    Для каждой копии — где она лежит (путь или s3://корзина/ключ с VersionId) и в
    каком она состоянии (по сведениям хранилища, без чтения документов; полная
    проверка — archiver verify). Заменённые исправлением версии помечены «заменён
    версией vN от ДД.ММ.ГГГГ (причина)». Код выхода 1, если какой-то копии нет или
    она повреждена.
    """
    archive = open_archive(cli.settings)
    records, notes = list_records(
        archive.locations, year=year, class_filter=class_filter, kind=kind
    )
    bad = [r for r in records if not r.ok]
    if as_json:
        echo_json(
            {
                "records": [r.to_json() for r in records],
                "notes": notes,
                "ok": not bad,
            }
        )
    else:
        for note in notes:
            warn(note)
        for item in records:
            click.echo("\n".join(_lines(item, archive.zone)))
        current = sum(1 for r in records if r.superseded is None)
        unavailable = {c.location for r in records for c in r.copies if c.state == UNAVAILABLE}
        summary = (
            f"Записей: {len(records)} (действующих версий {current}, "
            f"заменённых {len(records) - current})"
        )
        if bad:
            summary += f"; с отсутствующими или повреждёнными копиями: {len(bad)}"
        elif records:
            summary += "; копии на месте"
            if unavailable:
                summary += f" (кроме недоступных хранилищ: {', '.join(sorted(unavailable))})"
        click.echo(summary)
    if bad:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
