"""Demo keys: a demo CA, the director's certificate in PKCS#12, a demo timestamping service.

Everything here is for trying archiver out; nothing has legal force, and every
certificate says so in its subject («ДЕМО — не имеет юридической силы»), which
the visible signature mark repeats. The demo PKI is complete enough for PAdES
B-LTA: the CA issues an (empty) CRL that the signer embeds, so the
signatures validate offline. The certificates name no CRL distribution point:
there is no server to fetch it from once the demo has ended, and a validator that
checks revocation online (plain ``pyhanko sign validate``) would then call them
untrusted; a certificate without one is checked against the CRLs at hand (the
embedded one). The timestamping service is an RFC 3161 responder
on 127.0.0.1 backed by pyHanko's :class:`DummyTimeStamper` with the demo TSA key.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from archiver.errors import ArchiverError, ExitCode
from archiver.files import write_atomic
from archiver.settings import SignatureSettings
from archiver.signing.sign import TimestampingService

DEMO_NOTICE = "ДЕМО — не имеет юридической силы"
DEMO_PASSPHRASE = "demo"
"""Passphrase of the demo PKCS#12 file (a demo key; a real one never has a known passphrase)."""
CA_FILE = "demo-ca.pem"
CRL_FILE = "demo-ca.crl"
DIRECTOR_FILE = "director.p12"
DIRECTOR_CERT_FILE = "director.pem"
"""The director's demo certificate alone: shown at the review before the passphrase is asked."""
TSA_CERT_FILE = "demo-tsa.pem"
TSA_KEY_FILE = "demo-tsa-key.pem"
VALID_DAYS = 3 * 365


class DemoKeysError(ArchiverError):
    """The demo keys could not be made or used."""

    exit_code = ExitCode.FAILURE


@dataclass(frozen=True, slots=True)
class DemoKeys:
    """Where the demo key files are."""

    folder: Path
    ca_cert: Path
    crl: Path
    director_p12: Path
    director_cert: Path
    tsa_cert: Path
    tsa_key: Path
    director_name: str
    passphrase: str = DEMO_PASSPHRASE

    @classmethod
    def at(cls, folder: Path, director_name: str = "") -> DemoKeys:
        return cls(
            folder=folder,
            ca_cert=folder / CA_FILE,
            crl=folder / CRL_FILE,
            director_p12=folder / DIRECTOR_FILE,
            director_cert=folder / DIRECTOR_CERT_FILE,
            tsa_cert=folder / TSA_CERT_FILE,
            tsa_key=folder / TSA_KEY_FILE,
            director_name=director_name,
        )


def _new_key() -> rsa.RSAPrivateKey:
    # RSA: pyHanko's DummyTimeStamper, behind the demo TSA, signs with RSA only
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _fit(value: str) -> str:
    """Cut a name to the 64 bytes an X.520 attribute may hold."""
    while len(value.encode("utf-8")) > 64:
        value = value[:-1]
    return value.strip() or "—"


def _name(common_name: str, organization: str) -> x509.Name:
    common_name, organization = _fit(common_name), _fit(organization)
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_NOTICE),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    subject: x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    now: datetime,
    *,
    ca: bool = False,
    tsa: bool = False,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=VALID_DAYS if not ca else 2 * VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not tsa,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        if tsa:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
    return builder.sign(issuer_key, hashes.SHA256())


