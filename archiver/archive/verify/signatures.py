"""Offline validation of stored documents' signatures, in worker processes.

Workers are started by a fork server (the verification reads copies in threads, and a
child forked from a threaded process is not safe; the fork server is a fresh,
single-threaded interpreter) and get the trust roots once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.archive.record import RecordManifest
from archiver.archive.verify.report import VerifyError, short
from archiver.errors import InputError
from archiver.parallel import BrokenProcessPool, WorkerPool
from archiver.settings import CommandSigner

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

__all__ = ["SignatureChecker", "SignatureVerdict", "signature_problem"]


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """The offline validation of one document's signatures."""

    ok: bool
    message: str
    signer_cert_sha256: str | None = None
    timestamp_until: str | None = None
    """When the newest document timestamp's TSA certificate expires (ISO); ``None``: no such timestamp."""
    timestamp_algorithm: str | None = None


_ROOTS: list[asn1_x509.Certificate] = []
_EXTERNAL: CommandSigner | None = None
"""The external signer whose ``verify_command`` checks ГОСТ signatures (pyHanko cannot)."""


def _load_roots(roots_der: tuple[bytes, ...], external: CommandSigner | None = None) -> None:
    from asn1crypto import x509 as asn1_x509

    global _ROOTS, _EXTERNAL
    _ROOTS = [asn1_x509.Certificate.load(der) for der in roots_der]
    _EXTERNAL = external


def _validate(path: str) -> SignatureVerdict:
    """Validate the PDF at ``path`` (run in a worker process, or in this one)."""
    from archiver.archive.renew import newest_timestamp
    from archiver.signing.check import CheckError, check_document
    from archiver.signing.external import external_report, is_gost
    from archiver.signing.signer_of import signer_of

    try:
        if is_gost(Path(path).read_bytes()):
            report = external_report(Path(path), _EXTERNAL)
        else:
            report = check_document(Path(path), _ROOTS)
        signer = signer_of(Path(path).read_bytes())
    except (CheckError, InputError, OSError) as exc:
        return SignatureVerdict(False, str(exc))
    failed = [f"{s.field_name}: {s.verdict}" for s in report.signatures if not s.ok]
    message = "; ".join(failed) if failed else report.message
    try:
        stamp = newest_timestamp(Path(path).read_bytes())
    except Exception:  # a timestamp that cannot be read: the validation above says why
        stamp = None
    return SignatureVerdict(
        report.ok,
        message,
        signer.cert_sha256 if signer else None,
        stamp.tsa_not_after.isoformat() if stamp else None,
        stamp.algorithm if stamp else None,
    )


class SignatureChecker:
    """Offline validation of PDFs given as bytes; in worker processes when ``workers > 1``."""

    def __init__(
        self,
        roots: Sequence[asn1_x509.Certificate],
        workers: int,
        external: CommandSigner | None = None,
    ) -> None:
        roots_der = tuple(bytes(cert.dump()) for cert in roots)
        try:
            self.tmp = tempfile.TemporaryDirectory(prefix="archiver-verify-")
            self.pool = WorkerPool(
                workers, start="forkserver", initializer=_load_roots, initargs=(roots_der, external)
            )
        except (OSError, RuntimeError) as exc:
            raise VerifyError(
                f"не удалось запустить процессы проверки подписей: {type(exc).__name__}: {exc}"
            ) from exc

    def check(self, pdf: bytes) -> SignatureVerdict:
        # the documents hold personal data: a private temporary folder (0700), removed at the end
        with tempfile.NamedTemporaryFile(dir=self.tmp.name, suffix=".pdf") as handle:
            handle.write(pdf)
            handle.flush()
            try:
                return self.pool.submit(_validate, handle.name).result()
            except BrokenProcessPool as exc:
                raise VerifyError(
                    "проверка подписей прервана: рабочий процесс проверки подписей завершился "
                    "аварийно (не хватило памяти? нет доступа к файлам программы или к "
                    f"временной папке {self.tmp.name}?); повторите проверку"
                ) from exc
            except (OSError, EOFError, RuntimeError) as exc:  # BrokenPipeError among them
                raise VerifyError(
                    "проверка подписей прервана: связь с рабочим процессом проверки подписей "
                    f"потеряна ({type(exc).__name__}: {exc}); повторите проверку"
                ) from exc

    def close(self) -> None:
        """Stop the workers; a pool already broken is reported by :meth:`check`, not here."""
        with suppress(OSError, EOFError, RuntimeError, BrokenProcessPool):
            self.pool.close()
        with suppress(OSError):
            self.tmp.cleanup()


def signature_problem(manifest: RecordManifest, verdict: SignatureVerdict) -> str | None:
    """What is wrong with a document's signature for its record, or ``None``."""
    if not verdict.ok:
        return f"подпись документа не прошла проверку: {verdict.message}"
    if verdict.signer_cert_sha256 != manifest.signer_cert_sha256:
        return (
            "документ подписан не тем сертификатом, что указан в описании записи "
            f"({short(verdict.signer_cert_sha256)} вместо {short(manifest.signer_cert_sha256)})"
        )
    return None
