"""Signatures made outside archiver: a command line (КриптоПро, a token's tool, OpenSSL with ГОСТ).

A certified ГОСТ key never leaves its CSP or token, and pyHanko (asn1crypto) knows no
ГОСТ algorithms. So the PDF signature is made in two steps: pyHanko prepares the
document with its signature field, visible mark and a reserved ``/Contents``
(:func:`prepare`); the bytes the signature covers (the file without ``/Contents``,
``/ByteRange``) go to the external program, which returns a detached CMS (CAdES-BES);
archiver writes it into the reserved place (:func:`embed`). The same steps serve
``archiver sign --prepare`` / ``--complete``, where the program runs on the
director's own computer.

What archiver checks itself (:func:`check_embedded`): the byte ranges cover the whole
file but the signature, the CMS ``messageDigest`` equals the digest of those bytes
(Стрибог through OpenSSL's ГОСТ engine, SHA-2 through hashlib), the certificate is
the configured one. The signature value itself, for ГОСТ, is checked only by the
configured verify command; every check says who did it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from archiver.files import write_atomic
from archiver.settings import CommandSigner, SignatureSettings
from archiver.signing.check import DocumentReport, SignatureReport
from archiver.signing.sign import (
    DocumentSigner,
    LoadedSigner,
    SignerIdentity,
    SignError,
    SignOutcome,
    check_validity,
)

COMMAND_SECRET_ENV = "ARCHIVER_SIGNER_SECRET"
"""The variable a sign command finds the passphrase in (``openssl … -passin env:…``)."""
SIG_SUFFIX = ".sig"
"""The detached CAdES signature of the whole signed file, beside it (``X.pdf.sig``)."""
GOST_OIDS = "1.2.643."
STREEBOG = {"1.2.643.7.1.1.2.2": "md_gost12_256", "1.2.643.7.1.1.2.3": "md_gost12_512"}
HASHLIB = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
SIGNATURE_TIMESTAMP = "1.2.840.113549.1.9.16.2.14"
"""id-aa-signatureTimeStampToken: a CAdES-T timestamp the signing program added."""
COMMAND_TIMEOUT = 600
"""Seconds a sign or verify command may take (the director may be typing a PIN in its window)."""
ARCHIVER = "archiver"
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def load_certificate(path: Path) -> tuple[bytes, x509.Certificate]:
    """The DER bytes and the certificate of a PEM or DER file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SignError(f"сертификат подписанта {path} не читается: {exc.strerror}") from exc
    try:
        cert = (
            x509.load_pem_x509_certificate(data)
            if b"-----BEGIN" in data
            else x509.load_der_x509_certificate(data)
        )
    except ValueError as exc:
        raise SignError(f"{path}: это не сертификат X.509 (PEM или DER)") from exc
    return cert.public_bytes(serialization.Encoding.DER), cert


def _fill(command: Sequence[str], **files: Path) -> list[str]:
    args = []
    for arg in command:
        for name, path in files.items():
            arg = arg.replace("{" + name + "}", str(path))
        args.append(arg)
    return args


