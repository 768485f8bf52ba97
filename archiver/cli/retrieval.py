"""Finding and handing out archived documents: ``catalog``, ``find``, ``get``, ``extract``, ``log``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import click

from archiver.archive.access_log import (
    ACTIONS,
    EXTRACT,
    GET,
    POLICY_KIND,
    AccessLog,
    AccessRequest,
    AppendResult,
    Entry,
    VerifyReport,
    sha256_hex,
    verify_log,
)
from archiver.archive.catalog import (
    RebuildResult,
    StudentMatch,
    archived_record_ids,
    catalog_meta,
    catalog_path,
    catalogued_record_ids,
    ensure_catalog,
    final_marks_records,
    find_students,
    rebuild,
    student_data_records,
)
from archiver.archive.extract import SOURCE_TEXT, gather, render_extract
from archiver.archive.retrieve import (
    RecordNotFound,
    check_record_id,
    fetch_record,
    refuse_existing,
    write_new_file,
)
from archiver.cli.i18n import RuCommand, RuGroup
from archiver.cli.options import config_option
from archiver.cli.output import echo_json
from archiver.config import load_config
from archiver.errors import ExitCode, ProblemsFound, UsageError
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, JOURNAL_EXPORT
from archiver.render.context import ru_date
from archiver.retention import load_policy
from archiver.state import state_dir
from archiver.storage.config import StorageSettings, load_storage_settings, open_location
from archiver.storage.locations import Locations

JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Вывести результат в формате JSON."
)
REASON_OPTION = click.option(
    "--reason",
    required=True,
    metavar="ПРИЧИНА",
    help="Зачем нужен документ (записывается в журнал доступа).",
)
OPERATOR_OPTION = click.option(
    "--operator",
    metavar="ИМЯ",
    help="Кто выдаёт документ (по умолчанию — пользователь операционной системы).",
)
OUT_OPTION = click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Куда записать документ (существующий файл не перезаписывается).",
)
KIND_TEXT = {
    CLASS_JOURNAL: "журнал класса",
    FINAL_MARKS: "сводная ведомость итоговых отметок",
    JOURNAL_EXPORT: "выгрузка электронного журнала",
}


@dataclass(frozen=True, slots=True)
class Archive:
    """The configured archive: its locations and the local working-state folder."""

    settings: StorageSettings
    locations: Locations
    state: Path
    config_path: Path | None

    @property
    def zone(self) -> tzinfo:
        """The school's time zone: ``[storage] timezone``, else this computer's."""
        zone = self.settings.timezone or datetime.now().astimezone().tzinfo
        assert zone is not None
        return zone

    @property
    def catalog(self) -> Path:
        """The catalog file."""
        return catalog_path(self.state)

    def access_log(self) -> AccessLog:
        """The access log in the archive's locations."""
        return AccessLog(self.locations, load_policy(POLICY_KIND), self.zone)


def open_archive(config_path: Path | None) -> Archive:
    """Read the configuration and open both locations (checked lazily, on first use)."""
    settings = load_storage_settings(config_path)
    locations = Locations([open_location(loc) for loc in settings.locations])
    return Archive(settings, locations, state_dir(settings.path), config_path)


def warn(text: str) -> None:
    """A line for the person on stderr."""
    click.echo(f"Внимание: {text}", err=True)


def _check_reason(reason: str) -> str:
    if not reason.strip():
        raise UsageError("укажите причину обращения к архиву (--reason «…»)")
    return reason.strip()


def _print_rebuild(result: RebuildResult, *, err: bool = False) -> None:
    for note in result.notes:
        warn(note)
    for problem in result.problems:
        click.echo(f"Ошибка: {problem}", err=True)
    click.echo(
        f"Каталог построен: записей {result.records}, учебных лет {result.years}, "
        f"классов {result.classes}, обучающихся {result.students}; "
        f"по хранилищу «{result.location}» ({result.where}); файл {result.path}",
        err=err,
    )


def _built_at(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text).astimezone()
    except ValueError:
        return text
    return moment.strftime("%d.%m.%Y %H:%M")


# -- catalog


@click.group("catalog", cls=RuGroup)
def catalog() -> None:
    """Каталог архива: указатель записей, обучающихся, классов и лет (в рабочей папке)."""


