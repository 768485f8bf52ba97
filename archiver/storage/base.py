"""The storage backend interface: write-once objects under keys, and no delete.

A backend is one storage location (a local folder on a NAS share or an external
disk, or an S3 bucket). It stores opaque objects under ``/``-separated keys and
guarantees three things:

* an object appears under its key whole or not at all (no half-written object);
* an object, once there, is never replaced: :meth:`Storage.put` of the same bytes
  is a no-op, of other bytes a :class:`StorageConflict` (the one narrow exception is
  :meth:`Storage.restore`, used only by ``archiver verify --repair`` to replace a
  copy proven damaged with the content its record's manifest requires);
* nothing is removed before its retention date, and no retention is ever shortened.
  The one way out is :meth:`Storage.destroy`, called only by ``archiver dispose
  execute`` for the records of an act the school's expert commission approved
  (:mod:`archiver.archive.dispose.execute`): it refuses before the record's
  ``retain_until`` by the clock it is given, and S3 Object Lock refuses by the
  server's own clock whatever archiver believes the date to be.

Where the location can enforce retention itself (S3 Object Lock), every object
is locked until its :class:`Lock` expires.
"""

from __future__ import annotations

import os
import signal
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from archiver.errors import ArchiverError, ExitCode, UsageError

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")
LOCK_STRENGTH = {"GOVERNANCE": 1, "COMPLIANCE": 2}
"""How strictly each Object Lock mode keeps an object (no lock: 0)."""
LOCATION_MARKER = ".archiver-location.json"
"""The location's identity marker (:mod:`archiver.storage.identity`): not an archive object,
left out of :meth:`Storage.list_keys`."""
CRASH_ENV = "ARCHIVER_TEST_CRASH_AFTER"
"""Test hook: the process kills itself with SIGKILL at the N-th :func:`crash_point`."""


class StorageError(ArchiverError):
    """A storage location cannot be used, or an object could not be written or read."""

    exit_code = ExitCode.FAILURE


class StorageConflict(StorageError):
    """An object with different content already exists under the key."""


class RetentionActive(StorageError):
    """A record may not be destroyed yet: its retention has not expired (or a location says so)."""

    exit_code = ExitCode.BAD_INPUT


@dataclass(frozen=True, slots=True)
class Lock:
    """How long, and how strictly, an object must be kept."""

    retain_until: datetime
    """The first instant at which the object may be destroyed (timezone-aware)."""
    mode: str = "COMPLIANCE"
    """S3 Object Lock mode: ``COMPLIANCE`` (nobody can shorten it) or ``GOVERNANCE``."""

    def __post_init__(self) -> None:
        if self.retain_until.tzinfo is None:
            raise ValueError("retain_until must be timezone-aware")
        if self.mode not in LOCK_MODES:
            raise ValueError(f"unknown lock mode {self.mode!r}")


def lock_strength(mode: str | None) -> int:
    """:data:`LOCK_STRENGTH` of a lock mode; 0 for none or an unknown one."""
    return LOCK_STRENGTH.get(mode or "", 0)


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a location says about one stored object."""

    key: str
    size: int
    version_id: str | None = None
    """S3 version of the object (``None`` on a local disk)."""
    lock_mode: str | None = None
    """Object Lock mode reported by the location, if it enforces retention."""
    retain_until: datetime | None = None
    """Object Lock retain-until date reported by the location, if any."""
    checksum_sha256: str | None = None
    """SHA-256 (hex) the location computed and keeps for the object, if it does."""
    read_only: bool = False
    """Whether the object can no longer be modified in place (file mode, or a lock)."""
    mode: int | None = None
    """Permission bits of a file on a local disk (``None`` elsewhere)."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object read back from a location: its bytes and what the location reports."""

    data: bytes
    info: ObjectInfo


@dataclass(frozen=True, slots=True)
class PutResult:
    """Outcome of :meth:`Storage.put`."""

    info: ObjectInfo
    created: bool
    """``False`` when an identical object was already there (nothing was written)."""


