"""Signing on another computer: ``archiver sign --prepare`` then ``--complete``.

The director's token may sit on a computer archiver does not run on. ``prepare``
makes each document's signature ready (field, visible mark, reserved ``/Contents``,
:func:`archiver.signing.external.prepare`) and writes into a folder, per document,
the bytes to be signed (``<name>.tbs``) and the prepared PDF, with
``prepared.json`` recording every hash. The director signs each ``.tbs`` on their own
computer with any CAdES tool (detached CMS, ``<name>.tbs.sig``); ``complete`` checks
that neither the documents nor the prepared files changed in between, embeds each
signature and checks it (:func:`archiver.signing.external.check_embedded`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.files import write_atomic
from archiver.signing.external import CommandDocumentSigner, Prepared, cms_der, prepare
from archiver.signing.review import SigningBatch, refuse_changed
from archiver.signing.sign import SignError, SignOutcome, is_signed

PREPARED_FILE = "prepared.json"
PREPARED_FORMAT = "archiver-prepared-signatures/1"
DATA_SUFFIX = ".tbs"
SIGNATURE_NAMES = ("{name}.tbs.sig", "{name}.sig", "{name}.tbs.p7s", "{name}.p7s")
"""Where ``complete`` looks for a document's signature in the signatures folder."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """One prepared document as ``prepared.json`` records it."""

    path: str
    sha256: str
    name: str
    prepared_sha256: str
    start: int
    end: int


def prepare_batch(signer: CommandDocumentSigner, batch: SigningBatch, out: Path) -> list[Path]:
    """Prepare every document of ``batch`` into ``out``; return the files the director signs."""
    refuse_changed(batch)
    out.mkdir(parents=True, exist_ok=True)
    if (out / PREPARED_FILE).exists():
        raise SignError(
            f"в папке {out} уже подготовлены документы ({PREPARED_FILE}); укажите другую папку"
        )
    entries: list[PreparedDocument] = []
    to_sign: list[Path] = []
    for doc in batch.documents:
        path = Path(doc.path)
        data = path.read_bytes()
        if _sha256(data) != doc.sha256:
            raise SignError(f"{path}: документ изменён после просмотра (sha256 другой)")
        prepared = prepare(signer, data, signer.command.reserve_bytes)
        name = path.stem
        write_atomic(out / f"{name}.prepared.pdf", prepared.pdf)
        write_atomic(out / f"{name}{DATA_SUFFIX}", prepared.signed_data)
        to_sign.append(out / f"{name}{DATA_SUFFIX}")
        entries.append(
            PreparedDocument(
                str(path.resolve()),
                doc.sha256,
                name,
                _sha256(prepared.pdf),
                prepared.start,
                prepared.end,
            )
        )
    record: dict[str, Any] = {
        "format": PREPARED_FORMAT,
        "school": batch.school,
        "academic_year": batch.academic_year,
        "prepared": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": [
            {
                "path": e.path,
                "sha256": e.sha256,
                "name": e.name,
                "prepared_sha256": e.prepared_sha256,
                "start": e.start,
                "end": e.end,
            }
            for e in entries
        ],
    }
    text = json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    write_atomic(out / PREPARED_FILE, text.encode("utf-8"))
    return to_sign


def read_prepared(out: Path) -> list[PreparedDocument]:
    """What ``prepare`` recorded in ``out``."""
    path = out / PREPARED_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != PREPARED_FORMAT:
            raise ValueError(f"неизвестный формат {data.get('format')!r}")
        return [PreparedDocument(**d) for d in data["documents"]]
    except FileNotFoundError as exc:
        raise SignError(
            f"в папке {out} нет {PREPARED_FILE}: сначала «archiver sign --prepare {out}»"
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise SignError(f"{path}: не читается ({exc})") from exc


def _signature_file(signatures: Path, name: str) -> Path | None:
    for pattern in SIGNATURE_NAMES:
        candidate = signatures / pattern.format(name=name)
        if candidate.is_file():
            return candidate
    return None


def complete_batch(signer: CommandDocumentSigner, out: Path, signatures: Path) -> list[SignOutcome]:
    """Embed the director's signatures into the prepared documents and write them in place.

    Everything is checked before the first document is written: each document is still
    the one prepared (or already completed), each prepared file is unchanged, each has
    its signature. Then every signature is embedded and checked in turn.
    """
    entries = read_prepared(out)
    problems: list[str] = []
    plan: list[tuple[PreparedDocument, bytes, Path]] = []
    for entry in entries:
        path = Path(entry.path)
        try:
            current = path.read_bytes()
        except OSError as exc:
            problems.append(f"{path}: файл не читается ({exc.strerror})")
            continue
        if _sha256(current) != entry.sha256:
            if not is_signed(current):
                problems.append(f"{path}: документ изменён после подготовки к подписи")
            continue  # signed already (an earlier --complete): nothing to do
        prepared = (out / f"{entry.name}.prepared.pdf").read_bytes()
        if _sha256(prepared) != entry.prepared_sha256:
            problems.append(f"{out / entry.name}.prepared.pdf: подготовленный файл изменён")
            continue
        signature = _signature_file(signatures, entry.name)
        if signature is None:
            problems.append(
                f"нет подписи для {path.name}: ожидался файл {signatures / (entry.name + '.tbs.sig')}"
            )
            continue
        plan.append((entry, prepared, signature))
    if problems:
        raise SignError(
            "подписи не встроены, ничего не записано:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    outcomes = []
    for entry, prepared, signature in plan:
        cms = cms_der(signature.read_bytes(), str(signature))
        try:
            signed = signer.finish(Prepared(prepared, entry.start, entry.end), cms)
        except SignError as exc:
            raise SignError(f"{Path(entry.path).name}: {exc}") from exc
        write_atomic(Path(entry.path), signed)
        outcomes.append(SignOutcome(Path(entry.path), True, level=signer.level))
    return outcomes
