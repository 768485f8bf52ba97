"""What disposal reads from the archive (the record series and their versions) and the acts' manifests."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, tzinfo

from archiver import __version__
from archiver.archive.bag_readme import bag_texts_of
from archiver.archive.dispose.act import ACT_KIND, DISPOSAL_FOLDER, PD_ACT_KIND, Act
from archiver.archive.record import RecordManifest, media_type
from archiver.archive.retrieve import complete_records, fetch_record, read_manifest
from archiver.clock import real_now
from archiver.errors import ArchiverError
from archiver.retention import RetentionPolicy, retain_until
from archiver.signing.signer_of import signer_of
from archiver.storage.base import Storage
from archiver.storage.locations import Locations


def series_versions(location: Storage) -> dict[str, list[RecordManifest]]:
    """Every record series complete in ``location``, its versions' manifests oldest first."""
    found: dict[str, list[RecordManifest]] = {}
    for rid in complete_records(location):
        manifest, _ = read_manifest(location, rid)
        found.setdefault(rid.rsplit("/", 1)[0], []).append(manifest)
    for manifests in found.values():
        manifests.sort(key=lambda m: m.version)
    return found


def approved_acts(locations: Locations) -> list[tuple[Act, bool]]:
    """Every approved act stored in the archive, and whether it has been executed (its PD act stored)."""
    source = locations.first()
    records = complete_records(source)
    executed = {
        rid.split("/")[2]
        for rid in records
        if rid.split("/")[1:4:2] == [DISPOSAL_FOLDER, PD_ACT_KIND]
    }
    found: list[tuple[Act, bool]] = []
    for rid in records:
        parts = rid.split("/")
        if parts[1] != DISPOSAL_FOLDER or parts[3] != ACT_KIND:
            continue
        try:
            act = Act.from_pdf(fetch_record(locations, rid, cross_check=False).payload, rid)
        except ArchiverError:
            continue
        found.append((act, parts[2] in executed))
    return found


def act_manifest(
    act: Act,
    kind: str,
    policy: RetentionPolicy,
    pdf: bytes,
    now: datetime,
    zone: tzinfo,
    file_name: str,
) -> RecordManifest:
    """The manifest of an act stored as a record (``<school>/_disposal/<number>/<kind>/v1``).

    The act closes in the year it is made; a clock set back by hand never makes its
    lock shorter than the real year would (the later of the two years counts).
    """
    closing = max(now.year, real_now(zone).year)
    until = retain_until(closing, policy.years, zone)
    signer = signer_of(pdf)
    manifest = RecordManifest(
        record_id=act.record_id(kind),
        version=1,
        kind=kind,
        title=f"{policy.title} № {act.number}",
        school_id=act.school_id,
        school_name=act.school_name,
        academic_year=str(closing),
        class_id=None,
        class_name=None,
        file_name=file_name,
        media_type=media_type(file_name),
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        sha512=hashlib.sha512(pdf).hexdigest(),
        retention_policy=policy.kind,
        retention_title=policy.title,
        retention_years=policy.years,
        legal_basis=policy.legal_basis,
        lock_mode=policy.lock_mode,
        closing_year=closing,
        retain_until=until.isoformat(),
        stored_at=now.isoformat(timespec="seconds"),
        source_export_sha256=hashlib.sha256(act.dumps()).hexdigest(),
        signer_cert_sha256=signer.cert_sha256 if signer else None,
        signer_subject=signer.subject if signer else None,
        software_version=__version__,
    )
    texts = bag_texts_of(manifest, pdf, (), signed=signer is not None)
    return dataclasses.replace(manifest, bag_texts=texts)


__all__ = ["DISPOSAL_FOLDER", "act_manifest", "approved_acts", "series_versions"]
