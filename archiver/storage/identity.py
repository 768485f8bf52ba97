"""Are the two copies really in two places? Location markers and physical identity.

Two configured locations can name one place: a bind mount or a symlink of the primary
folder used as the secondary, one NAS share mounted twice, or one bucket and prefix
reached through two endpoints. Paths and URLs cannot tell; the place itself can:

* every location holds a marker, ``.archiver-location.json``, with a random id
  written the first time archiver stores into it (``archiver store``,
  ``archiver year-end``, ``archiver check``). Two locations showing the same marker
  id are one place (the marker written into the first appears in the second);
* two local folders are compared by device and inode, the folders themselves and
  their parents (one inside the other is the same place too);
* two S3 locations of one service, bucket and overlapping prefixes are one place.

:func:`require_distinct_locations` raises :class:`SameLocationError` naming both.
The marker is not an archive object: the backends leave it out of their listings.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archiver.errors import ArchiverError, ExitCode, UsageError
from archiver.storage.base import LOCATION_MARKER, Lock, Storage

__all__ = [
    "LOCATION_MARKER",
    "SameLocationError",
    "location_marker",
    "refuse_inside_locations",
    "require_distinct_locations",
]

MARKER_FORMAT = "archiver-location/1"


class SameLocationError(ArchiverError):
    """Two configured locations are one place: the archive would have one copy, not two."""

    exit_code = ExitCode.BAD_INPUT


def location_marker(location: Storage) -> str | None:
    """The id in the location's marker; ``None`` when it has none (or an unreadable one)."""
    if location.stat(LOCATION_MARKER) is None:
        return None
    try:
        doc = json.loads(location.read(LOCATION_MARKER).data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    marker = doc.get("id") if isinstance(doc, dict) else None
    return str(marker) if marker else None


def _write_marker(location: Storage) -> None:
    doc = {
        "format": MARKER_FORMAT,
        "id": uuid.uuid4().hex,
        "name": location.name,
        "where": location.where,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    data = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    # a short GOVERNANCE lock where the location locks objects: the marker is no record
    location.put(LOCATION_MARKER, data, Lock(datetime.now(UTC) + timedelta(days=1), "GOVERNANCE"))


def _local_chain(root: Path) -> list[tuple[int, int]]:
    """(device, inode) of ``root`` and of every folder above it."""
    chain = []
    current = root.resolve()
    while True:
        try:
            st = os.stat(current)
        except OSError:
            break
        chain.append((st.st_dev, st.st_ino))
        if current.parent == current:
            break
        current = current.parent
    return chain


def _physical_overlap(a: Storage, b: Storage) -> str | None:
    """Why ``a`` and ``b`` are physically one place (``None``: they are not, as far as seen)."""
    from archiver.storage.local import LocalStorage
    from archiver.storage.s3 import S3Storage

    if isinstance(a, LocalStorage) and isinstance(b, LocalStorage):
        chain_a, chain_b = _local_chain(a.root), _local_chain(b.root)
        if not chain_a or not chain_b:
            return None
        if chain_a[0] == chain_b[0]:
            return "это одна и та же папка (то же устройство и индексный узел)"
        if chain_a[0] in chain_b or chain_b[0] in chain_a:
            return "одна папка лежит внутри другой (то же устройство и индексный узел)"
    if isinstance(a, S3Storage) and isinstance(b, S3Storage):
        same_service = (a.endpoint_url or "").rstrip("/") == (b.endpoint_url or "").rstrip("/")
        if (
            same_service
            and a.bucket == b.bucket
            and (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix))
        ):
            return "это одна и та же корзина S3 и пересекающиеся префиксы"
    return None


def require_distinct_locations(
    locations: Sequence[Storage], *, write_markers: bool = False
) -> None:
    """:class:`SameLocationError` when two locations are one place (module docstring).

    ``write_markers``: give every location without a marker one first (done by the
    commands that write to the archive); otherwise only the markers found are compared.
    """
    for i, a in enumerate(locations):
        for b in locations[i + 1 :]:
            why = _physical_overlap(a, b)
            if why is not None:
                raise SameLocationError(_message(a, b, why))
    if write_markers:
        for location in locations:
            if location_marker(location) is None:
                _write_marker(location)
    seen: dict[str, Storage] = {}
    for location in locations:
        marker = location_marker(location)
        if marker is None:
            continue
        other = seen.get(marker)
        if other is not None:
            raise SameLocationError(
                _message(
                    other, location, f"в обоих одна и та же метка места хранения {marker[:12]}…"
                )
            )
        seen[marker] = location


def _message(a: Storage, b: Storage, why: str) -> str:
    return (
        f"хранилища «{a.name}» ({a.where}) и «{b.name}» ({b.where}) — одно и то же место: "
        f"{why}. Две копии архива должны храниться в разных местах (регламент, п. 3.8 и 5.5)"
    )


def refuse_inside_locations(path: Path, locations: Sequence[Storage]) -> None:
    """:class:`UsageError` when ``path`` would be written inside a local storage location.

    A file added to a sealed record's folder would show up as an object of no record;
    compared by device and inode, so another name of the folder is caught as well.
    """
    from archiver.storage.local import LocalStorage

    folder = path.parent if str(path.parent) else Path(".")
    chain = _local_chain(folder)
    for location in locations:
        if not isinstance(location, LocalStorage):
            continue
        root = _local_chain(location.root)[:1]
        if root and root[0] in chain:
            raise UsageError(
                f"файл {path} оказался бы внутри места хранения архива «{location.name}» "
                f"({location.where}); в хранилище archiver пишет только записи архива, "
                "укажите путь вне его"
            )
