"""A lock file for one run at a time: who holds it, since when, and when it is stale.

One :class:`RunLock` guards one piece of work (a school's year-end for one academic
year; later a region's task or a web service's job) by a file created atomically
(``O_CREAT | O_EXCL``): the process that creates it holds the lock. The file says
who holds it (user@host, process id and that process's start time), since when,
what for, and, when a lease is given, until when the holder promised to renew it.

A lock is *stale* when its holder cannot be running any more:

* on the same host, its process is gone (or the process id now belongs to a process
  started later: a reused id);
* on any host, its lease has run out (the holder renews a lease while it works:
  :meth:`RunLock.renew`, or ``keep_alive`` in a background thread).

A stale lock is taken over safely: the taker first creates a takeover marker named
after the stale holder's token, again atomically, so of several processes finding
the same stale lock only one takes it; it checks the lock is still the stale one
and replaces it with its own (``os.replace``). A live lock is never taken:
:meth:`RunLock.acquire` raises :class:`LockBusy`, whose :attr:`LockBusy.holder` says
who and since when, and whose message says it in Russian.

Usage::

    with RunLock(folder / "demo-2025-2026.lock", purpose="year-end") as lock:
        ...  # lock.holder is this process's Holder
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any

from archiver.errors import ArchiverError, ExitCode
from archiver.kinds import safe_name, year_folder
from archiver.model import JournalExport
from archiver.wording import local_time

__all__ = ["LOCKS", "Holder", "LockBusy", "RunLock", "read_holder", "year_lock", "year_lock_path"]

TAKEOVER_GRACE = 30.0
"""Seconds after which a takeover marker left by a killed taker is ignored."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lock: written into the lock file as JSON."""

    user: str
    host: str
    pid: int
    since: str
    """When the lock was taken, ISO 8601 with offset (UTC)."""
    token: str
    """Unique per acquisition: tells one holder from the next with the same pid."""
    purpose: str = ""
    pid_started: float | None = None
    """The process's start time (seconds since boot, from ``/proc``), against reused ids."""
    lease_until: str | None = None
    """ISO 8601: after this instant the lock is stale unless renewed; ``None``: no lease."""

    @property
    def who(self) -> str:
        """``user@host``."""
        return f"{self.user}@{self.host}"

    @property
    def since_instant(self) -> datetime:
        """:attr:`since` as an aware datetime."""
        return datetime.fromisoformat(self.since)

    def stale(self, now: datetime | None = None) -> bool:
        """Whether the holder cannot be running any more (see the module's description)."""
        moment = now or datetime.now(UTC)
        if self.lease_until is not None and datetime.fromisoformat(self.lease_until) < moment:
            return True
        if self.host != socket.gethostname():
            return False  # another computer: only its lease can tell
        if not _alive(self.pid):
            return True
        started = _process_start(self.pid)
        return self.pid_started is not None and started is not None and started != self.pid_started

    def dumps(self) -> bytes:
        """The lock file's content."""
        return (json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    @classmethod
    def loads(cls, data: bytes) -> Holder:
        """Read a lock file's content; :class:`ValueError` when it is not one."""
        try:
            doc: dict[str, Any] = json.loads(data.decode("utf-8"))
            return cls(
                user=str(doc["user"]),
                host=str(doc["host"]),
                pid=int(doc["pid"]),
                since=str(doc["since"]),
                token=str(doc["token"]),
                purpose=str(doc.get("purpose", "")),
                pid_started=doc.get("pid_started"),
                lease_until=doc.get("lease_until"),
            )
        except (UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a lock file: {exc}") from exc


class LockBusy(ArchiverError):
    """The lock is held by a live holder: another run is under way."""

    exit_code = ExitCode.FAILURE

    def __init__(self, message: str, holder: Holder, path: Path) -> None:
        super().__init__(message)
        self.holder = holder
        self.path = path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def _process_start(pid: int) -> float | None:
    """Start time of a process in clock ticks since boot (Linux ``/proc``), else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return float(fields[19])
    except (IndexError, ValueError):
        return None


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers)
        return str(os.getuid())


def read_holder(path: Path) -> Holder | None:
    """Who holds the lock at ``path``; ``None`` when there is no (readable) lock file."""
    try:
        return Holder.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


class RunLock:
    """A lock file at ``path`` (its folder is created). Not re-entrant.

    ``lease``: the holder promises to renew the lock within this time (then a lock
    left by a computer that went away is stale after it); ``None``: no lease, only
    a dead process on the same host makes the lock stale. ``zone`` and ``what`` only
    shape the Russian message of :class:`LockBusy`.
    """

    def __init__(
        self,
        path: Path,
        *,
        purpose: str = "",
        what: str | None = None,
        lease: timedelta | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self.path = path
        self.purpose = purpose
        self.what = what or purpose or str(path)
        self.lease = lease
        self.zone = zone
        self.holder: Holder | None = None
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    # -- taking and giving back

    def _new_holder(self) -> Holder:
        now = datetime.now(UTC)
        return Holder(
            user=_user(),
            host=socket.gethostname(),
            pid=os.getpid(),
            since=now.isoformat(timespec="seconds"),
            token=uuid.uuid4().hex,
            purpose=self.purpose,
            pid_started=_process_start(os.getpid()),
            lease_until=(now + self.lease).isoformat() if self.lease is not None else None,
        )

    def _create(self, holder: Holder) -> bool:
        """Create the lock file with ``holder`` in it; ``False`` when it exists."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, holder.dumps())
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _replace(self, holder: Holder) -> None:
        """Put ``holder`` in the lock file atomically (a temporary file renamed over it)."""
        temporary = self.path.with_name(f"{self.path.name}.{holder.token}.tmp")
        temporary.write_bytes(holder.dumps())
        os.replace(temporary, self.path)

    def _take_over(self, stale: Holder, mine: Holder) -> bool:
        """Replace the ``stale`` holder's lock with ``mine``; ``False`` if someone else did."""
        marker = self.path.with_name(f"{self.path.name}.takeover-{stale.token}")
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                if time.time() - marker.stat().st_mtime > TAKEOVER_GRACE:
                    marker.unlink()  # its taker was killed in the middle
            except FileNotFoundError:
                pass
            return False
        os.close(fd)
        try:
            current = read_holder(self.path)
            if current is None or current.token != stale.token:
                return False  # gone, or already taken over
            self._replace(mine)
            return True
        finally:
            marker.unlink(missing_ok=True)

    def acquire(self) -> Holder:
        """Take the lock (taking over a stale one); :class:`LockBusy` when it is held."""
        if self.holder is not None:
            raise RuntimeError("lock already held by this object")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mine = self._new_holder()
        for _ in range(20):
            if self._create(mine):
                break
            current = read_holder(self.path)
            if current is None:
                # unreadable: being written this instant, or left empty by a kill
                if self._empty_and_old():
                    self.path.unlink(missing_ok=True)
                time.sleep(0.05)
                continue
            if not current.stale():
                raise LockBusy(self.busy_message(current), current, self.path)
            if self._take_over(current, mine):
                break
            time.sleep(0.05)
        else:
            current = read_holder(self.path) or mine
            raise LockBusy(self.busy_message(current), current, self.path)
        self.holder = mine
        if self.lease is not None:
            self._keep_alive()
        return mine

    def _empty_and_old(self) -> bool:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return False
        return info.st_size == 0 and time.time() - info.st_mtime > TAKEOVER_GRACE

    def renew(self) -> None:
        """Push the lease on (the holder is still at work)."""
        if self.holder is None or self.lease is None:
            return
        current = read_holder(self.path)
        if current is None or current.token != self.holder.token:
            return  # taken over after the lease ran out: not ours any more
        until = (datetime.now(UTC) + self.lease).isoformat()
        self.holder = Holder(**{**asdict(self.holder), "lease_until": until})
        self._replace(self.holder)

    def _keep_alive(self) -> None:
        assert self.lease is not None
        interval = max(self.lease.total_seconds() / 3, 0.1)
        stop = threading.Event()

        def renew_while_held() -> None:
            while not stop.wait(interval):
                with contextlib.suppress(OSError):  # tried again at the next interval
                    self.renew()

        self._stop = stop
        self._thread = threading.Thread(target=renew_while_held, daemon=True, name="lock-lease")
        self._thread.start()

    def release(self) -> None:
        """Give the lock back (only if it is still ours)."""
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._stop = self._thread = None
        if self.holder is None:
            return
        current = read_holder(self.path)
        if current is not None and current.token == self.holder.token:
            self.path.unlink(missing_ok=True)
        self.holder = None

    def busy_message(self, holder: Holder) -> str:
        """The Russian message: what is locked, by whom, since when, and what to do."""
        since = local_time(holder.since_instant, self.zone)
        return (
            f"{self.what} уже выполняется: запустил {holder.who} (процесс {holder.pid}) "
            f"{since}. Дождитесь окончания того запуска. Если он точно не работает "
            f"(компьютер выключен), удалите файл {self.path}"
        )

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


# -- the lock of a school's year


LOCKS = "locks"
"""Folder of the lock files in the working folder (one per school and year)."""


def year_lock_path(working_dir: Path, school_id: str, year: str) -> Path:
    """The lock file of a school's year (``year`` as :func:`~archiver.kinds.year_folder` writes it)."""
    return working_dir / LOCKS / f"{safe_name(school_id)}-{year}.lock"


def year_lock(working_dir: Path, export: JournalExport, zone: tzinfo | None = None) -> RunLock:
    """The lock of the school's year: one year-end run at a time (``archiver year-end``, a region)."""
    return RunLock(
        year_lock_path(working_dir, export.school.id, year_folder(export)),
        purpose="year-end",
        what=f"Архивирование «{export.school.short_name}» за {export.academic_year.name} "
        "учебный год",
        zone=zone,
    )
