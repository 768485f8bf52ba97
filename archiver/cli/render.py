"""``archiver render``: the journal bundles and summary statements of a year as PDF/A."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import class_option, config_option
from archiver.cli.output import accepted_export, echo_json
from archiver.cli.progress import ProgressDisplay
from archiver.kinds import CLASS_JOURNAL
from archiver.numbers import plural_form
from archiver.render.batch import render_classes
from archiver.sources.export_v1 import read_export


@click.command("render", cls=RuCommand)
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path), metavar="ВЫГРУЗКА")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="ПАПКА",
    help="Куда записать документы (ПАПКА/учебный год/класс/...).",
)
@class_option
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Число процессов (по умолчанию по числу ядер).",
)
@click.option("--json", "as_json", is_flag=True, help="Вывести список документов в формате JSON.")
@config_option()
@pass_cli
def render(
    cli: CliContext,
    source: Path,
    out_dir: Path,
    class_ids: tuple[str, ...],
    workers: int | None,
    as_json: bool,
) -> None:
    """Сверстать журналы классов и сводные ведомости итоговых отметок в PDF/A.

    Шаблоны и политики хранения — встроенные или свои, из раздела [documents] файла настроек.
    """
    settings = cli.settings_or_defaults()
    doc_options = settings.documents
    report = read_export(source, max_bytes=settings.archive.max_export_bytes)
    export = accepted_export(report, as_json)
    for warning in report.warnings:
        click.echo(f"Предупреждение: {warning}", err=True)
    names = {c.id: c.name for c in export.classes}
    progress = ProgressDisplay(as_json, {"render": "Вёрстка классов"})
    try:
        documents = render_classes(
            export, out_dir, class_ids, workers=workers, progress=progress, doc_options=doc_options
        )
    finally:
        progress.close()
    if as_json:
        echo_json([{k: v for k, v in d.to_json().items() if k != "sheets"} for d in documents])
        return
    for doc in documents:
        what = "Журнал" if doc.kind == CLASS_JOURNAL else "Сводная ведомость"
        pages = f"{doc.pages} {plural_form(doc.pages, 'страница', 'страницы', 'страниц')}"
        extra = f", листов: {doc.sheets} + лист-заверитель" if doc.kind == CLASS_JOURNAL else ""
        click.echo(f"{what} {names[doc.class_id]}: {doc.path} ({pages}{extra})")
    sheets = sum(d.pages for d in documents)
    click.echo(f"Готово: документов {len(documents)}, страниц {sheets}, папка {out_dir}")
