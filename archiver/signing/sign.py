"""The director's electronic signature: PAdES B-B … B-LTA with pyHanko.

The signer is pluggable (:class:`SignerBackend`): a PKCS#12 file or a PKCS#11
token (RSA/ECDSA keys, signed by pyHanko), or an external program that makes the
CMS itself — КриптоПро, a token's tool, OpenSSL with ГОСТ
(:mod:`archiver.signing.external`, ``[signer] kind = "command"``). The key is loaded once and reused for a whole
batch. Each signed file is written atomically in place of the unsigned one;
an already signed document is never signed again.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import certifi
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
from pyhanko_certvalidator import ValidationContext

from archiver.errors import ArchiverError, ExitCode
from archiver.files import os_reason, write_atomic
from archiver.kinds import CLASS_JOURNAL, EXTRACT_KIND, FINAL_MARKS, INVENTORY
from archiver.parallel import fork_map
from archiver.progress import ProgressCallback, StageProgress
from archiver.render.pdf import SIGNATURE_FIELD, TITLE_SIGNATURE_BOX
from archiver.settings import CommandSigner, Pkcs11Signer, SignatureSettings
from archiver.wording import local_time, ru_date

FIELD_NAME = SIGNATURE_FIELD
STAMP_FONT = Path("/usr/share/fonts/truetype/paratype/PTF55F.ttf")
"""PT Serif: a Cyrillic serif with unitsPerEm = 1000, so pyHanko writes correct glyph widths."""
STAMP_BOX = (
    int(TITLE_SIGNATURE_BOX[0]),
    int(TITLE_SIGNATURE_BOX[1]),
    int(TITLE_SIGNATURE_BOX[2]),
    int(TITLE_SIGNATURE_BOX[3]),
)
"""Where the visible mark goes when the document has no signature field of its own."""
DEMO_MARK = "ДЕМО"


class SignError(ArchiverError):
    """A document could not be signed; nothing was written."""

    exit_code = ExitCode.FAILURE


@dataclass(frozen=True, slots=True)
class SignerIdentity:
    """What the visible mark and the reports say about the signer's certificate."""

    owner: str
    subject: str
    serial_hex: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str

    @property
    def is_demo(self) -> bool:
        """A demo certificate (says «ДЕМО — не имеет юридической силы» in its subject)."""
        return DEMO_MARK in self.subject

    @classmethod
    def of(cls, certificate: x509.Certificate) -> SignerIdentity:
        names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        owner = str(names[0].value) if names else certificate.subject.rfc4514_string()
        return cls(
            owner=owner,
            subject=certificate.subject.rfc4514_string(),
            serial_hex=f"{certificate.serial_number:X}",
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        )


class SignerBackend(Protocol):
    """Anything that can give pyHanko a signer for the director's certificate.

    ``identity`` describes the certificate; ``pyhanko_signer`` is a
    :class:`pyhanko.sign.signers.Signer` (its ``async_sign_raw`` does the
    private-key operation: in software, on a token, or in an external program).
    """

    identity: SignerIdentity

    @property
    def pyhanko_signer(self) -> signers.Signer: ...


@dataclass(slots=True)
class LoadedSigner:
    """A signer ready for a batch: the key stays loaded (or the token session open)."""

    identity: SignerIdentity
    pyhanko_signer: signers.Signer
    certificate: x509.Certificate


def check_validity(identity: SignerIdentity, now: datetime | None = None) -> None:
    """Refuse an expired or not yet valid certificate, in Russian."""
    now = now or datetime.now(UTC)
    if now < identity.not_before:
        raise SignError(
            f"сертификат подписанта ({identity.owner}) ещё не действует: "
            f"срок действия начинается {ru_date(identity.not_before)}"
        )
    if now > identity.not_after:
        raise SignError(
            f"срок действия сертификата подписанта ({identity.owner}) истёк "
            f"{ru_date(identity.not_after)}"
        )


def check_key_matches(signer: signers.Signer, certificate: x509.Certificate) -> None:
    """Sign a probe with the key and verify it with the certificate's public key."""
    probe = b"archiver key/certificate probe"
    try:
        signature = asyncio.run(signer.async_sign_raw(probe, "sha256"))
    except Exception as exc:
        raise SignError(
            "закрытый ключ не может подписывать или не соответствует сертификату подписанта "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    public = certificate.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, probe, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, probe, ec.ECDSA(hashes.SHA256()))
        else:
            raise SignError(f"неподдерживаемый тип ключа сертификата: {type(public).__name__}")
    except SignError:
        raise
    except Exception as exc:
        raise SignError(
            "закрытый ключ не соответствует сертификату подписанта (открытый ключ в сертификате другой)"
        ) from exc