def make_demo_keys(
    folder: Path, director_name: str, school_name: str, now: datetime | None = None
) -> DemoKeys:
    """Write a demo CA, its CRL, the director's PKCS#12 and the demo TSA's key into ``folder``.

    Refuses to overwrite existing demo keys (documents signed with them would no
    longer match a new CA).
    """
    keys = DemoKeys.at(folder, director_name)
    existing = [p for p in (keys.ca_cert, keys.director_p12, keys.tsa_key) if p.exists()]
    if existing:
        raise DemoKeysError(
            f"в папке {folder} уже есть демонстрационные ключи ({existing[0].name}); "
            "укажите другую папку"
        )
    now = now or datetime.now(UTC)
    organization = school_name or "Демонстрационная школа"
    ca_key = _new_key()
    ca_name = _name("Демо-УЦ archiver", "archiver")
    ca_cert = _issue(ca_name, ca_key.public_key(), ca_name, ca_key, now, ca=True)
    director_key = ec.generate_private_key(ec.SECP256R1())  # fast to load for every signature
    director_cert = _issue(
        _name(director_name, organization), director_key.public_key(), ca_name, ca_key, now
    )
    tsa_key = _new_key()
    tsa_cert = _issue(
        _name("Демо-служба штампов времени", "archiver"),
        tsa_key.public_key(),
        ca_name,
        ca_key,
        now,
        tsa=True,
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_name)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    write_atomic(keys.ca_cert, ca_cert.public_bytes(pem))
    write_atomic(keys.crl, crl.public_bytes(serialization.Encoding.DER))
    write_atomic(keys.director_cert, director_cert.public_bytes(pem))
    write_atomic(keys.tsa_cert, tsa_cert.public_bytes(pem))
    write_atomic(
        keys.tsa_key,
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    write_atomic(
        keys.director_p12,
        pkcs12.serialize_key_and_certificates(
            name=director_name.encode("utf-8"),
            key=director_key,
            cert=director_cert,
            cas=[ca_cert],
            encryption_algorithm=serialization.BestAvailableEncryption(
                DEMO_PASSPHRASE.encode("ascii")
            ),
        ),
    )
    for path in (keys.tsa_key, keys.director_p12):
        path.chmod(0o600)
    return keys


class _TsaHandler(http.server.BaseHTTPRequestHandler):
    """RFC 3161 over HTTP: POST a TimeStampReq, get a TimeStampResp."""

    timestamper: object = None

    def do_POST(self) -> None:
        from asn1crypto import tsp

        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = tsp.TimeStampReq.load(self.rfile.read(length))
            response = self.timestamper.request_tsa_response(request)  # type: ignore[attr-defined]
            body = response.dump()
        except Exception as exc:  # a malformed request
            self.log_error("bad timestamp request: %r", exc)
            self.send_response(400)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log."""


def _cached_key_timestamper_class() -> type:
    """pyHanko's DummyTimeStamper, with the TSA key parsed once instead of for every stamp."""
    from asn1crypto import cms, core
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import general
    from pyhanko.sign.general import simple_cms_attribute
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class CachedKeyTimeStamper(DummyTimeStamper):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            self._key = key

        def _sign_tst_info(
            self, tst_info_data: bytes, md_algorithm: str, dt: datetime
        ) -> tuple[bytes, Any]:
            md = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
            md.update(tst_info_data)
            signed_attrs = cms.CMSAttributes(
                [
                    simple_cms_attribute("content_type", "tst_info"),
                    simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                    simple_cms_attribute(
                        "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                    ),
                    simple_cms_attribute("message_digest", md.finalize()),
                ]
            )
            signature = self._key.sign(
                signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
            )
            return signature, signed_attrs

    return CachedKeyTimeStamper


@contextmanager
def serve_demo_tsa(keys: DemoKeys, port: int = 0) -> Iterator[str]:
    """Run the demo timestamping service on 127.0.0.1 while the block runs; yield its URL."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    _CachedKeyTimeStamper = _cached_key_timestamper_class()
    try:
        tsa_cert = x509.load_pem_x509_certificate(keys.tsa_cert.read_bytes())
        tsa_key = serialization.load_pem_private_key(keys.tsa_key.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(keys.ca_cert.read_bytes())
    except (OSError, ValueError) as exc:
        raise DemoKeysError(
            f"демонстрационные ключи в {keys.folder} не читаются ({exc}); "
            "создайте их командой «archiver keys demo»"
        ) from exc
    der = serialization.Encoding.DER
    timestamper = _CachedKeyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        certs_to_embed=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(ca_cert.public_bytes(der))]
        ),
    )
    handler = type("DemoTsaHandler", (_TsaHandler,), {"timestamper": timestamper})
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise DemoKeysError(
            f"не удалось запустить демонстрационную службу штампов времени на 127.0.0.1:{port}: "
            f"{exc.strerror}"
        ) from exc
    # a short poll interval: shutdown() waits for the loop to look (0.5 s by default)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="demo-tsa", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()


def demo_timestamping(settings: SignatureSettings) -> TimestampingService | None:
    """The demo timestamping service for ``[signature] demo_tsa``, to hand to the signer; else ``None``."""
    folder = settings.demo_tsa
    if folder is None:
        return None
    return functools.partial(serve_demo_tsa, DemoKeys.at(folder))
