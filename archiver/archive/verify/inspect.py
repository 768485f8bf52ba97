"""Checking one record: read every copy, choose the manifest to trust, compare file by file.

A record's manifest gives the expected size and SHA-256 of every file of its bag
(:func:`expected_files`), so each copy is compared with that, file by file; two
copies that both match are equal. When the copies' manifests differ, the one to
trust is the one verified before (its SHA-256 is in the history), else the only one
that a whole copy agrees with, else (deep) the only one whose document's signature
validates; otherwise nobody can tell and the record is unrecoverable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from archiver.archive.embedded import record_identity_problem
from archiver.archive.record import (
    RECORD_FILE,
    TAG_FILES,
    RecordError,
    RecordManifest,
    bag_paths,
    bag_tag_files,
)
from archiver.archive.verify.history import VerifyHistory
from archiver.archive.verify.listing import Listing
from archiver.archive.verify.report import (
    BAD_COPIES,
    GOOD_COPIES,
    CopyReport,
    CopyStatus,
    FileProblem,
    Problem,
    RecordReport,
    RecordStatus,
    short,
)
from archiver.archive.verify.signatures import SignatureChecker, SignatureVerdict, signature_problem
from archiver.storage.base import Lock, ObjectInfo, Storage, StorageError, lock_strength

__all__ = ["ExpectedFile", "Inspection", "RecordInspector", "expected_files", "weaker_lock"]

Manifest = tuple[RecordManifest, bytes]
"""A manifest and its exact bytes."""


@dataclass(frozen=True, slots=True)
class ExpectedFile:
    """One file of a record's bag as its manifest implies it."""

    path: str
    size: int
    sha256: str
    sha512: str | None = None
    """Known for the payload only (from the manifest)."""


def expected_files(manifest: RecordManifest, manifest_bytes: bytes) -> list[ExpectedFile]:
    """Every file of the record's bag, in writing order (payload first, ``bagit.txt`` last).

    The tag files are those :func:`archiver.archive.record.bag_tag_files` builds from
    the manifest; the payload is known by its hashes in the manifest.
    """
    files = [ExpectedFile(manifest.payload_path, manifest.size, manifest.sha256, manifest.sha512)]
    sig = manifest.detached_signature
    if sig is not None and manifest.signature_path is not None:
        files.append(ExpectedFile(manifest.signature_path, sig[1], sig[2], sig[3]))
    files += [
        ExpectedFile(f.path, len(f.data), f.sha256) for f in bag_tag_files(manifest, manifest_bytes)
    ]
    return files


def weaker_lock(info: ObjectInfo, lock: Lock) -> bool:
    """Whether the object is kept less long or less strictly than ``lock`` requires."""
    until = info.retain_until
    return (
        until is None
        or until < lock.retain_until
        or lock_strength(info.lock_mode) < lock_strength(lock.mode)
    )


@dataclass(slots=True)
class Observed:
    """What one copy of one file turned out to be."""

    size: int | None = None
    sha256: str | None = None
    sha512: str | None = None
    info: ObjectInfo | None = None
    error: str | None = None

    @property
    def gone(self) -> bool:
        """Not there (it vanished since the listing)."""
        return self.size is None and self.error is None


@dataclass(slots=True)
class Inspection:
    """One record checked: its report and what a repair needs."""

    report: RecordReport
    trusted: Manifest | None = None
    """The manifest the copies were compared with (``None``: none could be trusted)."""
    expected: list[ExpectedFile] = field(default_factory=list)
    allowed: set[str] | None = None
    """Paths of the bag (``None``: any tag file and one payload, the record was not inspected)."""
    verdicts: dict[str, SignatureVerdict] = field(default_factory=dict)
    """Signature verdict per payload sha256 (deep)."""
    bytes_read: int = 0
    proven: bool = False
    """The trusted manifest was proven by the archive itself (deep: signature and identity)."""


def mismatches(expected: list[ExpectedFile], files: dict[str, Observed]) -> list[str]:
    """The paths of a copy that do not match the expected files."""
    return [
        e.path
        for e in expected
        if (s := files.get(e.path)) is None
        or s.error is not None
        or s.size != e.size
        or s.sha256 != e.sha256
        or (s.sha512 is not None and e.sha512 is not None and s.sha512 != e.sha512)
    ]


def record_status(report: RecordReport) -> RecordStatus:
    """The record's verdict from its copies'."""
    statuses = {c.status for c in report.copies}
    if statuses & set(BAD_COPIES):
        return RecordStatus.DAMAGED if statuses & set(GOOD_COPIES) else RecordStatus.UNRECOVERABLE
    if CopyStatus.UNREADABLE in statuses:
        return RecordStatus.UNREADABLE
    if CopyStatus.UNPROTECTED in statuses:
        return RecordStatus.UNPROTECTED
    return RecordStatus.OK


