"""Pytest fixtures for a real test PKI (certomancer) and a real PKCS#11 token (SoftHSM2).

Register them in ``tests/conftest.py``::

    from tests.pki.fixtures import pki_fixture, softhsm_token_fixture  # noqa: F401

(or ``from tests.pki.fixtures import *``). The fixtures are then available as

* ``test_pki`` (session): a certomancer PKI served over HTTP on 127.0.0.1 (TSA, OCSP,
  CRLs, certificate repositories), see :class:`PkiEnvironment`;
* ``softhsm_token`` (session): a SoftHSM2 token holding the director's key and
  certificate, see :class:`SoftHsmToken`.

Nothing here mocks anything: the TSA, OCSP responder and CRL distribution points are
certomancer's Animator WSGI app behind werkzeug's HTTP server, and the token is SoftHSM2
loaded through PKCS#11.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from asn1crypto import x509
    from certomancer.registry import PKIArchitecture
    from werkzeug.serving import BaseWSGIServer

__all__ = [
    "ALL_SIGNER_LABELS",
    "ARCH_LABEL",
    "PKI_CONFIG",
    "SOFTHSM_MODULE",
    "PkiEnvironment",
    "SoftHsmToken",
    "pki_fixture",
    "softhsm_token_fixture",
]

PKI_DIR = Path(__file__).resolve().parent
PKI_CONFIG = PKI_DIR / "pki.yml"
KEY_DIR = PKI_DIR / "keys"
ARCH_LABEL = "archiver-test"
"""Label of the PKI architecture in ``pki.yml`` (the first path segment of every URL)."""

ALL_SIGNER_LABELS = ("director", "expired", "not-yet-valid", "revoked")
"""Certificate labels of the end-entity signers; each has a PKCS#12 file in the fixture."""

P12_PASSPHRASE = b"archiver-test-p12"
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SOFTHSM_UTIL = "softhsm2-util"


@dataclass(frozen=True)
class PkiEnvironment:
    """The running test PKI, as yielded by the ``test_pki`` fixture.

    All URLs point at ``base_url`` (``http://127.0.0.1:PORT``); the same URLs are
    embedded in the certificates (OCSP and caIssuers in AIA, CRL distribution points).
    """

    base_url: str
    """``http://127.0.0.1:PORT``, the prefix of every service URL."""
    tsa_url: str
    """RFC 3161 time stamping service (POST)."""
    ocsp_url: str
    """OCSP responder for certificates issued by the intermediate CA (POST)."""
    crl_urls: dict[str, str]
    """Latest CRL (DER) per CA label: ``"root"`` and ``"interm"``."""
    root_cert_pem: bytes
    """The trust anchor (root CA certificate), PEM."""
    root_cert_der: bytes
    """The trust anchor (root CA certificate), DER."""
    root_cert_path: Path
    """The trust anchor written to a temporary PEM file."""
    chain_pem_path: Path
    """Intermediate CA then root CA certificates, one PEM file."""
    p12_passphrase: bytes
    """Passphrase of every PKCS#12 file below."""
    p12_paths: dict[str, Path]
    """PKCS#12 (key, certificate, intermediate and root) per signer label."""
    served_paths: list[str] = field(repr=False)
    """Path of every HTTP request served so far, in order (appended by the server thread).

    Lets a test prove that signing did contact the TSA/OCSP/CRL services and that an
    offline validation did not.
    """
    arch: PKIArchitecture = field(repr=False)
    """certomancer's architecture object, for anything not covered here."""

    @property
    def director_p12(self) -> Path:
        """PKCS#12 of the director (Кузнецова Ольга Петровна), valid now."""
        return self.p12_paths["director"]

    @property
    def expired_p12(self) -> Path:
        """PKCS#12 of a signer whose certificate expired on 2021-01-01."""
        return self.p12_paths["expired"]

    @property
    def not_yet_valid_p12(self) -> Path:
        """PKCS#12 of a signer whose certificate is valid only from 2090-01-01."""
        return self.p12_paths["not-yet-valid"]

    @property
    def revoked_p12(self) -> Path:
        """PKCS#12 of a signer whose certificate was revoked on 2024-06-01 (key compromise)."""
        return self.p12_paths["revoked"]

    def cert(self, label: str) -> x509.Certificate:
        """Return the certificate labelled ``label`` in ``pki.yml`` (asn1crypto object).

        Labels: root, interm, ocsp, tsa, director, expired, not-yet-valid, revoked.
        """
        from certomancer.registry import CertLabel

        return self.arch.get_cert(CertLabel(label))

    def cert_der(self, label: str) -> bytes:
        """Return the certificate labelled ``label`` as DER bytes."""
        return bytes(self.cert(label).dump())

    def cert_pem(self, label: str) -> bytes:
        """Return the certificate labelled ``label`` as PEM bytes."""
        from asn1crypto import pem

        return bytes(pem.armor("CERTIFICATE", self.cert_der(label)))

    def key_path(self, label: str) -> Path:
        """Return the unencrypted PKCS#8 PEM file of the key labelled ``label`` (test key)."""
        return KEY_DIR / f"{label}.key.pem"


