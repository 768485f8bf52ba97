"""Who signed a document: the certificate of its latest signature proper.

Reads the signature containers straight from their byte ranges (fast enough to run
on every stored document); whether the signature is valid is :mod:`archiver.signing.check`'s
question.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from archiver.errors import InputError


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """The signer of a document's latest embedded signature."""

    cert_sha256: str
    """SHA-256 (hex) of the DER encoding of the signer's certificate."""
    subject: str


_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def signature_containers(pdf: bytes) -> list[tuple[int, bytes]]:
    """Every signature's CMS container with the end of the revision it signs.

    A PDF signature's ``/ByteRange [0 a b c]`` leaves out exactly its ``/Contents``,
    the hex string ``<…>`` between offsets ``a`` and ``b``; reading it from there is
    a hundred times faster than tokenizing the PDF (pyHanko and pypdf read hex strings
    a character at a time). Matches that do not frame a hex string are not signatures.
    """
    found = []
    for match in _BYTE_RANGE.finditer(pdf):
        start, first_end, second_start, second_length = map(int, match.groups())
        end = second_start + second_length
        if start != 0 or not first_end < second_start <= end <= len(pdf):
            continue
        gap = pdf[first_end:second_start]
        if not (gap.startswith(b"<") and gap.endswith(b">")):
            continue
        try:
            found.append((end, bytes.fromhex(gap[1:-1].decode("ascii"))))
        except (UnicodeDecodeError, ValueError):
            continue
    return found


def signer_of(pdf: bytes, name: str = "документ") -> SignerInfo | None:
    """The signer of the latest signature proper, or ``None`` for an unsigned PDF.

    Document timestamps (B-LTA appends one after the signature; their CMS content is
    a ``TSTInfo``) are not signatures of a person and are skipped: the signer is the
    director, not the timestamping authority. This only names the signer; whether the
    signature is valid is :mod:`archiver.signing.check`'s question.
    """
    from asn1crypto import cms
    from pyhanko.sign.general import extract_certificate_info

    latest: tuple[int, Any] | None = None
    try:
        for end, der in signature_containers(pdf):
            info = cms.ContentInfo.load(der)
            if info["content_type"].native != "signed_data":
                raise ValueError("контейнер подписи не SignedData")
            signed_data = info["content"]
            if signed_data["encap_content_info"]["content_type"].native == "tst_info":
                continue  # a document timestamp
            if latest is None or end > latest[0]:
                latest = (end, signed_data)
        if latest is None:
            return None
        certificate = extract_certificate_info(latest[1]).signer_cert
        der_cert = bytes(certificate.dump())
        subject = str(certificate.subject.human_friendly)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InputError(f"{name}: не удалось прочитать подпись документа ({exc})") from exc
    return SignerInfo(cert_sha256=hashlib.sha256(der_cert).hexdigest(), subject=subject)
