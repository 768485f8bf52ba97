"""``archiver verify``: both copies of every record against its manifest; repairs on request."""

from __future__ import annotations

import sys
from datetime import date

import click

from archiver.archive.renew import renewal_status
from archiver.archive.verify import (
    HISTORY_FILE,
    HOPELESS,
    REPAIR_LOG,
    ArchiveVerifyReport,
    CopyStatus,
    Level,
    RecordStatus,
    verify_configured,
)
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option
from archiver.cli.output import echo_json
from archiver.cli.progress import ProgressDisplay
from archiver.clock import clock_from_env
from archiver.errors import ExitCode
from archiver.progress import ProgressEvent
from archiver.settings import RenewalOptions

RECORD_TEXT = {
    RecordStatus.OK: "в порядке",
    RecordStatus.DAMAGED: "повреждена одна копия (восстановить: --repair)",
    RecordStatus.UNRECOVERABLE: "нет исправной копии",
    RecordStatus.UNREADABLE: "копия не читается",
    RecordStatus.UNPROTECTED: "копия не защищена от изменения",
    RecordStatus.SIGNATURE_INVALID: "подпись документа не прошла проверку",
    RecordStatus.LOST: "записи нет ни в одном хранилище",
    RecordStatus.REPAIRED: "восстановлена",
    RecordStatus.REPAIR_FAILED: "восстановить не удалось",
    RecordStatus.REPAIR_REFUSED: "восстановление отклонено",
}
COPY_TEXT = {
    CopyStatus.CHANGED: "изменена",
    CopyStatus.MISSING: "нет записи",
    CopyStatus.UNREADABLE: "не читается",
    CopyStatus.UNPROTECTED: "не защищена от изменения",
}
UNTRACKED_TEXT = {
    "unknown": "посторонний объект, не входит ни в одну запись",
    "extra_file": "лишний файл в папке записи",
    "unfinished_record": "незавершённая запись: нет bagit.txt ни в одном хранилище "
    "(прерванный «archiver store»; повторите его)",
}


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f}".replace(".", ",")


def timestamp_lines(report: ArchiveVerifyReport, renewal: RenewalOptions, today: date) -> list[str]:
    """Deep check: per signed record, the signature and, separately, its timestamp's renewal."""
    lines: list[str] = []
    latest: dict[str, str] = {}
    for record in report.records:  # an older version's timestamp is renewed by the newer one
        series, _, version = record.record_id.rpartition("/v")
        if series not in latest or int(latest[series].rpartition("/v")[2]) < int(version):
            latest[series] = record.record_id
    for record in report.records:
        if record.signature not in ("ok", "invalid") or record.record_id not in latest.values():
            continue
        signature = (
            "подпись действительна" if record.signature == "ok" else "подпись НЕ действительна"
        )
        stamp = record.timestamp
        if stamp is None:
            lines.append(f"{record.record_id}: {signature}; архивной метки времени нет (не B-LTA)")
            continue
        status = renewal_status(
            stamp["tsa_not_after"],
            stamp["algorithm"],
            margin_years=renewal.margin_years,
            ageing=renewal.ageing_algorithms,
            today=today,
        )
        if status.due:
            text = (
                f"метка времени требует продления до {status.expires:%d.%m.%Y} ({status.reason}): "
                "archiver renew --apply"
            )
        else:
            text = f"метка времени в порядке, продлить до {status.renew_by:%d.%m.%Y}"
        lines.append(f"{record.record_id}: {signature}; {text}")
    return lines


