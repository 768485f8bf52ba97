"""``archiver get``: a record's document handed out to a new file, hash-checked and logged."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.archive.handout import get_document, logged_json, open_archive
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import (
    JSON_OPTION,
    OPERATOR_OPTION,
    OUT_OPTION,
    REASON_OPTION,
    config_option,
)
from archiver.cli.output import echo_json, print_logged, warn
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, INVENTORY, JOURNAL_EXPORT

KIND_TEXT = {
    CLASS_JOURNAL: "журнал класса",
    FINAL_MARKS: "сводная ведомость (итоговых отметок или решений педсовета)",
    JOURNAL_EXPORT: "выгрузка электронного журнала",
    INVENTORY: "опись дел за год",
}


@click.command("get", cls=RuCommand)
@click.argument("record_id", metavar="НОМЕР_ЗАПИСИ")
@OUT_OPTION
@REASON_OPTION
@OPERATOR_OPTION
@config_option()
@JSON_OPTION
@pass_cli
def get(
    cli: CliContext,
    record_id: str,
    out: Path,
    reason: str,
    operator: str | None,
    as_json: bool,
) -> None:
    """Выдать документ записи архива в файл, проверив его sha256 по описанию записи.

    Берётся копия основного хранилища; если она повреждена или недоступна — копия
    резервного (об этом выводится предупреждение). Обращение записывается в журнал
    доступа архива. Существующий файл не перезаписывается.
    """
    archive = open_archive(cli.settings)
    handed = get_document(archive, record_id, out, reason=reason, operator=operator)
    fetched, manifest, rid = handed.fetched, handed.fetched.manifest, handed.record_id
    for note in fetched.notes:
        warn(note)
    if as_json:
        echo_json(
            {
                "record_id": rid,
                "kind": manifest.kind,
                "title": manifest.title,
                "out": str(out),
                "sha256": manifest.sha256,
                "size": manifest.size,
                "location": fetched.location.name,
                "url": handed.url,
                "notes": list(fetched.notes),
                "superseded_by": (
                    handed.superseded.to_json() if handed.superseded is not None else None
                ),
                "access_log": logged_json(handed.logged),
            }
        )
        return
    click.echo(f"Записан файл {out}: {manifest.title}")
    click.echo(f"    запись архива: {rid} ({KIND_TEXT.get(manifest.kind, manifest.kind)})")
    click.echo(f"    копия: хранилище «{fetched.location.name}» ({handed.url})")
    click.echo(f"    sha256: {manifest.sha256} (совпадает с описанием записи)")
    if handed.superseded is not None:
        newer = handed.superseded
        click.echo(
            f"    Внимание: этот документ {newer.text(archive.zone)}; "
            f"действующая версия: {newer.record_id}"
        )
    print_logged(handed.logged)
