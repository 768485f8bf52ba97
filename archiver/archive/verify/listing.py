"""What each location holds: its keys grouped by record folder, and objects of no record."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from archiver.archive.record import BAG_TEXT, MARKER, TAG_FILES
from archiver.archive.verify.report import Untracked
from archiver.kinds import KINDS, LOG_FOLDER, RECORD_ID
from archiver.storage.base import Storage

__all__ = ["Listing", "find_untracked"]

_LOG_ENTRY = re.compile(rf"^{re.escape(LOG_FOLDER)}/\d{{8}}\.json$")


def _split(key: str) -> tuple[str, str] | None:
    """``(record id, path in the bag)`` for a key inside a record-shaped folder."""
    parts = key.split("/")
    if len(parts) < 6:
        return None
    rid = "/".join(parts[:5])
    match = RECORD_ID.match(rid)
    if not match or match.group("kind") not in KINDS:
        return None
    return rid, "/".join(parts[5:])


@dataclass(slots=True)
class Listing:
    """One location's keys, grouped by record folder."""

    by_record: dict[str, set[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, keys: Sequence[str]) -> Listing:
        listing = cls()
        for key in keys:
            split = _split(key)
            if split is None:
                listing.other.append(key)
            else:
                listing.by_record.setdefault(split[0], set()).add(split[1])
        return listing

    @property
    def complete(self) -> set[str]:
        """The records whose marker (``bagit.txt``) is there."""
        return {rid for rid, paths in self.by_record.items() if MARKER in paths}

    def paths(self, rid: str) -> set[str]:
        """The paths of one record's folder (empty when there is none)."""
        return self.by_record.get(rid, set())


def find_untracked(
    location: Storage,
    listing: Listing,
    known: set[str],
    bags: dict[str, set[str]],
) -> list[Untracked]:
    """Objects in ``location`` that belong to no record's bag.

    ``known`` are the records complete in some location, ``bags`` the paths of the
    bags inspected in this run (others may hold any tag file and one payload).
    """
    found: list[Untracked] = []
    for key in listing.other:
        if not _LOG_ENTRY.match(key):  # the access log is checked by «archiver log verify»
            found.append(Untracked(location.name, key, location.url(key), "unknown"))
    for rid, paths in sorted(listing.by_record.items()):
        if rid not in known:
            found.append(
                Untracked(location.name, f"{rid}/", location.url(rid), "unfinished_record")
            )
            continue
        allowed = bags.get(rid)
        for path in sorted(paths):
            if allowed is not None:
                extra = path not in allowed
            else:
                extra = (
                    path not in TAG_FILES
                    and not (path.startswith("data/") and "/" not in path[5:])
                    and not BAG_TEXT.match(path)
                )
            if extra:
                key = f"{rid}/{path}"
                found.append(Untracked(location.name, key, location.url(key), "extra_file"))
    return found
