"""Verifying the archive: both copies of every record against its manifest, and repairs.

A record (``docs/storage.md``) is a BagIt bag whose every file follows from its
manifest, ``archive-record.json``: the payload's size and hashes are in it, and the
tag files (``bag-info.txt``, ``manifest-*.txt``, ``tagmanifest-*.txt``,
``bagit.txt``) are rebuilt from it byte for byte (:func:`expected_files`). So one
manifest gives the expected size and SHA-256 of every file of the bag, and each
copy is compared with that, file by file; two copies that both match are equal.

Levels (``docs/verify.md``):

* **cheap** (default): every record found complete in any location must be complete
  in every location, every file of its bag of the expected size and SHA-256, and on
  a location that enforces retention locked at least as the manifest says. What is
  read: the listing of each location; each copy's ``archive-record.json``; then per
  file :meth:`Storage.stat` — where the location keeps a SHA-256 it computed on
  receipt (S3 ``ChecksumSHA256``) that hash is compared without downloading the
  object, otherwise (a local disk, an object without a stored checksum) the object
  is read and hashed;
* **deep**: every byte of every copy is read and hashed (the payload also with
  SHA-512), and the signature of every signed document is validated offline
  (:func:`archiver.signing.check.check_document`) against the configured trust
  roots; the signer must be the one the manifest names;
* **repair**: a copy that is changed or missing is restored from the other copy
  when that one matches the manifest and its document's signature validates
  (:meth:`Storage.restore`); a record with no good copy is never touched.

Which manifest is right when the copies' manifests differ: the one verified
before (its SHA-256 is kept in the state file), else the only one that a whole
copy agrees with, else (deep) the only one whose document's signature validates;
otherwise nobody can tell and the record is reported as unrecoverable. A manifest
that differs from the one verified before is reported in every copy.

The state (``verify-state.json`` in the local state folder) keeps, per record, when
it was last verified at each level, the result, and the manifest's SHA-256; it
orders ``sample`` runs (least recently verified first) and detects records that
vanished from every location. Repairs are appended to ``verify-repairs.log`` (JSON
lines) there. The library never prints: progress goes to a callback.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.archive.record import (
    BAGIT_TXT,
    MARKER,
    RECORD_FILE,
    RecordError,
    RecordManifest,
    bag_info,
)
from archiver.errors import ArchiverError, InputError, UsageError
from archiver.files import OutputError, write_atomic
from archiver.kinds import KINDS, LOG_FOLDER, RECORD_ID
from archiver.storage.base import Lock, ObjectInfo, Storage, StorageError

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

__all__ = [
    "CHEAP",
    "DEEP",
    "REPAIR_LOG",
    "STATE_FILE",
    "CopyReport",
    "ExpectedFile",
    "FileProblem",
    "RecordReport",
    "Repair",
    "SignatureVerdict",
    "Untracked",
    "VerifyEvent",
    "VerifyReport",
    "VerifyState",
    "choose_sample",
    "expected_files",
    "verify_archive",
]

CHEAP = "cheap"
DEEP = "deep"
STATE_FILE = "verify-state.json"
REPAIR_LOG = "verify-repairs.log"
STATE_FORMAT = "archiver-verify-state/1"
TAG_FILES = (
    RECORD_FILE,
    "bag-info.txt",
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "tagmanifest-sha256.txt",
    "tagmanifest-sha512.txt",
    MARKER,
)
_LOG_ENTRY = re.compile(rf"^{re.escape(LOG_FOLDER)}/\d{{8}}\.json$")
_SAVE_EVERY = 30.0
"""Seconds between saves of the state during a long run."""

# copy statuses
OK = "ok"
UNPROTECTED = "unprotected"
CHANGED = "changed"
MISSING = "missing"
UNREADABLE = "unreadable"
UNAVAILABLE = "unavailable"
# file problems: MISSING, CHANGED, UNREADABLE, and:
LOCK = "lock"
# record statuses: OK, UNPROTECTED, UNREADABLE, and:
DAMAGED = "damaged"
UNRECOVERABLE = "unrecoverable"
SIGNATURE_INVALID = "signature_invalid"
LOST = "lost"
REPAIRED = "repaired"
REPAIR_FAILED = "repair_failed"
REPAIR_REFUSED = "repair_refused"
_LOCK_STRENGTH = {"GOVERNANCE": 1, "COMPLIANCE": 2}


class VerifyError(ArchiverError):
    """The verification cannot run at all (no location can be read)."""

    exit_code = 1


# -- the expected bag


@dataclass(frozen=True, slots=True)
class ExpectedFile:
    """One file of a record's bag as its manifest implies it."""

    path: str
    size: int
    sha256: str
    sha512: str | None = None
    """Known for the payload only (from the manifest)."""


def _bag_path(path: str) -> str:
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _hash_lines(entries: Sequence[tuple[str, str]]) -> bytes:
    return "".join(f"{digest}  {_bag_path(path)}\n" for digest, path in entries).encode("utf-8")


