"""``archiver region``: many schools' year-end on a distributed engine (Dask), and their status.

Subcommands ``validate``, ``year-end``, ``status``, ``verify``; each reads the region
file (``--region``, default ``./region.toml``) and may be limited to some schools
(``--school ID``, repeatable). Progress goes to stderr: on a terminal a bar per stage
for the whole region and a line per school, redrawn in place; elsewhere a line when a
school finishes a stage; with ``--json`` a JSON line per finished job.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from archiver.cli.i18n import RuCommand, RuGroup
from archiver.cli.output import echo_json
from archiver.errors import ExitCode
from archiver.region.model import Region, SchoolEntry, load_region
from archiver.region.run import STAGE_TEXT, STAGES, RegionEvent, RegionReport

BAR = 24
SHORT = {
    "validate": "выгрузка",
    "prepare": "план",
    "render": "вёрстка",
    "sign": "подпись",
    "store": "архив",
    "verify": "проверка",
}
"""A stage in a school's line."""
MAX_SCHOOL_LINES = 20
"""Schools drawn one line each on a terminal; the rest are summed up in one line."""


def _region_option(f: Any) -> Any:
    return click.option(
        "--region",
        "region_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("region.toml"),
        show_default=True,
        metavar="ФАЙЛ",
        help="Файл региона: школы и адрес движка.",
    )(f)


def _school_option(f: Any) -> Any:
    return click.option(
        "--school",
        "school_ids",
        multiple=True,
        metavar="КОД",
        help="Только эта школа (можно несколько раз).",
    )(f)


def _json_option(f: Any) -> Any:
    return click.option(
        "--json", "as_json", is_flag=True, help="Ход работы — строками JSON, итог — JSON."
    )(f)


@click.group("region", cls=RuGroup)
def region() -> None:
    """Школы региона: проверка выгрузок, архивирование года на кластере, состояние, проверка архива."""


class RegionDisplay:
    """Region progress on stderr: bars redrawn on a terminal, lines elsewhere, or JSON lines."""

    def __init__(self, as_json: bool, entries: list[SchoolEntry], stages: tuple[str, ...]) -> None:
        self.as_json = as_json
        self.stages = stages
        self.ids = [e.id for e in entries]
        self.live = not as_json and sys.stderr.isatty()
        self.drawn = 0
        self.overall: dict[str, tuple[int, int]] = {}
        self.schools: dict[str, dict[str, tuple[int, int]]] = {i: {} for i in self.ids}
        self.notes: dict[str, str] = {}

    def say(self, text: str) -> None:
        if not self.as_json:
            click.echo(text, err=True)

    def __call__(self, event: RegionEvent) -> None:
        if self.as_json:
            print(json.dumps(event.to_json(), ensure_ascii=False), file=sys.stderr, flush=True)
            return
        self.overall[event.stage] = (event.done, event.total)
        self.schools.setdefault(event.school, {})[event.stage] = (
            event.school_done,
            event.school_total,
        )
        if event.status in ("failed", "refused", "waiting_for_signature") and event.message:
            self.notes[event.school] = event.message
        if self.live:
            self._draw()
        elif event.school_done >= event.school_total or event.status != "done":
            mark = {"skipped": " (уже было сделано)", "failed": " — ОШИБКА"}.get(event.status, "")
            line = f"{event.school}: {STAGE_TEXT[event.stage]} {event.school_done}/{event.school_total}{mark}"
            click.echo(line + (f": {event.message}" if event.message else ""), err=True)

    @staticmethod
    def _bar(done: int, total: int) -> str:
        filled = BAR * done // total if total else 0
        return "[" + "#" * filled + "." * (BAR - filled) + f"] {done}/{total}"

    def _draw(self) -> None:
        lines = []
        for stage in self.stages:
            done, total = self.overall.get(stage, (0, 0))
            lines.append(f"{STAGE_TEXT[stage]:<22} {self._bar(done, total)}")
        for school in self.ids[:MAX_SCHOOL_LINES]:
            parts = [
                f"{SHORT[s]} {d}/{t}"
                for s in self.stages
                if (dt := self.schools.get(school, {}).get(s)) is not None
                for d, t in [dt]
            ]
            note = " — " + self.notes[school][:60] if school in self.notes else ""
            lines.append(f"  {school}: " + ", ".join(parts) + note)
        if len(self.ids) > MAX_SCHOOL_LINES:
            lines.append(f"  … и ещё школ: {len(self.ids) - MAX_SCHOOL_LINES}")
        width = shutil.get_terminal_size().columns
        out = ("\x1b[F" * self.drawn) + "".join(f"\x1b[2K{line[: width - 1]}\n" for line in lines)
        sys.stderr.write(out)
        sys.stderr.flush()
        self.drawn = len(lines)


