"""``archiver log show`` and ``archiver log verify``: the access log kept with the archive."""

from __future__ import annotations

from datetime import tzinfo

import click

from archiver.archive.access_log import ACTIONS, EXTRACT, GET, Entry, LogCheckReport, verify_log
from archiver.archive.handout import open_archive
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuGroup
from archiver.cli.options import JSON_OPTION, config_option
from archiver.cli.output import echo_json, warn
from archiver.errors import ExitCode, ProblemsFound
from archiver.wording import local_time


@click.group("log", cls=RuGroup)
def log() -> None:
    """Журнал доступа к архиву: кто, когда, что и зачем получал из архива."""


def _print_verify(report: LogCheckReport) -> None:
    for chain in report.chains:
        if not chain.available:
            status = "недоступно"
        elif chain.problems:
            status = f"записей {chain.entries}, НАРУШЕНИЙ: {len(chain.problems)}"
        else:
            status = f"записей {chain.entries}, цепочка не нарушена"
        click.echo(f"Хранилище «{chain.location}» ({chain.where}): {status}")
    for problem in report.problems:
        click.echo(f"  ✘ {problem.message}")
    if report.ok:
        last = max((c.last_seq for c in report.chains), default=0)
        click.echo(
            f"Журнал доступа в порядке: записей {last}, копии в хранилищах совпадают."
            if last
            else "Журнал доступа пуст."
        )


@log.command("verify")
@config_option()
@JSON_OPTION
@pass_cli
def log_verify(cli: CliContext, as_json: bool) -> None:
    """Проверить журнал доступа в каждом хранилище: цепочку хешей и совпадение копий.

    Находит удалённую, изменённую или переставленную запись и называет её номер.
    Код выхода 1, если журнал нарушен или хранилище недоступно.
    """
    archive = open_archive(cli.settings)
    report = verify_log(archive.locations, archive.working_dir)
    if as_json:
        echo_json(report.to_json())
        if not report.ok:
            raise SystemExit(ExitCode.PROBLEMS_FOUND)
        return
    _print_verify(report)
    if not report.ok:
        seqs = sorted({p.seq for p in report.problems if p.seq is not None})
        which = f" (записи № {', '.join(map(str, seqs))})" if seqs else ""
        raise ProblemsFound(f"журнал доступа нарушен{which}")


def _entry_line(entry: Entry, zone: tzinfo | None = None) -> str:
    doc = entry.doc
    try:  # in the school's time zone
        at = local_time(str(doc.get("at")), zone)
    except ValueError:
        at = str(doc.get("at"))
    who = doc.get("who") or {}
    operator = who.get("operator", "?")
    user = f"{who.get('os_user', '?')}@{who.get('host', '?')}"
    what = doc.get("what") or {}
    if doc.get("action") == GET:
        target = str(what.get("record_id"))
    elif doc.get("action") == EXTRACT:
        target = f"обучающийся {what.get('student_id')} ({what.get('school_id')})"
    else:  # holds, disposal, renewal: what they name
        target = ", ".join(f"{key}: {value}" for key, value in what.items())
    output = (doc.get("output") or {}).get("path", "")
    action = ACTIONS.get(str(doc.get("action")), str(doc.get("action")))
    return (
        f"№ {entry.seq}  {at}  {operator} ({user})\n"
        f"    {action}: {target} → {output}\n"
        f"    причина: {doc.get('why', '')}"
    )


@log.command("show")
@config_option()
@JSON_OPTION
@pass_cli
def log_show(cli: CliContext, as_json: bool) -> None:
    """Показать журнал доступа (из основного хранилища, резервного — если оно недоступно)."""
    archive = open_archive(cli.settings)
    location, entries = archive.access_log().entries()
    if as_json:
        echo_json([e.to_json() for e in entries])
        return
    for note in archive.locations.fallback_notes():
        warn(note)
    click.echo(
        f"Журнал доступа: хранилище «{location.name}» ({location.where}), записей {len(entries)}"
    )
    for entry in entries:
        click.echo(_entry_line(entry, archive.zone))