def expected_files(manifest: RecordManifest, manifest_bytes: bytes) -> list[ExpectedFile]:
    """Every file of the record's bag, in writing order (payload first, ``bagit.txt`` last).

    The tag files are rebuilt from the manifest exactly as :func:`archiver.archive.record.bag_files`
    writes them, without needing the payload (its hashes are in the manifest).
    """
    payload = manifest.payload_path
    manifests = {
        "manifest-sha256.txt": _hash_lines([(manifest.sha256, payload)]),
        "manifest-sha512.txt": _hash_lines([(manifest.sha512, payload)]),
    }
    tagged = [
        (MARKER, BAGIT_TXT),
        ("bag-info.txt", bag_info(manifest)),
        *manifests.items(),
        (RECORD_FILE, manifest_bytes),
    ]
    tags = {
        f"tagmanifest-{alg}.txt": _hash_lines(
            [(hashlib.new(alg, data).hexdigest(), path) for path, data in tagged]
        )
        for alg in ("sha256", "sha512")
    }
    files = [ExpectedFile(payload, manifest.size, manifest.sha256, manifest.sha512)]
    ordered = [
        (RECORD_FILE, manifest_bytes),
        ("bag-info.txt", bag_info(manifest)),
        *manifests.items(),
        *tags.items(),
        (MARKER, BAGIT_TXT),
    ]
    files += [ExpectedFile(p, len(d), hashlib.sha256(d).hexdigest()) for p, d in ordered]
    return files


# -- results


