"""One verification run: list the locations, inspect the records in threads, repair, report."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.archive.verify.history import VerifyHistory
from archiver.archive.verify.inspect import Inspection, RecordInspector
from archiver.archive.verify.listing import Listing, find_untracked
from archiver.archive.verify.repair import RepairLog, repair_record
from archiver.archive.verify.report import (
    ArchiveVerifyReport,
    CopyStatus,
    Level,
    LocationReport,
    RecordReport,
    RecordStatus,
    VerifyError,
    now_text,
)
from archiver.archive.verify.sampling import check_fraction, choose_sample
from archiver.archive.verify.signatures import SignatureChecker
from archiver.errors import ArchiverError, UsageError
from archiver.files import write_atomic
from archiver.parallel import cores
from archiver.progress import ProgressCallback, StageProgress
from archiver.settings import CommandSigner, Settings
from archiver.storage.base import Storage, StorageError, require_two_locations
from archiver.storage.identity import require_distinct_locations

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

__all__ = ["LAST_REPORT", "last_report", "verify_archive", "verify_configured"]

LAST_REPORT = "verify-last.json"
"""In the working folder: the report of the last run of :func:`verify_configured` (shown by the web service)."""

_SAVE_EVERY = 30.0
"""Seconds between saves of the history during a long run."""
_TRUSTED = (
    RecordStatus.OK,
    RecordStatus.UNPROTECTED,
    RecordStatus.REPAIRED,
    RecordStatus.SIGNATURE_INVALID,
)
"""Verdicts after which the manifest compared with is remembered as the right one."""


def _check_arguments(
    locations: Sequence[Storage],
    deep: bool,
    repair: bool,
    sample: float | None,
    trust_roots: Sequence[asn1_x509.Certificate] | None,
    external: CommandSigner | None = None,
) -> None:
    require_two_locations(locations)
    if (deep or repair) and not trust_roots and external is None:
        raise UsageError(
            "не заданы доверенные корневые сертификаты ([signature] trust_roots): "
            + ("полная проверка (--deep) проверяет подписи документов" if deep else "")
            + (" и " if deep and repair else "")
            + ("восстановление (--repair) проверяет подпись копии-донора" if repair else "")
            + ", без них это невозможно"
        )
    if sample is not None:
        check_fraction(sample)


def _list_locations(
    locations: Sequence[Storage], report: ArchiveVerifyReport, stage: StageProgress
) -> dict[str, Listing]:
    """Every usable location's listing; an unusable one is reported (all of them: an error)."""
    listings: dict[str, Listing] = {}
    for location, state in zip(locations, report.locations, strict=True):
        try:
            location.check()
            keys = location.list_keys("")
        except StorageError as exc:
            state.error = str(exc)
            stage.emit("location", location=location.name, status=CopyStatus.UNAVAILABLE)
            continue
        listings[location.name] = Listing.of(keys)
        stage.emit("location", len(keys), len(keys), location=location.name)
    if not listings:
        raise VerifyError(
            "ни одно хранилище архива недоступно:\n"
            + "\n".join(f"  - {s.error}" for s in report.locations)
        )
    return listings