@catalog.command("rebuild")
@config_option
@JSON_OPTION
def catalog_rebuild(config_path: Path | None, as_json: bool) -> None:
    """Построить каталог заново по записям архива.

    Читаются записи основного хранилища (резервного, если основное недоступно) и
    выгрузки журнала каждого года (с проверкой sha256). Архив остаётся
    первоисточником: каталог можно удалить и построить снова в любой момент.
    """
    archive = open_archive(config_path)
    result = rebuild(archive.locations, archive.catalog)
    if as_json:
        echo_json(result.to_json())
    else:
        _print_rebuild(result)
    if result.problems:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)


# -- find


def _entry_lines(match: StudentMatch) -> Iterator[str]:
    for entry in match.entries:
        heading = f"{entry.class_name} класс" if entry.class_kind == "class" else entry.class_name
        dates = []
        if entry.left:
            dates.append(f"выбыл(а) {ru_date(datetime.fromisoformat(entry.left).date())}")
        line = f"   {entry.academic_year}, {heading}"
        if dates:
            line += f" ({'; '.join(dates)})"
        yield line
        journal = entry.class_journal or "нет в архиве"
        yield f"       журнал класса:       {journal}"
        if entry.class_kind == "class":
            if entry.final_marks:
                statement = entry.final_marks
            elif not entry.marks_recorded:
                statement = "не составляется (отметки не выставляются)"
            else:
                statement = "нет в архиве"
            yield f"       сводная ведомость:   {statement}"


@click.command("find", cls=RuCommand)
@click.argument("query", metavar="ЗАПРОС")
@click.option("--year", metavar="ГОД", help="Только этот учебный год, например 2025/2026.")
@click.option(
    "--class", "class_filter", metavar="КЛАСС", help="Только этот класс (id или название)."
)
@config_option
@JSON_OPTION
def find(
    query: str, year: str | None, class_filter: str | None, config_path: Path | None, as_json: bool
) -> None:
    """Найти обучающегося по фамилии, имени или их части (регистр и ё/е не важны).

    Показывает дату рождения, классы по годам и номера записей архива: журнал
    класса и сводную ведомость итоговых отметок. Каталог строится сам, если его
    ещё нет (archiver catalog rebuild — построить заново).
    """
    archive = open_archive(config_path)
    built = ensure_catalog(archive.locations, archive.catalog)
    if built is not None and not as_json:
        _print_rebuild(built, err=True)
    matches = find_students(archive.catalog, query, year=year, class_filter=class_filter)
    if as_json:
        echo_json([m.to_json() for m in matches])
        return
    meta = catalog_meta(archive.catalog) or {}
    click.echo(
        f"Каталог от {_built_at(meta.get('built_at', ''))} "
        f"(хранилище «{meta.get('location', '?')}»). Запрос «{query}»: найдено {len(matches)}"
    )
    for n, match in enumerate(matches, 1):
        birth = (
            ru_date(datetime.fromisoformat(match.birth_date).date())
            if match.birth_date
            else "не указана"
        )
        click.echo("")
        click.echo(
            f"{n}. {match.full_name}, дата рождения {birth} "
            f"(id {match.student_id}; {match.school_name})"
        )
        for line in _entry_lines(match):
            click.echo(line)
    if matches:
        click.echo("")
        click.echo(
            "Выдать документ: archiver get НОМЕР_ЗАПИСИ --out ФАЙЛ --reason «…»; "
            "выписка итоговых отметок: archiver extract --student ID --out ФАЙЛ --reason «…»"
        )


# -- get and extract


def _print_logged(appended: AppendResult) -> None:
    for note in appended.notes:
        warn(note)
    click.echo(
        f"Обращение записано в журнал доступа: № {appended.seq} "
        f"(хранилища: {', '.join(appended.written)})"
    )


def _log_json(appended: AppendResult) -> dict[str, Any]:
    return {
        "seq": appended.seq,
        "sha256": appended.sha256,
        "key": appended.key,
        "locations": list(appended.written),
        "notes": list(appended.notes),
    }


