"""Validating the signatures of a document, offline, for people and for 2050.

For each signature: who signed, the certificate's validity, the signing time and
where it comes from (a timestamp or only the signer's claim), the PAdES level
reached, the AdES verdict and sub-indication, and whether the signature covers
the whole file. B-LTA signatures are judged by pyHanko's AdES LTA validation
with no network access at all: only the embedded revocation data and
timestamps count. B-B/B-T signatures cannot be verified long-term; for them we
report whether they are intact and chain to a trusted root.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from archiver.errors import ArchiverError, ExitCode
from archiver.files import os_reason


class CheckError(ArchiverError):
    """The file could not be checked at all."""

    exit_code = ExitCode.BAD_INPUT


@dataclass(slots=True)
class SignatureReport:
    """The findings about one signature or document timestamp."""

    field_name: str
    kind: str  # "signature" or "timestamp"
    signer: str
    certificate_serial: str
    certificate_valid_from: str
    certificate_valid_to: str
    signing_time: str | None
    signing_time_source: str  # "timestamp" or "claimed"
    level: str
    intact: bool
    trusted: bool
    covers_whole_file: bool
    coverage: str
    ades_indication: str | None
    ades_subindication: str | None
    ok: bool
    verdict: str
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DocumentReport:
    """All signatures of one file."""

    path: str
    signatures: list[SignatureReport]
    ok: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _offline_spec(roots: list[asn1_x509.Certificate]) -> PdfSignatureValidationSpec:
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=roots),
                revinfo_policy=CertRevTrustPolicy(revocation_checking_policy=REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
            ),
        )
    )


def _level(reader: PdfFileReader, index: int, has_ts: bool) -> str:
    sigs = reader.embedded_signatures
    later_doc_ts = any(s.sig_object_type == "/DocTimeStamp" for s in sigs[index + 1 :])
    has_dss = "/DSS" in reader.root
    if has_ts and has_dss and later_doc_ts:
        return "B-LTA"
    if has_ts and has_dss:
        return "B-LT"
    if has_ts:
        return "B-T"
    return "B-B"


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value))


def _coverage(status: Any) -> tuple[str, bool]:
    """The coverage level, and whether everything after the signature is allowed (DSS, timestamps)."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    coverage = status.coverage
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return coverage.name, True
    level = getattr(status, "modification_level", None)
    allowed = coverage == SignatureCoverageLevel.ENTIRE_REVISION and level in (
        ModificationLevel.NONE,
        ModificationLevel.LTA_UPDATES,
    )
    return (coverage.name if coverage is not None else "UNKNOWN"), allowed


def _has_signature_timestamp(sig: Any) -> bool:
    attrs = sig.signer_info["unsigned_attrs"]
    if not attrs or attrs.native is None:
        return False
    return any(attr["type"].native == "signature_time_stamp_token" for attr in attrs)


def _name(cert: asn1_x509.Certificate) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:
        return str(cert.subject.human_friendly)