class Storage(ABC):
    """One storage location. Keys are relative, ``/``-separated paths."""

    enforces_retention: bool = False
    """Whether the location itself refuses to delete an object before its lock expires."""
    conflict_message = (
        "объект {url} уже есть с другим содержимым; archiver не перезаписывает объекты архива"
    )
    """What :meth:`put` says when other bytes are already under the key."""

    def __init__(self, name: str) -> None:
        self.name = name
        """The location's name in the configuration (``primary``, ``secondary``)."""

    @property
    @abstractmethod
    def where(self) -> str:
        """The location for a person: a folder path or ``s3://bucket/prefix``."""

    def url(self, key: str) -> str:
        """Where one object is, for a person."""
        return f"{self.where.rstrip('/')}/{key}"

    @abstractmethod
    def check(self) -> None:
        """Make sure the location is reachable and fit for an archive, or raise StorageError."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo | None:
        """Describe the object under ``key``, or ``None`` when there is none."""

    @abstractmethod
    def read(self, key: str) -> StoredObject:
        """Read the object under ``key``; :class:`StorageError` when it is missing."""

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix``, sorted."""

    @abstractmethod
    def put(self, key: str, data: bytes, lock: Lock) -> PutResult:
        """Store ``data`` under ``key`` once, atomically, kept at least until ``lock`` expires.

        The same bytes under the same key are accepted without writing anything;
        different bytes raise :class:`StorageConflict` and change nothing.
        """

    @abstractmethod
    def restore(self, key: str, data: bytes, lock: Lock, expected_sha256: str) -> PutResult:
        """Repair only: put ``data`` in place of a damaged or missing object under ``key``.

        ``expected_sha256`` is the hash the record's manifest requires; ``data`` must
        have it (else :class:`ValueError`, nothing written). The backend itself looks at
        the current object again: when it already has that content nothing is written
        (``created=False``), so a good copy is never replaced. Otherwise ``data``
        takes the key's place atomically and is checked:

        * S3: a new version, locked with ``lock``, written only if the damaged version is
          still the current one (``If-Match``; ``If-None-Match: *`` when missing). The
          damaged version stays, with its own lock; no existing lock is changed, and a
          ``lock`` weaker than that of an earlier version holding the expected content
          is refused (:class:`StorageError`): a repair never reduces retention;
        * local folder: a temporary file, fsynced, made read-only and read back, then
          renamed over the damaged file; folders of a sealed record are opened for the
          moment of the rename and closed again.
        """

    def _compare_existing(self, key: str, data: bytes) -> PutResult:
        """:meth:`put` over an existing object: nothing to do if it has the same bytes."""
        existing = self.read(key)
        if existing.data != data:
            raise StorageConflict(
                f"хранилище «{self.name}»: " + self.conflict_message.format(url=self.url(key))
            )
        return PutResult(info=existing.info, created=False)

    def locked_originals(self, prefix: str) -> dict[str, StoredObject]:
        """The first version of every key under ``prefix``, where the location keeps versions.

        On S3 with Object Lock a delete marker or a newer version can hide an object, but
        its locked first version stays: this returns it (also for keys whose current
        version is a delete marker). A location without versions returns ``{}``.
        """
        return {}

    @abstractmethod
    def destroy(self, prefix: str, retain_until: datetime, now: datetime) -> int:
        """Disposal only: remove every object (on S3: every version) of the record folder ``prefix``.

        Refused (:class:`RetentionActive`, nothing removed) while ``now`` is before
        ``retain_until``. The marker (``bagit.txt``) goes first, so that a record
        interrupted halfway is no longer a record; running it again finishes the work.
        S3 deletes version by version and never bypasses a lock: Object Lock refuses
        by the server's clock. Returns the number of objects (versions) removed.
        """

    @abstractmethod
    def seal(self, prefix: str) -> None:
        """Protect a finished group of objects from additions (a no-op where not applicable)."""


def refuse_before(location: Storage, prefix: str, retain_until: datetime, now: datetime) -> None:
    """:class:`RetentionActive` unless ``now`` has reached ``retain_until``."""
    if now < retain_until:
        raise RetentionActive(
            f"хранилище «{location.name}»: запись {location.url(prefix)} хранится до "
            f"{retain_until.isoformat()}; удалять её раньше нельзя, ничего не удалено"
        )


def require_two_locations(locations: Sequence[Storage]) -> None:
    """:class:`UsageError` unless there are at least two locations, all named differently."""
    names = {loc.name for loc in locations}
    if len(names) < 2 or len(names) != len(locations):
        raise UsageError("архив хранится минимум в двух местах с разными именами")


def check_key(key: str) -> str:
    """Refuse keys that could escape the location (``..``, absolute, empty parts)."""
    parts = key.split("/")
    if not key or any(part in ("", ".", "..") for part in parts) or "\\" in key or "\0" in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def normalize_prefix(prefix: str) -> str:
    """``archive`` and ``/archive/`` both become ``archive/``; empty stays empty."""
    cleaned = prefix.strip("/")
    return f"{cleaned}/" if cleaned else ""


_crash_counter = 0


def crash_point() -> None:
    """Test hook for crash-safety tests: SIGKILL this process at the N-th call.

    Active only when the environment variable ``ARCHIVER_TEST_CRASH_AFTER`` is set
    to a positive number N; the store operation and the backends call this between
    every two steps that reach the disk or the network.
    """
    global _crash_counter
    limit = os.environ.get(CRASH_ENV)
    if not limit:
        return
    _crash_counter += 1
    if _crash_counter >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
