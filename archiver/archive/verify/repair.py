"""Repairs: a damaged or missing copy restored from a good one, each file in the repair log.

A copy is restored only from another copy that matches the trusted manifest, whose
document's signature validates and whose identity fits the record, and only over a
copy that does not contradict it (:mod:`archiver.archive.verify.proof`: the local
state file is never proof); a record with no provably good copy is never touched. Every restored file is appended to ``verify-repairs.log`` (JSON
lines) in the local state folder before the next one is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from archiver.archive.verify.inspect import Inspection, weaker_lock
from archiver.archive.verify.proof import contradiction, identity_problem
from archiver.archive.verify.report import (
    BAD_COPIES,
    GOOD_COPIES,
    CopyReport,
    CopyStatus,
    FileProblem,
    Problem,
    RecordStatus,
    Repair,
    now_text,
)
from archiver.archive.verify.signatures import SignatureChecker, signature_problem
from archiver.files import OutputError, os_reason
from archiver.storage.base import Lock, Storage, StorageError

__all__ = ["REPAIR_LOG", "RepairLog", "repair_record"]

REPAIR_LOG = "verify-repairs.log"


class RepairLog:
    """``verify-repairs.log``: one JSON line per restored file, synced before going on."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / REPAIR_LOG
        self._lock = threading.Lock()

    def append(self, repair: Repair) -> None:
        line = json.dumps(repair.to_json(), ensure_ascii=False) + "\n"
        with self._lock:
            try:
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise OutputError(
                    f"не удалось дописать журнал восстановлений {self.path}: {os_reason(exc)}"
                ) from exc


def repair_record(
    inspection: Inspection,
    locations: list[Storage],
    checker: SignatureChecker | None,
    log: RepairLog,
) -> None:
    """Restore the bad copies of a damaged record from a good one; the report says how it went."""
    report = inspection.report
    if report.status != RecordStatus.DAMAGED or inspection.trusted is None:
        return
    manifest, _ = inspection.trusted
    by_name = {loc.name: loc for loc in locations}
    good = [c for c in report.copies if c.status in GOOD_COPIES]
    bad = [c for c in report.copies if c.status in BAD_COPIES]
    donor = by_name[good[0].location]
    payload_key = f"{report.record_id}/{manifest.payload_path}"
    try:
        payload = donor.read(payload_key).data
    except StorageError as exc:
        report.status = RecordStatus.REPAIR_FAILED
        report.notes.append(f"восстановление не выполнено: {exc}")
        return
    if hashlib.sha256(payload).hexdigest() != manifest.sha256:
        report.status = RecordStatus.REPAIR_FAILED
        report.notes.append(
            f"восстановление не выполнено: копия {donor.url(payload_key)} изменилась во "
            "время проверки"
        )
        return
    if manifest.signer_cert_sha256 is not None:
        verdict = inspection.verdicts.get(manifest.sha256)
        if verdict is None:
            assert checker is not None
            verdict = checker.check(payload)
            inspection.verdicts[manifest.sha256] = verdict
        problem = signature_problem(manifest, verdict)
        if problem is not None:
            report.status = RecordStatus.REPAIR_REFUSED
            report.signature = "invalid"
            report.notes.append(
                f"восстановление не выполнено: копия в хранилище «{donor.name}» совпадает с "
                f"описанием записи, но {problem}"
            )
            return
        report.signature = "ok"
    refusal = identity_problem(report.record_id, manifest, payload)
    if refusal is not None:
        refusal = f"копия в хранилище «{donor.name}» не относится к этой записи: {refusal}"
    else:
        for copy in bad:
            refusal = contradiction(
                inspection, copy, by_name[copy.location], checker, log.path.parent
            )
            if refusal is not None:
                break
    if refusal is not None:  # nothing is written
        report.status = RecordStatus.REPAIR_REFUSED
        report.notes.append(f"нет исправной копии: {refusal}; ничего не записано")
        return
    failed = False
    for copy in bad:
        target = by_name[copy.location]
        try:
            _restore_copy(inspection, copy, target, donor, payload, log)
        except StorageError as exc:
            failed = True
            report.notes.append(f"восстановление в хранилище «{target.name}» не удалось: {exc}")
    report.status = RecordStatus.REPAIR_FAILED if failed else RecordStatus.REPAIRED


def _restore_copy(
    inspection: Inspection,
    copy: CopyReport,
    target: Storage,
    donor: Storage,
    payload: bytes,
    log: RepairLog,
) -> None:
    """Restore the broken files of one copy from ``donor``, then read the whole copy back."""
    assert inspection.trusted is not None
    manifest, _ = inspection.trusted
    report = inspection.report
    rid = report.record_id
    lock = Lock(manifest.retain_until_instant, manifest.lock_mode)
    broken = {p.path: p for p in copy.problems if p.problem in (Problem.MISSING, Problem.CHANGED)}
    if copy.status == CopyStatus.MISSING:
        broken = {
            e.path: FileProblem(e.path, Problem.MISSING, "файла нет", e.sha256)
            for e in inspection.expected
        }
    for e in inspection.expected:
        if e.path not in broken:
            continue
        key = f"{rid}/{e.path}"
        data = payload if e.path == manifest.payload_path else donor.read(key).data
        if hashlib.sha256(data).hexdigest() != e.sha256:
            raise StorageError(
                f"копия {donor.url(key)} изменилась во время проверки; восстановление остановлено"
            )
        result = target.restore(key, data, lock, e.sha256)
        repair = Repair(
            at=now_text(),
            record_id=rid,
            location=target.name,
            path=e.path,
            url=target.url(key),
            problem=broken[e.path].problem,
            previous_sha256=broken[e.path].actual_sha256,
            sha256=e.sha256,
            source=donor.name,
            source_url=donor.url(key),
            version_id=result.info.version_id,
            created=result.created,
        )
        log.append(repair)
        report.repairs.append(repair)
    target.seal(rid)
    for e in inspection.expected:  # read the whole copy back
        key = f"{rid}/{e.path}"
        stored = target.read(key)
        if hashlib.sha256(stored.data).hexdigest() != e.sha256:
            raise StorageError(
                f"после восстановления {target.url(key)} всё ещё не совпадает с описанием записи"
            )
        if target.enforces_retention and e.path in broken and weaker_lock(stored.info, lock):
            raise StorageError(
                f"восстановленный объект {target.url(key)} не защищён блокировкой "
                f"до {lock.retain_until.isoformat()}"
            )
