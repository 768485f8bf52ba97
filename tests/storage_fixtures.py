"""Fixtures for the storage tests: a real S3 endpoint (moto's server mode), buckets, signed PDFs.

Register them suite-wide in ``tests/conftest.py``::

    from tests.storage_fixtures import *  # noqa: F403

(the storage test modules also import them, so they work before that). Fixtures:

* ``moto_s3`` (session): moto's ``ThreadedMotoServer`` on a free port of 127.0.0.1, a real
  HTTP S3 endpoint (never the in-process mock decorators);
* ``aws_env``: dummy AWS credentials in the environment, shared AWS config files pointed
  away from the user's own; the dict can be passed to subprocesses;
* ``s3_client``: a boto3 client of the moto endpoint, for independent checks;
* ``locked_bucket``: a fresh bucket created with ``ObjectLockEnabledForBucket=True``;
* ``storage``: parametrized over both backends (``local``, ``s3``) for the contract suite;
* ``signed_pdf``: a factory of small PDFs with archiver's Keywords, signed (PAdES B-B) by
  the test PKI's director, or unsigned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from archiver.archive.record import RecordManifest
from archiver.storage.base import Storage
from archiver.storage.local import LocalStorage
from archiver.storage.s3 import S3Storage
from tests.pki.fixtures import PkiEnvironment

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "MotoS3",
    "aws_env_fixture",
    "locked_bucket_fixture",
    "moto_s3_fixture",
    "s3_client_fixture",
    "signed_pdf_fixture",
    "storage_fixture",
]


@dataclass(frozen=True)
class MotoS3:
    """The running moto S3 server."""

    endpoint_url: str
    """``http://127.0.0.1:PORT``."""

    def client(self) -> S3Client:
        """A boto3 S3 client of this endpoint (credentials from the environment)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            config=Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session", name="moto_s3")
def moto_s3_fixture() -> Iterator[MotoS3]:
    """moto's S3 in server mode on 127.0.0.1, for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoS3(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture(name="aws_env")
def aws_env_fixture(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Dummy AWS credentials for this test; returns the environment for subprocesses."""
    values = {
        "AWS_ACCESS_KEY_ID": "archiver-test",
        "AWS_SECRET_ACCESS_KEY": "archiver-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config-none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials-none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


@pytest.fixture(name="s3_client")
def s3_client_fixture(moto_s3: MotoS3, aws_env: dict[str, str]) -> S3Client:
    """A boto3 client of the moto endpoint, for checks independent of archiver's backend."""
    return moto_s3.client()


@pytest.fixture(name="locked_bucket")
def locked_bucket_fixture(s3_client: S3Client) -> str:
    """A new bucket with Object Lock (and so versioning) enabled."""
    name = f"archive-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@pytest.fixture(name="storage", params=["local", "s3"])
def storage_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Each backend in turn, empty and checked, for the contract suite."""
    if request.param == "local":
        root = tmp_path / "archive"
        root.mkdir()
        backend: Storage = LocalStorage("primary", root)
    else:
        moto: MotoS3 = request.getfixturevalue("moto_s3")
        bucket: str = request.getfixturevalue("locked_bucket")
        backend = S3Storage("secondary", bucket, "archive/", endpoint_url=moto.endpoint_url)
    backend.check()
    return backend


def tiny_pdf(keywords: str | None, note: str = "") -> bytes:
    """A one-page PDF with archiver's Keywords; ``note`` makes otherwise equal files differ."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    metadata = {"/Title": f"Тестовый документ {note}".strip()}
    if keywords is not None:
        metadata["/Keywords"] = keywords
    writer.add_metadata(metadata)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


SignedPdf = Callable[..., bytes]


@pytest.fixture(scope="session", name="signed_pdf")
def signed_pdf_fixture(test_pki: PkiEnvironment) -> SignedPdf:
    """``signed_pdf(kind, class_id, year="2025/2026", note="", signed=True, base=None) -> bytes``.

    A tiny PDF, or ``base`` (a rendered document, signed into its ``DirectorSignature``
    field). Signed at PAdES B-B with the director's PKCS#12 of the test PKI (key loaded once).
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(
        str(test_pki.director_p12), passphrase=test_pki.p12_passphrase
    )
    assert signer is not None
    cache: dict[tuple[Any, ...], bytes] = {}

    def make(
        kind: str,
        class_id: str,
        year: str = "2025/2026",
        note: str = "",
        signed: bool = True,
        base: bytes | None = None,
    ) -> bytes:
        key = (kind, class_id, year, note, signed, base)
        if key not in cache:
            pdf = base if base is not None else tiny_pdf(f"{kind}; {class_id}; {year}", note)
            if signed:
                out = signers.sign_pdf(
                    IncrementalPdfFileWriter(BytesIO(pdf)),
                    signers.PdfSignatureMetadata(
                        field_name="Director" if base is None else "DirectorSignature"
                    ),
                    signer=signer,
                )
                pdf = out.getvalue()
            cache[key] = pdf
        return cache[key]

    return make


def journal_manifest(pdf: bytes, **changes: Any) -> RecordManifest:
    """The manifest of 5 «А»'s journal bundle ``pdf`` in a test school, with ``changes``."""
    manifest = RecordManifest(
        record_id="s/2025-2026/5a/class_journal/v1",
        version=1,
        kind="class_journal",
        title="Журнал",
        school_id="s",
        school_name="Школа",
        academic_year="2025/2026",
        class_id="5a",
        class_name="5 «А»",
        file_name="5a-class-journal.pdf",
        media_type="application/pdf",
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        sha512=hashlib.sha512(pdf).hexdigest(),
        retention_policy="class_journal",
        retention_title="Журнал",
        retention_years=5,
        legal_basis="",
        lock_mode="COMPLIANCE",
        closing_year=2026,
        retain_until="2032-01-01T00:00:00+05:00",
        stored_at="2026-06-30T10:00:00+00:00",
        source_export_sha256="0" * 64,
        signer_cert_sha256="1" * 64,
        signer_subject="Кузнецова",
    )
    return dataclasses.replace(manifest, **changes)