def load_pkcs12(path: Path, passphrase: bytes | None) -> LoadedSigner:
    """Load the director's key and certificate from a PKCS#12 file and check them."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SignError(f"файл ключа {path} не найден") from exc
    except OSError as exc:
        raise SignError(f"файл ключа {path} не читается: {os_reason(exc)}") from exc
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        raise SignError(
            f"не удалось открыть {path}: неверный пароль или повреждённый файл PKCS#12"
        ) from exc
    if key is None or certificate is None:
        raise SignError(f"в файле {path} нет закрытого ключа или сертификата подписанта")
    identity = SignerIdentity.of(certificate)
    check_validity(identity)
    from asn1crypto import keys as asn1_keys
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            certificate.public_bytes(serialization.Encoding.DER)
        ),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in others]
        ),
    )
    check_key_matches(signer, certificate)
    return LoadedSigner(identity, signer, certificate)


@contextmanager
def open_pkcs11(settings: Pkcs11Signer, pin: str) -> Iterator[LoadedSigner]:
    """Open a session on the token, find the key and certificate, check them; close at the end."""
    from pkcs11 import exceptions as p11_errors
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    if not settings.module.is_file():
        raise SignError(f"модуль PKCS#11 {settings.module} не найден")
    try:
        session = open_pkcs11_session(
            str(settings.module),
            token_criteria=TokenCriteria(label=settings.token_label),
            user_pin=pin,
        )
    except p11_errors.PinIncorrect as exc:
        raise SignError("неверный PIN-код токена") from exc
    except p11_errors.PinLocked as exc:
        raise SignError("PIN-код токена заблокирован") from exc
    except Exception as exc:  # pyHanko raises plain errors for a missing token
        raise SignError(f"не удалось открыть токен «{settings.token_label}»: {exc}") from exc
    try:
        try:
            signer = PKCS11Signer(
                session,
                cert_label=settings.cert_label,
                key_label=settings.key_label,
                use_raw_mechanism=True,  # SoftHSM2 lacks combined ECDSA-SHA256
            )
            cert_der = signer.signing_cert.dump()
        except Exception as exc:
            raise SignError(
                f"на токене не найден ключ «{settings.key_label}» или сертификат «{settings.cert_label}»: {exc}"
            ) from exc
        certificate = x509.load_der_x509_certificate(cert_der)
        identity = SignerIdentity.of(certificate)
        check_validity(identity)
        check_key_matches(signer, certificate)
        yield LoadedSigner(identity, signer, certificate)
    finally:
        session.close()


@functools.cache
def _stamp_font(characters: str) -> str:
    """PT Serif reduced to ``characters`` (no layout tables), in the temporary folder.

    pyHanko subsets the stamp's font for every document it signs, and reading the
    whole PT Serif's layout tables for it was a third of the time of one signature.
    Made once per process (before the signing workers fork); the file is named after
    the font and the characters, so runs share it and it never piles up.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    source = STAMP_FONT.read_bytes()
    digest = hashlib.sha256(source + characters.encode("utf-8")).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"archiver-stamp-{digest}.ttf"
    if path.is_file():
        return str(path)
    font = TTFont(io.BytesIO(source))
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    reduced = io.BytesIO()
    font.save(reduced)
    write_atomic(path, reduced.getvalue())
    return str(path)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The TLS context for HTTPS timestamping services (certifi's CA bundle), made once."""
    return ssl.create_default_context(cafile=certifi.where())


def _font_characters(text: str) -> str:
    """Every character ``text`` prints, and printable ASCII, sorted (one font per signer)."""
    return "".join(sorted(set(text) | {chr(c) for c in range(0x20, 0x7F)}))


def _stamp_style(identity: SignerIdentity) -> Any:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    lines = ["ДОКУМЕНТ ПОДПИСАН", "ЭЛЕКТРОННОЙ ПОДПИСЬЮ"]
    if identity.is_demo:
        lines.append("ДЕМО — не имеет юридической силы")
    lines += [
        f"Сертификат: {identity.serial_hex}",
        f"Владелец: {identity.owner}",
        f"Действителен: с {ru_date(identity.not_before)} по {ru_date(identity.not_after)}",
        "Подписан: %(signed_at)s",  # in the school's zone (DocumentSigner), not pyHanko's %(ts)s
    ]
    text = "\n".join(
        line.replace("%", "%%") if "%(signed_at)s" not in line else line for line in lines
    )
    return TextStampStyle(
        stamp_text=text,
        text_box_style=TextBoxStyle(
            # the signing time is printed with digits, '.', ':', ' ', '+' and '-' (ASCII)
            font=GlyphAccumulatorFactory(_stamp_font(_font_characters(text))),
            font_size=9,
            leading=11,
        ),
        timestamp_format="%d.%m.%Y %H:%M:%S %z",
        border_width=1,
    )


def is_signed(pdf: bytes) -> bool:
    """Whether the PDF already carries a signature (or document timestamp)."""
    if b"/ByteRange" not in pdf:  # every signature dictionary has one; unsigned renders none
        return False
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return any(True for _ in fields.enumerate_sig_fields(reader, filled_status=True))


@dataclass(frozen=True, slots=True)
class SignOutcome:
    """What happened to one file."""

    path: Path
    signed: bool
    level: str | None = None
    note: str = ""


DSS_SETTINGS = DSSContentSettings(
    placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
)
"""Validation data goes into the revision it serves: the signature's certificates and CRLs
into the signature's own revision, the timestamp authority's into the document timestamp's
(before it is taken). So B-LT is one revision, and at B-LTA the document timestamp covers
the whole file: nothing follows it that a validator must analyse as a later change. VRI
dictionaries (not required by PAdES since ETSI EN 319 142-1 v1.1.1) are left out."""


REASONS = {
    CLASS_JOURNAL: "Заверение распечатки электронного журнала",
    FINAL_MARKS: "Заверение сводной ведомости",
    INVENTORY: "Заверение описи дел",
    EXTRACT_KIND: "Заверение выписки из сводной ведомости итоговых отметок",
}
"""The signature's reason (``/Reason``) per kind of document (the first part of Keywords)."""
DEFAULT_REASON = "Заверение документа электронного журнала"


def signature_reason(keywords: str | None) -> str:
    """What a signature certifies, from the document kind in the document's Keywords."""
    kind = (keywords or "").split(";")[0].strip()
    return REASONS.get(kind, DEFAULT_REASON)


class DocumentSigner:
    """Signs PDFs with one loaded signer and the configured level, TSA and trust roots."""

    def __init__(
        self, loaded: LoadedSigner, settings: SignatureSettings, zone: tzinfo | None = None
    ) -> None:
        self.loaded = loaded
        self.settings = settings
        self.zone = zone
        """The school's time zone: the signing time on the visible mark is written in it."""
        self.level = settings.level
        self.tsa_url = settings.tsa_url if self.level != "B-B" else None
        self.stamp_style = _stamp_style(loaded.identity)
        self.validation_context: ValidationContext | None = None
        if self.level in ("B-LT", "B-LTA"):
            roots = load_trust_roots(settings.trust_roots)
            if not roots:
                raise SignError(
                    "для уровня B-LT/B-LTA нужны доверенные корневые сертификаты ([signature] trust_roots)"
                )
            self.validation_context = ValidationContext(
                trust_roots=roots,
                crls=load_crls(settings.crls),
                allow_fetching=True,
                revocation_mode="hard-fail",
            )

    def sign_bytes(self, pdf: bytes) -> bytes:
        """Sign one document given as bytes; return the signed bytes.

        The signature's reason names what the director certifies, by the kind of
        document archiver wrote into its Keywords (see :data:`REASONS`).
        """
        writer, meta, field_spec = self.prepare_writer(pdf)

        def pdf_signer(timestamper: timestamps.TimeStamper | None) -> signers.PdfSigner:
            return signers.PdfSigner(
                meta,
                signer=self.loaded.pyhanko_signer,
                timestamper=timestamper,
                stamp_style=self.stamp_style,
                new_field_spec=field_spec,
            )

        stamp = self.stamp_params()

        async def sign() -> None:
            if not self.tsa_url:
                await pdf_signer(None).async_sign_pdf(
                    writer, output=out, appearance_text_params=stamp
                )
                return
            # one HTTP session for both timestamps of the document (signature, document);
            # pyHanko would open one per request, each loading the CA bundle anew
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=_tls_context())
            ) as session:
                timestamper = timestamps.HTTPTimeStamper(self.tsa_url, timeout=30, session=session)
                await pdf_signer(timestamper).async_sign_pdf(
                    writer, output=out, appearance_text_params=stamp
                )

        out = io.BytesIO()
        try:
            asyncio.run(sign())
        except SigningError as exc:
            raise SignError(f"подпись не создана: {_reason(exc)}") from exc
        except Exception as exc:
            raise SignError(_network_reason(exc, self.settings.tsa_url)) from exc
        return out.getvalue()

    def stamp_params(self) -> dict[str, str]:
        """The visible mark's text parameters: the signing time in the school's zone
        (pyHanko would take this computer's)."""
        return {"signed_at": local_time(datetime.now(UTC), self.zone, seconds=True, offset=True)}

    def prepare_writer(
        self, pdf: bytes
    ) -> tuple[IncrementalPdfFileWriter, signers.PdfSignatureMetadata, fields.SigFieldSpec | None]:
        """The incremental writer, signature metadata and new field (if any) for signing ``pdf``."""
        if is_signed(pdf):
            raise SignError("документ уже подписан; повторно не подписывается")
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        info = _document_info(writer)
        keywords = info.get("/Keywords") if info is not None else None
        _align_producer(writer, info)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=signature_reason(str(keywords) if keywords is not None else None),
            name=self.loaded.identity.owner,
            embed_validation_info=self.level in ("B-LT", "B-LTA"),
            use_pades_lta=self.level == "B-LTA",
            validation_context=self.validation_context,
            dss_settings=DSS_SETTINGS,
        )
        field_spec = (
            None
            if _has_empty_field(writer)
            else fields.SigFieldSpec(FIELD_NAME, on_page=0, box=STAMP_BOX)
        )
        return writer, meta, field_spec

    def sign_file(self, path: Path) -> SignOutcome:
        """Sign ``path`` in place, atomically; an already signed file is left as it is."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SignError(f"файл {path} не читается: {os_reason(exc)}") from exc
        if is_signed(data):
            return SignOutcome(path, False, note="уже подписан, повторно не подписывается")
        return self.write_signed(path, data)

    def write_signed(self, path: Path, data: bytes) -> SignOutcome:
        """Sign exactly ``data`` (the bytes read from ``path``) and write the result in its place."""
        write_atomic(path, self.sign_bytes(data))
        return SignOutcome(path, True, level=self.level)


def _has_empty_field(writer: IncrementalPdfFileWriter) -> bool:
    """Whether the document carries its own empty signature field (placed by the renderer)."""
    return any(
        name == FIELD_NAME and value is None
        for name, value, _ in fields.enumerate_sig_fields(writer.prev, filled_status=False)
    )


def _document_info(writer: IncrementalPdfFileWriter) -> generic.DictionaryObject | None:
    """The document's Info dictionary (indirect, as archiver writes it), if any."""
    try:
        info_ref = writer.trailer.raw_get("/Info")
    except KeyError:
        return None
    if isinstance(info_ref, generic.IndirectObject):
        info = info_ref.get_object()
        if isinstance(info, generic.DictionaryObject):
            return info
    return None


