"""Where each class of a year stands before the 30 June deadline (what ``archiver status`` shows).

Read only, and from the archive first: the two storage locations say which
documents are stored (a class stored in both copies is archived whatever any
working folder says, so a second computer with the same archive and settings sees
the same); the working folder adds what is not in the archive yet (documents
rendered or signed by a run on this computer), its last report and the
verification bookkeeping. The year's classes come from the newer of the working
folder's copy of the export and the export stored in the archive. The advice
(:attr:`YearStatus.next_step`) is what ``archiver year-end`` accepts: with
``--correction`` where the archive holds other data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from archiver.archive.holdings import YearHoldings, data_hashes, read_payload, year_holdings
from archiver.archive.record import MARKER
from archiver.archive.verify import RecordStatus, VerifyHistory
from archiver.errors import UsageError
from archiver.kinds import EXPORT_FOLDER, JOURNAL_EXPORT, inventory_path, year_folder
from archiver.model import JournalExport
from archiver.signing.review import read_request
from archiver.signing.sign import is_signed
from archiver.sources.export_v1 import read_export
from archiver.storage.base import Storage, StorageError
from archiver.wording import program
from archiver.yearend import (
    EXPORT_COPY,
    INVENTORY_TEXT,
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
)

YEAR_END = "{archiver} year-end --source ВЫГРУЗКА{correction}"
NEXT_STEP = {
    NOT_RENDERED: YEAR_END,
    RENDERED: YEAR_END,
    WAITING: "директор: {archiver} sign --review (просмотр и подпись), затем " + YEAR_END,
    SIGNED: YEAR_END,
    STORED_ONE: YEAR_END + ": допишет вторую копию",
    STORED_BOTH: "{archiver} verify (найдёт повреждения; {archiver} verify --repair их исправит)",
}
"""What to run next, by the least advanced state of a class."""
CORRECTION = ' --correction "причина исправления"'

GOOD_CHECKS = (RecordStatus.OK, RecordStatus.REPAIRED)
"""Results of ``archiver verify`` (``verify-state.json``) that leave a record verified."""


@dataclass(frozen=True, slots=True)
class YearStatus:
    """A year's classes, where each stands, and the deadline."""

    export: JournalExport
    classes: list[ClassStanding]
    deadline: date
    today: date
    correction_needed: bool = False
    """The archive holds documents (or an export) made from other data than :attr:`export`."""
    notes: list[str] = field(default_factory=list)
    """Locations that could not be read, and the like."""
    inventory: str = NOT_RENDERED
    """Where the year's inventory of files (опись дел) stands: a class's states."""

    @property
    def inventory_text(self) -> str:
        """Where the inventory stands, in words."""
        return INVENTORY_TEXT[self.inventory]

    @property
    def days_left(self) -> int:
        """Days until the deadline (negative: past it)."""
        return (self.deadline - self.today).days

    @property
    def next_step(self) -> str | None:
        """What to run next; ``None`` when every class and the inventory are verified in both
        copies."""
        pending = {s.state for s in self.classes if s.state != VERIFIED}
        if self.inventory != VERIFIED:
            pending.add(self.inventory)
        if not pending:
            return None
        step = NEXT_STEP[min(pending, key=list(NEXT_STEP).index)]
        return step.format(
            archiver=program(), correction=CORRECTION if self.correction_needed else ""
        )


def verified_classes(report: dict[str, Any], checks: dict[str, dict[str, Any]]) -> set[str]:
    """The classes whose records stand verified, from the run's report and later checks.

    ``report`` is a saved year-end report (``year-end-report.json``), ``checks`` the
    records of ``verify-state.json``. A class whose every record was checked by
    ``archiver verify`` after the run takes that verdict (all ``ok`` or ``repaired``);
    otherwise the run's own verification counts.
    """
    started = _instant(str(report.get("started", "")))
    verified = set()
    for state in report.get("classes", []):
        class_id = str(state.get("class_id"))
        rids = [r["record_id"] for r in report.get("records", []) if r.get("class_id") == class_id]
        entries = [checks.get(rid, {}) for rid in rids]
        times = [_instant(str(entry.get("checked_at", ""))) for entry in entries]
        if rids and started is not None and all(t is not None and t >= started for t in times):
            if all(entry.get("checked_status") in GOOD_CHECKS for entry in entries):
                verified.add(class_id)
        elif state.get("state") == VERIFIED:
            verified.add(class_id)
    return verified


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _inventory_state(
    holdings: YearHoldings,
    report: dict[str, Any] | None,
    checks: dict[str, dict[str, Any]],
    path: Path,
) -> str:
    """Where the year's inventory stands: the archive first, then the run's folder."""
    held = holdings.inventory_record()
    if held is None:
        if not path.is_file():
            return NOT_RENDERED
        if is_signed(path.read_bytes()):
            return SIGNED
        batch = read_request(path.parent)
        waiting = batch is not None and path.resolve() in {Path(d.path) for d in batch.documents}
        return WAITING if waiting else RENDERED
    if not holdings.in_all(held):
        return STORED_ONE
    checked = checks.get(held.record_id)
    if checked is not None:
        return VERIFIED if checked.get("checked_status") in GOOD_CHECKS else STORED_BOTH
    run = report or {}
    by_run = any(r.get("record_id") == held.record_id for r in run.get("records", []))
    return VERIFIED if by_run and run.get("inventory") == VERIFIED else STORED_BOTH