class _DeferredApp:
    """WSGI app whose target is set after the server socket is bound.

    The port must be known before certomancer builds certificates (the service URLs
    are embedded in them), so the server binds port 0 first and gets the app later.
    Every request path is appended to :attr:`served_paths`.
    """

    def __init__(self) -> None:
        self.target: Callable[..., Iterable[bytes]] | None = None
        self.served_paths: list[str] = []

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.served_paths.append(str(environ.get("PATH_INFO", "")))
        if self.target is None:  # pragma: no cover - only during start-up
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"test PKI is starting"]
        return self.target(environ, start_response)


def _quiet_server(app: _DeferredApp) -> BaseWSGIServer:
    """Bind a threaded werkzeug server to a free port on 127.0.0.1, without request logs."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        """Request handler that does not log every request to stderr."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Skip the access log line."""

    return make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)


@pytest.fixture(scope="session", name="test_pki")
def pki_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiEnvironment]:
    """Serve the test PKI of ``pki.yml`` on ``http://127.0.0.1:PORT`` for the session.

    The server socket is bound (port 0, so the OS picks a free port) before the
    certomancer configuration is loaded with that URL prefix. Yields a
    :class:`PkiEnvironment`; the server is shut down at teardown.
    """
    from asn1crypto import pem
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, ServiceLabel

    app = _DeferredApp()
    server = _quiet_server(app)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="test-pki-http",
        daemon=True,
    )
    try:
        base_url = f"http://127.0.0.1:{server.port}"
        config = CertomancerConfig.from_file(
            str(PKI_CONFIG), key_search_dir=str(PKI_DIR), external_url_prefix=base_url
        )
        arch = config.get_pki_arch(ArchLabel(ARCH_LABEL))
        app.target = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
        thread.start()
        out_dir = tmp_path_factory.mktemp("test-pki")
        services = arch.service_registry
        root_der = bytes(arch.get_cert(CertLabel("root")).dump())
        root_pem = bytes(pem.armor("CERTIFICATE", root_der))
        env = PkiEnvironment(
            base_url=base_url,
            tsa_url=services.get_tsa_info(ServiceLabel("tsa")).url,
            ocsp_url=services.get_ocsp_info(ServiceLabel("interm")).url,
            crl_urls={
                label: services.get_crl_repo_info(ServiceLabel(label)).latest_external_url
                for label in ("root", "interm")
            },
            root_cert_pem=root_pem,
            root_cert_der=root_der,
            root_cert_path=out_dir / "root.cert.pem",
            chain_pem_path=out_dir / "chain.pem",
            p12_passphrase=P12_PASSPHRASE,
            p12_paths={label: out_dir / f"{label}.p12" for label in ALL_SIGNER_LABELS},
            served_paths=app.served_paths,
            arch=arch,
        )
        env.root_cert_path.write_bytes(root_pem)
        env.chain_pem_path.write_bytes(env.cert_pem("interm") + root_pem)
        for label, path in env.p12_paths.items():
            path.write_bytes(
                arch.package_pkcs12(
                    CertLabel(label),
                    certs_to_embed=[CertLabel("interm"), CertLabel("root")],
                    password=P12_PASSPHRASE,
                )
            )
        yield env
    finally:
        if thread.is_alive():  # shutdown() would wait forever for a loop never started
            server.shutdown()
            thread.join(timeout=10)
        server.server_close()


