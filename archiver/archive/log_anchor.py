"""Anchors of the access log's tail: what protects the last entries from removal.

A hash chain shows an entry removed or changed in the middle; the tail (the last
entries, or the whole log) can be removed from every copy without a trace in the
chain itself. Two anchors keep it:

* **S3 versions.** Every entry is a locked object version; a delete marker or a newer
  version may hide it from a listing, but the locked first version stays.
  :func:`locked_entries` reads those versions, and ``archiver log verify`` checks the
  chain from them, reporting each hidden or replaced entry.
* **The head seen last** (``access-log-head.json`` in the working folder): the number
  and sha256 of the last entry, written by every ``get``/``extract`` and by every
  clean ``log verify``. A log that is now shorter, or whose entry of that number has
  other bytes, lost its tail. The file only ever moves forward.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from archiver.files import write_atomic
from archiver.kinds import LOG_FOLDER
from archiver.storage.base import Storage, StoredObject

__all__ = ["HEAD_FILE", "Head", "load_head", "locked_entries", "save_head"]

HEAD_FILE = "access-log-head.json"
_ENTRY_KEY = re.compile(rf"^{LOG_FOLDER}/(\d{{8}})\.json$")


def locked_entries(location: Storage) -> dict[int, StoredObject]:
    """The first (locked) version of every entry where the location keeps versions."""
    found: dict[int, StoredObject] = {}
    for key, stored in location.locked_originals(LOG_FOLDER + "/").items():
        match = _ENTRY_KEY.match(key)
        if match and int(match.group(1)) > 0:
            found[int(match.group(1))] = stored
    return found


@dataclass(frozen=True, slots=True)
class Head:
    """The last entry seen: its number, its sha256 and when it was seen."""

    seq: int
    sha256: str
    seen_at: str


def load_head(folder: Path | None) -> Head | None:
    """The head seen last (``None``: no working folder, never recorded, or unreadable)."""
    if folder is None:
        return None
    try:
        doc = json.loads((folder / HEAD_FILE).read_text(encoding="utf-8"))
        return Head(int(doc["seq"]), str(doc["sha256"]), str(doc.get("seen_at", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_head(folder: Path | None, head: Head) -> None:
    """Record ``head`` unless a later one is recorded already (the anchor never moves back)."""
    if folder is None:
        return
    known = load_head(folder)
    if known is not None and known.seq >= head.seq:
        return
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"seq": head.seq, "sha256": head.sha256, "seen_at": head.seen_at}
    write_atomic(folder / HEAD_FILE, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