def print_archive_report(report: ArchiveVerifyReport, stamps: list[str] | None = None) -> None:
    """The human-readable report (stdout); ``stamps``: the deep check's timestamp lines."""
    level = (
        "полная (каждый байт и подписи документов)"
        if report.level == Level.DEEP
        else "быстрая (размеры и хэши файлов по описаниям записей)"
    )
    click.echo(f"Проверка архива: {level}" + (", с восстановлением" if report.repair else ""))
    for location in report.locations:
        view = report.per_location(location.name)
        click.echo(f"Хранилище «{location.name}» ({location.where}):")
        if location.error is not None:
            click.echo(f"  НЕДОСТУПНО: {location.error}")
            continue
        lines = 0
        for status in COPY_TEXT:
            for item in view[status]:
                suffix = " — восстановлена" if item["repaired"] else ""
                click.echo(f"  {COPY_TEXT[status]}: {item['record_id']}{suffix}")
                if status != CopyStatus.MISSING:
                    for problem in item["files"]:
                        click.echo(f"      {problem['path']}: {problem['message']}")
                lines += 1
        for item in view["untracked"]:
            click.echo(f"  лишний объект: {item['url']} ({UNTRACKED_TEXT[item['reason']]})")
            lines += 1
        if not lines:
            click.echo("  в порядке")
    hopeless = [r for r in report.records if r.status in HOPELESS]
    if hopeless:
        click.echo("")
        click.echo(
            "ВНИМАНИЕ: записи без исправной копии или не восстановленные — нужна проверка человеком:"
        )
        for record in hopeless:
            click.echo(f"  {record.record_id}: {RECORD_TEXT[record.status]}")
            for note in record.notes:
                click.echo(f"      {note}")
    others = [r for r in report.records if r.notes and r.status not in HOPELESS]
    if others:
        click.echo("")
        click.echo("Замечания:")
        for record in others:
            click.echo(f"  {record.record_id}: {RECORD_TEXT[record.status]}")
            for note in record.notes:
                click.echo(f"      {note}")
    if report.repairs:
        click.echo("")
        click.echo("Восстановлено:")
        for repair in report.repairs:
            click.echo(
                f"  {repair.location}: {repair.url} ← «{repair.source}» "
                f"(sha256 {repair.sha256[:16]}…)"
            )
    for note in report.notes:
        click.echo(f"Примечание: {note}")
    if stamps:
        click.echo("")
        click.echo("Подписи и метки времени:")
        for line in stamps:
            click.echo(f"  {line}")
    counts = report.counts()
    checked = sum(n for status, n in counts.items() if status != RecordStatus.LOST)
    parts = [f"{text} {counts[status]}" for status, text in RECORD_TEXT.items() if status in counts]
    click.echo("")
    click.echo(
        f"Проверено записей: {checked} из {report.records_total}"
        + (f" (выборка {report.sample:g})" if report.sample is not None else "")
        + (f"; {', '.join(parts)}" if parts else "")
        + (f"; лишних объектов {len(report.untracked)}" if report.untracked else "")
        + f". Прочитано {_megabytes(report.bytes_read)} МБ за "
        + f"{report.seconds:.1f} с.".replace(".", ",", 1)
    )
    click.echo("Архив в порядке." if report.clean else "Найдены проблемы.")


def _location_line(event: ProgressEvent) -> str | None:
    """Each location as it is listed (shown with or without a terminal)."""
    if event.event != "location":
        return None
    if event.status == CopyStatus.UNAVAILABLE:
        return f"Хранилище «{event.location}» недоступно"
    return f"Хранилище «{event.location}»: объектов {event.total}"


@click.command("verify", cls=RuCommand)
@config_option()
@click.option(
    "--deep",
    is_flag=True,
    help="Полная проверка: прочитать каждый байт обеих копий и проверить подписи документов "
    "(нужны [signature] trust_roots).",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Восстановить изменённую или пропавшую копию из исправной копии другого хранилища.",
)
@click.option(
    "--sample",
    type=click.FloatRange(0, 1, min_open=True),
    metavar="ДОЛЯ",
    help="Проверить только эту долю записей, давно не проверявшихся (0.1 — десятую часть).",
)
@click.option("--json", "as_json", is_flag=True, help="Вывести отчёт в формате JSON.")
@pass_cli
def verify(
    cli: CliContext,
    deep: bool,
    repair: bool,
    sample: float | None,
    as_json: bool,
) -> None:
    """Проверить обе копии каждой записи архива по её описанию.

    Быстрая проверка (по умолчанию): каждая запись есть в обоих хранилищах, размеры и
    хэши всех её файлов совпадают с описанием записи. С --deep читается каждый байт и
    проверяются электронные подписи документов. Выход: 0 — архив в порядке, 1 — найдены
    проблемы (даже если --repair их исправил), 2 — ошибка в параметрах или настройках.
    """
    settings = cli.settings
    settings.require_storage()
    folder = settings.working_dir()
    progress = ProgressDisplay(
        as_json,
        {"verify": "Проверка записей"},
        lines=_location_line,
        bars=sys.stderr.isatty(),
    )
    try:
        report = verify_configured(
            settings,
            deep=deep,
            repair=repair,
            sample=sample,
            progress=progress,
            now=clock_from_env().now() if clock_from_env().simulated else None,
        )
    finally:
        progress.close()
    stamps = timestamp_lines(report, settings.renewal, clock_from_env().today()) if deep else []
    if as_json:
        data = report.to_json()
        if deep:
            data["timestamp_renewal"] = stamps
        data["state_file"] = str(folder / HISTORY_FILE)
        data["repair_log"] = str(folder / REPAIR_LOG)
        echo_json(data)
    else:
        print_archive_report(report, stamps)
        if report.repairs:
            click.echo(f"Журнал восстановлений: {folder / REPAIR_LOG}")
    if not report.clean:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