def _date(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def check_document(
    path: Path, trust_roots: list[asn1_x509.Certificate], *, deep: bool = True
) -> DocumentReport:
    """Validate every signature of the PDF at ``path`` offline against ``trust_roots``.

    ``deep=False`` is the quick check of a freshly signed document: integrity,
    trust, coverage and level, without the (costly) AdES long-term validation.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckError(f"файл {path} не читается: {os_reason(exc)}") from exc
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:
        raise CheckError(f"{path}: не удалось прочитать PDF: {exc}") from exc
    if not embedded:
        return DocumentReport(str(path), [], False, "в документе нет электронной подписи")
    if not trust_roots:
        raise CheckError(
            "не заданы доверенные корневые сертификаты ([signature] trust_roots или --trust-root)"
        )
    reports = []
    pending: list[int] = []
    spec = _offline_spec(trust_roots)
    trailing = len(data) - (data.rfind(b"%%EOF") + len(b"%%EOF"))
    junk = data[len(data) - trailing :].strip() if trailing > 0 else b""
    for index, sig in enumerate(embedded):
        is_ts = sig.sig_object_type == "/DocTimeStamp"
        cert = sig.signer_cert
        has_ts = not is_ts and _has_signature_timestamp(sig)
        level = "—" if is_ts else _level(reader, index, has_ts)
        notes: list[str] = []
        coverage = "UNKNOWN"
        whole = False
        intact = trusted = False
        signing_time: datetime | None = None
        source = "claimed"
        indication = subindication = None
        ok = False
        try:
            if is_ts:
                from pyhanko.sign.validation import validate_pdf_timestamp

                # a timestamp over the whole file has no later revisions to analyse
                last = (
                    sig.evaluate_signature_coverage() == SignatureCoverageLevel.ENTIRE_FILE
                    or sig.signed_revision == reader.xrefs.total_revisions - 1
                )
                ts_status = validate_pdf_timestamp(
                    sig,
                    validation_context=ValidationContext(
                        trust_roots=trust_roots, allow_fetching=False
                    ),
                    skip_diff=last,
                )
                intact, trusted = ts_status.intact and ts_status.valid, ts_status.trusted
                coverage, whole = _coverage(ts_status)
                signing_time, source = ts_status.timestamp, "timestamp"
                ok = intact and trusted
                verdict = (
                    "штамп времени документа действителен"
                    if ok
                    else "штамп времени документа недействителен"
                )
            else:
                lta_result = (
                    asyncio.run(ades_lta_validation(sig, spec))
                    if deep and level in ("B-LT", "B-LTA")
                    else None
                )
                # the AdES validation carries the integrity status; validate once only
                status = getattr(lta_result, "api_status", None) or validate_pdf_signature(
                    sig,
                    signer_validation_context=ValidationContext(
                        trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail"
                    ),
                    skip_diff=not deep,
                )
                intact, trusted = status.intact and status.valid, status.trusted
                coverage, whole = _coverage(status)
                if not deep and coverage == "ENTIRE_REVISION":
                    pending.append(index)  # whole if a later document timestamp seals the rest
                    whole = True
                if status.timestamp_validity is not None:
                    signing_time, source = status.timestamp_validity.timestamp, "timestamp"
                else:
                    signing_time = status.signer_reported_dt
                if lta_result is None:  # B-B, B-T, or the quick check
                    ok = intact and trusted
                    verdict = (
                        (
                            f"подпись цела, сертификат доверенный; уровень {level} не допускает долговременной проверки"
                            if level in ("B-B", "B-T")
                            else f"подпись цела, сертификат доверенный, уровень {level} "
                            "(быстрая проверка, без полной проверки AdES)"
                        )
                        if ok
                        else "подпись недействительна"
                        if not intact
                        else "сертификат подписанта не связан с доверенным корневым сертификатом"
                    )
                else:
                    indication = type(lta_result.ades_subindic).__name__
                    subindication = _enum_name(lta_result.ades_subindic)
                    ok = lta_result.ades_subindic == AdESPassed.OK
                    if level == "B-LTA":
                        verdict = (
                            "подпись действительна (AdES: PASSED), проверка возможна в будущем"
                            if ok
                            else f"подпись не прошла проверку AdES: {indication}/{subindication}"
                        )
                    else:  # B-LT: no proof of existence of the revocation data without a document timestamp
                        verdict = (
                            "подпись действительна (AdES: PASSED)"
                            if ok
                            else f"подпись уровня B-LT без штампа времени документа: {indication}/{subindication}"
                        )
        except SignatureValidationError as exc:
            verdict = f"подпись повреждена: {exc}"
        if junk:
            whole = False
            notes.append(
                f"после конца документа (%%EOF) дописаны посторонние данные ({len(junk)} байт): "
                "подпись не охватывает весь файл"
            )
        elif not whole:
            notes.append(
                "после подписи в документ внесены изменения, не допустимые для подписанного документа"
            )
        if not intact:
            ok = False
            verdict = "подпись недействительна: подписанные данные изменены или подпись повреждена"
        if not whole:
            ok = False
        reports.append(
            SignatureReport(
                field_name=sig.field_name,
                kind="timestamp" if is_ts else "signature",
                signer=_name(cert),
                certificate_serial=f"{cert.serial_number:X}",
                certificate_valid_from=_date(
                    cert["tbs_certificate"]["validity"]["not_before"].native
                )
                or "",
                certificate_valid_to=_date(cert["tbs_certificate"]["validity"]["not_after"].native)
                or "",
                signing_time=_date(signing_time),
                signing_time_source=source,
                level=level,
                intact=intact,
                trusted=trusted,
                covers_whole_file=whole,
                coverage=coverage,
                ades_indication=indication,
                ades_subindication=subindication,
                ok=ok,
                verdict=verdict,
                notes=notes,
            )
        )
    if pending:
        # quick check: no diff analysis; updates after a signature count only when an intact,
        # trusted document timestamp over the end of the file seals them
        last = reports[-1]
        sealed = (
            last.kind == "timestamp" and last.intact and last.trusted and last.covers_whole_file
        )
        for index in pending:
            if not sealed and index < len(reports):
                report = reports[index]
                report.covers_whole_file = False
                report.ok = False
                report.notes.append(
                    "после подписи в документ внесены изменения, не заверенные штампом времени документа"
                )
    all_ok = all(r.ok for r in reports)
    return DocumentReport(
        str(path),
        reports,
        all_ok,
        "все подписи действительны"
        if all_ok
        else "есть недействительные или непроверяемые подписи",
    )
