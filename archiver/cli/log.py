"""``archiver log show`` and ``archiver log verify``: the access log kept with the archive."""

from __future__ import annotations

from datetime import tzinfo

import click

from archiver.archive.access_log import ACTIONS, EXTRACT, GET, Entry, verify_log
from archiver.archive.catalog import CatalogError, record_titles, student_names
from archiver.archive.handout import Archive, open_archive, refresh_catalog
from archiver.archive.log_mend import LogAssessment, assess, mend
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuGroup
from archiver.cli.options import JSON_OPTION, config_option
from archiver.cli.output import echo_json, warn
from archiver.errors import ArchiverError, ExitCode, ProblemsFound
from archiver.wording import local_time


@click.group("log", cls=RuGroup)
def log() -> None:
    """Журнал доступа к архиву: кто, когда, что и зачем получал из архива."""


def _print_verify(result: LogAssessment) -> None:
    report = result.report
    for line in result.mended:
        click.echo(f"  ↻ {line}")
    behind = result.behind
    for chain in report.chains:
        if not chain.available:
            status = "недоступно, журнал в нём не проверен"
        elif any(p.location == chain.location for p in result.problems):
            count = sum(1 for p in result.problems if p.location == chain.location)
            status = f"записей {chain.entries}, НАРУШЕНИЙ: {count}"
        elif chain.location in behind:
            seqs = ", ".join(map(str, behind[chain.location]))
            status = (
                f"записей {chain.entries}, цепочка не нарушена; не хватает последних записей "
                f"№ {seqs}: хранилище было недоступно, когда они делались"
            )
        else:
            status = f"записей {chain.entries}, цепочка не нарушена"
        click.echo(f"Хранилище «{chain.location}» ({chain.where}): {status}")
    for problem in result.problems:
        click.echo(f"  ✘ {problem.message}")
    if behind:
        click.echo(
            "  Недостающие записи допишет следующее обращение к архиву или сейчас: "
            "archiver log verify --repair"
        )
    if result.ok:
        last = max((c.last_seq for c in report.chains), default=0)
        same = "копии в хранилищах совпадают" if not behind else "копии совпадают в общей части"
        click.echo(
            f"Журнал доступа в порядке: записей {last}, {same}." if last else "Журнал доступа пуст."
        )


@log.command("verify")
@click.option(
    "--repair",
    is_flag=True,
    help="Дописать недостающие записи и заменить повреждённые копией из исправного хранилища.",
)
@config_option()
@JSON_OPTION
@pass_cli
def log_verify(cli: CliContext, repair: bool, as_json: bool) -> None:
    """Проверить журнал доступа в каждом хранилище: цепочку хешей и совпадение копий.

    Находит удалённую, изменённую или переставленную запись и называет её номер.
    Недоступное хранилище — не нарушение журнала: о нём говорится отдельно. Копия,
    в которой нет последних записей, сделанных, пока хранилище было недоступно,
    отстала, но не нарушена. С --repair недостающие записи дописываются, а
    повреждённые заменяются копией из хранилища с ненарушенной цепочкой (S3 —
    предпочтительно). Код выхода 1, если журнал нарушен или хранилище недоступно.
    """
    archive = open_archive(cli.settings)
    result = assess(archive.locations, verify_log(archive.locations, archive.working_dir))
    if repair:
        result = mend(archive.locations, result, archive.working_dir)
    if as_json:
        echo_json(result.to_json())
        if not result.ok:
            raise SystemExit(ExitCode.PROBLEMS_FOUND)
        return
    _print_verify(result)
    if result.problems:
        seqs = sorted({p.seq for p in result.problems if p.seq is not None})
        which = f" (записи № {', '.join(map(str, seqs))})" if seqs else ""
        raise ProblemsFound(f"журнал доступа нарушен{which}")
    if result.unavailable:
        names = ", ".join(f"«{p.location}»" for p in result.unavailable)
        raise ProblemsFound(
            f"журнал доступа проверен не полностью: хранилище {names} недоступно; "
            "в доступных хранилищах он не нарушен. Проверьте снова, когда хранилище вернётся"
        )


def _names(archive: Archive) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Pupils' names and records' titles from the catalog (refreshed); empty when it cannot be."""
    try:
        refresh_catalog(archive)
        return student_names(archive.catalog), record_titles(archive.catalog)
    except (ArchiverError, CatalogError) as exc:
        warn(f"имена обучающихся не показаны: каталог недоступен ({exc})")
        return {}, {}


def _entry_line(
    entry: Entry,
    names: dict[tuple[str, str], str],
    titles: dict[str, str],
    zone: tzinfo | None = None,
) -> str:
    doc = entry.doc
    try:  # in the school's time zone
        at = local_time(str(doc.get("at")), zone)
    except ValueError:
        at = str(doc.get("at"))
    who = doc.get("who") or {}
    operator = who.get("operator", "?")
    user = f"{who.get('os_user', '?')}@{who.get('host', '?')}"
    if who.get("via") == "web":  # an account of the web service: its role and the browser's address
        user = f"{who.get('role', '?')}, веб-служба, {who.get('client', '?')}"
    what = doc.get("what") or {}
    if doc.get("action") == GET:
        rid = str(what.get("record_id"))
        title = titles.get(rid)
        target = f"{rid} ({title})" if title else rid
    elif doc.get("action") == EXTRACT:
        school, student = str(what.get("school_id")), str(what.get("student_id"))
        name = names.get((school, student))
        target = (
            f"обучающийся {name} (id {student}; {school})"
            if name
            else f"обучающийся id {student} ({school}; имени нет в каталоге)"
        )
    else:  # holds, disposal, renewal, the web service's searches and views: what they name
        target = ", ".join(
            f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in what.items()
        )
    output = (doc.get("output") or {}).get("path") or (doc.get("output") or {}).get("to", "")
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
    """Показать журнал доступа (из основного хранилища, резервного — если оно недоступно).

    Журнал хранит номера записей и id обучающихся; их названия и ФИО показываются
    по каталогу (он обновляется сам). В --json — записи журнала как они хранятся,
    с добавленными "names": {"student": ФИО, "record": название}.
    """
    archive = open_archive(cli.settings)
    location, entries = archive.access_log().entries()
    names, titles = _names(archive)
    if as_json:
        shown = []
        for entry in entries:
            what = entry.doc.get("what") or {}
            key = (str(what.get("school_id")), str(what.get("student_id")))
            shown.append(
                {
                    **entry.to_json(),
                    "names": {
                        "student": names.get(key),
                        "record": titles.get(str(what.get("record_id"))),
                    },
                }
            )
        echo_json(shown)
        return
    for note in archive.locations.fallback_notes():
        warn(note)
    click.echo(
        f"Журнал доступа: хранилище «{location.name}» ({location.where}), записей {len(entries)}"
    )
    for entry in entries:
        click.echo(_entry_line(entry, names, titles, archive.zone))