def verify_archive(
    locations: Sequence[Storage],
    state_folder: Path,
    *,
    deep: bool = False,
    repair: bool = False,
    sample: float | None = None,
    record_ids: Collection[str] | None = None,
    trust_roots: Sequence[asn1_x509.Certificate] | None = None,
    external: CommandSigner | None = None,
    threads: int = 8,
    workers: int = 1,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> ArchiveVerifyReport:
    """Verify every record (or a ``sample`` fraction) in every location; optionally repair.

    ``record_ids`` limits the run to those records (the ones a year-end run has just
    stored); objects of no record and vanished records are then not looked for.
    ``deep`` and ``repair`` need ``trust_roots`` (documents' signatures are validated);
    :class:`UsageError` without them (or an ``external`` signer: ГОСТ signatures are
    checked by archiver and its ``verify_command``). ``threads`` read and hash records in parallel,
    ``workers`` processes validate signatures. The state folder keeps
    ``verify-state.json`` and ``verify-repairs.log``. Raises :class:`VerifyError` when
    no location can be read; a single unavailable location is reported instead.
    Progress: stage ``verify``, a ``location`` notice per location, then a step per record.
    """
    _check_arguments(locations, deep, repair, sample, trust_roots, external)
    started = time.monotonic()
    level = Level.DEEP if deep else Level.CHEAP
    report = ArchiveVerifyReport(
        level=level,
        repair=repair,
        sample=sample,
        started_at=now_text(now),
        locations=[LocationReport(loc.name, loc.where) for loc in locations],
    )
    stage = StageProgress(progress, "verify")
    state_folder.mkdir(parents=True, exist_ok=True)
    history = VerifyHistory.load(state_folder, report.notes)
    checker = SignatureChecker(trust_roots or [], workers, external) if (deep or repair) else None
    try:
        listings = _list_locations(locations, report, stage)
        available = [loc for loc in locations if loc.name in listings]
        require_distinct_locations(available, write_markers=repair)
        inspector = RecordInspector(
            locations, available, listings, deep=deep, history=history, checker=checker
        )
        known: set[str] = set()
        for listing in listings.values():
            known |= listing.complete
        all_available = len(available) == len(locations)
        report.records_total = len(known)
        chosen = sorted(known if record_ids is None else known & set(record_ids))
        if sample is not None:
            chosen = choose_sample(chosen, history, level, sample)
        inspected = _inspect_all(
            chosen,
            inspector,
            threads=threads,
            history=history,
            record_history=all_available,
            repair=RepairLog(state_folder) if repair else None,
            report=report,
            stage=stage,
        )
        report.records = [inspected[rid].report for rid in chosen]
        if record_ids is not None:
            report.records += _absent(sorted(set(record_ids) - known))
        elif all_available:
            report.records += _vanished(history, known, now or datetime.now(UTC), report.notes)
        if record_ids is None:
            bags = {rid: i.allowed for rid, i in inspected.items() if i.allowed is not None}
            for location in available:
                report.untracked += find_untracked(location, listings[location.name], known, bags)
        history.save()
    finally:
        if checker is not None:
            checker.close()
    report.finished_at = now_text()
    report.seconds = time.monotonic() - started
    return report


def _inspect_all(
    chosen: list[str],
    inspector: RecordInspector,
    *,
    threads: int,
    history: VerifyHistory,
    record_history: bool,
    repair: RepairLog | None,
    report: ArchiveVerifyReport,
    stage: StageProgress,
) -> dict[str, Inspection]:
    """Inspect (and repair) the chosen records in threads, noting each in the history."""
    inspected: dict[str, Inspection] = {}
    last_save = time.monotonic()
    stage.start(len(chosen))
    pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="verify")
    try:
        for inspection in pool.map(inspector.inspect, chosen):
            record = inspection.report
            inspected[record.record_id] = inspection
            report.bytes_read += inspection.bytes_read
            if repair is not None:
                repair_record(inspection, inspector.locations, inspector.checker, repair)
                if record.repairs:
                    stage.emit(
                        "repaired",
                        len(inspected),
                        len(chosen),
                        item=record.record_id,
                        status=record.status,
                    )
            if record_history:
                trusted = inspection.trusted if record.status in _TRUSTED else None
                history.update(record.record_id, report.level, record.status, now_text(), trusted)
                if inspection.proven and trusted is not None:  # proof outranks the state file
                    entry = history.records[record.record_id]
                    entry["manifest_sha256"] = hashlib.sha256(trusted[1]).hexdigest()
            stage.step(record.record_id, status=record.status)
            if time.monotonic() - last_save > _SAVE_EVERY:
                history.save()
                last_save = time.monotonic()
    except BaseException:
        with suppress(ArchiverError):
            history.save()  # keep what was verified before the error or Ctrl-C
        raise
    finally:  # records not yet started are not checked any more
        pool.shutdown(wait=True, cancel_futures=True)
    stage.finish()
    return inspected


def _vanished(
    history: VerifyHistory, known: set[str], now: datetime, notes: list[str]
) -> list[RecordReport]:
    """Records verified before that no location holds any more."""
    lost: list[RecordReport] = []
    for rid in sorted(set(history.records) - known):
        entry = history.records[rid]
        until = entry.get("retain_until")
        try:
            expired = until is not None and datetime.fromisoformat(str(until)) <= now
        except ValueError:
            expired = False
        if expired:
            notes.append(
                f"запись {rid} больше не хранится: срок хранения истёк {str(until)[:10]} "
                "(уничтожена по акту?); она убрана из состояния проверок"
            )
            del history.records[rid]
            continue
        lost.append(
            RecordReport(
                rid,
                RecordStatus.LOST,
                notes=[
                    f"запись проверялась {str(entry.get('checked_at', ''))[:10]}, а теперь её нет "
                    "ни в одном хранилище, хотя срок хранения не истёк"
                ],
            )
        )
    return lost


def _absent(record_ids: list[str]) -> list[RecordReport]:
    """Records asked for that are complete in no location."""
    return [
        RecordReport(rid, RecordStatus.LOST, notes=["записи нет ни в одном хранилище"])
        for rid in record_ids
    ]


def verify_configured(
    settings: Settings,
    *,
    deep: bool = False,
    repair: bool = False,
    sample: float | None = None,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> ArchiveVerifyReport:
    """:func:`verify_archive` of the configured archive (``archiver verify``, the web «Год» page).

    The trust roots (``[signature] trust_roots``) and the external signer's check are
    taken from the settings for ``deep`` and ``repair``; signatures are validated in
    as many processes as there are cores.
    """
    from archiver.storage.open import open_locations

    storage = settings.require_storage()
    roots = []
    if deep or repair:
        from archiver.signing.sign import load_trust_roots

        signature = settings.signature
        roots = load_trust_roots(signature.trust_roots) if signature.trust_roots else []
    report = verify_archive(
        open_locations(storage),
        settings.working_dir(),
        deep=deep,
        repair=repair,
        sample=sample,
        trust_roots=roots,
        external=(settings.signer if isinstance(settings.signer, CommandSigner) else None),
        workers=cores() if (deep or repair) else 1,
        progress=progress,
    )
    text = json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n"
    write_atomic(settings.working_dir() / LAST_REPORT, text.encode("utf-8"))
    return report


def last_report(working_dir: Path) -> dict[str, Any] | None:
    """The last report :func:`verify_configured` saved (JSON), ``None`` when there is none."""
    try:
        found = json.loads((working_dir / LAST_REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None