def _align_producer(
    writer: IncrementalPdfFileWriter, info: generic.DictionaryObject | None
) -> None:
    """Make Info /Producer what pyHanko writes into the XMP, so that the two agree (PDF/A)."""
    if info is not None:
        info["/Producer"] = generic.TextStringObject(VENDOR)
        writer.update_container(info)


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(exc)
    if cause is not None:
        text += f" ({type(cause).__name__}: {cause})"
    return text


def _network_reason(exc: BaseException, tsa_url: str | None) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if tsa_url and any(
        w in text for w in ("Timestamp", "Connect", "connect", "timeout", "Timeout", "aiohttp")
    ):
        return f"служба штампов времени {tsa_url} недоступна или ответила ошибкой ({text})"
    return f"подпись не создана: {text}"


def load_trust_roots(paths: tuple[Path, ...] | list[Path]) -> list[asn1_x509.Certificate]:
    """Read PEM or DER certificates (several per PEM file allowed)."""
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SignError(
                f"не удалось прочитать доверенный сертификат {path}: {os_reason(exc)}"
            ) from exc
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
        roots.extend(
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs
        )
    return roots


def load_crls(paths: tuple[Path, ...] | list[Path]) -> list[bytes]:
    """Read CRL files (DER or PEM) as DER bytes."""
    crls: list[bytes] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SignError(f"не удалось прочитать список отзыва {path}: {os_reason(exc)}") from exc
        try:
            if b"-----BEGIN" in data:
                crl = x509.load_pem_x509_crl(data)
            else:
                crl = x509.load_der_x509_crl(data)
        except ValueError as exc:
            raise SignError(f"{path}: это не список отзыва сертификатов (CRL)") from exc
        crls.append(crl.public_bytes(serialization.Encoding.DER))
    return crls


