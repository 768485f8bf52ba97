"""Renewing the archive timestamps of stored documents (PAdES B-LTA) before they age.

A B-LTA document stays provable only while its newest document timestamp can be
validated: its TSA's certificate unexpired and its algorithms strong. ``plan_renewal``
reads the newest record version of every signed document and finds those whose newest
document timestamp's TSA certificate expires before a date (today plus ``[renewal]
margin_years``, or ``--before``) or uses an algorithm listed in ``ageing_algorithms``.
``renew_records`` adds, for each, validation data for that timestamp and a new
document timestamp (pyHanko's ``PdfTimeStamper.update_archival_timestamp_chain``), and
stores the renewed file as the next version of the same record in both locations:
the same retention date and lock, the reason in the manifest's ``correction``; the old
version stays, under its own lock. Nothing is deleted or replaced.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from archiver import __version__
from archiver.archive.access_log import AccessLog, AccessRequest
from archiver.archive.bag_readme import bag_texts_of
from archiver.archive.record import RecordManifest
from archiver.archive.retrieve import complete_records, fetch_record, read_manifest
from archiver.archive.write import write_record
from archiver.errors import ArchiverError, ExitCode
from archiver.storage.locations import Locations

RENEW = "renew"


class RenewError(ArchiverError):
    """A document's timestamp could not be renewed; nothing of it was stored."""

    exit_code = ExitCode.FAILURE


@dataclass(frozen=True, slots=True)
class TimestampInfo:
    """The newest document timestamp of a PDF."""

    at: datetime
    tsa: str
    tsa_not_after: datetime
    algorithm: str
    count: int
    """How many document timestamps the file has."""


def newest_timestamp(pdf: bytes) -> TimestampInfo | None:
    """The newest document timestamp of ``pdf``; ``None`` when it has none (B-B, B-T, B-LT)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamps = reader.embedded_timestamp_signatures
    if not stamps:
        return None
    last = stamps[-1]
    cert = last.signer_cert
    tst = last.signed_data["encap_content_info"]["content"].parsed
    return TimestampInfo(
        at=tst["gen_time"].native,
        tsa=str(cert.subject.native.get("common_name") or cert.subject.human_friendly),
        tsa_not_after=cert["tbs_certificate"]["validity"]["not_after"].native,
        algorithm=str(last.md_algorithm),
        count=len(stamps),
    )


def renew_by(info: TimestampInfo, margin_years: int) -> date:
    """The day by which the timestamp must be renewed: its TSA certificate's expiry minus the margin."""
    expires = info.tsa_not_after.date()
    try:
        return expires.replace(year=expires.year - margin_years)
    except ValueError:  # 29 February
        return expires.replace(year=expires.year - margin_years, day=28)


@dataclass(frozen=True, slots=True)
class RenewalStatus:
    """What ``verify --deep`` says about a document's newest timestamp."""

    expires: date
    """The TSA certificate's expiry: after it the timestamp no longer proves anything."""
    renew_by: date
    """The day by which to renew (``expires`` minus the margin)."""
    due: bool
    reason: str | None


def renewal_status(
    tsa_not_after: str, algorithm: str, *, margin_years: int, ageing: Sequence[str], today: date
) -> RenewalStatus:
    """Whether a timestamp (as ``verify --deep`` reports it) needs renewing now, and by when."""
    expires = datetime.fromisoformat(tsa_not_after).date()
    info = TimestampInfo(datetime.min, "", datetime.fromisoformat(tsa_not_after), algorithm, 1)
    by = renew_by(info, margin_years)
    reason = None
    if algorithm.lower() in {a.lower() for a in ageing}:
        reason = f"алгоритм {algorithm} отмечен в настройках как устаревающий"
    elif by <= today:
        reason = f"сертификат службы штампов времени действует до {expires:%d.%m.%Y}"
    return RenewalStatus(expires, by, reason is not None, reason)


def why_due(info: TimestampInfo, before: datetime, ageing: Sequence[str]) -> str | None:
    """Why the timestamp needs renewing (as of the limit ``before``), or ``None``."""
    if info.algorithm.lower() in {a.lower() for a in ageing}:
        return f"алгоритм метки времени {info.algorithm} отмечен в настройках как устаревающий"
    if info.tsa_not_after <= before:
        return (
            f"сертификат службы штампов времени «{info.tsa}» действует до "
            f"{info.tsa_not_after:%d.%m.%Y}"
        )
    return None


