"""The year-end run's own verification: its records in both copies and its documents' signatures.

After storing, the run checks what it stored with ``archiver verify``'s check
(:func:`archiver.archive.verify.verify_archive`, noted in ``verify-state.json``)
and validates every document's signature offline, as ``check-signature`` does
(a ГОСТ signature, which pyHanko cannot validate, with archiver's own checks and the
external signer's ``verify_command``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from archiver.archive.store import RecordResult
from archiver.archive.verify.report import CopyStatus, RecordReport, RecordStatus
from archiver.archive.verify.run import verify_archive
from archiver.errors import InputError
from archiver.parallel import fork_map
from archiver.progress import DONE, START, ProgressCallback, ProgressEvent, StageProgress
from archiver.settings import LEVELS, CommandSigner, SignatureSettings
from archiver.signing.check import DocumentReport, check_document
from archiver.signing.sign import load_trust_roots
from archiver.storage.base import Storage

__all__ = ["RunVerification", "owners_of", "unproven", "verify_run"]


@dataclass(slots=True)
class RunVerification:
    """What the run's verification found."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bad_classes: set[str] = field(default_factory=set)
    """Classes with a record or a document not in order."""
    levels: dict[Path, str | None] = field(default_factory=dict)
    """Each document's signature level."""
    verdicts: dict[Path, tuple[bool, str]] = field(default_factory=dict)
    """Each document's signature check: valid or not, and the verdict in words."""
    level: str | None = None
    """The lowest level reached by any document."""
    good_records: set[str] = field(default_factory=set)
    """Records found intact in every location (each copy ``ok``)."""


def verify_run(
    records: Sequence[tuple[str, str | None]],
    owners: Mapping[Path, str],
    signature: SignatureSettings,
    locations: Sequence[Storage],
    working_dir: Path,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> RunVerification:
    """Verify the run's ``records`` (record id, class id) and the signatures of ``owners``' documents.

    ``owners`` maps each document to its class. The stage ``verify`` steps per record
    and ends after the signatures.
    """
    stage = StageProgress(progress, "verify")
    found = RunVerification()
    documents = list(owners)
    stage.start(len(records))

    def record_checked(event: ProgressEvent) -> None:  # the stage ends after the signatures
        if progress is not None and event.event not in (START, DONE):
            progress(event)

    checked = verify_archive(
        locations,
        working_dir,
        record_ids=[rid for rid, _ in records],
        progress=record_checked,
    )
    found.warnings += checked.notes
    class_of = {rid: class_id or "" for rid, class_id in records}
    bad_classes = found.bad_classes
    for location in checked.locations:
        if location.error is not None:
            found.problems.append(f"{location.name}: {location.error}")
    found.good_records = {
        r.record_id
        for r in checked.records
        if r.status == RecordStatus.OK
        and len(r.copies) == len(locations)
        and all(c.status == CopyStatus.OK for c in r.copies)
    }
    for record in checked.records:
        if record.status == RecordStatus.OK:
            continue
        bad_classes.add(class_of.get(record.record_id, ""))
        found.problems += record_problems(record)
    roots = load_trust_roots(signature.trust_roots) if signature.trust_roots else []
    levels, verdicts = found.levels, found.verdicts
    command = signature.signer if isinstance(signature.signer, CommandSigner) else None
    if not roots and command is None:
        found.problems.append(
            "не заданы доверенные корневые сертификаты ([signature] trust_roots): "
            "подписи не проверены"
        )
    else:

        def check(path: Path) -> DocumentReport:
            from archiver.signing.external import external_report, is_gost

            if is_gost(path.read_bytes()):  # pyHanko knows no ГОСТ: archiver's checks + the tool's
                return external_report(path, command)
            return check_document(path, roots, deep=False)

        checks = fork_map(check, documents, workers=workers)
        for path, result in zip(documents, checks, strict=True):
            levels[path] = result.signatures[0].level if result.signatures else None
            verdicts[path] = (result.ok, result.message)
            if not result.ok:
                found.problems.append(f"{path.name}: {result.message}")
                bad_classes.add(owners[path])
    found.level = min(levels.values(), key=lambda lv: LEVELS.index(lv or "B-B")) if levels else None
    stage.finish()
    return found


def record_problems(record: RecordReport) -> list[str]:
    """The administrator's lines for one record that is not in order."""
    rid = record.record_id
    lines = []
    for copy in record.copies:
        if copy.status in (CopyStatus.OK, CopyStatus.UNAVAILABLE):
            continue
        if copy.status in (CopyStatus.CHANGED, CopyStatus.MISSING):
            lines.append(f"{copy.location}: копия {rid} не совпадает с описанием записи")
        else:
            lines += [f"{copy.location}: {rid}: {p.path}: {p.message}" for p in copy.problems]
    lines += [f"{rid}: {note}" for note in record.notes]
    return lines or [f"{rid}: {record.status}"]


def owners_of(paths: Mapping[str, Sequence[Path]]) -> dict[Path, str]:
    """Each document's class (``paths``: class → its documents); a shared file is refused."""
    owners: dict[Path, str] = {}
    for class_id, documents in paths.items():
        for path in documents:
            other = owners.setdefault(path, class_id)
            if other != class_id:
                raise InputError(
                    f"документы классов «{other}» и «{class_id}» попали бы в один файл {path}; "
                    "архивирование не начато"
                )
    return owners


def unproven(
    documents: Mapping[Path, tuple[str, str]],
    records: Sequence[RecordResult],
    good_records: set[str],
) -> dict[Path, str]:
    """The documents (path → class and kind) not stored and verified in every location, and why.

    A document is proven when a record of the run, for its class and kind, holds exactly
    its bytes (SHA-256) and that record was found intact in every location.
    """
    stored = {(r.class_id, r.kind): r for r in records}
    found: dict[Path, str] = {}
    for path, slot in documents.items():
        record = stored.get(slot)
        try:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            sha = None
        if record is None or record.sha256 != sha:
            found[path] = "не сохранён в архив (в архиве нет записи с этим документом)"
        elif record.record_id not in good_records:
            found[path] = f"не подтверждён в обеих копиях ({record.record_id})"
    return found
