"""Opening the configured storage locations (``[storage]`` of :mod:`archiver.settings`) as backends."""

from __future__ import annotations

from archiver.settings import LocalLocation, S3Location, StorageSettings
from archiver.storage.base import Storage


def open_location(name: str, location: LocalLocation | S3Location) -> Storage:
    """The backend of one configured location, named ``primary`` or ``secondary``."""
    if isinstance(location, LocalLocation):
        from archiver.storage.local import LocalStorage

        return LocalStorage(name, location.path)
    from archiver.storage.s3 import S3Storage

    return S3Storage(
        name,
        location.bucket,
        location.prefix,
        endpoint_url=location.endpoint_url,
        region=location.region,
        profile=location.profile,
        addressing_style=location.addressing_style,
    )


def open_locations(storage: StorageSettings) -> list[Storage]:
    """Both configured locations, primary first."""
    return [open_location(name, location) for name, location in storage.locations]
