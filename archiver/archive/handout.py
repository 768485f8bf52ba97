"""Handing documents out of the archive: a record's document (``get``) and a student's extract.

Both follow one order, decided here and nowhere else: check the request, read and
hash-check what the archive holds, write the access log entry in every location,
and only then write the new file (never over an existing one). A document whose
log entry could not be written is not handed out. The extract refreshes the
catalog first (it picks the student's records from it) and is signed when a
signer is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from archiver.archive.access_log import (
    EXTRACT,
    GET,
    POLICY_KIND,
    AccessLog,
    AccessRequest,
    AppendResult,
    sha256_hex,
)
from archiver.archive.catalog import (
    RebuildResult,
    archived_record_ids,
    catalog_meta,
    catalog_path,
    catalogued_record_ids,
    final_marks_records,
    rebuild,
    student_data_records,
)
from archiver.archive.extract import ExtractData, gather, render_extract
from archiver.archive.retrieve import (
    FetchedRecord,
    RecordNotFound,
    check_record_id,
    fetch_record,
    refuse_existing,
    write_new_file,
)
from archiver.archive.versions import Supersession, newer_version
from archiver.errors import UsageError
from archiver.render.engines import Engines
from archiver.retention import load_policy
from archiver.settings import Settings, SignatureSettings
from archiver.signing.sign import DocumentSigner, TimestampingService, signing_session
from archiver.storage.identity import refuse_inside_locations
from archiver.storage.locations import Locations
from archiver.storage.open import open_locations

SecretProvider = Callable[[], str]


@dataclass(frozen=True, slots=True)
class Archive:
    """The configured archive: its locations (checked lazily, on first use) and the working folder."""

    settings: Settings
    locations: Locations
    working_dir: Path

    @property
    def zone(self) -> tzinfo:
        """The school's time zone: ``[storage] timezone``, else this computer's."""
        storage = self.settings.require_storage()
        zone = storage.timezone or datetime.now().astimezone().tzinfo
        assert zone is not None
        return zone

    @property
    def catalog(self) -> Path:
        """The catalog file."""
        return catalog_path(self.working_dir)

    def access_log(self) -> AccessLog:
        """The access log in the archive's locations."""
        policy = load_policy(POLICY_KIND, self.settings.documents.retention_policies)
        return AccessLog(self.locations, policy, self.zone, self.working_dir)


def open_archive(settings: Settings) -> Archive:
    """The archive of these settings (``[storage]`` required)."""
    locations = Locations(open_locations(settings.require_storage()))
    return Archive(settings, locations, settings.working_dir())


def refresh_catalog(archive: Archive) -> RebuildResult | None:
    """Rebuild the catalog when it is missing or the archive's records changed since; else ``None``."""
    path = archive.catalog
    source = archive.locations.first()
    if catalog_meta(path) is not None and catalogued_record_ids(path) == archived_record_ids(
        source
    ):
        return None
    return rebuild(archive.locations, path)


def check_reason(reason: str) -> str:
    """The reason of a request, stripped; :class:`UsageError` when it is empty."""
    if not reason.strip():
        raise UsageError("укажите причину обращения к архиву (--reason «…»)")
    return reason.strip()


@dataclass(frozen=True, slots=True)
class HandedDocument:
    """A record's document written to a new file, and its access log entry."""

    record_id: str
    out: Path | None
    """The file written; ``None``: handed out otherwise (a web download)."""
    fetched: FetchedRecord
    logged: AppendResult
    superseded: Supersession | None = None
    """The newer version of the record, when the one handed out was replaced by a correction."""

    @property
    def url(self) -> str:
        """Where the copy handed out was read."""
        return self.fetched.location.url(f"{self.record_id}/{self.fetched.manifest.payload_path}")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks for an access and why: the CLI's ``--operator``, or a web account with its role."""

    reason: str
    operator: str | None = None
    role: str | None = None
    client: str | None = None


def read_document(
    archive: Archive, record_id: str, requester: Requester, output: dict[str, Any]
) -> HandedDocument:
    """A record's document read from the good copy (hash-checked) and logged; nothing written.

    ``output`` says where the document goes (``{"path": …}`` for a file, the web
    account for a download); the access log entry is written before the caller hands
    the bytes out, and a document whose entry could not be written is not handed out.
    """
    reason = check_reason(requester.reason)
    rid = check_record_id(record_id)
    fetched = fetch_record(archive.locations, rid)
    manifest = fetched.manifest
    request = AccessRequest(
        action=GET,
        what={"record_id": rid},
        reason=reason,
        operator=requester.operator,
        role=requester.role,
        client=requester.client,
        output={**output, "sha256": manifest.sha256, "size": manifest.size},
        sources=[{"record_id": rid, "sha256": manifest.sha256, "location": fetched.location.name}],
    )
    superseded = newer_version(fetched.location, manifest)
    logged = archive.access_log().append(request)
    return HandedDocument(rid, None, fetched, logged, superseded)


