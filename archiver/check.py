"""Checks before anyone signs: what ``archiver check`` runs, and ``year-end`` before rendering.

A problem found only after an hour of rendering and signing (a missing second
storage folder, a wrong key path, an expired certificate, a timestamping service
that does not answer) is found here in seconds:

* the settings file is valid (read by the caller: :func:`archiver.settings.load_settings`);
* both storage locations are reachable and writable: a local folder exists and takes
  a temporary file; an S3 bucket exists, has versioning and Object Lock on, the
  credentials work and may write (a multipart upload started and aborted: nothing
  stays in the bucket);
* the signer's key file or token opens with the passphrase or PIN (no document is
  signed), its certificate is valid and does not expire within :data:`EXPIRY_WARNING`;
  with ``[signer] mode = "director"`` the key is the director's: no passphrase or PIN
  is asked, the certificate is read without it and the signer reported as the director's;
* the timestamping service answers a timestamp request;
* the retention policies and the document templates load.

Each check gives a :class:`CheckItem`; the library never prints.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError, ExitCode
from archiver.kinds import KINDS
from archiver.retention import load_policy
from archiver.settings import MODE_DIRECTOR, CommandSigner, Settings, SignatureSettings
from archiver.signing.sign import SignerIdentity, TimestampingService, signing_session
from archiver.storage.base import Storage, StorageError
from archiver.wording import program, ru_date

__all__ = ["EXPIRY_WARNING", "CheckFailed", "CheckItem", "CheckReport", "run_checks"]

EXPIRY_WARNING = timedelta(days=30)
"""A certificate expiring within this time is reported (a new one takes time to get)."""
PROBE_KEY = "_archiver-check/probe"
"""The S3 key of the write probe (a multipart upload, aborted: never an object)."""


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One check: what was checked, whether it passed, and in words what was found."""

    name: str
    ok: bool
    message: str
    blocking: bool = True
    """Whether the year-end run must stop for it (an expiring certificate does not stop it)."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "name": self.name,
            "ok": self.ok,
            "message": self.message,
            "blocking": self.blocking,
        }


@dataclass(slots=True)
class CheckReport:
    """Every check's outcome, in the order run."""

    items: list[CheckItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def blocking(self) -> list[CheckItem]:
        """The failed checks that stop a year-end run."""
        return [item for item in self.items if not item.ok and item.blocking]

    def add(self, name: str, ok: bool, message: str, *, blocking: bool = True) -> None:
        self.items.append(CheckItem(name, ok, message, blocking))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``archiver check --json``)."""
        return {"ok": self.ok, "checks": [item.to_json() for item in self.items]}


class CheckFailed(ArchiverError):
    """A check before the year-end run failed: nothing was rendered, signed or stored."""

    exit_code = ExitCode.FAILURE

    def __init__(self, report: CheckReport) -> None:
        lines = [f"  - {item.name}: {item.message}" for item in report.blocking]
        super().__init__(
            "проверка перед архивированием не пройдена, ничего не сделано:\n" + "\n".join(lines)
        )
        self.report = report


def check_location(location: Storage) -> str:
    """Reachable and writable, or :class:`StorageError`; returns what was checked, in words."""
    location.check()  # exists; S3: bucket, versioning, Object Lock, credentials
    from archiver.storage.local import LocalStorage
    from archiver.storage.s3 import S3Storage

    if isinstance(location, LocalStorage):
        try:
            with tempfile.NamedTemporaryFile(dir=location.root, prefix=".archiver-check-") as f:
                f.write(b"archiver check")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise StorageError(
                f"хранилище «{location.name}»: в папку {location.root} не удаётся записать "
                f"файл ({exc.strerror})"
            ) from exc
        return f"папка {location.root} доступна для записи"
    if isinstance(location, S3Storage):
        from botocore.exceptions import BotoCoreError, ClientError

        key = location.prefix + PROBE_KEY
        try:
            upload = location.client.create_multipart_upload(Bucket=location.bucket, Key=key)
            location.client.abort_multipart_upload(
                Bucket=location.bucket, Key=key, UploadId=upload["UploadId"]
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(
                f"хранилище «{location.name}»: нет права записи в корзину «{location.bucket}» "
                f"({exc})"
            ) from exc
        return (
            f"корзина {location.where}: есть, блокировка объектов (Object Lock) включена, "
            "запись разрешена"
        )
    return f"{location.where} доступно"


def check_distinct(report: CheckReport, locations: Sequence[Storage]) -> None:
    """The two copies are in two places.

    The settings already refuse the same folder or bucket named twice; this compares
    where the opened locations are, then the places themselves
    (:func:`archiver.storage.identity.require_distinct_locations`: device and inode,
    and each location's marker where one was written by a store).
    """
    from archiver.storage.base import StorageError
    from archiver.storage.identity import SameLocationError, require_distinct_locations

    places = [location.where.rstrip("/") for location in locations]
    if len(set(places)) != len(places):
        report.add("Две копии", False, "оба хранилища указывают на одно место: " + places[0])
        return
    try:
        require_distinct_locations(locations)  # check writes nothing: markers compared if there
    except SameLocationError as exc:
        report.add("Две копии", False, str(exc))
    except StorageError:
        pass  # an unusable location is reported by its own check above


def _timestamp_answers(url: str) -> None:
    from pyhanko.sign import timestamps

    digest = hashlib.sha256(b"archiver check").digest()
    asyncio.run(timestamps.HTTPTimeStamper(url, timeout=15).async_timestamp(digest, "sha256"))


def check_signer(
    report: CheckReport,
    signature: SignatureSettings,
    secret: Callable[[], str],
    timestamping: TimestampingService | None,
    now: datetime,
) -> None:
    """The key or token opens, the certificate is valid for a while, the TSA answers."""
    try:
        with signing_session(signature, secret(), timestamping) as signer:
            identity = signer.loaded.identity
            report.add("Ключ подписи", True, f"открывается: {identity.owner}")
            check_validity(report, identity, now)
            check_timestamping(report, signer.tsa_url, signer.level)
    except ArchiverError as exc:
        report.add("Ключ подписи", False, str(exc))


def check_director_signer(
    report: CheckReport,
    signature: SignatureSettings,
    timestamping: TimestampingService | None,
    now: datetime,
) -> None:
    """``[signer] mode = "director"``: the key is the director's, not the runner's.

    No passphrase or PIN is asked and nothing fails for the key: the certificate is
    read as the director's review reads it (without the key), when it can be here.
    """
    from archiver.signing.review import certificate_before_pin

    whose = (
        'у директора ([signer] mode = "director"): пароль или PIN здесь не нужен, '
        f"документы подписывает директор командой «{program()} sign»"
    )
    try:
        identity = certificate_before_pin(signature)
    except ArchiverError as exc:
        report.add(
            "Ключ подписи", True, f"{whose}; сертификат на этом компьютере не прочитан: {exc}"
        )
    else:
        report.add("Ключ подписи", True, f"{whose}; сертификат: {identity.owner}")
        check_validity(report, identity, now)
    signer = signature.signer
    level = "B-B" if isinstance(signer, CommandSigner) else signature.level  # the tool's CAdES-BES
    if level == "B-B":
        check_timestamping(report, None, level)
    elif timestamping is not None:
        with timestamping() as url:
            check_timestamping(report, url, level)
    else:
        check_timestamping(report, signature.tsa_url, level)


def check_validity(report: CheckReport, identity: SignerIdentity, now: datetime) -> None:
    """The certificate does not expire within :data:`EXPIRY_WARNING` (a warning, not blocking)."""
    left = identity.not_after - now
    report.add(
        "Сертификат подписанта",
        left > EXPIRY_WARNING,
        f"действует до {ru_date(identity.not_after)}"
        + (
            ""
            if left > EXPIRY_WARNING
            else f": осталось дней: {left.days}, закажите новый сертификат заранее"
        ),
        blocking=False,
    )


def check_timestamping(report: CheckReport, url: str | None, level: str) -> None:
    """The timestamping service answers a request (none is needed for PAdES B-B)."""
    if url is None or level == "B-B":
        report.add("Служба штампов времени", True, f"не нужна для уровня {level}")
        return
    try:
        _timestamp_answers(url)
    except Exception as exc:  # pyHanko and aiohttp raise many kinds
        report.add(
            "Служба штампов времени", False, f"{url} не отвечает: {type(exc).__name__}: {exc}"
        )
    else:
        report.add("Служба штампов времени", True, f"{url} отвечает")


def check_documents(report: CheckReport, settings: Settings) -> None:
    """The retention policies and the templates load."""
    folder = settings.documents.retention_policies
    try:
        titles = [load_policy(kind, folder).title for kind in KINDS]
    except ArchiverError as exc:
        report.add("Сроки хранения", False, str(exc))
    else:
        report.add("Сроки хранения", True, "загружены: " + "; ".join(titles))
    try:
        names = _load_templates(settings.documents.templates)
    except ArchiverError as exc:
        report.add("Шаблоны документов", False, str(exc))
    else:
        report.add("Шаблоны документов", True, f"загружены: {', '.join(names)}")


def _load_templates(folder: Path | None) -> list[str]:
    import jinja2

    from archiver.render.engines import Engines, RenderError

    engines = Engines(template_root=folder)
    names = sorted(p.name for p in engines.root.iterdir() if p.suffix in (".html", ".typ"))
    for name in names:
        if name.endswith(".html"):
            try:
                engines.env.get_template(name)
            except jinja2.TemplateError as exc:
                raise RenderError(f"ошибка в шаблоне {engines.root / name}: {exc}") from exc
    if "course.typ" not in names:
        raise RenderError(f"в папке шаблонов {engines.root} нет course.typ")
    return names


def run_checks(
    settings: Settings,
    locations: Sequence[Storage],
    *,
    secret: Callable[[], str] | None,
    timestamping: TimestampingService | None = None,
    now: datetime | None = None,
) -> CheckReport:
    """Every check (see the module's description); ``secret`` ``None``: the signer is not checked."""
    report = CheckReport()
    report.add("Файл настроек", True, f"{settings.path}: без ошибок")
    for location in locations:
        try:
            report.add(f"Хранилище «{location.name}»", True, check_location(location))
        except StorageError as exc:
            report.add(f"Хранилище «{location.name}»", False, str(exc))
    check_distinct(report, locations)
    if secret is not None:
        if settings.signer is None:
            report.add(
                "Ключ подписи", False, "в файле настроек не задан подписант (раздел [signer])"
            )
        elif settings.signer.mode == MODE_DIRECTOR:
            check_director_signer(
                report, settings.signature, timestamping, now or datetime.now(UTC)
            )
        else:
            check_signer(report, settings.signature, secret, timestamping, now or datetime.now(UTC))
    check_documents(report, settings)
    return report
