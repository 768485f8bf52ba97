"""Whether a copy may be the source of a repair: proven by the archive itself, never by local state.

The local state (``verify-state.json``) is not protected: anybody who can write the
working folder can point it at a forged manifest. So before a repair writes a single
byte, the donor copy must be proven right by what the archive holds:

1. its manifest names this record (school, year, class, kind and version give the
   record id), and the document's own identity (Keywords, embedded journal data;
   :mod:`archiver.archive.embedded`) or the export's own ``school``/``academic_year``
   matches that manifest;
2. its document's signature is valid by the configured trust roots and made with
   the certificate the manifest names (checked by :mod:`archiver.archive.verify.repair`);
3. and the copy to be replaced does not contradict it: where the location keeps versions
   (S3), its first, locked version of ``archive-record.json`` is the donor's (a different
   one refuses the repair, even when a delete marker hides it); otherwise it is missing altogether, or
   one of its files that fixes the document's hash (``archive-record.json``, the
   BagIt manifests and tag manifests) agrees with the donor's manifest, or the
   catalog (``catalog.sqlite``) recorded the same document hash for the record, or
   that copy's own claim is disproven (its manifest unreadable or of another record,
   its document changed, unsigned, of another class, or its signature invalid).

Otherwise two copies disagree and neither can be proven: the repair writes nothing
and the report says «нет исправной копии».
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from archiver.archive.embedded import record_identity_problem as identity_problem
from archiver.archive.record import RECORD_FILE, RecordError, RecordManifest
from archiver.archive.verify.inspect import Inspection
from archiver.archive.verify.report import CopyReport, CopyStatus
from archiver.archive.verify.signatures import SignatureChecker, signature_problem
from archiver.kinds import JOURNAL_EXPORT
from archiver.storage.base import Storage, StorageError

__all__ = ["BINDING_FILES", "contradiction", "identity_problem"]

BINDING_FILES = (
    RECORD_FILE,
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "tagmanifest-sha256.txt",
    "tagmanifest-sha512.txt",
)
"""Files of a bag that fix the document's hash: one of them agreeing ties two copies."""
CATALOG_FILE = "catalog.sqlite"


def _catalog_agrees(state_folder: Path | None, rid: str, sha256: str) -> bool:
    path = state_folder / CATALOG_FILE if state_folder is not None else None
    if path is None or not path.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT sha256 FROM records WHERE record_id = ?", (rid,)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == sha256


def _disproven(rid: str, target: Storage, checker: SignatureChecker | None) -> str | None:
    """Why the target copy's own claim is wrong (``None``: it may well be right)."""
    try:
        data = target.read(f"{rid}/{RECORD_FILE}").data
        own = RecordManifest.loads(data, target.url(f"{rid}/{RECORD_FILE}"))
    except (StorageError, RecordError):
        return "её описание записи не читается"
    if own.record_id != rid:
        return f"её описание относится к записи {own.record_id}"
    try:
        payload = target.read(f"{rid}/{own.payload_path}").data
    except StorageError:
        return "её документа нет или он не читается"
    if hashlib.sha256(payload).hexdigest() != own.sha256:
        return "её документ не совпадает с её же описанием"
    if (problem := identity_problem(rid, own, payload)) is not None:
        return problem
    if own.signer_cert_sha256 is None:
        return None if own.kind == JOURNAL_EXPORT else "её документ не подписан"
    if checker is None:
        return None
    problem = signature_problem(own, checker.check(payload))
    return problem


def contradiction(
    inspection: Inspection,
    copy: CopyReport,
    target: Storage,
    checker: SignatureChecker | None,
    state_folder: Path | None,
) -> str | None:
    """Why ``copy`` may not be overwritten from the trusted manifest's donor (``None``: it may)."""
    assert inspection.trusted is not None
    manifest, manifest_bytes = inspection.trusted
    rid = inspection.report.record_id
    original = target.locked_originals(f"{rid}/").get(f"{rid}/{RECORD_FILE}")
    if original is not None:  # S3: the first, locked version outranks what is current now
        if original.data == manifest_bytes:
            return None
        return (
            f"в хранилище «{target.name}» заблокированная исходная версия описания записи "
            f"({target.url(f'{rid}/{RECORD_FILE}')}) описывает другой документ"
        )
    if copy.status == CopyStatus.MISSING:
        return None  # nothing there to overwrite
    broken = {p.path for p in copy.problems}
    if any(path not in broken for path in BINDING_FILES):
        return None  # the copy's own bag names the same document
    if _catalog_agrees(state_folder, rid, manifest.sha256):
        return None
    if _disproven(rid, target, checker) is not None:
        return None
    return (
        f"копия в хранилище «{target.name}» описывает другой документ, и её нельзя признать "
        "неверной (подпись действительна, данные документа соответствуют записи), а каталог "
        "не подтверждает ни одну из копий"
    )