def _file_problem(
    location: Storage, e: ExpectedFile, s: Observed | None, lock: Lock
) -> FileProblem | None:
    """What is wrong with one file of a copy, or ``None``."""
    if s is None:
        return FileProblem(e.path, Problem.MISSING, "файла нет", e.sha256)
    if s.error is not None:
        return FileProblem(e.path, Problem.UNREADABLE, s.error, e.sha256)
    if s.size != e.size:
        message = f"размер {s.size} байт, ожидалось {e.size}"
        return FileProblem(e.path, Problem.CHANGED, message, e.sha256, s.sha256)
    if s.sha256 != e.sha256:
        message = f"содержимое изменено: sha256 {short(s.sha256)}, ожидалось {short(e.sha256)}"
        return FileProblem(e.path, Problem.CHANGED, message, e.sha256, s.sha256)
    if s.sha512 is not None and e.sha512 is not None and s.sha512 != e.sha512:
        message = "sha512 не совпадает с описанием записи"
        return FileProblem(e.path, Problem.CHANGED, message, e.sha256, s.sha256)
    if s.info is not None and s.info.mode is not None:
        if not s.info.mode & 0o444:
            message = f"файл закрыт для чтения (права {s.info.mode:04o}); верните права 0444"
            return FileProblem(e.path, Problem.UNREADABLE, message, e.sha256, s.sha256)
        if s.info.mode & 0o222:
            message = (
                f"файл открыт для записи (права {s.info.mode:04o}): его может изменить любая "
                "программа; верните режим только для чтения (chmod 0444)"
            )
            return FileProblem(e.path, Problem.LOCK, message, e.sha256, s.sha256)
    if location.enforces_retention and s.info is not None and weaker_lock(s.info, lock):
        until = s.info.retain_until.isoformat() if s.info.retain_until else "нет"
        message = (
            f"не защищён блокировкой до {lock.retain_until.isoformat()} "
            f"(режим {s.info.lock_mode or 'нет'}, до {until})"
        )
        return FileProblem(e.path, Problem.LOCK, message, e.sha256, s.sha256)
    return None


def compare_copy(
    location: Storage,
    rid: str,
    expected: list[ExpectedFile],
    files: dict[str, Observed],
    lock: Lock,
) -> CopyReport:
    """One location's copy against the expected files."""
    problems = [p for e in expected if (p := _file_problem(location, e, files.get(e.path), lock))]
    kinds = {p.problem for p in problems}
    if not files:
        status = CopyStatus.MISSING
    elif kinds & {Problem.MISSING, Problem.CHANGED}:
        status = CopyStatus.CHANGED
    elif Problem.UNREADABLE in kinds:
        status = CopyStatus.UNREADABLE
    elif Problem.LOCK in kinds:
        status = CopyStatus.UNPROTECTED
    else:
        status = CopyStatus.OK
    return CopyReport(location.name, location.url(rid), status, problems)


