"""Reads of personal data that hand out no file: a search for students and a record's view.

The web service shows what the CLI prints (``archiver find``, a record's description,
both copies' state, the signature); each such read is written to the access log
before the result is returned, as :mod:`archiver.archive.handout` does for documents
and extracts. The caller shows nothing when the entry could not be written.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from archiver.archive.access_log import FIND, VIEW, AccessRequest, AppendResult, sha256_hex
from archiver.archive.catalog import RebuildResult, StudentMatch, find_students, suggest_names
from archiver.archive.handout import Archive, Requester, check_reason, refresh_catalog
from archiver.archive.record import MARKER, RecordError, RecordManifest
from archiver.archive.retrieve import check_record_id, fetch_record, read_manifest
from archiver.archive.verify.history import VerifyHistory
from archiver.archive.verify.report import Level
from archiver.signing.signer_of import signer_of
from archiver.storage.base import StorageError


@dataclass(frozen=True, slots=True)
class FoundStudents:
    """A search's matches and its access log entry."""

    query: str
    matches: list[StudentMatch]
    suggestions: dict[str, list[str]]
    """A word of the query found in no name → the closest names (a typo), when nothing matched."""
    logged: AppendResult
    rebuilt: RebuildResult | None


def find_logged(
    archive: Archive,
    query: str,
    requester: Requester,
    *,
    year: str | None = None,
    class_filter: str | None = None,
) -> FoundStudents:
    """:func:`find_students` on a fresh catalog (and, when nobody matched, :func:`suggest_names`).

    The query, the students shown and the names suggested are logged.
    """
    reason = check_reason(requester.reason)
    rebuilt = refresh_catalog(archive)
    matches = find_students(archive.catalog, query, year=year, class_filter=class_filter)
    suggestions = suggest_names(archive.catalog, query) if not matches else {}
    what: dict[str, object] = {
        "query": query.strip(),
        "found": [f"{m.school_id}/{m.student_id}" for m in matches],
    }
    if any(suggestions.values()):
        what["suggested"] = sorted({n for names in suggestions.values() for n in names})
    request = AccessRequest(
        action=FIND,
        what=what,
        reason=reason,
        operator=requester.operator,
        role=requester.role,
        client=requester.client,
    )
    logged = archive.access_log().append(request)
    return FoundStudents(query, matches, suggestions, logged, rebuilt)


@dataclass(frozen=True, slots=True)
class CopyState:
    """One location's copy of a record."""

    location: str
    where: str
    state: str
    """``good``, ``damaged``, ``missing`` or ``unavailable``."""
    detail: str


COPY_TEXT = {
    "good": "в порядке (sha256 совпадает с описанием записи)",
    "damaged": "ПОВРЕЖДЕНА",
    "missing": "НЕТ",
    "unavailable": "хранилище недоступно",
}


@dataclass(frozen=True, slots=True)
class RecordView:
    """What a record's page shows: its description, both copies, the signature, the last checks."""

    record_id: str
    manifest: RecordManifest
    copies: list[CopyState]
    signature: str
    """The signature verdict in Russian."""
    signature_ok: bool
    last_verified: dict[str, str]
    """``cheap``/``deep`` → when the record was last verified (``verify``), '' never."""
    logged: AppendResult


def _copy_state(archive: Archive, rid: str) -> list[CopyState]:
    copies = []
    for location in archive.locations.all:
        where = location.url(rid)
        if not archive.locations.available(location):
            copies.append(CopyState(location.name, where, "unavailable", ""))
            continue
        try:
            if location.stat(f"{rid}/{MARKER}") is None:
                copies.append(CopyState(location.name, where, "missing", "записи нет"))
                continue
            manifest, _ = read_manifest(location, rid)
            payload = location.read(f"{rid}/{manifest.payload_path}").data
        except (StorageError, RecordError) as exc:
            copies.append(CopyState(location.name, where, "damaged", str(exc)))
            continue
        actual = sha256_hex(payload)
        if actual != manifest.sha256 or len(payload) != manifest.size:
            detail = f"sha256 {actual}, а в описании записи {manifest.sha256}"
            copies.append(CopyState(location.name, where, "damaged", detail))
        else:
            copies.append(CopyState(location.name, where, "good", manifest.sha256))
    return copies


def signature_verdict(archive: Archive, manifest: RecordManifest, pdf: bytes) -> tuple[str, bool]:
    """The document's signature in one Russian line: checked against the trust roots when set."""
    try:
        signer = signer_of(pdf, manifest.file_name)
    except Exception as exc:  # a broken signature container is a finding, not a crash
        return f"подпись не читается: {exc}", False
    if signer is None:
        return "документ не подписан", False
    if manifest.signer_cert_sha256 and signer.cert_sha256 != manifest.signer_cert_sha256:
        return (
            f"подписан «{signer.subject}», но сертификат не тот, что в описании записи",
            False,
        )
    roots = archive.settings.signature.trust_roots
    if not roots or not manifest.media_type.endswith("pdf"):
        return f"подписан: {signer.subject} (сертификат совпадает с описанием записи)", True
    from archiver.signing.check import check_document
    from archiver.signing.sign import load_trust_roots

    with tempfile.TemporaryDirectory(prefix="archiver-view-") as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        try:
            report = check_document(path, load_trust_roots(roots), deep=False)
        except Exception as exc:  # CheckError and pyHanko's own
            return f"подпись не проверена: {exc}", False
    return (f"{report.message} ({signer.subject})", report.ok)


def view_record(archive: Archive, record_id: str, requester: Requester) -> RecordView:
    """A record's description, each copy's state and the signature verdict; the view logged."""
    reason = check_reason(requester.reason)
    rid = check_record_id(record_id)
    fetched = fetch_record(archive.locations, rid)
    manifest = fetched.manifest
    copies = _copy_state(archive, rid)
    verdict, ok = signature_verdict(archive, manifest, fetched.payload)
    history = VerifyHistory.peek(archive.working_dir)
    holder = VerifyHistory(archive.working_dir, history)
    last = {level.value: holder.last(rid, level) for level in (Level.CHEAP, Level.DEEP)}
    request = AccessRequest(
        action=VIEW,
        what={"record_id": rid},
        reason=reason,
        operator=requester.operator,
        role=requester.role,
        client=requester.client,
        sources=[{"record_id": rid, "sha256": manifest.sha256, "location": fetched.location.name}],
    )
    logged = archive.access_log().append(request)
    return RecordView(rid, manifest, copies, verdict, ok, last, logged)
