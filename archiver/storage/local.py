"""A storage location in a local folder: a NAS share mounted here, or an external disk.

Every object is written to a temporary file in ``<root>/.incoming/``, flushed to
disk (fsync), made read-only (mode 0444) and only then given its final name with
a hard link, which fails if the name exists: an object never appears half
written, and an existing object is never replaced. Where the file system has no
hard links (FAT/exFAT disks), a rename after an existence check is used instead.
Folders are fsynced after every new entry. :meth:`LocalStorage.seal` makes the
folders of a finished record read-only (0555) too.

The disk cannot enforce retention by itself: the read-only modes keep honest
mistakes out, and the only code that deletes is :meth:`LocalStorage.destroy`, for
``archiver dispose execute`` after the retention date (see there).
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import stat as stat_module
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from archiver.files import NotCreated, fsync_folder, link_new, os_reason, staged_file
from archiver.storage.base import (
    LOCATION_MARKER,
    Lock,
    ObjectInfo,
    PutResult,
    Storage,
    StorageError,
    StoredObject,
    check_key,
    crash_point,
    refuse_before,
)

INCOMING = ".incoming"
FILE_MODE = 0o444
SEALED_DIR_MODE = 0o555


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "на диске нет места"
    if exc.errno == errno.EDQUOT:
        return "превышена квота диска"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "нет прав на запись"
    if exc.errno == errno.EROFS:
        return "диск доступен только для чтения"
    return os_reason(exc)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalStorage(Storage):
    """Objects as read-only files under a root folder that must already exist."""

    enforces_retention = False
    conflict_message = "{url} уже есть с другим содержимым; archiver не перезаписывает файлы архива"

    def __init__(self, name: str, root: Path) -> None:
        super().__init__(name)
        self.root = root

    @property
    def where(self) -> str:
        return str(self.root)

    def url(self, key: str) -> str:
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def check(self) -> None:
        """The root must exist (a missing mount point is not silently created) and be writable."""
        if not self.root.is_dir():
            raise StorageError(
                f"хранилище «{self.name}»: папка {self.root} не найдена "
                "(диск или сетевая папка подключены?)"
            )
        try:
            read_only = bool(os.statvfs(self.root).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        if read_only:
            raise StorageError(
                f"хранилище «{self.name}»: диск с папкой {self.root} подключён только для "
                "чтения; запись в архив невозможна"
            )
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"хранилище «{self.name}»: нет прав на запись в папку {self.root}")
        incoming = self.root / INCOMING
        try:
            incoming.mkdir(exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"хранилище «{self.name}»: не удалось создать {incoming}: {_reason(exc)}"
            ) from exc
        self._clean_incoming(incoming)

    def _clean_incoming(self, incoming: Path) -> None:
        """Remove temporary files left by killed runs of archiver on this host.

        These never carry a final name, so they are not archive objects; a file of a
        process still running (or of another host sharing the folder) is left alone.
        """
        host = socket.gethostname()
        for tmp in incoming.glob("*.part"):
            parts = tmp.name.split("~")
            if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
                continue
            if not _pid_alive(int(parts[1])):
                tmp.unlink(missing_ok=True)

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"хранилище «{self.name}»: {path}: {_reason(exc)}") from exc
        if not stat_module.S_ISREG(st.st_mode):
            raise StorageError(f"хранилище «{self.name}»: {path} — не файл")
        return ObjectInfo(
            key=key,
            size=st.st_size,
            read_only=not st.st_mode & 0o222,
            mode=stat_module.S_IMODE(st.st_mode),
        )

    def read(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"хранилище «{self.name}»: файл {path} не найден") from exc
        except OSError as exc:
            raise StorageError(
                f"хранилище «{self.name}»: не удалось прочитать {path}: {_reason(exc)}"
            ) from exc
        info = self.stat(key)
        if info is None:  # pragma: no cover - removed between read and stat
            raise StorageError(f"хранилище «{self.name}»: файл {path} исчез во время чтения")
        return StoredObject(data=data, info=info)

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        start = self.root
        if "/" in prefix:
            start = self._path(prefix.rsplit("/", 1)[0])
            if not start.is_dir():
                return []
        for folder, dirs, files in os.walk(start):
            rel = Path(folder).relative_to(self.root).as_posix()
            if rel == ".":
                dirs[:] = [d for d in dirs if d != INCOMING]
                rel = ""
            for name in files:
                if not rel and name == LOCATION_MARKER:
                    continue  # the location's marker, not an archive object
                key = f"{rel}/{name}" if rel else name
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def _make_dirs(self, folder: Path) -> None:
        missing: list[Path] = []
        current = folder
        while not current.exists() and current != self.root:
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                path.mkdir(exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"хранилище «{self.name}»: не удалось создать папку {path}: {_reason(exc)}"
                ) from exc
            fsync_folder(path.parent)

    def put(self, key: str, data: bytes, lock: Lock) -> PutResult:
        """Write ``data`` once under ``key``: temporary file, fsync, read-only, link."""
        path = self._path(key)
        if path.exists():
            return self._compare_existing(key, data)
        self._make_dirs(path.parent)
        incoming = self.root / INCOMING
        try:
            with staged_file(
                incoming, data, name=self._temporary_name(), mode=FILE_MODE, midway=crash_point
            ) as tmp:
                crash_point()  # temporary file complete, final name not yet there
                try:
                    link_new(tmp, path)
                except FileExistsError:
                    return self._compare_existing(key, data)  # another writer got there first
                fsync_folder(path.parent)
                crash_point()  # final name there, temporary file not yet removed
        except NotCreated as exc:
            raise StorageError(
                f"хранилище «{self.name}»: не удалось создать временный файл в {incoming}: "
                f"{_reason(exc)}"
            ) from exc
        except OSError as exc:
            raise StorageError(
                f"хранилище «{self.name}»: не удалось записать {path}: {_reason(exc)}"
            ) from exc
        fsync_folder(incoming)
        return PutResult(info=ObjectInfo(key=key, size=len(data), read_only=True), created=True)

    @staticmethod
    def _temporary_name() -> str:
        """``<host>~<pid>~<random>.part``: :meth:`check` removes those of dead runs."""
        return f"{socket.gethostname()}~{os.getpid()}~{uuid.uuid4().hex}.part"

    @contextmanager
    def _writable(self, folder: Path) -> Iterator[None]:
        """Give ``folder`` (of a sealed record, mode 0555) write permission for a moment."""
        try:
            mode = stat_module.S_IMODE(folder.stat().st_mode)
            if not mode & 0o200:
                folder.chmod(mode | 0o200)
        except OSError as exc:
            raise StorageError(
                f"хранилище «{self.name}»: не удалось открыть папку {folder} для восстановления: "
                f"{_reason(exc)}"
            ) from exc
        try:
            yield
        finally:
            if not mode & 0o200:
                with suppress(OSError):  # the caller seals the record again anyway
                    folder.chmod(mode)

    def _current_sha256(self, key: str) -> str | None:
        """sha256 of the file under ``key`` now, ``None`` when there is none."""
        path = self._path(key)
        if not path.exists() and not path.is_symlink():
            return None
        if path.is_symlink() or not path.is_file():
            raise StorageError(
                f"хранилище «{self.name}»: {path} — не обычный файл; восстановление не выполняется, "
                "нужна проверка человеком"
            )
        return hashlib.sha256(self.read(key).data).hexdigest()

    def restore(self, key: str, data: bytes, lock: Lock, expected_sha256: str) -> PutResult:
        """Replace a damaged or missing file: temporary file, fsync, read back, rename over it."""
        path = self._path(key)
        if hashlib.sha256(data).hexdigest() != expected_sha256:
            raise ValueError("restore: the data does not have the expected sha256")
        if self._current_sha256(key) == expected_sha256:
            info = self.stat(key)
            assert info is not None
            return PutResult(info=info, created=False)
        existing = path.parent
        while not existing.exists() and existing != self.root:
            existing = existing.parent
        with self._writable(existing):
            self._make_dirs(path.parent)
        incoming = self.root / INCOMING
        try:
            with staged_file(incoming, data, name=self._temporary_name(), mode=FILE_MODE) as tmp:
                written = tmp.read_bytes()
                if hashlib.sha256(written).hexdigest() != expected_sha256:
                    raise StorageError(
                        f"хранилище «{self.name}»: восстановленная копия {path} не читается "
                        "такой, какой записана; повреждённый файл оставлен как есть"
                    )
                with self._writable(path.parent):
                    try:
                        os.replace(tmp, path)
                    except OSError as exc:
                        raise StorageError(
                            f"хранилище «{self.name}»: не удалось заменить {path}: {_reason(exc)}"
                        ) from exc
                    fsync_folder(path.parent)
        except OSError as exc:
            raise StorageError(
                f"хранилище «{self.name}»: не удалось записать восстановленную копию {path}: "
                f"{_reason(exc)}"
            ) from exc
        fsync_folder(incoming)
        return PutResult(info=ObjectInfo(key=key, size=len(data), read_only=True), created=True)

    def destroy(self, prefix: str, retain_until: datetime, now: datetime) -> int:
        """Remove the record folder ``prefix``: marker first, then the other files, then folders.

        The disk has no clock of its own: ``now`` (the library's clock) decides, and the
        caller adds the real-clock guard (:mod:`archiver.archive.dispose.execute`).
        """
        refuse_before(self, prefix, retain_until, now)
        top = self._path(prefix.rstrip("/"))
        if not top.is_dir():
            return 0
        for folder, _, _ in os.walk(top):
            Path(folder).chmod(0o755)
        files = sorted(
            (Path(folder) / name for folder, _, names in os.walk(top) for name in names),
            key=lambda path: (path.name != "bagit.txt", str(path)),
        )
        removed = 0
        try:
            for path in files:
                os.remove(path)
                removed += 1
                crash_point()
            for folder, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                os.rmdir(folder)
            fsync_folder(top.parent)
        except OSError as exc:
            raise StorageError(
                f"хранилище «{self.name}»: не удалось удалить {top}: {_reason(exc)}"
            ) from exc
        return removed

    def seal(self, prefix: str) -> None:
        """Make the folder ``prefix`` and every folder in it read-only (0555)."""
        top = self._path(prefix.rstrip("/"))
        if not top.is_dir():
            return
        folders = [Path(folder) for folder, _, _ in os.walk(top)]
        for folder in reversed(folders):
            try:
                if folder.stat().st_mode & 0o777 != SEALED_DIR_MODE:
                    folder.chmod(SEALED_DIR_MODE)
            except OSError as exc:
                raise StorageError(
                    f"хранилище «{self.name}»: не удалось защитить папку {folder}: {_reason(exc)}"
                ) from exc