@dataclass(frozen=True, slots=True)
class FileProblem:
    """What is wrong with one file of one copy."""

    path: str
    """Path inside the record's bag."""
    problem: str
    """``missing``, ``changed``, ``unreadable`` or ``lock``."""
    message: str
    expected_sha256: str | None = None
    actual_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CopyReport:
    """One location's copy of one record."""

    location: str
    url: str
    status: str
    """``ok``, ``changed``, ``missing``, ``unreadable``, ``unprotected`` or ``unavailable``."""
    problems: list[FileProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Repair:
    """One file restored in one location (also a line of the repair log)."""

    at: str
    record_id: str
    location: str
    path: str
    url: str
    problem: str
    previous_sha256: str | None
    sha256: str
    source: str
    source_url: str
    version_id: str | None
    created: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class RecordReport:
    """The verdict on one record."""

    record_id: str
    status: str
    copies: list[CopyReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signature: str | None = None
    """``ok``, ``invalid``, ``unsigned`` (the export) or ``None`` (not checked)."""
    repairs: list[Repair] = field(default_factory=list)

    def copy(self, location: str) -> CopyReport | None:
        return next((c for c in self.copies if c.location == location), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "status": self.status,
            "copies": {c.location: c.status for c in self.copies},
            "signature": self.signature,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class Untracked:
    """An object under the archive that is part of no record's bag."""

    location: str
    key: str
    url: str
    reason: str
    """``unknown``, ``extra_file`` (in a record's folder) or ``unfinished_record``
    (a record folder without ``bagit.txt`` anywhere: an interrupted ``archiver store``)."""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "url": self.url, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class VerifyEvent:
    """Progress: ``listed`` (a location), ``record`` (one record checked), ``repaired``."""

    stage: str
    done: int
    total: int
    record_id: str | None = None
    location: str | None = None
    status: str | None = None


ProgressCallback = Callable[[VerifyEvent], None]


@dataclass(slots=True)
class LocationState:
    name: str
    where: str
    error: str | None = None
    """Why the location could not be used (``None``: it was checked)."""


@dataclass(slots=True)
class VerifyReport:
    """Everything one run found and did."""

    level: str
    repair: bool
    sample: float | None
    started_at: str
    locations: list[LocationState]
    records_total: int = 0
    records: list[RecordReport] = field(default_factory=list)
    untracked: list[Untracked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    finished_at: str = ""
    seconds: float = 0.0
    bytes_read: int = 0

    @property
    def repairs(self) -> list[Repair]:
        return [r for record in self.records for r in record.repairs]

    @property
    def clean(self) -> bool:
        """Nothing wrong was found (a repaired copy was wrong: not clean)."""
        return (
            all(loc.error is None for loc in self.locations)
            and all(r.status == OK for r in self.records)
            and not self.untracked
        )

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for record in self.records:
            found[record.status] = found.get(record.status, 0) + 1
        return found

    def per_location(self, name: str) -> dict[str, Any]:
        """What is wrong in one location: changed, missing, unreadable, unprotected, untracked."""
        location = next(loc for loc in self.locations if loc.name == name)
        view: dict[str, Any] = {
            "name": name,
            "where": location.where,
            "available": location.error is None,
            "error": location.error,
        }
        for status in (CHANGED, MISSING, UNREADABLE, UNPROTECTED):
            view[status] = [
                {
                    "record_id": record.record_id,
                    "url": copy.url,
                    "repaired": record.status == REPAIRED
                    and any(r.location == name for r in record.repairs),
                    "files": [p.to_json() for p in copy.problems],
                }
                for record in self.records
                for copy in record.copies
                if copy.location == name and copy.status == status
            ]
        view["untracked"] = [u.to_json() for u in self.untracked if u.location == name]
        return view

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "repair": self.repair,
            "sample": self.sample,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": round(self.seconds, 3),
            "bytes_read": self.bytes_read,
            "clean": self.clean,
            "records_total": self.records_total,
            "records_checked": sum(1 for r in self.records if r.status != LOST),
            "counts": self.counts(),
            "locations": [self.per_location(loc.name) for loc in self.locations],
            "records": [r.to_json() for r in self.records],
            "unrecoverable": [
                r.record_id
                for r in self.records
                if r.status in (UNRECOVERABLE, LOST, REPAIR_REFUSED, REPAIR_FAILED)
            ],
            "repairs": [r.to_json() for r in self.repairs],
            "notes": self.notes,
        }


# -- the state file


def _now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="microseconds")


class VerifyState:
    """``verify-state.json``: per record, when it was last verified and with what result."""

    def __init__(self, folder: Path, records: dict[str, dict[str, Any]] | None = None) -> None:
        self.path = folder / STATE_FILE
        self.records: dict[str, dict[str, Any]] = records or {}

    @staticmethod
    def _read(path: Path) -> dict[str, dict[str, Any]]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise ValueError("неизвестный формат")
        records = doc.get("records", {})
        if not isinstance(records, dict):
            raise ValueError("records: ожидался объект")
        return {str(k): dict(v) for k, v in records.items()}

    @classmethod
    def peek(cls, folder: Path) -> dict[str, dict[str, Any]]:
        """The records of the state, read only: empty when there is none or it is broken."""
        try:
            return cls._read(folder / STATE_FILE)
        except (OSError, ValueError, TypeError, UnicodeDecodeError):
            return {}

    @classmethod
    def load(cls, folder: Path, notes: list[str] | None = None) -> VerifyState:
        path = folder / STATE_FILE
        try:
            return cls(folder, cls._read(path))
        except FileNotFoundError:
            return cls(folder)
        except (OSError, ValueError, TypeError, UnicodeDecodeError) as exc:
            broken = path.with_name(f"{STATE_FILE}.broken")
            with suppress(OSError):
                os.replace(path, broken)
            if notes is not None:
                notes.append(
                    f"файл состояния проверок {path} не читается ({exc}); он сохранён как "
                    f"{broken.name}, сроки проверок начаты заново"
                )
            return cls(folder)

    def save(self) -> None:
        doc = {"format": STATE_FORMAT, "records": dict(sorted(self.records.items()))}
        text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
        write_atomic(self.path, text.encode("utf-8"))

    def last(self, rid: str, level: str) -> str:
        """When ``rid`` was last verified at ``level`` (a deep check counts as cheap too); '' never."""
        entry = self.records.get(rid, {})
        return str(entry.get("deep_at" if level == DEEP else "checked_at") or "")

    def known_manifest(self, rid: str) -> tuple[str, str] | None:
        """SHA-256 of the manifest verified before, and when it was first seen."""
        entry = self.records.get(rid, {})
        sha = entry.get("manifest_sha256")
        return (str(sha), str(entry.get("manifest_seen_at", ""))) if sha else None

    def update(
        self,
        rid: str,
        level: str,
        status: str,
        at: str,
        manifest: tuple[RecordManifest, bytes] | None,
    ) -> None:
        entry = self.records.setdefault(rid, {})
        entry["checked_at"] = at
        entry["checked_status"] = status
        if level == DEEP:
            entry["deep_at"] = at
            entry["deep_status"] = status
        if manifest is not None and not entry.get("manifest_sha256"):
            entry["manifest_sha256"] = hashlib.sha256(manifest[1]).hexdigest()
            entry["manifest_seen_at"] = at
        if manifest is not None:
            entry["retain_until"] = manifest[0].retain_until


def choose_sample(
    record_ids: Sequence[str], state: VerifyState, level: str, fraction: float
) -> list[str]:
    """The ``fraction`` of the records verified least recently at ``level`` (never first).

    Deterministic: ties are broken by record id, so ten monthly runs with ``0.1``
    cover every record.
    """
    if not 0 < fraction <= 1:
        raise UsageError("доля выборки (--sample) должна быть больше 0 и не больше 1")
    count = min(len(record_ids), math.ceil(len(record_ids) * fraction - 1e-9))
    order = sorted(record_ids, key=lambda rid: (state.last(rid, level), rid))
    return sorted(order[:count])


# -- signatures


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """The offline validation of one document's signatures."""

    ok: bool
    message: str
    signer_cert_sha256: str | None = None


_ROOTS: list[asn1_x509.Certificate] = []


def _init_signature_worker(roots_der: tuple[bytes, ...]) -> None:
    from asn1crypto import x509 as asn1_x509

    global _ROOTS
    _ROOTS = [asn1_x509.Certificate.load(der) for der in roots_der]


def _signature_task(path: str) -> SignatureVerdict:
    """Validate the PDF at ``path`` (run in a worker process, or in this one)."""
    from archiver.signing.check import CheckError, check_document
    from archiver.signing.signer_of import signer_of

    try:
        report = check_document(Path(path), _ROOTS)
        signer = signer_of(Path(path).read_bytes())
    except (CheckError, InputError, OSError) as exc:
        return SignatureVerdict(False, str(exc))
    failed = [f"{s.field_name}: {s.verdict}" for s in report.signatures if not s.ok]
    message = "; ".join(failed) if failed else report.message
    return SignatureVerdict(report.ok, message, signer.cert_sha256 if signer else None)


class _SignatureChecker:
    """Offline validation of PDFs given as bytes; in worker processes when ``workers > 1``."""

    def __init__(self, roots: Sequence[asn1_x509.Certificate], workers: int) -> None:
        roots_der = tuple(bytes(cert.dump()) for cert in roots)
        self.tmp = tempfile.TemporaryDirectory(prefix="archiver-verify-")
        self.inline = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_signature_worker,
                initargs=(roots_der,),
            )
        else:
            _init_signature_worker(roots_der)

    def check(self, pdf: bytes) -> SignatureVerdict:
        # the documents hold personal data: a private temporary folder (0700), removed at the end
        with tempfile.NamedTemporaryFile(dir=self.tmp.name, suffix=".pdf") as handle:
            handle.write(pdf)
            handle.flush()
            if self.pool is not None:
                try:
                    return self.pool.submit(_signature_task, handle.name).result()
                except BrokenProcessPool as exc:
                    raise VerifyError(
                        "проверка подписей прервана: рабочий процесс завершился аварийно "
                        "(не хватило памяти?); повторите проверку"
                    ) from exc
            with self.inline:  # one validation at a time in this process
                return _signature_task(handle.name)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
        self.tmp.cleanup()


# -- reading the locations


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
class _Listing:
    """One location's keys, grouped by record folder."""

    by_record: dict[str, set[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, keys: Sequence[str]) -> _Listing:
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
        return {rid for rid, paths in self.by_record.items() if MARKER in paths}


@dataclass(slots=True)
class _Seen:
    """What one copy of one file turned out to be."""

    size: int | None = None
    sha256: str | None = None
    sha512: str | None = None
    info: ObjectInfo | None = None
    error: str | None = None


@dataclass(slots=True)
class _Inspection:
    report: RecordReport
    reference: tuple[RecordManifest, bytes] | None = None
    expected: list[ExpectedFile] = field(default_factory=list)
    allowed: set[str] | None = None
    """Paths of the bag (``None``: any tag file and one payload, the record was not inspected)."""
    verdicts: dict[str, SignatureVerdict] = field(default_factory=dict)
    """Signature verdict per payload sha256 (deep)."""
    bytes_read: int = 0


def _short(digest: str | None) -> str:
    return f"{digest[:16]}…" if digest else "—"


def _weaker(info: ObjectInfo, lock: Lock) -> bool:
    until = info.retain_until
    return (
        until is None
        or until < lock.retain_until
        or _LOCK_STRENGTH.get(info.lock_mode or "", 0) < _LOCK_STRENGTH[lock.mode]
    )


class _Run:
    """One verification run over the configured locations."""

    def __init__(
        self,
        locations: Sequence[Storage],
        *,
        deep: bool,
        state: VerifyState,
        checker: _SignatureChecker | None,
        report: VerifyReport,
        progress: ProgressCallback | None,
    ) -> None:
        self.locations = list(locations)
        self.deep = deep
        self.level = DEEP if deep else CHEAP
        self.state = state
        self.checker = checker
        self.report = report
        self.progress = progress
        self.available: list[Storage] = []
        self.listings: dict[str, _Listing] = {}
        self.log_lock = threading.Lock()

    def emit(self, event: VerifyEvent) -> None:
        if self.progress is not None:
            self.progress(event)

    # -- reading one file of one copy

    def look(
        self, location: Storage, key: str, *, payload: bool
    ) -> tuple[_Seen, bytes | None, int]:
        """Size and SHA-256 of one object, cheaply where the location keeps a checksum.

        Returns what was seen, the bytes when they were read (for the payload, to check
        its signature), and the number of bytes read.
        """
        try:
            if not self.deep:
                info = location.stat(key)
                if info is None:
                    return _Seen(), None, 0  # gone since the listing: missing
                if info.checksum_sha256 is not None:
                    return _Seen(info.size, info.checksum_sha256, None, info), None, 0
            stored = location.read(key)
        except StorageError as exc:
            try:
                gone = location.stat(key) is None
            except StorageError:
                gone = False
            return (_Seen() if gone else _Seen(error=str(exc))), None, 0
        data = stored.data
        keep = payload and self.deep
        seen = _Seen(
            len(data),
            hashlib.sha256(data).hexdigest(),
            hashlib.sha512(data).hexdigest() if keep else None,
            stored.info,
        )
        return seen, (data if keep else None), len(data)

    # -- one record

    def inspect(self, rid: str) -> _Inspection:
        report = RecordReport(rid, OK)
        inspection = _Inspection(report)
        manifests: dict[str, tuple[RecordManifest, bytes]] = {}
        seen: dict[str, dict[str, _Seen]] = {loc.name: {} for loc in self.available}
        for location in self.available:
            paths = self.listings[location.name].by_record.get(rid, set())
            if RECORD_FILE not in paths:
                continue
            key = f"{rid}/{RECORD_FILE}"
            try:
                stored = location.read(key)
            except StorageError as exc:
                seen[location.name][RECORD_FILE] = _Seen(error=str(exc))
                continue
            data = stored.data
            inspection.bytes_read += len(data)
            seen[location.name][RECORD_FILE] = _Seen(
                len(data), hashlib.sha256(data).hexdigest(), None, stored.info
            )
            try:
                manifest = RecordManifest.loads(data, location.url(key))
            except RecordError as exc:
                report.notes.append(f"хранилище «{location.name}»: {exc}")
                continue
            if manifest.record_id != rid:
                report.notes.append(
                    f"хранилище «{location.name}»: описание записи {location.url(key)} "
                    f"относится к записи {manifest.record_id}"
                )
                continue
            manifests[location.name] = (manifest, data)
        candidates = {hashlib.sha256(b).hexdigest(): (m, b) for m, b in manifests.values()}
        payload_paths = {m.payload_path for m, _ in candidates.values()}
        payloads: dict[str, bytes] = {}
        for location in self.available:
            present = self.listings[location.name].by_record.get(rid, set())
            for path in sorted(((set(TAG_FILES) | payload_paths) & present) - {RECORD_FILE}):
                is_payload = path in payload_paths
                found, content, count = self.look(location, f"{rid}/{path}", payload=is_payload)
                inspection.bytes_read += count
                if found.size is None and found.error is None:
                    continue  # vanished meanwhile: missing
                seen[location.name][path] = found
                if content is not None and found.sha256 is not None:
                    payloads.setdefault(found.sha256, content)
        if self.deep and self.checker is not None:
            for manifest, _ in candidates.values():
                pdf = payloads.get(manifest.sha256)
                if (
                    manifest.signer_cert_sha256 is not None
                    and pdf is not None
                    and manifest.sha256 not in inspection.verdicts
                ):
                    inspection.verdicts[manifest.sha256] = self.checker.check(pdf)
        reference = self.reference(rid, candidates, seen, inspection, report)
        inspection.reference = reference
        if reference is None:
            inspection.allowed = set(TAG_FILES) | payload_paths
            self.without_reference(rid, seen, report)
            return inspection
        manifest, manifest_bytes = reference
        inspection.expected = expected_files(manifest, manifest_bytes)
        inspection.allowed = {e.path for e in inspection.expected}
        lock = Lock(manifest.retain_until_instant, manifest.lock_mode)
        known = self.state.known_manifest(rid)
        changed_since = known is not None and known[0] != hashlib.sha256(manifest_bytes).hexdigest()
        for location in self.locations:
            if location not in self.available:
                report.copies.append(CopyReport(location.name, location.url(rid), UNAVAILABLE))
                continue
            report.copies.append(
                self.compare(location, rid, inspection.expected, seen[location.name], lock)
            )
        if changed_since and known is not None:
            report.notes.append(
                f"описание записи отличается от проверенного {known[1][:10]} "
                f"(sha256 {_short(known[0])}, теперь {_short(hashlib.sha256(manifest_bytes).hexdigest())}); "
                "все копии под подозрением, нужна проверка человеком"
            )
            for copy in report.copies:
                if copy.status == UNAVAILABLE or any(p.path == RECORD_FILE for p in copy.problems):
                    continue
                copy.problems.insert(
                    0,
                    FileProblem(
                        RECORD_FILE,
                        CHANGED,
                        "описание записи изменилось после прошлой проверки",
                        known[0],
                        hashlib.sha256(manifest_bytes).hexdigest(),
                    ),
                )
                copy.status = CHANGED
        report.status = self.record_status(report)
        if manifest.signer_cert_sha256 is None:
            report.signature = "unsigned"
        elif manifest.sha256 in inspection.verdicts:
            verdict = inspection.verdicts[manifest.sha256]
            problem = self.signature_problem(manifest, verdict)
            report.signature = "invalid" if problem else "ok"
            if problem:
                report.notes.append(problem)
                if report.status in (OK, UNPROTECTED):
                    report.status = SIGNATURE_INVALID
        if changed_since:
            report.status = UNRECOVERABLE
        return inspection

    @staticmethod
    def signature_problem(manifest: RecordManifest, verdict: SignatureVerdict) -> str | None:
        if not verdict.ok:
            return f"подпись документа не прошла проверку: {verdict.message}"
        if verdict.signer_cert_sha256 != manifest.signer_cert_sha256:
            return (
                "документ подписан не тем сертификатом, что указан в описании записи "
                f"({_short(verdict.signer_cert_sha256)} вместо {_short(manifest.signer_cert_sha256)})"
            )
        return None

    def reference(
        self,
        rid: str,
        candidates: dict[str, tuple[RecordManifest, bytes]],
        seen: dict[str, dict[str, _Seen]],
        inspection: _Inspection,
        report: RecordReport,
    ) -> tuple[RecordManifest, bytes] | None:
        """The manifest to check the copies against (module docstring), or ``None``."""
        if not candidates:
            report.notes.append(
                "описание записи (archive-record.json) не читается ни в одном хранилище"
            )
            return None
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        known = self.state.known_manifest(rid)
        if known is not None and known[0] in candidates:
            report.notes.append(
                "описания записи в хранилищах различаются; верным признано описание, "
                f"проверенное {known[1][:10]}"
            )
            return candidates[known[0]]
        consistent = [
            sha
            for sha, (m, b) in candidates.items()
            if any(
                not self.mismatches(expected_files(m, b), files) for files in seen.values() if files
            )
        ]
        if self.deep and len(consistent) > 1:
            signed = [
                sha
                for sha in consistent
                if (verdict := inspection.verdicts.get(candidates[sha][0].sha256)) is not None
                and self.signature_problem(candidates[sha][0], verdict) is None
            ]
            if len(signed) == 1:
                report.notes.append(
                    "описания записи в хранилищах различаются; верным признано то, чей "
                    "документ прошёл проверку подписи"
                )
                return candidates[signed[0]]
        if len(consistent) == 1:
            report.notes.append(
                "описания записи в хранилищах различаются; верным признано то, с которым "
                "согласны все файлы копии"
            )
            return candidates[consistent[0]]
        report.notes.append(
            "описания записи в хранилищах различаются, и нельзя определить, какое верно"
            + ("" if self.deep else " (полная проверка --deep сверит подписи документов)")
            + "; нужна проверка человеком"
        )
        return None

    @staticmethod
    def mismatches(expected: list[ExpectedFile], files: dict[str, _Seen]) -> list[str]:
        return [
            e.path
            for e in expected
            if (s := files.get(e.path)) is None
            or s.error is not None
            or s.size != e.size
            or s.sha256 != e.sha256
            or (s.sha512 is not None and e.sha512 is not None and s.sha512 != e.sha512)
        ]

    def without_reference(
        self, rid: str, seen: dict[str, dict[str, _Seen]], report: RecordReport
    ) -> None:
        report.status = UNRECOVERABLE
        for location in self.locations:
            if location not in self.available:
                report.copies.append(CopyReport(location.name, location.url(rid), UNAVAILABLE))
                continue
            files = seen[location.name]
            status = CHANGED if files else MISSING
            problems = [
                FileProblem(
                    RECORD_FILE,
                    UNREADABLE if RECORD_FILE in files else MISSING,
                    "описание записи не читается или не совпадает с другим хранилищем"
                    if RECORD_FILE in files
                    else "файла нет",
                    None,
                    files[RECORD_FILE].sha256 if RECORD_FILE in files else None,
                )
            ]
            report.copies.append(CopyReport(location.name, location.url(rid), status, problems))

    def compare(
        self,
        location: Storage,
        rid: str,
        expected: list[ExpectedFile],
        files: dict[str, _Seen],
        lock: Lock,
    ) -> CopyReport:
        problems: list[FileProblem] = []
        for e in expected:
            s = files.get(e.path)
            if s is None:
                problems.append(FileProblem(e.path, MISSING, "файла нет", e.sha256))
            elif s.error is not None:
                problems.append(FileProblem(e.path, UNREADABLE, s.error, e.sha256))
            elif s.size != e.size:
                problems.append(
                    FileProblem(
                        e.path,
                        CHANGED,
                        f"размер {s.size} байт, ожидалось {e.size}",
                        e.sha256,
                        s.sha256,
                    )
                )
            elif s.sha256 != e.sha256:
                problems.append(
                    FileProblem(
                        e.path,
                        CHANGED,
                        f"содержимое изменено: sha256 {_short(s.sha256)}, ожидалось {_short(e.sha256)}",
                        e.sha256,
                        s.sha256,
                    )
                )
            elif s.sha512 is not None and e.sha512 is not None and s.sha512 != e.sha512:
                problems.append(
                    FileProblem(
                        e.path,
                        CHANGED,
                        "sha512 не совпадает с описанием записи",
                        e.sha256,
                        s.sha256,
                    )
                )
            elif location.enforces_retention and s.info is not None and _weaker(s.info, lock):
                problems.append(
                    FileProblem(
                        e.path,
                        LOCK,
                        f"не защищён блокировкой до {lock.retain_until.isoformat()} "
                        f"(режим {s.info.lock_mode or 'нет'}, до "
                        f"{s.info.retain_until.isoformat() if s.info.retain_until else 'нет'})",
                        e.sha256,
                        s.sha256,
                    )
                )
        kinds = {p.problem for p in problems}
        if not files:
            status = MISSING
        elif kinds & {MISSING, CHANGED}:
            status = CHANGED
        elif UNREADABLE in kinds:
            status = UNREADABLE
        elif LOCK in kinds:
            status = UNPROTECTED
        else:
            status = OK
        return CopyReport(location.name, location.url(rid), status, problems)

    @staticmethod
    def record_status(report: RecordReport) -> str:
        statuses = {c.status for c in report.copies}
        good = statuses & {OK, UNPROTECTED}
        if statuses & {CHANGED, MISSING}:
            return DAMAGED if good else UNRECOVERABLE
        if UNREADABLE in statuses:
            return UNREADABLE
        if UNPROTECTED in statuses:
            return UNPROTECTED
        return OK

    # -- repairs

    def log_repair(self, repair: Repair) -> None:
        path = self.state.path.parent / REPAIR_LOG
        line = json.dumps(repair.to_json(), ensure_ascii=False) + "\n"
        with self.log_lock:
            try:
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise OutputError(
                    f"не удалось дописать журнал восстановлений {path}: {exc.strerror}"
                ) from exc

    def repair(self, inspection: _Inspection) -> None:
        report = inspection.report
        if report.status != DAMAGED or inspection.reference is None:
            return
        manifest, _ = inspection.reference
        by_name = {loc.name: loc for loc in self.locations}
        good = [c for c in report.copies if c.status in (OK, UNPROTECTED)]
        bad = [c for c in report.copies if c.status in (CHANGED, MISSING)]
        donor = by_name[good[0].location]
        rid = report.record_id
        payload_key = f"{rid}/{manifest.payload_path}"
        try:
            payload = donor.read(payload_key).data
        except StorageError as exc:
            report.status = REPAIR_FAILED
            report.notes.append(f"восстановление не выполнено: {exc}")
            return
        if hashlib.sha256(payload).hexdigest() != manifest.sha256:
            report.status = REPAIR_FAILED
            report.notes.append(
                f"восстановление не выполнено: копия {donor.url(payload_key)} изменилась во "
                "время проверки"
            )
            return
        if manifest.signer_cert_sha256 is not None:
            verdict = inspection.verdicts.get(manifest.sha256)
            if verdict is None:
                assert self.checker is not None
                verdict = self.checker.check(payload)
                inspection.verdicts[manifest.sha256] = verdict
            problem = self.signature_problem(manifest, verdict)
            if problem is not None:
                report.status = REPAIR_REFUSED
                report.signature = "invalid"
                report.notes.append(
                    f"восстановление не выполнено: копия в хранилище «{donor.name}» совпадает с "
                    f"описанием записи, но {problem}"
                )
                return
            report.signature = "ok"
        lock = Lock(manifest.retain_until_instant, manifest.lock_mode)
        failed = False
        for copy in bad:
            target = by_name[copy.location]
            broken = {p.path: p for p in copy.problems if p.problem in (MISSING, CHANGED)}
            if copy.status == MISSING:
                broken = {
                    e.path: FileProblem(e.path, MISSING, "файла нет", e.sha256)
                    for e in inspection.expected
                }
            try:
                for e in inspection.expected:
                    if e.path not in broken:
                        continue
                    key = f"{rid}/{e.path}"
                    data = payload if e.path == manifest.payload_path else donor.read(key).data
                    if hashlib.sha256(data).hexdigest() != e.sha256:
                        raise StorageError(
                            f"копия {donor.url(key)} изменилась во время проверки; "
                            "восстановление остановлено"
                        )
                    result = target.restore(key, data, lock, e.sha256)
                    repair = Repair(
                        at=_now_text(),
                        record_id=rid,
                        location=target.name,
                        path=e.path,
                        url=target.url(key),
                        problem=broken[e.path].problem,
                        previous_sha256=broken[e.path].actual_sha256,
                        sha256=e.sha256,
                        source=donor.name,
                        source_url=donor.url(key),
                        version_id=result.info.version_id,
                        created=result.created,
                    )
                    self.log_repair(repair)
                    report.repairs.append(repair)
                target.seal(rid)
                for e in inspection.expected:  # read the whole copy back
                    key = f"{rid}/{e.path}"
                    stored = target.read(key)
                    if hashlib.sha256(stored.data).hexdigest() != e.sha256:
                        raise StorageError(
                            f"после восстановления {target.url(key)} всё ещё не совпадает с "
                            "описанием записи"
                        )
                    if (
                        target.enforces_retention
                        and e.path in broken
                        and _weaker(stored.info, lock)
                    ):
                        raise StorageError(
                            f"восстановленный объект {target.url(key)} не защищён блокировкой "
                            f"до {lock.retain_until.isoformat()}"
                        )
            except StorageError as exc:
                failed = True
                report.notes.append(f"восстановление в хранилище «{target.name}» не удалось: {exc}")
        report.status = REPAIR_FAILED if failed else REPAIRED

    # -- the whole run

    def open_locations(self) -> None:
        for location in self.locations:
            state = next(s for s in self.report.locations if s.name == location.name)
            try:
                location.check()
                keys = location.list_keys("")
            except StorageError as exc:
                state.error = str(exc)
                self.emit(VerifyEvent("listed", 0, 0, location=location.name, status="unavailable"))
                continue
            self.listings[location.name] = _Listing.of(keys)
            self.available.append(location)
            self.emit(VerifyEvent("listed", len(keys), len(keys), location=location.name))
        if not self.available:
            raise VerifyError(
                "ни одно хранилище архива недоступно:\n"
                + "\n".join(f"  - {s.error}" for s in self.report.locations)
            )

    def untracked(self, inspected: dict[str, _Inspection], known: set[str]) -> list[Untracked]:
        found: list[Untracked] = []
        for location in self.available:
            listing = self.listings[location.name]
            for key in listing.other:
                if not _LOG_ENTRY.match(key):  # the access log is checked by «archiver log verify»
                    found.append(Untracked(location.name, key, location.url(key), "unknown"))
            for rid, paths in sorted(listing.by_record.items()):
                if rid not in known:
                    found.append(
                        Untracked(location.name, f"{rid}/", location.url(rid), "unfinished_record")
                    )
                    continue
                allowed = inspected[rid].allowed if rid in inspected else None
                for path in sorted(paths):
                    if allowed is not None:
                        extra = path not in allowed
                    else:
                        extra = path not in TAG_FILES and not (
                            path.startswith("data/") and "/" not in path[5:]
                        )
                    if extra:
                        key = f"{rid}/{path}"
                        found.append(Untracked(location.name, key, location.url(key), "extra_file"))
        return found


def verify_archive(
    locations: Sequence[Storage],
    state_folder: Path,
    *,
    deep: bool = False,
    repair: bool = False,
    sample: float | None = None,
    trust_roots: Sequence[asn1_x509.Certificate] | None = None,
    threads: int = 8,
    workers: int = 1,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Verify every record (or a ``sample`` fraction) in every location; optionally repair.

    ``deep`` and ``repair`` need ``trust_roots`` (documents' signatures are validated);
    :class:`UsageError` without them. ``threads`` read and hash records in parallel,
    ``workers`` processes validate signatures. The state folder keeps
    ``verify-state.json`` and ``verify-repairs.log``. Raises :class:`VerifyError` when
    no location can be read; a single unavailable location is reported instead.
    """
    if len({loc.name for loc in locations}) != len(locations) or len(locations) < 2:
        raise UsageError("архив хранится минимум в двух местах с разными именами")
    if (deep or repair) and not trust_roots:
        raise UsageError(
            "не заданы доверенные корневые сертификаты ([signature] trust_roots): "
            + ("полная проверка (--deep) проверяет подписи документов" if deep else "")
            + (" и " if deep and repair else "")
            + ("восстановление (--repair) проверяет подпись копии-донора" if repair else "")
            + ", без них это невозможно"
        )
    if sample is not None and not 0 < sample <= 1:
        raise UsageError("доля выборки (--sample) должна быть больше 0 и не больше 1")
    started = time.monotonic()
    report = VerifyReport(
        level=DEEP if deep else CHEAP,
        repair=repair,
        sample=sample,
        started_at=_now_text(now),
        locations=[LocationState(loc.name, loc.where) for loc in locations],
    )
    state_folder.mkdir(parents=True, exist_ok=True)
    state = VerifyState.load(state_folder, report.notes)
    checker = _SignatureChecker(trust_roots or [], workers) if (deep or repair) else None
    run = _Run(locations, deep=deep, state=state, checker=checker, report=report, progress=progress)
    try:
        run.open_locations()
        known: set[str] = set()
        for listing in run.listings.values():
            known |= listing.complete
        all_available = len(run.available) == len(locations)
        report.records_total = len(known)
        chosen = (
            choose_sample(sorted(known), state, report.level, sample)
            if sample is not None
            else sorted(known)
        )
        inspected: dict[str, _Inspection] = {}
        last_save = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="verify")
        try:
            for done, inspection in enumerate(pool.map(run.inspect, chosen), 1):
                rid = inspection.report.record_id
                inspected[rid] = inspection
                report.bytes_read += inspection.bytes_read
                if repair:
                    run.repair(inspection)
                    if inspection.report.repairs:
                        run.emit(
                            VerifyEvent(
                                "repaired",
                                done,
                                len(chosen),
                                rid,
                                status=inspection.report.status,
                            )
                        )
                if all_available:
                    trusted = (
                        inspection.reference
                        if inspection.report.status
                        in (OK, UNPROTECTED, REPAIRED, SIGNATURE_INVALID)
                        else None
                    )
                    state.update(rid, report.level, inspection.report.status, _now_text(), trusted)
                run.emit(
                    VerifyEvent("record", done, len(chosen), rid, status=inspection.report.status)
                )
                if time.monotonic() - last_save > _SAVE_EVERY:
                    state.save()
                    last_save = time.monotonic()
        except BaseException:
            with suppress(ArchiverError):
                state.save()  # keep what was verified before the error or Ctrl-C
            raise
        finally:  # records not yet started are not checked any more
            pool.shutdown(wait=True, cancel_futures=True)
        report.records = [inspected[rid].report for rid in chosen]
        if all_available:
            report.records += _vanished(state, known, now or datetime.now(UTC), report.notes)
        report.untracked = run.untracked(inspected, known)
        state.save()
    finally:
        if checker is not None:
            checker.close()
    report.finished_at = _now_text()
    report.seconds = time.monotonic() - started
    return report


def _vanished(
    state: VerifyState, known: set[str], now: datetime, notes: list[str]
) -> list[RecordReport]:
    """Records verified before that no location holds any more."""
    lost: list[RecordReport] = []
    for rid in sorted(set(state.records) - known):
        entry = state.records[rid]
        until = entry.get("retain_until")
        try:
            expired = until is not None and datetime.fromisoformat(str(until)) <= now
        except ValueError:
            expired = False
        if expired:
            notes.append(
                f"запись {rid} больше не хранится: срок хранения истёк {str(until)[:10]} "
                "(уничтожена по акту?); она убрана из состояния проверок"
            )
            del state.records[rid]
            continue
        lost.append(
            RecordReport(
                rid,
                LOST,
                notes=[
                    f"запись проверялась {str(entry.get('checked_at', ''))[:10]}, а теперь её нет "
                    "ни в одном хранилище, хотя срок хранения не истёк"
                ],
            )
        )
    return lost
