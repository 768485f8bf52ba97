"""The certificates a signed PDF relies on: the signer's chain and the timestamping authority's.

Stored with each archive record (``certs/*.pem`` in its bag), so that a person in
2050 can check the signature with free tools without archiver and without the
school's configuration. They are collected from everything the file carries — each
signature's CMS certificates, those of its signature timestamp token, the document
timestamps', and the document security store (``/DSS /Certs``, PAdES B-LT/B-LTA) —
completed with the configured trust roots, and ordered from the end-entity
certificate up to its root.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import InputError
from archiver.signing.signer_of import signature_containers

MAX_DEPTH = 8
"""No real chain is longer; a loop of cross-certificates stops here."""


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    """What a person needs to know of one certificate (for the README of a record)."""

    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    sha256: str
    """SHA-256 fingerprint of the DER encoding, hex."""
    self_signed: bool


@dataclass(frozen=True, slots=True)
class CertificateChains:
    """DER certificates: the signer's chain and the timestamping authorities' chains."""

    signer: tuple[bytes, ...]
    """The signer's certificate first, then each issuer up to the root (if known)."""
    tsa: tuple[bytes, ...]
    """Every timestamping authority's certificate followed by its issuers (none at B-B)."""

    @property
    def roots(self) -> tuple[bytes, ...]:
        """The self-signed certificates the chains end in (the trust anchors)."""
        found: dict[str, bytes] = {}
        for der in (*self.signer, *self.tsa):
            if summary(der).self_signed:
                found.setdefault(hashlib.sha256(der).hexdigest(), der)
        return tuple(found.values())


def _load(der: bytes) -> Any:
    from asn1crypto import x509

    return x509.Certificate.load(der)


def summary(der: bytes) -> CertificateSummary:
    """Subject, issuer, validity and fingerprint of a DER certificate."""
    cert = _load(der)
    validity = cert["tbs_certificate"]["validity"]
    return CertificateSummary(
        subject=str(cert.subject.human_friendly),
        issuer=str(cert.issuer.human_friendly),
        serial=format(cert.serial_number, "X"),
        not_before=validity["not_before"].native.date().isoformat(),
        not_after=validity["not_after"].native.date().isoformat(),
        sha256=hashlib.sha256(der).hexdigest(),
        self_signed=cert.self_signed in ("yes", "maybe") and cert.subject == cert.issuer,
    )


def pem(ders: Iterable[bytes]) -> str:
    """PEM text of the certificates, in order."""
    from asn1crypto import pem as asn1_pem

    return "".join(asn1_pem.armor("CERTIFICATE", der).decode("ascii") for der in ders)


def load_certificates(paths: Sequence[Path]) -> list[bytes]:
    """DER of every certificate in the PEM or DER files ``paths`` (several per PEM file)."""
    from asn1crypto import pem as asn1_pem

    found: list[bytes] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"сертификат {path} не читается: {exc.strerror}") from exc
        if asn1_pem.detect(data):
            found.extend(der for _, _, der in asn1_pem.unarmor(data, multiple=True))
        else:
            found.append(data)
    return found


def _signed_data_certs(signed_data: Any) -> list[bytes]:
    return [
        bytes(choice.chosen.dump())
        for choice in signed_data["certificates"] or []
        if choice.name == "certificate"
    ]


def _signer_cert(signed_data: Any) -> bytes | None:
    from pyhanko.sign.general import extract_certificate_info

    try:
        return bytes(extract_certificate_info(signed_data).signer_cert.dump())
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def _dss_certs(pdf: bytes) -> list[bytes]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        root: Any = PdfReader(io.BytesIO(pdf)).trailer["/Root"].get_object()
        dss: Any = root.get("/DSS")
        if dss is None:
            return []
        streams: Any = dss.get_object().get("/Certs", [])
        return [bytes(stream.get_object().get_data()) for stream in streams]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        return []


def _chain(start: bytes, pool: dict[str, bytes]) -> list[bytes]:
    """``start`` and its issuers found in ``pool``, up to a self-signed one."""
    chain = [start]
    current = _load(start)
    seen = {hashlib.sha256(start).hexdigest()}
    for _ in range(MAX_DEPTH):
        if current.subject == current.issuer:
            break
        issuer = None
        for sha, der in pool.items():
            if sha in seen:
                continue
            candidate = _load(der)
            if candidate.subject != current.issuer:
                continue
            wanted, key = current.authority_key_identifier, candidate.key_identifier
            if wanted is not None and key is not None and wanted != key:
                continue
            issuer = (sha, der, candidate)
            break
        if issuer is None:
            break
        seen.add(issuer[0])
        chain.append(issuer[1])
        current = issuer[2]
    return chain


def certificate_chains(pdf: bytes, roots: Sequence[bytes] = ()) -> CertificateChains | None:
    """The signer's and the timestamping authorities' chains of a signed PDF; ``None`` if unsigned.

    The signer is that of the latest signature proper (not a document timestamp), as
    :func:`~archiver.signing.signer_of.signer_of` names it. ``roots``: DER certificates
    known to the school (``[signature] trust_roots``), used to complete the chains.
    """
    from asn1crypto import cms

    pool: dict[str, bytes] = {}
    signer: tuple[int, bytes] | None = None
    tsa: list[bytes] = []

    def add(ders: Iterable[bytes]) -> None:
        for der in ders:
            pool.setdefault(hashlib.sha256(der).hexdigest(), der)

    try:
        for end, der in signature_containers(pdf):
            info = cms.ContentInfo.load(der)
            signed_data = info["content"]
            add(_signed_data_certs(signed_data))
            cert = _signer_cert(signed_data)
            if signed_data["encap_content_info"]["content_type"].native == "tst_info":
                if cert is not None:
                    tsa.append(cert)
                continue
            if cert is not None and (signer is None or end > signer[0]):
                signer = (end, cert)
            for signer_info in signed_data["signer_infos"]:
                for attr in signer_info["unsigned_attrs"] or []:
                    if attr["type"].native != "signature_time_stamp_token":
                        continue
                    for token in attr["values"]:
                        token_data = token["content"]
                        add(_signed_data_certs(token_data))
                        token_cert = _signer_cert(token_data)
                        if token_cert is not None:
                            tsa.append(token_cert)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    if signer is None:
        return None
    add(roots)
    chains = _chains(signer[1], tsa, pool)
    if not all(summary(chain[-1]).self_signed for chain in chains):
        add(_dss_certs(pdf))  # parsing the file costs more than all the rest: only when needed
        chains = _chains(signer[1], tsa, pool)
    tsa_chain: dict[str, bytes] = {}
    for chain in chains[1:]:
        for der in chain:
            tsa_chain.setdefault(hashlib.sha256(der).hexdigest(), der)
    return CertificateChains(tuple(chains[0]), tuple(tsa_chain.values()))


def _chains(signer: bytes, tsa: list[bytes], pool: dict[str, bytes]) -> list[list[bytes]]:
    """The signer's chain, then each timestamping authority's."""
    return [_chain(signer, pool), *(_chain(cert, pool) for cert in dict.fromkeys(tsa))]


__all__ = [
    "CertificateChains",
    "CertificateSummary",
    "certificate_chains",
    "load_certificates",
    "pem",
    "summary",
]