def _run(args: list[str], secret: str | None, what: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env.pop(COMMAND_SECRET_ENV, None)
    if secret is not None:
        env[COMMAND_SECRET_ENV] = secret
    try:
        return subprocess.run(
            args, env=env, capture_output=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except FileNotFoundError as exc:
        raise SignError(f"{what}: программа {args[0]} не найдена") from exc
    except subprocess.TimeoutExpired as exc:
        raise SignError(f"{what}: программа {args[0]} не ответила за {COMMAND_TIMEOUT} с") from exc


def _tail(output: bytes) -> str:
    text = output.decode("utf-8", "replace").strip().splitlines()
    return " / ".join(text[-3:]) if text else "без сообщений"


def run_sign_command(command: Sequence[str], data: bytes, secret: str | None) -> bytes:
    """Hand ``data`` to the sign command and read back its detached CMS (DER or PEM)."""
    with tempfile.TemporaryDirectory(prefix="archiver-sign-") as folder:
        data_path, sig_path = Path(folder) / "data.bin", Path(folder) / "data.bin.sig"
        data_path.write_bytes(data)
        done = _run(_fill(command, data=data_path, signature=sig_path), secret, "подпись")
        if done.returncode != 0:
            raise SignError(
                f"программа подписи {command[0]} завершилась с ошибкой (код {done.returncode}): "
                f"{_tail(done.stderr or done.stdout)}"
            )
        if not sig_path.is_file() or not sig_path.stat().st_size:
            raise SignError(
                f"программа подписи {command[0]} не записала подпись в файл {{signature}}"
            )
        return cms_der(sig_path.read_bytes(), f"подпись от {command[0]}")


def cms_der(raw: bytes, where: str) -> bytes:
    """A CMS signature as DER (PEM or base64 accepted, as CAdES tools write either).

    DER is binary: it is taken as it is, up to the end its own length gives (a byte
    that looks like white space at its end is part of the signature, not to be stripped).
    """
    import base64
    import binascii

    data = raw
    if not data.startswith(b"\x30"):  # text: PEM or base64 (DER starts with a SEQUENCE)
        data = data.strip()
        if data.startswith(b"-----BEGIN"):
            data = b"".join(line for line in data.splitlines() if not line.startswith(b"-----"))
        try:
            data = base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise SignError(f"{where}: это не подпись CMS") from exc
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "signed_data":
            raise ValueError("не SignedData")
        info["content"]["signer_infos"][0]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise SignError(f"{where}: это не подпись CMS (SignedData): {exc}") from exc
    return bytes(info.dump())


def run_verify_command(command: Sequence[str], data: bytes, cms: bytes) -> tuple[bool, str]:
    """Run the configured verify command on ``data`` and its detached ``cms``: (valid, its words)."""
    with tempfile.TemporaryDirectory(prefix="archiver-verify-") as folder:
        data_path, sig_path = Path(folder) / "data.bin", Path(folder) / "data.bin.sig"
        data_path.write_bytes(data)
        sig_path.write_bytes(cms)
        done = _run(_fill(command, data=data_path, signature=sig_path), None, "проверка")
    return done.returncode == 0, _tail(done.stderr + done.stdout)


# -- the PDF side


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document with its signature prepared and ``/Contents`` reserved: ``pdf[start:end]`` is ``<00…>``."""

    pdf: bytes
    start: int
    end: int

    @property
    def signed_data(self) -> bytes:
        """What the signature covers: the file without the reserved ``/Contents``."""
        return self.pdf[: self.start] + self.pdf[self.end :]


def prepare(signer: DocumentSigner, pdf: bytes, reserve: int) -> Prepared:
    """Prepare the signature of ``pdf`` with pyHanko (field, visible mark, byte ranges), unsigned."""
    from pyhanko.sign import signers

    writer, meta, field_spec = signer.prepare_writer(pdf)
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer.loaded.pyhanko_signer,
        stamp_style=signer.stamp_style,
        new_field_spec=field_spec,
    )
    try:
        digest, _, output = asyncio.run(
            pdf_signer.async_digest_doc_for_signing(
                writer, bytes_reserved=reserve, appearance_text_params=signer.stamp_params()
            )
        )
    except Exception as exc:
        raise SignError(f"документ не подготовлен к подписи: {type(exc).__name__}: {exc}") from exc
    data = output.getvalue() if hasattr(output, "getvalue") else bytes(output.read())
    return Prepared(data, digest.reserved_region_start, digest.reserved_region_end)


def embed(prepared: Prepared, cms: bytes) -> bytes:
    """Write the CMS into the reserved ``/Contents`` (hex, zero-padded)."""
    room = prepared.end - prepared.start - 2
    hexed = cms.hex().encode("ascii")
    if len(hexed) > room:
        raise SignError(
            f"подпись ({len(cms)} байт) не помещается в отведённое место ({room // 2} байт): "
            "увеличьте [signer] reserve_bytes"
        )
    contents = b"<" + hexed + b"0" * (room - len(hexed)) + b">"
    return prepared.pdf[: prepared.start] + contents + prepared.pdf[prepared.end :]


# -- checks


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One check of an external signature: what, by whom, passed or not."""

    what: str
    by: str
    ok: bool
    detail: str = ""

    def text(self) -> str:
        """«проверено (кем): что — да/нет (подробности)»."""
        mark = "да" if self.ok else "НЕТ"
        more = f" ({self.detail})" if self.detail else ""
        return f"{self.what} [проверяет {self.by}]: {mark}{more}"


@dataclass(slots=True)
class ExternalCheck:
    """The checks of a signature archiver cannot validate itself."""

    lines: list[CheckLine] = field(default_factory=list)
    signer: str = ""
    serial: str = ""
    valid_from: str = ""
    valid_to: str = ""
    signing_time: str | None = None
    digest_algorithm: str = ""
    timestamped: bool = False
    """The program added a signature timestamp (CAdES-T; checked by the verify command only)."""
    cms: bytes = b""
    signed_data: bytes = b""

    @property
    def ok(self) -> bool:
        """Every check passed, and a check of the signature value itself was among them."""
        return bool(self.lines) and all(line.ok for line in self.lines) and self.value_checked

    @property
    def value_checked(self) -> bool:
        """Whether some check verified the signature value (the verify command)."""
        return any(line.by != ARCHIVER for line in self.lines)


def latest_signature(pdf: bytes) -> tuple[bytes, bytes, bool] | None:
    """The last signature's CMS, the bytes it covers, and whether its ranges cover the whole file."""
    found = None
    for match in _BYTE_RANGE.finditer(pdf):
        start, first_end, second_start, length = map(int, match.groups())
        gap = pdf[first_end:second_start] if first_end < second_start <= len(pdf) else b""
        if start != 0 or not (gap.startswith(b"<") and gap.endswith(b">")):
            continue
        try:
            cms = bytes.fromhex(gap[1:-1].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            continue
        data = pdf[:first_end] + pdf[second_start : second_start + length]
        found = (cms, data, second_start + length == len(pdf))
    return found


def _digest(algorithm: str, data: bytes) -> bytes:
    if algorithm in HASHLIB:
        return hashlib.new(HASHLIB[algorithm], data).digest()
    if algorithm in STREEBOG:
        done = subprocess.run(
            ["openssl", "dgst", "-engine", "gost", f"-{STREEBOG[algorithm]}", "-binary"],
            input=data,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise SignError(
                "хэш ГОСТ Р 34.11-2012 не вычислен: нужен OpenSSL с модулем gost "
                f"(Debian: libengine-gost-openssl): {_tail(done.stderr)}"
            )
        return done.stdout
    raise SignError(f"неизвестный алгоритм хэширования {algorithm}")


def _trim_zeros(cms: bytes) -> bytes:
    """The CMS without the zero padding of ``/Contents`` (its DER length says where it ends)."""
    from asn1crypto import cms as asn1_cms

    info = asn1_cms.ContentInfo.load(cms, strict=False)
    return bytes(info.dump())


def check_cms(
    cms: bytes,
    data: bytes,
    certificate_der: bytes | None,
    verify_command: Sequence[str] | None,
) -> ExternalCheck:
    """Check a detached CMS over ``data``: digest, certificate, then the verify command."""
    from asn1crypto import cms as asn1_cms
    from pyhanko.sign.general import extract_certificate_info

    result = ExternalCheck(cms=cms, signed_data=data)
    try:
        signed = asn1_cms.ContentInfo.load(cms)["content"]
        info = signed["signer_infos"][0]
        algorithm = info["digest_algorithm"]["algorithm"].dotted
        attrs = {a["type"].native: a["values"][0] for a in info["signed_attrs"]}
        claimed = attrs["message_digest"].native
        cert = extract_certificate_info(signed).signer_cert
        cert_der = bytes(cert.dump())
        validity = cert["tbs_certificate"]["validity"]
        names = cert.subject.native
        result.signer = str(names.get("common_name") or cert.subject.human_friendly)
        result.serial = f"{cert.serial_number:X}"
        result.valid_from = validity["not_before"].native.date().isoformat()
        result.valid_to = validity["not_after"].native.date().isoformat()
        if "signing_time" in attrs:
            result.signing_time = attrs["signing_time"].native.isoformat()
        result.digest_algorithm = algorithm
        unsigned = info["unsigned_attrs"]
        result.timestamped = bool(unsigned) and any(
            a["type"].dotted == SIGNATURE_TIMESTAMP for a in unsigned
        )
        detached = not signed["encap_content_info"]["content"]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        result.lines.append(
            CheckLine("подпись читается как CMS SignedData", ARCHIVER, False, str(exc))
        )
        return result
    result.lines.append(
        CheckLine("подпись отделённая (CAdES, без вложенных данных)", ARCHIVER, detached)
    )
    try:
        actual = _digest(algorithm, data)
        result.lines.append(
            CheckLine(
                f"хэш документа ({'ГОСТ Р 34.11-2012' if algorithm in STREEBOG else HASHLIB.get(algorithm, algorithm)}) "
                "совпадает с хэшем в подписи (messageDigest)",
                ARCHIVER if algorithm in HASHLIB else f"{ARCHIVER} через OpenSSL (модуль gost)",
                actual == claimed,
            )
        )
    except SignError as exc:
        result.lines.append(
            CheckLine("хэш документа совпадает с хэшем в подписи", ARCHIVER, False, str(exc))
        )
    if certificate_der is not None:
        result.lines.append(
            CheckLine(
                "сертификат подписи — сертификат директора из настроек ([signer] certificate)",
                ARCHIVER,
                cert_der == certificate_der,
                "" if cert_der == certificate_der else f"в подписи: {result.signer}",
            )
        )
    if verify_command:
        ok, words = run_verify_command(verify_command, data, cms)
        result.lines.append(
            CheckLine("подпись (значение ЭП и сертификат) верна", verify_command[0], ok, words)
        )
    return result


def check_embedded(
    pdf: bytes, certificate_der: bytes | None, verify_command: Sequence[str] | None
) -> ExternalCheck:
    """Check the PDF's last signature with what archiver can and the verify command."""
    found = latest_signature(pdf)
    if found is None:
        return ExternalCheck([CheckLine("в документе есть подпись", ARCHIVER, False)])
    cms, data, whole = found
    try:
        cms = _trim_zeros(cms)
    except ValueError as exc:
        return ExternalCheck([CheckLine("подпись читается как CMS", ARCHIVER, False, str(exc))])
    result = check_cms(cms, data, certificate_der, verify_command)
    result.lines.insert(
        0,
        CheckLine(
            "подпись охватывает весь файл, кроме самой подписи (/ByteRange)", ARCHIVER, whole
        ),
    )
    return result


def is_gost(pdf: bytes) -> bool:
    """Whether the document's last signature is by a ГОСТ key (pyHanko cannot validate it)."""
    from asn1crypto import cms as asn1_cms

    found = latest_signature(pdf)
    if found is None:
        return False
    try:
        info = asn1_cms.ContentInfo.load(_trim_zeros(found[0]))["content"]["signer_infos"][0]
        return str(info["signature_algorithm"]["algorithm"].dotted).startswith(GOST_OIDS)
    except (ValueError, KeyError, IndexError, TypeError):
        return False


def external_report(path: Path, signer: CommandSigner | None) -> DocumentReport:
    """``check-signature``'s report of a ГОСТ-signed document: archiver's checks and the verify command."""
    pdf = path.read_bytes()
    cert_der = load_certificate(signer.certificate)[0] if signer is not None else None
    verify = signer.verify_command if signer is not None else None
    checked = check_embedded(pdf, cert_der, verify)
    notes = [line.text() for line in checked.lines]
    if checked.timestamped:
        notes.append("в подписи есть штамп времени от программы подписи (CAdES-T)")
    if not checked.value_checked:
        notes.append(
            "значение подписи ГОСТ не проверено: archiver (pyHanko) не знает алгоритмов ГОСТ; "
            "задайте [signer] verify_command (cryptcp -verify, openssl cms -verify)"
        )
    report = SignatureReport(
        field_name="DirectorSignature",
        kind="signature",
        signer=checked.signer,
        certificate_serial=checked.serial,
        certificate_valid_from=checked.valid_from,
        certificate_valid_to=checked.valid_to,
        signing_time=checked.signing_time,
        signing_time_source="claimed",
        level="B-T" if checked.timestamped else "B-B",
        intact=all(line.ok for line in checked.lines if line.by == ARCHIVER),
        trusted=checked.value_checked and checked.ok,
        covers_whole_file=bool(checked.lines) and checked.lines[0].ok,
        coverage="ENTIRE_FILE" if checked.lines and checked.lines[0].ok else "PARTIAL",
        ades_indication=None,
        ades_subindication=None,
        ok=checked.ok,
        verdict="ДЕЙСТВИТЕЛЕН (проверки ниже)" if checked.ok else "НЕ ПОДТВЕРЖДЁН (см. проверки)",
        notes=notes,
    )
    message = (
        "подпись ГОСТ подтверждена: " if checked.ok else "подпись ГОСТ не подтверждена: "
    ) + "; ".join(notes)
    return DocumentReport(str(path), [report], checked.ok, message)


# -- the signer


class CommandDocumentSigner(DocumentSigner):
    """Signs with the configured command: PAdES via :func:`prepare`/:func:`embed`, and a ``.sig``."""

    def __init__(
        self,
        command: CommandSigner,
        settings: SignatureSettings,
        secret: str,
        zone: tzinfo | None = None,
    ) -> None:
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign import signers

        self.command = command
        self.secret = secret if command.asks_secret else None
        self.certificate_der, certificate = load_certificate(command.certificate)
        identity = SignerIdentity.of(certificate)
        check_validity(identity)
        external = signers.ExternalSigner(
            signing_cert=asn1_x509.Certificate.load(self.certificate_der),
            cert_registry=None,
            signature_value=bytes(64),
        )
        loaded = LoadedSigner(identity, external, certificate)
        # the CMS is the program's: CAdES-BES, so the PDF signature is B-B
        super().__init__(
            loaded, settings.model_copy(update={"level": "B-B", "tsa_url": None}), zone
        )

    def make_cms(self, data: bytes) -> bytes:
        """The command's detached CMS over ``data``."""
        return run_sign_command(self.command.sign_command, data, self.secret)

    def finish(self, prepared: Prepared, cms: bytes) -> bytes:
        """Embed ``cms`` and check the result; :class:`SignError` when a check fails."""
        signed = embed(prepared, cms)
        checked = check_embedded(signed, self.certificate_der, self.command.verify_command)
        failed = [line.text() for line in checked.lines if not line.ok]
        if failed:
            raise SignError("подпись не принята:\n" + "\n".join(f"  - {f}" for f in failed))
        return signed

    def sign_bytes(self, pdf: bytes) -> bytes:
        prepared = prepare(self, pdf, self.command.reserve_bytes)
        return self.finish(prepared, self.make_cms(prepared.signed_data))

    def write_signed(self, path: Path, data: bytes) -> SignOutcome:
        """The signed PDF in place of ``path``, and beside it ``X.pdf.sig`` over the whole signed file."""
        signed = self.sign_bytes(data)
        detached = self.make_cms(signed)
        checked = check_cms(detached, signed, self.certificate_der, self.command.verify_command)
        failed = [line.text() for line in checked.lines if not line.ok]
        if failed:
            raise SignError(
                f"отделённая подпись {path.name}{SIG_SUFFIX} не принята:\n"
                + "\n".join(f"  - {f}" for f in failed)
            )
        write_atomic(path.with_name(path.name + SIG_SUFFIX), detached)
        write_atomic(path, signed)
        return SignOutcome(path, True, level=self.level, note="подпись внешней программой")


def describe_checks(checked: ExternalCheck) -> list[str]:
    """Russian lines, one per check, saying who did it."""
    return [line.text() for line in checked.lines]


__all__: list[Any] = [
    "COMMAND_SECRET_ENV",
    "SIG_SUFFIX",
    "CommandDocumentSigner",
    "Prepared",
    "check_cms",
    "check_embedded",
    "embed",
    "external_report",
    "is_gost",
    "prepare",
]