def _verified(
    report: dict[str, Any] | None, checks: dict[str, dict[str, Any]], latest: dict[str, list[str]]
) -> set[str]:
    """Verified classes: the last run's verdict for the records it stored, else ``archiver verify``'s."""
    from_report = verified_classes(report, checks) if report else set()
    stored_by_run: dict[str, set[str]] = {}
    for record in (report or {}).get("records", []):
        stored_by_run.setdefault(str(record.get("class_id")), set()).add(record["record_id"])
    verified = set()
    for class_id, rids in latest.items():
        if not rids:
            continue
        if stored_by_run.get(class_id) == set(rids):
            if class_id in from_report:
                verified.add(class_id)
        elif all(checks.get(rid, {}).get("checked_status") in GOOD_CHECKS for rid in rids):
            verified.add(class_id)
    return verified


_YEAR = re.compile(r"^\s*(\d{4})(?:\s*[/-]\s*(\d{4}))?\s*$")


def wanted_years(text: str) -> list[str]:
    """The year folders ``--year`` may mean: 2025/2026 or 2025-2026 one; 2025 both it may be."""
    match = _YEAR.match(text)
    if match is None or (match.group(2) and int(match.group(2)) != int(match.group(1)) + 1):
        raise UsageError(
            f"--year: не понимаю учебный год «{text}»; укажите, например, 2025/2026 или 2025"
        )
    first = int(match.group(1))
    if match.group(2):
        return [f"{first}-{first + 1}"]
    return [f"{first - 1}-{first}", f"{first}-{first + 1}"]


def archived_years(locations: Sequence[Storage], notes: list[str]) -> dict[str, str]:
    """Year folder → school id, for every year with a stored journal export in some location."""
    found: dict[str, str] = {}
    pattern = re.compile(rf"^([^/]+)/([^/]+)/{EXPORT_FOLDER}/{JOURNAL_EXPORT}/v\d+/{MARKER}$")
    for location in locations:
        try:
            keys = location.list_keys("")
        except StorageError as exc:
            notes.append(str(exc))
            continue
        for key in keys:
            match = pattern.match(key)
            if match:
                found.setdefault(match.group(2), match.group(1))
    return found


def _choose(year: str | None, local: dict[str, Path], archived: dict[str, str]) -> str:
    known = sorted({*local, *archived})
    if year is None:
        if not known:
            raise UsageError(
                "архивирование ещё не запускалось (ни в рабочей папке, ни в хранилищах архива "
                f"нет ни одного года): запустите «{program()} year-end --source ВЫГРУЗКА»"
            )
        return known[-1]
    wanted = [y for y in wanted_years(year) if y in known]
    if not wanted:
        have = ", ".join(k.replace("-", "/") for k in known) or "нет ни одного"
        raise UsageError(
            f"архивирование за {year} ещё не запускалось (есть: {have}): запустите "
            f"«{program()} year-end --source ВЫГРУЗКА»"
        )
    if len(wanted) > 1:
        raise UsageError(
            f"--year {year}: есть два учебных года, "
            + " и ".join(w.replace("-", "/") for w in wanted)
            + "; укажите один из них"
        )
    return wanted[0]


