"""What the store operation is asked to store: the documents found, each checked first.

A document is accepted only when it is a rendered archiver document of this export:
its own identity (Keywords and embedded data, :mod:`archiver.archive.embedded`)
names the export's school, academic year and one of its classes (the year's
inventory: the school and year, no class);
it is signed; and, when it lies in a year-end run's folder, that run was made from
this very export (``run.json``). Every problem of every document is reported at once,
before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archiver.archive.embedded import embedded_facts, identity_problems
from archiver.archive.record import detached_signature, identify_document
from archiver.errors import InputError
from archiver.files import os_reason
from archiver.kinds import (
    CLASS_JOURNAL,
    DOCUMENT_KINDS,
    FINAL_MARKS,
    INVENTORY,
    JOURNAL_EXPORT,
    document_file_name,
    keeps_statement,
    safe_name,
)
from archiver.model import JournalExport, SchoolClass
from archiver.signing.signer_of import SignerInfo, signer_of

__all__ = ["DOCUMENT_PATTERNS", "Candidate", "find_documents", "prepare_documents"]

DOCUMENT_PATTERNS = ("*-class-journal.pdf", "*-final-marks.pdf", "*-inventory.pdf")
RUN_FILE = "run.json"
"""A year-end run's record of the export its documents were made from (``archiver.yearend``)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A document (or the export) to be stored."""

    kind: str
    class_id: str | None
    class_name: str | None
    source: str
    file_name: str
    payload: bytes
    sha256: str
    signer: SignerInfo | None
    detached: bytes | None = None
    """The detached signature beside the document (``X.pdf.sig``), stored in the same record."""

    def describe(self) -> str:
        if self.kind == JOURNAL_EXPORT:
            return f"выгрузка журнала {self.source}"
        if self.kind == INVENTORY:
            return f"опись дел ({self.source})"
        what = "журнал" if self.kind == CLASS_JOURNAL else "сводная ведомость"
        return f"{what} {self.class_name} ({self.source})"


def find_documents(paths: Sequence[Path]) -> list[Path]:
    """The documents to store: files as given, folders searched for rendered documents.

    A folder is searched recursively for ``*-class-journal.pdf``, ``*-final-marks.pdf``
    and ``*-inventory.pdf`` (as ``archiver render`` and ``year-end`` name them).
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted({p for pattern in DOCUMENT_PATTERNS for p in path.rglob(pattern)})
            if not inside:
                raise InputError(
                    f"в папке {path} нет документов "
                    "(*-class-journal.pdf, *-final-marks.pdf, *-inventory.pdf)"
                )
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: нет такого файла или папки")
    return list(dict.fromkeys(found))


def _run_problems(path: Path, export_sha256: str) -> list[str]:
    """A document in a year-end run's folder must come from the same export as the source."""
    run_file = path.parent.parent / RUN_FILE
    try:
        run = json.loads(run_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    made_from = run.get("export_sha256") if isinstance(run, dict) else None
    if isinstance(made_from, str) and made_from != export_sha256:
        return [
            f"он свёрстан по выгрузке sha256 {made_from[:16]}… ({run_file}), "
            f"а указана выгрузка sha256 {export_sha256[:16]}…"
        ]
    return []


def prepare_documents(
    export: JournalExport, documents: Sequence[Path], export_sha256: str
) -> list[Candidate]:
    """The documents checked against the export (module docstring); :class:`InputError` lists every problem."""
    problems: list[str] = []
    by_slot: dict[tuple[str, str], Candidate] = {}
    year = export.academic_year.name
    for path in documents:
        try:
            payload = path.read_bytes()
        except OSError as exc:
            problems.append(f"{path}: файл не читается ({os_reason(exc)})")
            continue
        identity = identify_document(payload, path.name)
        if identity is None:
            problems.append(
                f"{path}: не документ archiver (ожидался журнал класса или сводная ведомость, "
                "подготовленные командой «archiver render»)"
            )
            continue
        if identity.academic_year is not None and identity.academic_year != year:
            problems.append(
                f"{path}: документ за {identity.academic_year} учебный год, а выгрузка — за {year}"
            )
            continue
        owner: SchoolClass | None = None  # the inventory is the school's year, not a class's
        if identity.kind == INVENTORY and identity.class_id != export.school.id:
            problems.append(
                f"{path}: опись дел школы «{identity.class_id}», а выгрузка — "
                f"школы «{export.school.id}»"
            )
            continue
        if identity.kind != INVENTORY:
            owner = export.classes_by_id.get(identity.class_id)
            if owner is None:
                problems.append(f"{path}: в выгрузке нет класса «{identity.class_id}»")
                continue
        mismatch = identity_problems(
            embedded_facts(payload),
            kind=identity.kind,
            school_id=export.school.id,
            academic_year=year,
            class_id=owner.id if owner else None,
        )  # not the export time: a class left unchanged by a correction keeps its archived document
        mismatch += _run_problems(path, export_sha256)
        if mismatch:
            whose = f"класс «{owner.id}»" if owner else "опись дел"
            problems.append(
                f"{path}: документ не относится к этой выгрузке "
                f"(школа «{export.school.id}», {year}, {whose}): " + "; ".join(mismatch)
            )
            continue
        if owner is not None and identity.kind == FINAL_MARKS and not keeps_statement(owner):
            problems.append(
                f"{path}: сводная ведомость для «{owner.name}»: кружки и группы внеурочной "
                "деятельности никого не переводят, сводная ведомость для них не составляется"
            )
            continue
        candidate = _signed_candidate(path, payload, identity.kind, owner, export, problems)
        if candidate is None:
            continue
        slot = (identity.kind, owner.id if owner else "")
        previous = by_slot.get(slot)
        if previous is not None and previous.sha256 != candidate.sha256:
            problems.append(
                f"{path}: это тот же документ «{owner.id if owner else export.school.id}», что и "
                f"{previous.source}, но с другим содержимым; укажите один из них"
            )
        elif previous is None:
            by_slot[slot] = candidate
    if problems:
        raise InputError(
            "документы не приняты, в архив ничего не записано:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    order = {kind: i for i, kind in enumerate(DOCUMENT_KINDS)}
    class_order = {c.id: i for i, c in enumerate(export.classes)}
    return sorted(  # the inventory (no class) after the classes' documents
        by_slot.values(),
        key=lambda c: (class_order.get(c.class_id or "", len(class_order)), order.get(c.kind, 0)),
    )


def _signed_candidate(
    path: Path,
    payload: bytes,
    kind: str,
    owner: SchoolClass | None,
    export: JournalExport,
    problems: list[str],
) -> Candidate | None:
    """The document as a candidate if it is signed (else its problem is noted)."""
    try:
        signer = signer_of(payload, str(path))
    except InputError as exc:
        problems.append(str(exc))
        return None
    if signer is None:
        problems.append(
            f"{path}: документ не подписан электронной подписью; в архив принимаются "
            "только подписанные документы (подпишите их командой «archiver sign»)"
        )
        return None
    return Candidate(
        kind=kind,
        class_id=owner.id if owner else None,
        class_name=owner.name if owner else None,
        source=str(path),
        file_name=(
            document_file_name(owner.id, kind)
            if owner
            else f"{safe_name(export.school.id)}-inventory.pdf"
        ),
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        signer=signer,
        detached=detached_signature(path),
    )
