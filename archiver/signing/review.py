"""The director's review before signing: what will be signed, by whose certificate, then one batch.

Regulation 3.8 and 63-ФЗ: the key is the director's alone and the director signs
knowing what. A :class:`SigningBatch` lists every document with its class, kind,
sheets and sha256; the year-end run writes one into its folder
(``signing-request.json``) when it stops at «ждёт подписи директора». The director's
review shows it with the certificate (:func:`certificate_warnings`) before any PIN is
asked, and :func:`sign_reviewed` then signs exactly the reviewed bytes: a document
changed after the review is refused, and nothing of the batch is signed.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from cryptography import x509

from archiver.files import write_atomic
from archiver.kinds import CLASS_JOURNAL, EXTRACT_KIND, FINAL_MARKS
from archiver.progress import ProgressCallback, StageProgress
from archiver.settings import CommandSigner, Pkcs11Signer, SignatureSettings
from archiver.signing.sign import (
    DocumentSigner,
    SignerIdentity,
    SignError,
    SignOutcome,
    TimestampingService,
    is_signed,
)
from archiver.wording import program, ru_date

REQUEST_FILE = "signing-request.json"
"""In the year-end run's folder: the batch waiting for the director's signature."""
REQUEST_FORMAT = "archiver-signing-request/1"
EXPIRY_WARNING = timedelta(days=30)
KIND_TEXT = {
    CLASS_JOURNAL: "распечатка журнала",
    FINAL_MARKS: "сводная ведомость итоговых отметок",
    EXTRACT_KIND: "выписка",
}


@dataclass(frozen=True, slots=True)
class BatchDocument:
    """One document as the director reviews it."""

    path: str
    kind: str
    class_id: str
    title: str
    sheets: int
    sha256: str

    @property
    def kind_text(self) -> str:
        """The kind in Russian."""
        return KIND_TEXT.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class SigningBatch:
    """The documents to sign in one go, and whose they are."""

    school: str
    academic_year: str
    director: str | None
    """The director named in the export (the certificate should be theirs)."""
    documents: list[BatchDocument] = field(default_factory=list)
    created: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``signing-request.json``, ``sign --review --json``)."""
        return {
            "format": REQUEST_FORMAT,
            "school": self.school,
            "academic_year": self.academic_year,
            "director": self.director,
            "created": self.created,
            "documents": [asdict(d) for d in self.documents],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SigningBatch:
        """Read what :meth:`to_json` wrote."""
        if data.get("format") != REQUEST_FORMAT:
            raise ValueError(f"неизвестный формат {data.get('format')!r}")
        return cls(
            school=str(data["school"]),
            academic_year=str(data["academic_year"]),
            director=data.get("director"),
            created=str(data.get("created", "")),
            documents=[BatchDocument(**d) for d in data["documents"]],
        )

    @property
    def sheets(self) -> int:
        """Sheets of every document together."""
        return sum(d.sheets for d in self.documents)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe_document(path: Path, data: bytes | None = None) -> BatchDocument:
    """Kind, class, title and sheets from the PDF's metadata (as ``archiver render`` writes them)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        data = path.read_bytes() if data is None else data
        reader = PdfReader(io.BytesIO(data))
        info: dict[str, Any] = dict(reader.metadata or {})
        sheets = len(reader.pages)
    except OSError as exc:
        raise SignError(f"файл {path} не читается: {exc.strerror}") from exc
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise SignError(f"{path}: не читается как PDF ({exc})") from exc
    parts = [p.strip() for p in str(info.get("/Keywords") or "").split(";")]
    kind = parts[0] if parts and parts[0] else "document"
    class_id = parts[1] if len(parts) > 1 else ""
    title = str(info.get("/Title") or path.name)
    return BatchDocument(str(path), kind, class_id, title, sheets, _sha256(data))


def make_batch(
    paths: Sequence[Path],
    *,
    school: str | None = None,
    academic_year: str | None = None,
    director: str | None = None,
) -> SigningBatch:
    """The batch of ``paths`` (already signed ones left out); school and year from the documents if not given."""
    from pypdf import PdfReader

    documents = []
    for path in paths:
        data = path.read_bytes()
        if is_signed(data):
            continue
        documents.append(describe_document(path.resolve(), data))
        if school is None or academic_year is None:
            info: dict[str, Any] = dict(PdfReader(io.BytesIO(data)).metadata or {})
            school = school or str(info.get("/Author") or "") or None
            parts = str(info.get("/Keywords") or "").split(";")
            academic_year = academic_year or (parts[2].strip() if len(parts) > 2 else None)
    return SigningBatch(
        school=school or "не указана",
        academic_year=academic_year or "не указан",
        director=director,
        documents=documents,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def write_request(folder: Path, batch: SigningBatch) -> Path:
    """Save the batch waiting for the director's signature into the run's folder."""
    path = folder / REQUEST_FILE
    text = json.dumps(batch.to_json(), ensure_ascii=False, indent=1) + "\n"
    write_atomic(path, text.encode("utf-8"))
    return path


def read_request(folder: Path) -> SigningBatch | None:
    """The batch waiting in ``folder``, or ``None``."""
    path = folder / REQUEST_FILE
    if not path.is_file():
        return None
    try:
        return SigningBatch.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise SignError(f"{path}: не читается как список документов на подпись ({exc})") from exc


def _words(name: str) -> list[str]:
    return sorted(name.replace("ё", "е").replace("Ё", "Е").lower().split())


def certificate_warnings(
    identity: SignerIdentity, director: str | None, now: datetime | None = None
) -> list[str]:
    """What the director must notice about the certificate before signing (Russian)."""
    now = now or datetime.now(UTC)
    warnings = []
    if identity.not_after - now < EXPIRY_WARNING:
        left = max((identity.not_after - now).days, 0)
        warnings.append(
            f"срок действия сертификата заканчивается {ru_date(identity.not_after)} "
            f"(осталось дней: {left}): закажите новый сертификат заранее"
        )
    if director and _words(director) != _words(identity.owner):
        warnings.append(
            f"сертификат выдан на «{identity.owner}», а директором в выгрузке указан(а) "
            f"«{director}»: подписывать должен директор своим ключом"
        )
    if identity.is_demo:
        warnings.append("это ДЕМОНСТРАЦИОННЫЙ сертификат: подпись не имеет юридической силы")
    return warnings


def changed_since_review(batch: SigningBatch) -> list[str]:
    """Documents of the batch whose bytes are no longer what was reviewed (Russian lines)."""
    changed = []
    for doc in batch.documents:
        path = Path(doc.path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            changed.append(f"{path}: файл не читается ({exc.strerror})")
            continue
        if _sha256(data) != doc.sha256 and not is_signed(data):
            changed.append(f"{path}: документ изменён после просмотра (sha256 другой)")
    return changed


def refuse_changed(batch: SigningBatch) -> None:
    """:class:`SignError` naming every document changed since the review; nothing is signed."""
    changed = changed_since_review(batch)
    if changed:
        raise SignError(
            "документы изменились после просмотра директором, ничего не подписано:\n"
            + "\n".join(f"  - {line}" for line in changed)
            + f"\nПросмотрите документы заново ({program()} sign --review)"
        )


def sign_reviewed(
    signer: DocumentSigner, batch: SigningBatch, progress: ProgressCallback | None = None
) -> list[SignOutcome]:
    """Sign the reviewed documents, each only if its bytes are still the reviewed ones.

    Every document is checked before the first signature (nothing is signed when one
    changed), and again as it is read for signing.
    """
    refuse_changed(batch)
    stage = StageProgress(progress, "sign")
    stage.start(len(batch.documents))
    outcomes = []
    for doc in batch.documents:
        path = Path(doc.path)
        data = path.read_bytes()
        if is_signed(data):
            outcomes.append(
                SignOutcome(path, False, note="уже подписан, повторно не подписывается")
            )
            stage.step(str(path), status="skipped")
            continue
        if _sha256(data) != doc.sha256:
            raise SignError(
                f"{path}: документ изменён после просмотра (sha256 другой); не подписан"
            )
        outcomes.append(signer.write_signed(path, data))
        stage.step(str(path), status="signed")
    stage.finish()
    return outcomes


def certificate_before_pin(settings: SignatureSettings) -> SignerIdentity:
    """The certificate that will sign, read without the passphrase or PIN (shown at the review).

    ``kind = "command"``: its ``certificate``; PKCS#12: ``[signer] certificate``, else the
    certificate if the file keeps it unencrypted; PKCS#11: the token's certificate object
    (public, read without logging in).
    """
    signer = settings.signer
    if signer is None:
        raise SignError("в файле настроек не задан подписант (раздел [signer])")
    if isinstance(signer, CommandSigner):
        from archiver.signing.external import load_certificate

        return SignerIdentity.of(load_certificate(signer.certificate)[1])
    if isinstance(signer, Pkcs11Signer):
        return SignerIdentity.of(_token_certificate(signer))
    if signer.certificate is not None:
        from archiver.signing.external import load_certificate

        return SignerIdentity.of(load_certificate(signer.certificate)[1])
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        _, cert, _ = pkcs12.load_key_and_certificates(signer.path.read_bytes(), None)
    except (ValueError, OSError) as exc:
        raise SignError(
            f"сертификат в {signer.path} закрыт паролем, а директор должен увидеть его до ввода "
            "пароля: укажите файл сертификата в [signer] certificate"
        ) from exc
    if cert is None:
        raise SignError(f"в файле {signer.path} нет сертификата подписанта")
    return SignerIdentity.of(cert)


def _token_certificate(settings: Pkcs11Signer) -> x509.Certificate:
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    try:
        lib = pkcs11.lib(str(settings.module))
        token = lib.get_token(token_label=settings.token_label)
        with token.open() as session:
            for obj in session.get_objects(
                {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: settings.cert_label}
            ):
                return x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
    except Exception as exc:  # python-pkcs11 raises its own errors for a missing token or module
        raise SignError(
            f"не удалось прочитать сертификат с токена «{settings.token_label}»: {exc}"
        ) from exc
    raise SignError(f"на токене «{settings.token_label}» нет сертификата «{settings.cert_label}»")


def sign_batch(
    signature: SignatureSettings,
    batch: SigningBatch,
    shown: SignerIdentity,
    secret: str,
    timestamping: TimestampingService | None = None,
    progress: ProgressCallback | None = None,
    zone: tzinfo | None = None,
) -> tuple[list[SignOutcome], str, str | None]:
    """Sign the reviewed batch with the configured signer, whose certificate must be the one shown.

    ``zone``: the school's time zone, for the signing time in the visible mark.
    Returns the outcomes, the signing level and who checked an external program's
    signatures (:func:`checked_by`). Nothing is signed when the key's certificate is
    not the one the director saw at the review.
    """
    from archiver.signing.sign import signing_session

    with signing_session(signature, secret, timestamping, zone=zone) as signer:
        loaded = signer.loaded.identity
        if loaded.fingerprint_sha256 != shown.fingerprint_sha256:
            raise SignError(
                f"ключ подписывает сертификатом {loaded.owner} ({loaded.serial_hex}), а директору "
                f"был показан {shown.owner} ({shown.serial_hex}); ничего не подписано"
            )
        outcomes = sign_reviewed(signer, batch, progress)
        return outcomes, signer.level, checked_by(signer)


def checked_by(signer: DocumentSigner) -> str | None:
    """Who checked an external program's signatures (archiver checks what it can, the tool the rest)."""
    from archiver.signing.external import CommandDocumentSigner

    if not isinstance(signer, CommandDocumentSigner):
        return None
    verify = signer.command.verify_command
    return "Проверено — archiver: охват файла, хэш документа, сертификат" + (
        f"; {verify[0]}: значение подписи"
        if verify
        else "; значение подписи не проверено (нет [signer] verify_command)"
    )
