"""Archive storage locations: a local folder and an S3 bucket, both write-once, no delete.

See :mod:`archiver.storage.base` for the interface and ``docs/storage.md`` for the
layout of the records that :mod:`archiver.archive.store` puts there.
"""

from __future__ import annotations

from archiver.storage.base import (
    Lock,
    ObjectInfo,
    PutResult,
    Storage,
    StorageConflict,
    StorageError,
    StoredObject,
)

__all__ = [
    "Lock",
    "ObjectInfo",
    "PutResult",
    "Storage",
    "StorageConflict",
    "StorageError",
    "StoredObject",
]