@click.command("get", cls=RuCommand)
@click.argument("record_id", metavar="НОМЕР_ЗАПИСИ")
@OUT_OPTION
@REASON_OPTION
@OPERATOR_OPTION
@config_option
@JSON_OPTION
def get(
    record_id: str,
    out: Path,
    reason: str,
    operator: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Выдать документ записи архива в файл, проверив его sha256 по описанию записи.

    Берётся копия основного хранилища; если она повреждена или недоступна — копия
    резервного (об этом выводится предупреждение). Обращение записывается в журнал
    доступа архива. Существующий файл не перезаписывается.
    """
    reason = _check_reason(reason)
    refuse_existing(out)
    rid = check_record_id(record_id)
    archive = open_archive(config_path)
    fetched = fetch_record(archive.locations, rid)
    manifest = fetched.manifest
    for note in fetched.notes:
        warn(note)
    request = AccessRequest(
        action=GET,
        what={"record_id": rid},
        reason=reason,
        operator=operator,
        output={"path": str(out.resolve()), "sha256": manifest.sha256, "size": manifest.size},
        sources=[{"record_id": rid, "sha256": manifest.sha256, "location": fetched.location.name}],
    )
    appended = archive.access_log().append(request)
    write_new_file(out, fetched.payload)
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
                "url": fetched.location.url(f"{rid}/{manifest.payload_path}"),
                "notes": list(fetched.notes),
                "access_log": _log_json(appended),
            }
        )
        return
    click.echo(f"Записан файл {out}: {manifest.title}")
    click.echo(f"    запись архива: {rid} ({KIND_TEXT.get(manifest.kind, manifest.kind)})")
    click.echo(
        f"    копия: хранилище «{fetched.location.name}» "
        f"({fetched.location.url(f'{rid}/{manifest.payload_path}')})"
    )
    click.echo(f"    sha256: {manifest.sha256} (совпадает с описанием записи)")
    _print_logged(appended)


@contextmanager
def _signer(config_path: Path | None) -> Iterator[Any]:
    """The configured signer (the secret from the environment), or ``None`` without [signer]."""
    settings = load_config(config_path).signature
    if settings.signer is None:
        yield None
        return
    from archiver.cli.sign import read_secret
    from archiver.demo.keys import demo_timestamping
    from archiver.signing.sign import secret_env, secret_prompt, signing_session

    secret = read_secret(secret_env(settings), secret_prompt(settings))
    with signing_session(settings, secret, demo_timestamping(settings)) as signer:
        yield signer


def _fresh_catalog(archive: Archive, as_json: bool) -> None:
    """Rebuild the catalog when it is missing or the archive's records have changed since."""
    path = archive.catalog
    source = archive.locations.first()
    if catalog_meta(path) is not None and catalogued_record_ids(path) == archived_record_ids(
        source
    ):
        return
    result = rebuild(archive.locations, path)
    if not as_json:
        _print_rebuild(result, err=True)


@click.command("extract", cls=RuCommand)
@click.option(
    "--student",
    "student_id",
    required=True,
    metavar="ID",
    help="id обучающегося (см. «archiver find»).",
)
@OUT_OPTION
@REASON_OPTION
@OPERATOR_OPTION
@click.option("--school", "school_id", metavar="ID", help="Школа, если в архиве их несколько.")
@config_option
@JSON_OPTION
def extract(
    student_id: str,
    out: Path,
    reason: str,
    operator: str | None,
    school_id: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Выписка из сводной ведомости итоговых отметок обучающегося за все годы в архиве (PDF/A).

    Составляется по архивным данным журнала (sha256 каждой записи проверяется):
    по выгрузкам, а после их срока хранения (5 лет) по данным, вложенным в
    сводные ведомости итоговых отметок (хранятся 25 лет). На
    одной странице: школа, обучающийся, годовые (и экзаменационные) отметки по
    годам, решения педагогического совета. Подписывается электронной подписью,
    если в archiver.toml задан подписант ([signer]). Обращение записывается в
    журнал доступа архива. Существующий файл не перезаписывается.
    """
    reason = _check_reason(reason)
    refuse_existing(out)
    archive = open_archive(config_path)
    _fresh_catalog(archive, as_json)
    schools = student_data_records(archive.catalog, student_id)
    if school_id is not None:
        schools = {k: v for k, v in schools.items() if k == school_id}
    if not schools:
        raise RecordNotFound(
            f"обучающегося с id «{student_id}» в архиве нет (найдите его id: archiver find ФАМИЛИЯ)"
        )
    if len(schools) > 1:
        raise UsageError(
            f"id «{student_id}» есть в архивах нескольких школ ({', '.join(sorted(schools))}); "
            "укажите школу: --school ID"
        )
    school, records = next(iter(schools.items()))
    data = gather(
        archive.locations,
        school,
        student_id,
        records,
        final_marks_records(archive.catalog, school),
    )
    for note in data.notes:
        warn(note)
    signature = load_config(config_path).signature
    issued = datetime.now(archive.zone)
    signed_by: str | None = None
    with _signer(config_path) as signer:
        owner = signer.loaded.identity.owner if signer is not None else None
        rendered = render_extract(
            data, issued=issued, signer_name=owner, signer_position=signature.signer_position
        )
        pdf = rendered.pdf
        if signer is not None:
            pdf = signer.sign_bytes(pdf)
            signed_by = owner
    request = AccessRequest(
        action=EXTRACT,
        what={"school_id": school, "student_id": student_id},
        reason=reason,
        operator=operator,
        output={
            "path": str(out.resolve()),
            "sha256": sha256_hex(pdf),
            "size": len(pdf),
            "signed": signed_by is not None,
        },
        sources=data.sources,
    )
    appended = archive.access_log().append(request)
    write_new_file(out, pdf)
    if as_json:
        echo_json(
            {
                "out": str(out),
                "school_id": school,
                "student_id": student_id,
                "full_name": data.full_name,
                "years": data.years,
                "pages": rendered.pages,
                "sha256": sha256_hex(pdf),
                "signed": signed_by is not None,
                "signer": signed_by,
                "sources": data.sources,
                "notes": data.notes,
                "access_log": _log_json(appended),
            }
        )
        return
    click.echo(f"Записана выписка {out}: {data.full_name}, учебные годы {', '.join(data.years)}")
    if rendered.pages > 1:
        warn(f"выписка не уместилась на одной странице ({rendered.pages} стр.)")
    for source in data.sources:
        text = SOURCE_TEXT.get(source["kind"], source["kind"])
        click.echo(
            f"    по записи {source['record_id']} ({text}; sha256 {source['sha256'][:16]}…, "
            f"хранилище «{source['location']}»)"
        )
    if signed_by is not None:
        click.echo(f"    подписана электронной подписью: {signed_by}")
    else:
        click.echo(
            "    Выписка НЕ подписана электронной подписью: в файле настроек не задан "
            "подписант ([signer]). Распечатайте её и подпишите у директора, заверив печатью."
        )
    _print_logged(appended)


# -- the access log


@click.group("log", cls=RuGroup)
def log() -> None:
    """Журнал доступа к архиву: кто, когда, что и зачем получал из архива."""


def _print_verify(report: VerifyReport) -> None:
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
@config_option
@JSON_OPTION
def log_verify(config_path: Path | None, as_json: bool) -> None:
    """Проверить журнал доступа в каждом хранилище: цепочку хешей и совпадение копий.

    Находит удалённую, изменённую или переставленную запись и называет её номер.
    Код выхода 1, если журнал нарушен или хранилище недоступно.
    """
    archive = open_archive(config_path)
    report = verify_log(archive.locations)
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


def _entry_line(entry: Entry) -> str:
    doc = entry.doc
    try:
        at = datetime.fromisoformat(str(doc.get("at"))).strftime("%d.%m.%Y %H:%M %z")
    except ValueError:
        at = str(doc.get("at"))
    who = doc.get("who") or {}
    operator = who.get("operator", "?")
    user = f"{who.get('os_user', '?')}@{who.get('host', '?')}"
    what = doc.get("what") or {}
    if doc.get("action") == GET:
        target = str(what.get("record_id"))
    else:
        target = f"обучающийся {what.get('student_id')} ({what.get('school_id')})"
    output = (doc.get("output") or {}).get("path", "")
    action = ACTIONS.get(str(doc.get("action")), str(doc.get("action")))
    return (
        f"№ {entry.seq}  {at}  {operator} ({user})\n"
        f"    {action}: {target} → {output}\n"
        f"    причина: {doc.get('why', '')}"
    )


@log.command("show")
@config_option
@JSON_OPTION
def log_show(config_path: Path | None, as_json: bool) -> None:
    """Показать журнал доступа (из основного хранилища, резервного — если оно недоступно)."""
    archive = open_archive(config_path)
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
        click.echo(_entry_line(entry))


COMMANDS = (catalog, find, get, extract, log)
"""Registered in :mod:`archiver.cli.main`."""

__all__ = ["COMMANDS", "catalog", "extract", "find", "get", "log"]