def secret_env(settings: SignatureSettings) -> str:
    """The environment variable that holds the passphrase (PKCS#12) or PIN (PKCS#11)."""
    signer = settings.signer
    if isinstance(signer, Pkcs11Signer):
        return signer.pin_env
    if signer is None:
        raise SignError("в файле настроек не задан подписант (раздел [signer])")
    if isinstance(signer, CommandSigner):
        return signer.secret_env
    return signer.passphrase_env


def needs_secret(settings: SignatureSettings) -> bool:
    """Whether archiver must ask for a passphrase or PIN (an external program may ask itself)."""
    signer = settings.signer
    return not isinstance(signer, CommandSigner) or signer.asks_secret


def secret_prompt(settings: SignatureSettings) -> str:
    """What to ask the person for: «PIN-код токена» or «пароль файла ключа»."""
    if isinstance(settings.signer, Pkcs11Signer):
        return f"PIN-код токена «{settings.signer.token_label}»"
    if isinstance(settings.signer, CommandSigner):
        return "Пароль (PIN-код) ключа для программы подписи"
    return "Пароль файла ключа подписи"


TimestampingService = Callable[[], AbstractContextManager[str]]
"""Starts a timestamping service for a signing session and yields its URL (the demo's
local TSA is one: :func:`archiver.demo.keys.demo_timestamping`)."""


