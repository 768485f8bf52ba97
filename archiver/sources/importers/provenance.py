"""Where a pulled export came from: the raw responses beside it, and capture for fixtures.

:func:`write_pull` writes the built export and, next to it, a folder with every raw
response gzipped (``0001.json.gz`` …) and ``manifest.json`` naming each one's route,
address, time and SHA-256 (of the body and of the gzip file). The export itself
records the same in its ``provenance`` object (an extra top-level key, which the v1
format allows and readers ignore; see docs/sources.md). The responses folder is
built under a temporary name and renamed into place, and the export is written
last, atomically: a pull that fails writes nothing, and a rerun starts afresh.

:func:`write_capture` saves the responses with personal data replaced by
placeholders (``--capture``), for building test fixtures from a real school.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver import __version__
from archiver.errors import ArchiverError, ExitCode
from archiver.files import fsync_folder, write_atomic
from archiver.sources.importers.base import Notes, Response

MANIFEST = "manifest.json"


class OutputError(ArchiverError):
    """The pull's output could not be written (exit code 70)."""

    exit_code = ExitCode.FAILURE


def responses_folder(out: Path) -> Path:
    """The folder of raw responses beside the export ``out``: ``<name>-responses``."""
    return out.with_name(f"{out.stem}-responses")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def provenance(
    *,
    importer: str,
    system: str,
    base_url: str,
    account: dict[str, Any],
    pulled_at: datetime,
    responses: Sequence[Response],
    folder_name: str,
    notes: Notes,
    mappings: Sequence[str],
) -> dict[str, Any]:
    """The export's ``provenance`` object."""
    return {
        "importer": importer,
        "system": system,
        "base_url": base_url,
        "account": account,
        "pulled_at": pulled_at.isoformat(),
        "archiver_version": __version__,
        "routes": list(dict.fromkeys(r.route for r in responses)),
        "responses_folder": folder_name,
        "responses": [
            {
                "file": f"{r.seq:04d}.json.gz",
                "route": r.route,
                "url": r.url,
                "received_at": r.received_at.isoformat(),
                "bytes": len(r.body),
                "sha256": _sha(r.body),
                "gzip_sha256": _sha(_gzip(r.body)),
            }
            for r in responses
        ],
        "mappings": list(mappings),
        "missing": list(notes.missing),
        "warnings": list(notes.warnings),
        "counts": dict(notes.counts),
    }


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)  # the same bytes every time


def write_pull(
    out: Path, raw: bytes, manifest: list[dict[str, Any]], responses: Sequence[Response]
) -> Path:
    """Write the responses folder (with ``manifest``), then the export ``raw``; returns the folder."""
    folder = responses_folder(out)
    parent = out.parent if str(out.parent) else Path(".")
    staging = parent / f".{folder.name}.part-{os.getpid()}"
    old = parent / f".{folder.name}.old-{os.getpid()}"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for response in responses:
            (staging / f"{response.seq:04d}.json.gz").write_bytes(_gzip(response.body))
        (staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        fsync_folder(staging)
        if folder.exists():
            os.rename(folder, old)
        os.rename(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
        fsync_folder(parent)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"не удалось записать ответы системы в {folder}: {exc.strerror}") from exc
    except BaseException:  # Ctrl-C: no half-built folder left behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_atomic(out, raw)
    return folder


# -- capture

_PERSON_KEYS = {
    "last_name": "Фамилия",
    "lastName": "Фамилия",
    "first_name": "Имя",
    "firstName": "Имя",
    "middle_name": "Отчество",
    "middleName": "Отчество",
    "short_name": "Ф. И.",
    "shortName": "Ф. И.",
    "user_name": "пользователь",
    "login": "пользователь",
    "email": "почта",
    "phone": "телефон",
    "phone_number": "телефон",
    "mobile": "телефон",
    "snils": "СНИЛС",
    "address": "адрес",
    "comment": "комментарий",
    "left_reason": "причина",
}
_DATE_KEYS = {"birth_date", "birthday", "birthDate"}
_PERSON_PARTS = (
    "surname",
    "family",
    "patronymic",
    "fio",
    "lastname",
    "firstname",
    "middlename",
    "phone",
    "mail",
    "snils",
    "address",
    "birth",
)
"""Parts of key names that mark personal data under names not listed above (a renamed field)."""


def _label(key: str) -> str | None:
    if key in _PERSON_KEYS:
        return _PERSON_KEYS[key]
    flat = key.lower().replace("_", "").replace("-", "")
    return "данные" if any(part in flat for part in _PERSON_PARTS) else None


class _Scrubber:
    """Replaces personal data with placeholders, the same value by the same placeholder."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], str] = {}

    def __call__(self, node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: self(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [self(v, key) for v in node]
        if key in _DATE_KEYS and isinstance(node, str):
            return node[:4] + "-01-01" if len(node) >= 4 else node
        label = _label(key)
        if label is not None and isinstance(node, str) and node:
            found = self.seen.get((label, node))
            if found is None:
                found = f"{label}-{sum(1 for k in self.seen if k[0] == label) + 1}"
                self.seen[(label, node)] = found
            return found
        return node


def write_capture(folder: Path, responses: Sequence[Response]) -> None:
    """Save the responses without personal data: ``NNNN.json`` and ``index.json``."""
    scrub = _Scrubber()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        index = []
        for r in responses:
            name = f"{r.seq:04d}.json"
            try:
                data = scrub(json.loads(r.body.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            write_atomic(
                folder / name,
                (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
            )
            index.append({"file": name, "route": r.route, "url": r.url})
        write_atomic(
            folder / "index.json",
            (json.dumps(index, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
        )
    except OSError as exc:
        raise OutputError(f"не удалось записать ответы в папку {folder}: {exc.strerror}") from exc
