"""Where each class of a year stands before the 30 June deadline (what ``archiver status`` shows).

Read only: the year-end run's folder in the working folder, its copy of the
export, its last report, the verification bookkeeping (without touching it), and
a listing of both storage locations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from archiver.archive.verify import VerifyHistory
from archiver.errors import UsageError
from archiver.model import JournalExport
from archiver.sources.export_v1 import read_export
from archiver.storage.base import Storage
from archiver.yearend import (
    EXPORT_COPY,
    NOT_RENDERED,
    RENDERED,
    REPORT_JSON,
    SIGNED,
    STORED_BOTH,
    STORED_ONE,
    VERIFIED,
    WAITING,
    ClassStanding,
    class_standings,
    documents_root,
    verified_classes,
)

NEXT_STEP = {
    NOT_RENDERED: "archiver year-end --source ВЫГРУЗКА (или archiver render)",
    RENDERED: "archiver year-end --source ВЫГРУЗКА (или archiver sign)",
    WAITING: "директор: archiver sign --review (просмотр и подпись), затем archiver year-end --source ВЫГРУЗКА",
    SIGNED: "archiver year-end --source ВЫГРУЗКА (или archiver store)",
    STORED_ONE: "archiver year-end --source ВЫГРУЗКА: допишет вторую копию",
    STORED_BOTH: "archiver verify (найдёт повреждения; archiver verify --repair их исправит)",
}
"""What to run next, by the least advanced state of a class."""


@dataclass(frozen=True, slots=True)
class YearStatus:
    """A year's classes, where each stands, and the deadline."""

    export: JournalExport
    classes: list[ClassStanding]
    deadline: date
    today: date

    @property
    def days_left(self) -> int:
        """Days until the deadline (negative: past it)."""
        return (self.deadline - self.today).days

    @property
    def next_step(self) -> str | None:
        """What to run next; ``None`` when every class is verified in both copies."""
        pending = {s.state for s in self.classes if s.state != VERIFIED}
        if not pending:
            return None
        return NEXT_STEP[min(pending, key=list(NEXT_STEP).index)]


def run_folder(working_dir: Path, year: str | None) -> Path:
    """The year-end run's folder of ``year`` (e.g. 2025/2026), else of the latest year run."""
    runs = working_dir / "year-end"
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
    return folders[-1]


def year_status(
    working_dir: Path, work_dir: Path, locations: list[Storage], today: date | None = None
) -> YearStatus:
    """Where each class of the run in ``work_dir`` stands (the deadline: 30 June of the year's end)."""
    report = read_export((work_dir / EXPORT_COPY).read_bytes(), name=str(work_dir / EXPORT_COPY))
    export = report.export
    assert export is not None  # it passed validation when the run started
    verified: set[str] = set()
    last = work_dir / REPORT_JSON
    if last.is_file():
        data = json.loads(last.read_text(encoding="utf-8"))
        verified = verified_classes(data, VerifyHistory.peek(working_dir))
    states = class_standings(
        export, documents_root(work_dir), [c.id for c in export.classes], locations, verified
    )
    end_year = int(export.academic_year.name.split("/")[-1])
    return YearStatus(export, states, date(end_year, 6, 30), today or date.today())


def standings_after_failure(
    export: JournalExport, documents: Path, class_ids: list[str], locations: list[Storage]
) -> list[ClassStanding] | None:
    """After a failed run: where each class stands, or ``None`` when every class is complete.

    The locations are looked at if they can be (the storage itself may be what failed).
    """
    try:
        states = class_standings(export, documents, class_ids, locations)
    except Exception:  # the storage itself may be what failed
        states = class_standings(export, documents, class_ids, None)
    unfinished = [s for s in states if s.state not in (VERIFIED, STORED_BOTH)]
    return states if unfinished else None