@contextmanager
def signing_session(
    settings: SignatureSettings,
    secret: str,
    timestamping: TimestampingService | None = None,
    *,
    zone: tzinfo | None = None,
) -> Iterator[DocumentSigner]:
    """Open the configured signer once (key loaded, token session open) for a batch.

    ``timestamping``, when given, is started for the duration of the block and its URL
    replaces ``[signature] tsa_url`` (the caller hands in the demo's service; the
    signer knows nothing of the demo). ``zone``: the school's time zone, for the
    signing time on the visible mark (else this computer's).
    """
    signer = settings.signer
    if signer is None:
        raise SignError("в файле настроек не задан подписант (раздел [signer])")
    with ExitStack() as stack:
        if timestamping is not None:
            url = stack.enter_context(timestamping())
            settings = settings.model_copy(update={"tsa_url": url})
        if isinstance(signer, CommandSigner):
            from archiver.signing.external import CommandDocumentSigner

            yield CommandDocumentSigner(signer, settings, secret, zone)
            return
        if isinstance(signer, Pkcs11Signer):
            loaded = stack.enter_context(open_pkcs11(signer, secret))
        else:
            loaded = load_pkcs12(signer.path, secret.encode("utf-8") if secret else None)
        yield DocumentSigner(loaded, settings, zone)


def sign_files(
    document_signer: DocumentSigner,
    paths: list[Path],
    progress: ProgressCallback | None = None,
    *,
    workers: int = 1,
) -> list[SignOutcome]:
    """Sign several files with one loaded signer; stop at the first failure (already written files stay signed).

    ``workers`` > 1 signs in forked processes that share the loaded key (not with a
    token: its session cannot be shared). Progress: stage ``sign``, a step per file
    (``item`` is its path, ``status`` ``signed`` or ``skipped``).
    """
    stage = StageProgress(progress, "sign")
    stage.start(len(paths))

    def signed(path: Path, outcome: SignOutcome) -> None:
        stage.step(str(path), status="signed" if outcome.signed else "skipped")

    outcomes = fork_map(document_signer.sign_file, paths, workers=workers, on_result=signed)
    stage.finish()
    return outcomes