@dataclass(frozen=True, slots=True)
class RenewalItem:
    """One record's newest version and what its newest timestamp says."""

    manifest: RecordManifest
    timestamp: TimestampInfo | None
    reason: str | None
    """Why it is due; ``None``: not due (or no archive timestamp to renew)."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        stamp = self.timestamp
        return {
            "record_id": self.manifest.record_id,
            "due": self.reason is not None,
            "reason": self.reason,
            "timestamp": None
            if stamp is None
            else {
                "at": stamp.at.isoformat(),
                "tsa": stamp.tsa,
                "tsa_not_after": stamp.tsa_not_after.isoformat(),
                "algorithm": stamp.algorithm,
                "count": stamp.count,
            },
        }


def plan_renewal(
    locations: Locations, *, before: date, zone: tzinfo, ageing: Sequence[str]
) -> list[RenewalItem]:
    """Every signed record's newest version with its newest timestamp, due ones marked."""
    source = locations.first()
    latest: dict[str, str] = {}
    for rid in complete_records(source):
        latest[rid.rsplit("/", 1)[0]] = rid  # sorted by version: the last one wins
    limit = datetime.combine(before, time(0, 0), tzinfo=zone)
    items: list[RenewalItem] = []
    for rid in sorted(latest.values()):
        manifest, _ = read_manifest(source, rid)
        if manifest.signer_cert_sha256 is None or manifest.media_type != "application/pdf":
            continue
        payload = source.read(f"{rid}/{manifest.payload_path}").data
        stamp = newest_timestamp(payload)
        reason = why_due(stamp, limit, ageing) if stamp is not None else None
        items.append(RenewalItem(manifest, stamp, reason))
    return items


def _timestamped(pdf: bytes, tsa_url: str, validation_context: Any) -> bytes:
    """``pdf`` with the previous timestamp's validation data and a new document timestamp."""
    import aiohttp
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers, timestamps

    async def run() -> bytes:
        async with aiohttp.ClientSession() as session:
            stamper = signers.PdfTimeStamper(
                timestamps.HTTPTimeStamper(tsa_url, timeout=30, session=session)
            )
            out = await stamper.async_update_archival_timestamp_chain(
                PdfFileReader(io.BytesIO(pdf), strict=False),
                validation_context,
                in_place=False,
            )
            return bytes(out.getvalue())

    return asyncio.run(run())


@dataclass(frozen=True, slots=True)
class Renewed:
    """One renewed record: the new version's id next to the old one's."""

    old: str
    new: str
    reason: str
    sha256: str


def renew_records(
    locations: Locations,
    items: Sequence[RenewalItem],
    *,
    tsa_url: str,
    validation_context: Any,
    now: datetime,
    log: AccessLog | None = None,
    operator: str | None = None,
) -> list[Renewed]:
    """Renew every due item (see the module); stops at the first failure (earlier ones stay stored)."""
    done: list[Renewed] = []
    everywhere = locations.usable()
    for item in items:
        if item.reason is None:
            continue
        old = item.manifest
        fetched = fetch_record(locations, old.record_id)
        try:
            pdf = _timestamped(fetched.payload, tsa_url, validation_context)
        except Exception as exc:
            raise RenewError(
                f"{old.record_id}: метка времени не продлена ({type(exc).__name__}: {exc}); "
                "в архив ничего не записано"
            ) from exc
        series = old.record_id.rsplit("/", 1)[0]
        version = max(
            int(rid.rsplit("/v", 1)[1])
            for loc in everywhere
            for rid in complete_records(loc, series + "/")
        )
        new_id = f"{series}/v{version + 1}"
        reason = f"продление метки времени: {item.reason}"
        manifest = dataclasses.replace(
            old,
            record_id=new_id,
            version=version + 1,
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            sha512=hashlib.sha512(pdf).hexdigest(),
            stored_at=now.isoformat(timespec="seconds"),
            correction_reason=reason,
            replaces=old.record_id,
            software_version=__version__,
        )
        texts = bag_texts_of(manifest, pdf, (), signed=True)  # README and chains of this version
        manifest = dataclasses.replace(manifest, bag_texts=texts)
        write_record(everywhere, manifest, manifest.dumps(), pdf)
        if log is not None:
            log.append(
                AccessRequest(
                    action=RENEW,
                    what={"record_id": new_id, "replaces": old.record_id},
                    reason=reason,
                    operator=operator,
                    sources=[{"record_id": old.record_id, "sha256": old.sha256}],
                )
            )
        done.append(Renewed(old.record_id, new_id, reason, manifest.sha256))
    return done