class RecordInspector:
    """Checks records, one per call of :meth:`inspect` (from several threads at once)."""

    def __init__(
        self,
        locations: Sequence[Storage],
        available: Sequence[Storage],
        listings: dict[str, Listing],
        *,
        deep: bool,
        history: VerifyHistory,
        checker: SignatureChecker | None,
    ) -> None:
        self.locations = list(locations)
        self.available = list(available)
        self.listings = listings
        self.deep = deep
        self.history = history
        self.checker = checker

    def observe(
        self, location: Storage, key: str, *, payload: bool
    ) -> tuple[Observed, bytes | None, int]:
        """Size and SHA-256 of one object, cheaply where the location keeps a checksum.

        Returns what was seen, the bytes when they were read (for the payload, to check
        its signature), and the number of bytes read.
        """
        try:
            if not self.deep:
                info = location.stat(key)
                if info is None:
                    return Observed(), None, 0  # gone since the listing: missing
                if info.checksum_sha256 is not None:
                    return Observed(info.size, info.checksum_sha256, None, info), None, 0
            stored = location.read(key)
        except StorageError as exc:
            try:
                gone = location.stat(key) is None
            except StorageError:
                gone = False
            return (Observed() if gone else Observed(error=str(exc))), None, 0
        data = stored.data
        keep = payload and self.deep
        seen = Observed(
            len(data),
            hashlib.sha256(data).hexdigest(),
            hashlib.sha512(data).hexdigest() if keep else None,
            stored.info,
        )
        return seen, (data if keep else None), len(data)

    def inspect(self, rid: str) -> Inspection:
        """Check every copy of ``rid``."""
        report = RecordReport(rid, RecordStatus.OK)
        inspection = Inspection(report)
        seen: dict[str, dict[str, Observed]] = {loc.name: {} for loc in self.available}
        candidates = self._read_manifests(rid, inspection, seen)
        payloads = self._observe_files(rid, inspection, seen, candidates)
        if self.deep and self.checker is not None:
            for manifest, _ in candidates.values():
                pdf = payloads.get(manifest.sha256)
                if (
                    manifest.signer_cert_sha256 is not None
                    and pdf is not None
                    and manifest.sha256 not in inspection.verdicts
                ):
                    inspection.verdicts[manifest.sha256] = self.checker.check(pdf)
        trusted = self._choose_manifest(rid, candidates, seen, inspection, payloads)
        inspection.trusted = trusted
        if trusted is None:
            inspection.allowed = {p for m, _ in candidates.values() for p in bag_paths(m)}
            self._without_manifest(rid, seen, report)
            return inspection
        self._compare(rid, trusted, seen, inspection)
        return inspection

    def _read_manifests(
        self, rid: str, inspection: Inspection, seen: dict[str, dict[str, Observed]]
    ) -> dict[str, Manifest]:
        """Each location's ``archive-record.json`` that reads as this record's, by SHA-256."""
        report = inspection.report
        manifests: dict[str, Manifest] = {}
        for location in self.available:
            if RECORD_FILE not in self.listings[location.name].paths(rid):
                continue
            key = f"{rid}/{RECORD_FILE}"
            try:
                stored = location.read(key)
            except StorageError as exc:
                seen[location.name][RECORD_FILE] = Observed(error=str(exc))
                continue
            data = stored.data
            inspection.bytes_read += len(data)
            seen[location.name][RECORD_FILE] = Observed(
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
        return {hashlib.sha256(b).hexdigest(): (m, b) for m, b in manifests.values()}

    def _observe_files(
        self,
        rid: str,
        inspection: Inspection,
        seen: dict[str, dict[str, Observed]],
        candidates: dict[str, Manifest],
    ) -> dict[str, bytes]:
        """Observe every other file of every copy; the payloads read, by SHA-256 (deep)."""
        payload_paths = {p for m, _ in candidates.values() for p in m.data_paths}
        bag = set(TAG_FILES).union(*(bag_paths(m) for m, _ in candidates.values()))
        payloads: dict[str, bytes] = {}
        for location in self.available:
            present = self.listings[location.name].paths(rid)
            for path in sorted((bag & present) - {RECORD_FILE}):
                found, content, count = self.observe(
                    location, f"{rid}/{path}", payload=path in payload_paths
                )
                inspection.bytes_read += count
                if found.gone:
                    continue  # vanished meanwhile: missing
                seen[location.name][path] = found
                if content is not None and found.sha256 is not None:
                    payloads.setdefault(found.sha256, content)
        return payloads

    def _choose_manifest(
        self,
        rid: str,
        candidates: dict[str, Manifest],
        seen: dict[str, dict[str, Observed]],
        inspection: Inspection,
        payloads: dict[str, bytes],
    ) -> Manifest | None:
        """The manifest to check the copies against (module docstring), or ``None``."""
        notes = inspection.report.notes
        if not candidates:
            notes.append("описание записи (archive-record.json) не читается ни в одном хранилище")
            return None
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        if self.deep:  # proof from the archive itself goes before the (unprotected) history
            proven = [
                sha
                for sha, (m, b) in candidates.items()
                if (verdict := inspection.verdicts.get(m.sha256)) is not None
                and signature_problem(m, verdict) is None
                and (pdf := payloads.get(m.sha256)) is not None
                and record_identity_problem(rid, m, pdf) is None
                and any(not mismatches(expected_files(m, b), f) for f in seen.values() if f)
            ]
            if len(proven) == 1:
                inspection.proven = True
                notes.append(
                    "описания записи в хранилищах различаются; верным признано то, чей "
                    "документ прошёл проверку подписи и чьи данные соответствуют записи"
                )
                return candidates[proven[0]]
        known = self.history.known_manifest(rid)
        if known is not None and known[0] in candidates:
            notes.append(
                "описания записи в хранилищах различаются; верным признано описание, "
                f"проверенное {known[1][:10]}"
            )
            return candidates[known[0]]
        consistent = [
            sha
            for sha, (m, b) in candidates.items()
            if any(not mismatches(expected_files(m, b), files) for files in seen.values() if files)
        ]
        if self.deep and len(consistent) > 1:
            signed = [
                sha
                for sha in consistent
                if (verdict := inspection.verdicts.get(candidates[sha][0].sha256)) is not None
                and signature_problem(candidates[sha][0], verdict) is None
            ]
            if len(signed) == 1:
                notes.append(
                    "описания записи в хранилищах различаются; верным признано то, чей "
                    "документ прошёл проверку подписи"
                )
                return candidates[signed[0]]
        if len(consistent) == 1:
            notes.append(
                "описания записи в хранилищах различаются; верным признано то, с которым "
                "согласны все файлы копии"
            )
            return candidates[consistent[0]]
        notes.append(
            "описания записи в хранилищах различаются, и нельзя определить, какое верно"
            + ("" if self.deep else " (полная проверка --deep сверит подписи документов)")
            + "; нужна проверка человеком"
        )
        return None

    def _unavailable(self, rid: str, location: Storage) -> CopyReport:
        return CopyReport(location.name, location.url(rid), CopyStatus.UNAVAILABLE)

    def _without_manifest(
        self, rid: str, seen: dict[str, dict[str, Observed]], report: RecordReport
    ) -> None:
        """No manifest can be trusted: every copy is suspect, the record unrecoverable."""
        report.status = RecordStatus.UNRECOVERABLE
        for location in self.locations:
            if location not in self.available:
                report.copies.append(self._unavailable(rid, location))
                continue
            files = seen[location.name]
            status = CopyStatus.CHANGED if files else CopyStatus.MISSING
            problem = (
                FileProblem(
                    RECORD_FILE,
                    Problem.UNREADABLE,
                    "описание записи не читается или не совпадает с другим хранилищем",
                    None,
                    files[RECORD_FILE].sha256,
                )
                if RECORD_FILE in files
                else FileProblem(RECORD_FILE, Problem.MISSING, "файла нет")
            )
            report.copies.append(CopyReport(location.name, location.url(rid), status, [problem]))

    def _compare(
        self,
        rid: str,
        trusted: Manifest,
        seen: dict[str, dict[str, Observed]],
        inspection: Inspection,
    ) -> None:
        """Every copy against the trusted manifest; the record's status and signature."""
        report = inspection.report
        manifest, manifest_bytes = trusted
        inspection.expected = expected_files(manifest, manifest_bytes)
        inspection.allowed = {e.path for e in inspection.expected}
        lock = Lock(manifest.retain_until_instant, manifest.lock_mode)
        for location in self.locations:
            if location not in self.available:
                report.copies.append(self._unavailable(rid, location))
                continue
            report.copies.append(
                compare_copy(location, rid, inspection.expected, seen[location.name], lock)
            )
        sha = hashlib.sha256(manifest_bytes).hexdigest()
        known = self.history.known_manifest(rid)
        changed_since = known is not None and known[0] != sha
        if changed_since and known is not None and inspection.proven:
            report.notes.append(
                f"состояние проверок (verify-state.json) называет другое описание записи "
                f"(sha256 {short(known[0])}), но верное доказано подписью и данными документа; "
                "файл состояния не защищён — возможно, его изменили"
            )
            changed_since = False
        if changed_since and known is not None:
            report.notes.append(
                f"описание записи отличается от проверенного {known[1][:10]} "
                f"(sha256 {short(known[0])}, теперь {short(sha)}); "
                "все копии под подозрением, нужна проверка человеком"
            )
            for copy in report.copies:
                if copy.status == CopyStatus.UNAVAILABLE or any(
                    p.path == RECORD_FILE for p in copy.problems
                ):
                    continue
                copy.problems.insert(
                    0,
                    FileProblem(
                        RECORD_FILE,
                        Problem.CHANGED,
                        "описание записи изменилось после прошлой проверки",
                        known[0],
                        sha,
                    ),
                )
                copy.status = CopyStatus.CHANGED
        report.status = record_status(report)
        if manifest.signer_cert_sha256 is None:
            report.signature = "unsigned"
        elif manifest.sha256 in inspection.verdicts:
            verdict = inspection.verdicts[manifest.sha256]
            if verdict.timestamp_until is not None:
                report.timestamp = {
                    "tsa_not_after": verdict.timestamp_until,
                    "algorithm": verdict.timestamp_algorithm or "",
                }
            problem = signature_problem(manifest, verdict)
            report.signature = "invalid" if problem else "ok"
            if problem:
                report.notes.append(problem)
                if report.status in (RecordStatus.OK, RecordStatus.UNPROTECTED):
                    report.status = RecordStatus.SIGNATURE_INVALID
        if changed_since:
            report.status = RecordStatus.UNRECOVERABLE