def _engine_run(region_file: Path, school_ids: tuple[str, ...], as_json: bool, action: str) -> None:
    from archiver.region.engine import open_engine
    from archiver.region.run import run_region

    found = load_region(region_file)
    entries = found.select(school_ids)
    stages = (
        ("verify",) if action == "verify" else STAGES if action == "year-end" else ("validate",)
    )
    display = RegionDisplay(as_json, entries, stages)
    resources = {e.resource: 1.0 for e in entries if e.signer_host}
    with open_engine(found.engine, resources) as engine:
        where = "локальный кластер" if engine.local else "планировщик"
        display.say(
            f"{found.name}: школ {len(entries)}; {where} {engine.address}, "
            f"исполнителей {engine.workers()}"
        )
        if engine.dashboard:
            display.say(f"Панель движка: {engine.dashboard}")
        report = run_region(found, entries, engine, action=action, progress=display)
    _finish(report, as_json)


def _finish(report: RegionReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.to_json())
    else:
        click.echo(report.to_text(), nl=False)
    if not report.ok:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
    if report.waiting:
        raise SystemExit(ExitCode.WAITING_FOR_SIGNATURE)


@region.command("validate", cls=RuCommand)
@_region_option
@_school_option
@_json_option
def validate(region_file: Path, school_ids: tuple[str, ...], as_json: bool) -> None:
    """Проверить выгрузки школ региона (на движке)."""
    _engine_run(region_file, school_ids, as_json, "validate")


@region.command("year-end", cls=RuCommand)
@_region_option
@_school_option
@_json_option
def year_end(region_file: Path, school_ids: tuple[str, ...], as_json: bool) -> None:
    """Архивировать учебный год всех школ региона на движке: проверка → вёрстка → подпись → две копии → проверка.

    Сделанное не повторяется: повторный запуск продолжает с места остановки. Одну
    школу и год одновременно архивирует только один запуск (на любом компьютере).
    """
    _engine_run(region_file, school_ids, as_json, "year-end")


@region.command("verify", cls=RuCommand)
@_region_option
@_school_option
@_json_option
def verify(region_file: Path, school_ids: tuple[str, ...], as_json: bool) -> None:
    """Проверить архивы школ региона: каждая запись в обеих копиях (на движке)."""
    _engine_run(region_file, school_ids, as_json, "verify")


@region.command("status", cls=RuCommand)
@_region_option
@_school_option
@click.option(
    "--year", metavar="ГОД", help="Учебный год, например 2025/2026 (по умолчанию последний)."
)
@_json_option
def status(region_file: Path, school_ids: tuple[str, ...], year: str | None, as_json: bool) -> None:
    """Показать по каждой школе: сколько классов в каком состоянии и сколько дней до 30 июня."""
    from archiver.region.status import region_status

    found: Region = load_region(region_file)
    states = region_status(found.select(school_ids), year, date.today())
    if as_json:
        echo_json({"region": found.name, "schools": [s.to_json() for s in states]})
        return
    click.echo(f"{found.name}: школ {len(states)}")
    for state in states:
        click.echo(f"  {state.to_text()}")
    done = sum(1 for s in states if s.complete)
    click.echo(f"Полностью в архиве: {done} из {len(states)} школ.")
