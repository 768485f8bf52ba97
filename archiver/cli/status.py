"""``archiver status``: where every class of the year stands before the 30 June deadline."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from archiver.archive.verify import VerifyHistory
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option
from archiver.cli.output import echo_json
from archiver.errors import UsageError
from archiver.sources.export_v1 import read_export
from archiver.state import state_dir
from archiver.storage.config import load_storage_settings, open_location
from archiver.yearend import (
    EXPORT_COPY,
    NOT_RENDERED,
    RENDERED,
    REPORT_JSON,
    SIGNED,
    STATE_TEXT,
    STORED_BOTH,
    STORED_ONE,
    VERIFIED,
    class_states,
    documents_root,
    verified_classes,
)

NEXT_STEP = {
    NOT_RENDERED: "archiver year-end --source ВЫГРУЗКА (или archiver render)",
    RENDERED: "archiver year-end --source ВЫГРУЗКА (или archiver sign)",
    SIGNED: "archiver year-end --source ВЫГРУЗКА (или archiver store)",
    STORED_ONE: "archiver year-end --source ВЫГРУЗКА: допишет вторую копию",
    STORED_BOTH: "archiver verify (найдёт повреждения; archiver verify --repair их исправит)",
}


@click.command("status", cls=RuCommand)
@config_option
@click.option(
    "--year", metavar="ГОД", help="Учебный год, например 2025/2026 (по умолчанию последний)."
)
@click.option("--json", "as_json", is_flag=True, help="Вывести в формате JSON.")
def status(config_path: Path | None, year: str | None, as_json: bool) -> None:
    """Показать, где стоит каждый класс учебного года и что запускать дальше."""
    runs = state_dir(config_path, create=False) / "year-end"
    folders = (
        sorted(p for p in runs.glob("*") if (p / EXPORT_COPY).is_file()) if runs.is_dir() else []
    )
    if year is not None:
        wanted = year.replace("/", "-")
        folders = [p for p in folders if p.name == wanted]
    if not folders:
        raise UsageError(
            "архивирование " + (f"за {year} " if year else "") + "ещё не запускалось: "
            "запустите «archiver year-end --source ВЫГРУЗКА»"
        )
    work_dir = folders[-1]
    report = read_export((work_dir / EXPORT_COPY).read_bytes(), name=str(work_dir / EXPORT_COPY))
    export = report.export
    assert export is not None  # it passed validation when the run started
    storage = load_storage_settings(config_path)
    locations = [open_location(loc) for loc in storage.locations]
    verified: set[str] = set()
    last = work_dir / REPORT_JSON
    if last.is_file():
        data = json.loads(last.read_text(encoding="utf-8"))
        checks = VerifyHistory.peek(state_dir(config_path, create=False))
        verified = verified_classes(data, checks)
    states = class_states(
        export, documents_root(work_dir), [c.id for c in export.classes], locations, verified
    )
    end_year = int(export.academic_year.name.split("/")[-1])
    deadline = date(end_year, 6, 30)
    left = (deadline - date.today()).days
    if as_json:
        echo_json(
            {
                "academic_year": export.academic_year.name,
                "deadline": deadline.isoformat(),
                "classes": [
                    {"class_id": s.class_id, "name": s.name, "state": s.state} for s in states
                ],
            }
        )
        return
    click.echo(f"{export.school.short_name}, {export.academic_year.name} учебный год")
    when = f"осталось дней: {left}" if left >= 0 else f"срок прошёл {-left} дн. назад"
    click.echo(f"Срок архивирования: 30.06.{end_year} ({when})")
    width = max(len(s.name) for s in states)
    for s in states:
        click.echo(f"  {s.name.ljust(width)}  {STATE_TEXT[s.state]}")
    pending = {s.state for s in states if s.state != VERIFIED}
    if not pending:
        click.echo("Все классы в архиве в двух копиях и проверены.")
        return
    first = min(pending, key=list(NEXT_STEP).index)
    click.echo(f"Дальше: {NEXT_STEP[first]}")
