"""``archiver find``: a student by name, with the classes and archive records of each year."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, tzinfo

import click

from archiver.archive.catalog import (
    FIELD_TEXT,
    StudentMatch,
    catalog_meta,
    find_students,
    suggest_names,
)
from archiver.archive.catalog.search import ClassEntry
from archiver.archive.dispose.execute import destroyed_series
from archiver.archive.handout import open_archive, refresh_catalog
from archiver.archive.record import record_prefix
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import JSON_OPTION, config_option
from archiver.cli.output import echo_json, print_rebuild, warn
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, safe_name
from archiver.wording import local_time, ru_date


def _built_at(text: str, zone: tzinfo | None = None) -> str:
    try:
        return local_time(text, zone)
    except ValueError:
        return text


def _destroyed(
    destroyed: dict[str, str], school_id: str, entry: ClassEntry, kind: str
) -> str | None:
    """«уничтожен по акту № …» when the class's record of ``kind`` was destroyed under an act."""
    year = safe_name(entry.academic_year.replace("/", "-"))
    act = destroyed.get(record_prefix(school_id, year, entry.class_id, kind))
    return f"уничтожен по акту {act}" if act else None


def _entry_lines(match: StudentMatch, destroyed: dict[str, str]) -> Iterator[str]:
    for entry in match.entries:
        heading = f"{entry.class_name} класс" if entry.class_kind == "class" else entry.class_name
        dates = []
        if entry.left:
            dates.append(f"выбыл(а) {ru_date(datetime.fromisoformat(entry.left).date())}")
        line = f"   {entry.academic_year}, {heading}"
        if dates:
            line += f" ({'; '.join(dates)})"
        yield line
        journal = (
            entry.class_journal
            or _destroyed(destroyed, match.school_id, entry, CLASS_JOURNAL)
            or "нет в архиве"
        )
        yield f"       журнал класса:       {journal}"
        if entry.class_kind == "class":
            if entry.final_marks:
                statement = entry.final_marks
            elif not entry.marks_recorded:
                statement = "не составляется (отметки не выставляются)"
            else:
                statement = (
                    _destroyed(destroyed, match.school_id, entry, FINAL_MARKS) or "нет в архиве"
                )
            yield f"       сводная ведомость:   {statement}"


def _destroyed_json(match: StudentMatch, destroyed: dict[str, str]) -> dict[str, str]:
    """Record series of the student's classes destroyed under an act → the act."""
    found: dict[str, str] = {}
    for entry in match.entries:
        for kind in (CLASS_JOURNAL, FINAL_MARKS):
            year = safe_name(entry.academic_year.replace("/", "-"))
            series = record_prefix(match.school_id, year, entry.class_id, kind)
            if series in destroyed:
                found[series] = destroyed[series]
    return found


@click.command("find", cls=RuCommand)
@click.argument("words", metavar="ЗАПРОС…", nargs=-1, required=True)
@click.option("--year", metavar="ГОД", help="Только этот учебный год, например 2025/2026.")
@click.option(
    "--class", "class_filter", metavar="КЛАСС", help="Только этот класс (id или название)."
)
@config_option()
@JSON_OPTION
@pass_cli
def find(
    cli: CliContext,
    words: tuple[str, ...],
    year: str | None,
    class_filter: str | None,
    as_json: bool,
) -> None:
    """Найти обучающегося по фамилии, имени, отчеству или их части (регистр и ё/е не важны).

    Слова запроса можно писать без кавычек: ищутся ученики, в ФИО которых есть
    каждое слово. Сначала — совпадения по фамилии, затем по имени, затем по
    отчеству; при опечатке предлагаются похожие фамилии и имена. Показывает дату
    рождения, классы по годам и номера действующих версий записей архива: журнал
    класса и сводную ведомость итоговых отметок. Каталог строится и обновляется
    сам, когда в архиве появились или исчезли записи.
    """
    query = " ".join(words)
    archive = open_archive(cli.settings)
    built = refresh_catalog(archive)
    if built is not None and not as_json:
        print_rebuild(built, err=True)
    matches = find_students(archive.catalog, query, year=year, class_filter=class_filter)
    destroyed = destroyed_series(archive.locations) if matches else {}
    suggestions = suggest_names(archive.catalog, query) if not matches else {}
    if as_json:
        echo_json([{**m.to_json(), "destroyed": _destroyed_json(m, destroyed)} for m in matches])
        for word, names in suggestions.items():
            if names:
                warn(f"«{word}» не найдено; похожие имена: {', '.join(names)}")
        return
    meta = catalog_meta(archive.catalog) or {}
    click.echo(
        f"Каталог от {_built_at(meta.get('built_at', ''), archive.zone)} "
        f"(хранилище «{meta.get('location', '?')}»). Запрос «{query}»: найдено {len(matches)}"
    )
    for n, match in enumerate(matches, 1):
        birth = (
            ru_date(datetime.fromisoformat(match.birth_date).date())
            if match.birth_date
            else "не указана"
        )
        click.echo("")
        fields = ", ".join(FIELD_TEXT[f] for f in match.matched)
        click.echo(
            f"{n}. {match.full_name}, дата рождения {birth} "
            f"(id {match.student_id}; {match.school_name})"
            + (f" — совпадение: {fields}" if fields else "")
        )
        for line in _entry_lines(match, destroyed):
            click.echo(line)
    for word, names in suggestions.items():
        click.echo("")
        if names:
            click.echo(
                f"«{word}» нет ни в одном имени. Возможно, имелось в виду: {', '.join(names)}"
            )
            click.echo(f"    например: archiver find {names[0]}")
        else:
            click.echo(f"«{word}» нет ни в одном имени, похожих тоже нет.")
    if matches:
        click.echo("")
        click.echo(
            "Выдать документ: archiver get НОМЕР_ЗАПИСИ --out ФАЙЛ --reason «…»; "
            "выписка итоговых отметок: archiver extract --student ID --out ФАЙЛ --reason «…»"
        )