def run_folder(working_dir: Path, year: str | None) -> Path:
    """This computer's year-end run folder of ``year`` (as ``--year`` takes it), else the latest.

    Where the run left the documents waiting for the director (``archiver sign``).
    """
    runs = working_dir / "year-end"
    local = (
        {p.name: p for p in runs.glob("*") if (p / EXPORT_COPY).is_file()} if runs.is_dir() else {}
    )
    wanted = sorted(local) if year is None else [y for y in wanted_years(year) if y in local]
    if not wanted:
        raise UsageError(
            "архивирование "
            + (f"за {year} " if year else "")
            + f"на этом компьютере ещё не запускалось: запустите «{program()} year-end --source "
            "ВЫГРУЗКА»"
        )
    if year is not None and len(wanted) > 1:
        raise UsageError(
            f"--year {year}: есть два учебных года, "
            + " и ".join(w.replace("-", "/") for w in wanted)
            + "; укажите один из них"
        )
    return local[wanted[-1]]


def _read(raw: bytes, name: str) -> JournalExport:
    export = read_export(raw, name=name).export
    assert export is not None  # it passed validation before it was stored or run
    return export


def year_status(
    working_dir: Path,
    locations: Sequence[Storage],
    year: str | None = None,
    today: date | None = None,
) -> YearStatus:
    """Where each class of ``year`` (text as typed: 2025/2026, 2025-2026, 2025) stands.

    The deadline is 30 June of the year's end. :class:`UsageError` when the year was
    never archived nor run here.
    """
    notes: list[str] = []
    runs = working_dir / "year-end"
    local = (
        {p.name: p for p in runs.glob("*") if (p / EXPORT_COPY).is_file()} if runs.is_dir() else {}
    )
    archived = archived_years(locations, notes)
    folder = _choose(year, local, archived)
    work_dir = local.get(folder, runs / folder)
    export: JournalExport | None = None
    raw = b""
    if folder in local:
        raw = (work_dir / EXPORT_COPY).read_bytes()
        export = _read(raw, str(work_dir / EXPORT_COPY))
    school = export.school.id if export is not None else archived[folder]
    holdings: YearHoldings = year_holdings(locations, school, folder, strict=False)
    notes += [f"хранилище «{name}»: {why}" for name, why in holdings.unavailable.items()]
    stored_export = holdings.export_record()
    if stored_export is not None and stored_export.sha256 != hashlib.sha256(raw).hexdigest():
        try:
            stored_raw = read_payload(locations, stored_export)
        except StorageError as exc:
            notes.append(str(exc))
        else:
            stored = _read(stored_raw, stored_export.record_id)
            if export is None or stored.exported_at > export.exported_at:
                export, raw = stored, stored_raw
    if export is None:
        raise UsageError(f"выгрузка за {folder.replace('-', '/')} не читается ни из одной копии")
    export_sha = hashlib.sha256(raw).hexdigest()
    report: dict[str, Any] | None = None
    if (work_dir / REPORT_JSON).is_file():
        report = json.loads((work_dir / REPORT_JSON).read_text(encoding="utf-8"))
    ids = [c.id for c in export.classes]
    latest = {
        class_id: [
            h.record_id
            for kind in data_hashes(export, class_id)
            if (h := holdings.latest(class_id, kind))
        ]
        for class_id in ids
    }
    checks = VerifyHistory.peek(working_dir)
    verified = _verified(report, checks, latest)
    states = class_standings(
        export, documents_root(work_dir), ids, holdings, verified, export_sha, pages=False
    )
    pending = [s for s in states if s.state not in (STORED_BOTH, VERIFIED)]
    export_differs = stored_export is not None and stored_export.sha256 != export_sha
    correction = any(s.outdated for s in pending) or (bool(pending) and export_differs)
    end_year = int(export.academic_year.name.split("/")[-1])
    inventory = _inventory_state(
        holdings, report, checks, inventory_path(documents_root(work_dir), export)
    )
    return YearStatus(
        export, states, date(end_year, 6, 30), today or date.today(), correction, notes, inventory
    )


def standings_after_failure(
    export: JournalExport, documents: Path, class_ids: list[str], locations: list[Storage]
) -> list[ClassStanding] | None:
    """After a failed or interrupted run: where each class stands, or ``None`` when all are complete.

    The locations are looked at if they can be (the storage itself may be what failed).
    """
    holdings: YearHoldings | None
    try:
        holdings = year_holdings(locations, export.school.id, year_folder(export))
    except Exception:  # the storage itself may be what failed
        holdings = None
    states = class_standings(export, documents, class_ids, holdings)
    unfinished = [s for s in states if s.state not in (VERIFIED, STORED_BOTH)]
    return states if unfinished else None
