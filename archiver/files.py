"""Safe file writing: never a half-written file under its final name.

One way to write a file, used by every writer (documents, settings, the retrieval
of records, the local storage backend): the bytes go to a temporary file
(:func:`staged_file`), flushed to disk, and only then get their final name — by a
rename over the old file (:func:`write_atomic`) or as a new file that never
replaces one (:func:`link_new`); the folder is then synced (:func:`fsync_folder`).
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from archiver.errors import ArchiverError, ExitCode

__all__ = [
    "NotCreated",
    "OutputError",
    "fsync_folder",
    "link_new",
    "os_reason",
    "staged_file",
    "write_atomic",
]

_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}
"""What ``link`` fails with on file systems without hard links (FAT, exFAT, some shares)."""


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in Russian: the real cause (a read-only disk is not a
    missing permission)."""
    reasons = {
        errno.ENOSPC: "на диске нет места",
        errno.EDQUOT: "превышена квота диска",
        errno.EROFS: "диск доступен только для чтения",
        errno.EACCES: "нет прав доступа",
        errno.EPERM: "операция не разрешена",
        errno.ENOENT: "нет такого файла или папки",
        errno.ENOTDIR: "часть пути — не папка",
        errno.EISDIR: "это папка",
        errno.ENAMETOOLONG: "слишком длинное имя файла",
        errno.EIO: "ошибка ввода-вывода (диск неисправен?)",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


class OutputError(ArchiverError):
    """A result could not be written."""

    exit_code = ExitCode.FAILURE


class NotCreated(OSError):
    """The temporary file could not be created (the folder is missing, full, read-only)."""


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk (best effort: some network file systems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def staged_file(
    folder: Path,
    data: bytes,
    *,
    name: str | None = None,
    prefix: str = "",
    mode: int = 0o600,
    midway: Callable[[], None] | None = None,
) -> Iterator[Path]:
    """A new temporary file in ``folder`` holding ``data``, flushed to disk, with ``mode``.

    Named ``name`` (which must not exist), else a unique ``<prefix>….part``. Removed
    when the block ends, unless the block gave it another name. :class:`NotCreated`
    when it cannot be created, :class:`OSError` when it cannot be written.
    ``midway`` is called with half of the bytes written (a test hook).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if name is None:
            fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=folder)
            path = Path(tmp_name)
        else:
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise NotCreated(exc.errno, exc.strerror) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            view = memoryview(data)
            if midway is not None:
                half = len(view) // 2
                handle.write(view[:half])
                handle.flush()
                midway()
                view = view[half:]
            handle.write(view)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        yield path
    finally:
        path.unlink(missing_ok=True)  # the temporary name only


def link_new(tmp: Path, path: Path) -> None:
    """Give ``tmp``'s file the name ``path`` too, never replacing a file there.

    A hard link, which fails with :class:`FileExistsError` if the name exists; where
    the file system has no hard links, a rename after an existence check.
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        if path.exists() or path.is_symlink():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from exc
        os.rename(tmp, path)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync and rename."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        with staged_file(folder, data, prefix=f".{path.name}.") as tmp:
            os.replace(tmp, path)
    except NotCreated as exc:
        raise OutputError(f"не удалось создать файл в папке {folder}: {os_reason(exc)}") from exc
    except OSError as exc:
        raise OutputError(f"не удалось записать {path}: {os_reason(exc)}") from exc
    fsync_folder(folder)