def get_document(
    archive: Archive, record_id: str, out: Path, *, reason: str, operator: str | None = None
) -> HandedDocument:
    """Hand out a record's document: hash-checked, logged, then written to the new file ``out``."""
    check_reason(reason)
    refuse_existing(out)
    refuse_inside_locations(out, archive.locations.all)
    handed = read_document(
        archive, record_id, Requester(reason, operator), {"path": str(out.resolve())}
    )
    write_new_file(out, handed.fetched.payload)
    return replace(handed, out=out)


@dataclass(frozen=True, slots=True)
class HandedExtract:
    """A student's extract written to a new file, and its access log entry."""

    school_id: str
    student_id: str
    out: Path | None
    """The file written; ``None``: handed out otherwise (a web download)."""
    data: ExtractData
    pages: int
    pdf: bytes = field(repr=False)
    signer: str | None
    """Whose signature the extract carries; ``None``: not signed."""
    logged: AppendResult
    rebuilt: RebuildResult | None
    """The catalog rebuild this request needed, if any."""

    @property
    def sha256(self) -> str:
        """The extract's hash."""
        return sha256_hex(self.pdf)


@contextmanager
def _signer(
    signature: SignatureSettings,
    secret: SecretProvider | None,
    timestamping: TimestampingService | None,
    zone: tzinfo | None = None,
) -> Iterator[DocumentSigner | None]:
    """The configured signer, or ``None`` without ``[signer]`` or when not asked to sign."""
    if signature.signer is None or secret is None:
        yield None
        return
    with signing_session(signature, secret(), timestamping, zone=zone) as signer:
        yield signer


def _pick_school(archive: Archive, student_id: str, school_id: str | None) -> tuple[str, list[str]]:
    schools = student_data_records(archive.catalog, student_id)
    if school_id is not None:
        schools = {k: v for k, v in schools.items() if k == school_id}
    if not schools:
        raise RecordNotFound(
            f"обучающегося с id «{student_id}» в архиве нет (найдите его id: archiver find ФАМИЛИЯ)"
        )
    if len(schools) > 1:
        raise UsageError(
            f"id «{student_id}» есть в архивах нескольких школ ({', '.join(sorted(schools))}); "
            "укажите школу: --school ID"
        )
    return next(iter(schools.items()))


def make_extract(
    archive: Archive,
    student_id: str,
    out: Path,
    *,
    reason: str,
    operator: str | None = None,
    school_id: str | None = None,
    secret: SecretProvider | None,
    timestamping: TimestampingService | None = None,
) -> HandedExtract:
    """Make a student's extract from the archive, log, write; signed only when ``secret`` is given.

    ``secret`` gives the signer's passphrase or PIN: the extract is signed only when
    someone asked for it (``extract --sign``), never because a key happens to be set up.
    """
    check_reason(reason)
    refuse_existing(out)
    refuse_inside_locations(out, archive.locations.all)
    handed = issue_extract(
        archive,
        student_id,
        Requester(reason, operator),
        {"path": str(out.resolve())},
        school_id=school_id,
        secret=secret,
        timestamping=timestamping,
    )
    write_new_file(out, handed.pdf)
    return replace(handed, out=out)


def issue_extract(
    archive: Archive,
    student_id: str,
    requester: Requester,
    output: dict[str, Any],
    *,
    school_id: str | None = None,
    secret: SecretProvider | None,
    timestamping: TimestampingService | None = None,
) -> HandedExtract:
    """A student's extract made and logged (``output`` says where it goes); nothing written.

    The caller hands :attr:`HandedExtract.pdf` out only after this returned: the entry
    is in the access log by then.
    """
    reason = check_reason(requester.reason)
    rebuilt = refresh_catalog(archive)
    school, records = _pick_school(archive, student_id, school_id)
    data = gather(
        archive.locations,
        school,
        student_id,
        records,
        final_marks_records(archive.catalog, school),
    )
    signature = archive.settings.signature
    issued = datetime.now(archive.zone)
    signed_by: str | None = None
    with _signer(signature, secret, timestamping, archive.zone) as signer:
        owner = signer.loaded.identity.owner if signer is not None else None
        rendered = render_extract(
            data,
            issued=issued,
            signer_name=owner,
            signer_position=signature.signer_position,
            engines=Engines(archive.settings.documents.templates),
        )
        pdf = rendered.pdf
        if signer is not None:
            pdf = signer.sign_bytes(pdf)
            signed_by = owner
    request = AccessRequest(
        action=EXTRACT,
        what={"school_id": school, "student_id": student_id},
        reason=reason,
        operator=requester.operator,
        role=requester.role,
        client=requester.client,
        output={
            **output,
            "sha256": sha256_hex(pdf),
            "size": len(pdf),
            "signed": signed_by is not None,
        },
        sources=data.sources,
    )
    logged = archive.access_log().append(request)
    return HandedExtract(
        school, student_id, None, data, rendered.pages, pdf, signed_by, logged, rebuilt
    )


def logged_json(logged: AppendResult) -> dict[str, Any]:
    """An access log entry's receipt, for ``--json``."""
    return {
        "seq": logged.seq,
        "sha256": logged.sha256,
        "key": logged.key,
        "locations": list(logged.written),
        "notes": list(logged.notes),
    }
