"""The verification history (``verify-state.json``): when each record was last verified.

Per record: when it was last verified at each level and with what result, the
SHA-256 of the manifest found right (and when it was first seen) and the record's
retain-until instant. It orders ``--sample`` runs, tells a manifest changed since it
was verified, and notices records that vanished from every location. The file keeps
its historical name; it lives in the local state folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from archiver.archive.record import RecordManifest
from archiver.archive.verify.report import Level
from archiver.files import write_atomic

__all__ = ["HISTORY_FILE", "HISTORY_FORMAT", "VerifyHistory"]

HISTORY_FILE = "verify-state.json"
HISTORY_FORMAT = "archiver-verify-state/1"


class VerifyHistory:
    """``verify-state.json``: per record, when it was last verified and with what result."""

    def __init__(self, folder: Path, records: dict[str, dict[str, Any]] | None = None) -> None:
        self.path = folder / HISTORY_FILE
        self.records: dict[str, dict[str, Any]] = records or {}

    @staticmethod
    def _read(path: Path) -> dict[str, dict[str, Any]]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != HISTORY_FORMAT:
            raise ValueError("неизвестный формат")
        records = doc.get("records", {})
        if not isinstance(records, dict):
            raise ValueError("records: ожидался объект")
        return {str(k): dict(v) for k, v in records.items()}

    @classmethod
    def peek(cls, folder: Path) -> dict[str, dict[str, Any]]:
        """The records of the history, read only: empty when there is none or it is broken."""
        try:
            return cls._read(folder / HISTORY_FILE)
        except (OSError, ValueError, TypeError, UnicodeDecodeError):
            return {}

    @classmethod
    def load(cls, folder: Path, notes: list[str] | None = None) -> VerifyHistory:
        """The history in ``folder``; a broken file is set aside (and said in ``notes``)."""
        path = folder / HISTORY_FILE
        try:
            return cls(folder, cls._read(path))
        except FileNotFoundError:
            return cls(folder)
        except (OSError, ValueError, TypeError, UnicodeDecodeError) as exc:
            broken = path.with_name(f"{HISTORY_FILE}.broken")
            with suppress(OSError):
                os.replace(path, broken)
            if notes is not None:
                notes.append(
                    f"файл состояния проверок {path} не читается ({exc}); он сохранён как "
                    f"{broken.name}, сроки проверок начаты заново"
                )
            return cls(folder)

    def save(self) -> None:
        doc = {"format": HISTORY_FORMAT, "records": dict(sorted(self.records.items()))}
        text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
        write_atomic(self.path, text.encode("utf-8"))

    def last(self, rid: str, level: Level) -> str:
        """When ``rid`` was last verified at ``level`` (a deep check counts as cheap too); '' never."""
        entry = self.records.get(rid, {})
        return str(entry.get("deep_at" if level == Level.DEEP else "checked_at") or "")

    def known_manifest(self, rid: str) -> tuple[str, str] | None:
        """SHA-256 of the manifest verified before, and when it was first seen."""
        entry = self.records.get(rid, {})
        sha = entry.get("manifest_sha256")
        return (str(sha), str(entry.get("manifest_seen_at", ""))) if sha else None

    def update(
        self,
        rid: str,
        level: Level,
        status: str,
        at: str,
        manifest: tuple[RecordManifest, bytes] | None,
    ) -> None:
        """Note a verification of ``rid``; ``manifest`` is the one found right, if any."""
        entry = self.records.setdefault(rid, {})
        entry["checked_at"] = at
        entry["checked_status"] = str(status)
        if level == Level.DEEP:
            entry["deep_at"] = at
            entry["deep_status"] = str(status)
        if manifest is not None and not entry.get("manifest_sha256"):
            entry["manifest_sha256"] = hashlib.sha256(manifest[1]).hexdigest()
            entry["manifest_seen_at"] = at
        if manifest is not None:
            entry["retain_until"] = manifest[0].retain_until
