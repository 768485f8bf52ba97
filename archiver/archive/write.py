"""Writing one whole record (a renewed document, a disposal act) to every location.

The same order as :mod:`archiver.archive.store`: every file but the marker in every
location, each read back and hash-checked (on S3 also its lock), then the markers.
Objects are write-once, so running the same write again after an interruption
finishes it; a record whose copies all carry the marker is left as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from archiver.archive.record import MARKER, RecordManifest, bag_files
from archiver.storage.base import Lock, Storage, StorageError, crash_point, require_two_locations


def _check(location: Storage, key: str, data: bytes, lock: Lock) -> None:
    stored = location.read(key)
    if hashlib.sha256(stored.data).digest() != hashlib.sha256(data).digest():
        raise StorageError(
            f"хранилище «{location.name}»: копия {location.url(key)} не совпадает с записанной"
        )
    info = stored.info
    if location.enforces_retention and (
        info.lock_mode != lock.mode
        or info.retain_until is None
        or info.retain_until < lock.retain_until
    ):
        raise StorageError(
            f"хранилище «{location.name}»: объект {location.url(key)} не защищён от удаления "
            f"до {lock.retain_until.isoformat()}"
        )


def write_record(
    locations: Sequence[Storage], manifest: RecordManifest, manifest_bytes: bytes, payload: bytes
) -> list[str]:
    """Write the record to every location; returns the names of the locations written to.

    :class:`~archiver.storage.base.StorageConflict` when another record is already
    under the same id (nothing of it is changed).
    """
    require_two_locations(locations)
    files = bag_files(manifest, manifest_bytes, payload)
    lock = Lock(manifest.retain_until_instant, manifest.lock_mode)
    prefix = manifest.record_id
    body, marker = files[:-1], files[-1]
    assert marker.path == MARKER
    for location in locations:
        location.check()
    todo = [loc for loc in locations if loc.stat(f"{prefix}/{MARKER}") is None]
    for location in todo:
        for file in body:
            location.put(f"{prefix}/{file.path}", file.data, lock)
            crash_point()
    for location in todo:
        for file in body:
            _check(location, f"{prefix}/{file.path}", file.data, lock)
    for location in todo:
        location.put(f"{prefix}/{marker.path}", marker.data, lock)
        _check(location, f"{prefix}/{marker.path}", marker.data, lock)
        location.seal(prefix)
    return [loc.name for loc in todo]