@dataclass(frozen=True)
class SoftHsmToken:
    """A SoftHSM2 token with the director's key and certificate, as yielded by ``softhsm_token``.

    Use with pyHanko::

        session = open_pkcs11_session(t.module_path,
                                      token_criteria=TokenCriteria(label=t.token_label),
                                      user_pin=t.user_pin)
        signer = PKCS11Signer(session, cert_label=t.cert_label, key_label=t.key_label,
                              other_certs_to_pull=t.chain_cert_labels,
                              use_raw_mechanism=True)  # SoftHSM 2.6: no CKM_ECDSA_SHA256
    """

    module_path: str
    """PKCS#11 module (``/usr/lib/softhsm/libsofthsm2.so``)."""
    token_label: str
    """Token label, ``archiver-test``."""
    user_pin: str
    """User PIN."""
    so_pin: str
    """Security officer PIN."""
    key_label: str
    """Label of the director's private key object (``CKA_ID`` is :attr:`key_id`)."""
    cert_label: str
    """Label of the director's certificate object (same ``CKA_ID`` as the key)."""
    key_id: bytes
    """``CKA_ID`` shared by the director's key pair and certificate."""
    chain_cert_labels: tuple[str, ...]
    """Labels of the CA certificates also stored on the token (intermediate, root)."""
    conf_path: Path
    """The private ``softhsm2.conf`` (``SOFTHSM2_CONF`` points at it during the session)."""


TOKEN_LABEL = "archiver-test"
USER_PIN = "123456"
SO_PIN = "12345678"
KEY_LABEL = "director"
KEY_ID = b"\x01"


def _softhsm_util(*args: str, env: dict[str, str]) -> None:
    """Run ``softhsm2-util`` and fail the fixture with its output on error."""
    result = subprocess.run(
        [SOFTHSM_UTIL, *args], env=env, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"softhsm2-util {args[0]} failed ({result.returncode}): {result.stdout}{result.stderr}"
        )


@pytest.fixture(scope="session", name="softhsm_token")
def softhsm_token_fixture(
    test_pki: PkiEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SoftHsmToken]:
    """Create a SoftHSM2 token holding the director's key and certificate for the session.

    ``SOFTHSM2_CONF`` is set for this process to a private configuration whose token
    directory is a temporary directory (restored at teardown). The key is imported with
    ``softhsm2-util --import``; the certificates with python-pkcs11. Skips only when
    SoftHSM2 itself is not installed.
    """
    if shutil.which(SOFTHSM_UTIL) is None or not Path(SOFTHSM_MODULE).exists():
        pytest.skip(
            f"SoftHSM2 is not installed ({SOFTHSM_UTIL} or {SOFTHSM_MODULE} missing; "
            "Debian package softhsm2)"
        )
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.util.x509 import decode_x509_certificate

    base = tmp_path_factory.mktemp("softhsm")
    token_dir = base / "tokens"
    token_dir.mkdir()
    conf_path = base / "softhsm2.conf"
    conf_path.write_text(
        f"directories.tokendir = {token_dir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n",
        encoding="utf-8",
    )
    env = {**os.environ, "SOFTHSM2_CONF": str(conf_path)}
    _softhsm_util(
        "--init-token", "--free", "--label", TOKEN_LABEL,
        "--pin", USER_PIN, "--so-pin", SO_PIN, env=env,
    )  # fmt: skip
    _softhsm_util(
        "--import", str(test_pki.key_path("director")), "--token", TOKEN_LABEL,
        "--label", KEY_LABEL, "--id", KEY_ID.hex(), "--pin", USER_PIN, env=env,
    )  # fmt: skip

    chain = (
        ("interm", "archiver-test-interm-ca", b"\x02"),
        ("root", "archiver-test-root-ca", b"\x03"),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf_path))
        lib = pkcs11.lib(SOFTHSM_MODULE)
        # SoftHSM reads SOFTHSM2_CONF in C_Initialize: re-initialise in case the module
        # was already loaded in this process with another configuration.
        lib.reinitialize()
        token = lib.get_token(token_label=TOKEN_LABEL)
        with token.open(rw=True, user_pin=USER_PIN) as session:
            for cert_label, obj_label, obj_id in (("director", KEY_LABEL, KEY_ID), *chain):
                attrs = decode_x509_certificate(test_pki.cert_der(cert_label))
                attrs.update(
                    {
                        Attribute.CLASS: ObjectClass.CERTIFICATE,
                        Attribute.TOKEN: True,
                        Attribute.PRIVATE: False,
                        Attribute.LABEL: obj_label,
                        Attribute.ID: obj_id,
                    }
                )
                session.create_object(attrs)
        try:
            yield SoftHsmToken(
                module_path=SOFTHSM_MODULE,
                token_label=TOKEN_LABEL,
                user_pin=USER_PIN,
                so_pin=SO_PIN,
                key_label=KEY_LABEL,
                cert_label=KEY_LABEL,
                key_id=KEY_ID,
                chain_cert_labels=tuple(label for _, label, _ in chain),
                conf_path=conf_path,
            )
        finally:
            # Close every session and let a later user re-initialise with its own config.
            lib.finalize()
