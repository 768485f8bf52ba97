"""The store operation: signed documents and their export, as records, in two locations.

For each document (and the export itself, stored first as a ``journal_export``
record) the operation

1. checks it: a rendered document of this export's year and classes, signed;
2. finds its record series in every location and decides: already stored
   (nothing changes), a half-finished earlier run (finish it), a new record
   (version 1), or a different document where a record exists (refused unless a
   correction reason is given; then a new version, the old one stays);
3. writes the record's files to every location, payload first, the marker
   (``bagit.txt``) last: first all files but the marker in every location, then
   reads every copy back and checks its hash (and, on S3, its Object Lock), then
   writes the markers. A record is stored when its marker is in every location.

Every check and plan is done for all records before the first byte is written, so
a refused run writes nothing. Objects are write-once, so a run killed at any
moment leaves no partial object under a final name, and running the same command
again completes what was started. Nothing is ever deleted.

The library never prints: progress goes to a callback (stage ``store``: a
``location`` notice per location checked, a ``copy`` notice per copy written, a
step per record), results are returned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from archiver import __version__
from archiver.archive.bag_readme import bag_texts_of
from archiver.archive.candidates import (
    DOCUMENT_PATTERNS,
    Candidate,
    find_documents,
    prepare_documents,
)
from archiver.archive.record import (
    MARKER,
    RECORD_FILE,
    BagFile,
    RecordError,
    RecordManifest,
    bag_files,
    detached_entry,
    media_type,
    record_id,
    record_prefix,
)
from archiver.archive.results import COMPLETED, STORED, UNCHANGED, CopyResult, RecordResult
from archiver.errors import ArchiverError, ExitCode, InputError, UsageError
from archiver.kinds import (
    DOCUMENT_KINDS,
    FINAL_MARKS,
    INVENTORY,
    JOURNAL_EXPORT,
    safe_name,
    year_folder,
)
from archiver.model import JournalExport
from archiver.progress import ProgressCallback, StageProgress
from archiver.retention import RetentionPolicy, load_policy, retain_until
from archiver.signing.chains import load_certificates
from archiver.sources.export_v1.slice import document_data_sha256
from archiver.storage.base import (
    Lock,
    Storage,
    StorageError,
    crash_point,
    require_two_locations,
)
from archiver.storage.identity import require_distinct_locations

_VERSION = re.compile(r"^v(\d+)/(.+)$")


class RecordConflict(ArchiverError):
    """A different document is already archived for the same class, year and kind."""

    exit_code = ExitCode.BAD_INPUT


@dataclass(slots=True)
class _VersionState:
    """What one location holds of one version of a record."""

    files: set[str] = field(default_factory=set)
    manifest_bytes: bytes | None = None
    manifest: RecordManifest | None = None
    payload_sha256: str | None = None
    payload_name: str | None = None

    @property
    def complete(self) -> bool:
        return MARKER in self.files

    @property
    def sha256(self) -> str | None:
        return self.manifest.sha256 if self.manifest is not None else self.payload_sha256


@dataclass(slots=True)
class _Plan:
    candidate: Candidate
    manifest: RecordManifest
    manifest_bytes: bytes
    states: dict[str, _VersionState]
    status: str


def _scan(location: Storage, series: str) -> dict[int, _VersionState]:
    """What a location holds of a record series, version by version."""
    versions: dict[int, _VersionState] = {}
    for key in location.list_keys(series + "/"):
        match = _VERSION.match(key[len(series) + 1 :])
        if match:
            versions.setdefault(int(match.group(1)), _VersionState()).files.add(match.group(2))
    for number, state in versions.items():
        rid = record_id(series, number)
        if RECORD_FILE in state.files:
            state.manifest_bytes = location.read(f"{rid}/{RECORD_FILE}").data
            state.manifest = RecordManifest.loads(
                state.manifest_bytes, location.url(f"{rid}/{RECORD_FILE}")
            )
            if state.manifest.record_id != rid:
                raise RecordError(
                    f"{location.url(f'{rid}/{RECORD_FILE}')}: описание записи относится к "
                    f"{state.manifest.record_id}, а лежит в {rid}"
                )
        elif state.complete:
            raise RecordError(
                f"хранилище «{location.name}»: в записи {location.url(rid)} нет {RECORD_FILE}"
            )
        else:
            payloads = [f for f in state.files if f.startswith("data/")]
            if len(payloads) == 1:
                data = location.read(f"{rid}/{payloads[0]}").data
                state.payload_sha256 = hashlib.sha256(data).hexdigest()
                state.payload_name = payloads[0][len("data/") :]
    return versions


class _Store:
    """One run of the store operation."""

    def __init__(
        self,
        export: JournalExport,
        locations: Sequence[Storage],
        *,
        correction: str | None,
        zone: tzinfo,
        policies_folder: Path | None,
        now: datetime,
        stage: StageProgress,
        export_sha256: str,
        roots: Sequence[bytes] = (),
    ) -> None:
        self.roots = list(roots)
        self.export = export
        self.locations = list(locations)
        self.correction = correction
        self.zone = zone
        self.policies_folder = policies_folder
        self.now = now
        self.stage = stage
        self.export_sha256 = export_sha256
        self.policies: dict[str, RetentionPolicy] = {}

    def policy(self, kind: str) -> RetentionPolicy:
        if kind not in self.policies:
            policy = load_policy(kind, self.policies_folder)
            if kind == INVENTORY:  # kept as long as the longest-kept file it lists
                longest = max(self.policy(k).years for k in DOCUMENT_KINDS)
                policy = replace(policy, years=max(policy.years, longest))
            self.policies[kind] = policy
        return self.policies[kind]

    def series(self, candidate: Candidate) -> str:
        return record_prefix(
            self.export.school.id, year_folder(self.export), candidate.class_id, candidate.kind
        )

    # -- planning

    def new_manifest(
        self, candidate: Candidate, rid: str, version: int, replaces: str | None, file_name: str
    ) -> RecordManifest:
        policy = self.policy(candidate.kind)
        year = self.export.academic_year
        until = retain_until(year.closing_year, policy.years, self.zone)
        where = (
            candidate.class_name
            if candidate.class_name is not None
            else self.export.school.short_name
        )
        manifest = RecordManifest(
            record_id=rid,
            version=version,
            kind=candidate.kind,
            title=f"{policy.title}: {where}, {year.name} учебный год",
            school_id=self.export.school.id,
            school_name=self.export.school.full_name,
            academic_year=year.name,
            class_id=candidate.class_id,
            class_name=candidate.class_name,
            file_name=file_name,
            media_type=media_type(file_name),
            size=len(candidate.payload),
            sha256=candidate.sha256,
            sha512=hashlib.sha512(candidate.payload).hexdigest(),
            retention_policy=policy.kind,
            retention_title=policy.title,
            retention_years=policy.years,
            legal_basis=policy.legal_basis,
            lock_mode=policy.lock_mode,
            closing_year=year.closing_year,
            retain_until=until.isoformat(),
            stored_at=self.now.isoformat(timespec="seconds"),
            source_export_sha256=self.export_sha256,
            signer_cert_sha256=candidate.signer.cert_sha256 if candidate.signer else None,
            signer_subject=candidate.signer.subject if candidate.signer else None,
            correction_reason=self.correction if replaces is not None else None,
            replaces=replaces,
            software_version=__version__,
            data_sha256=(
                document_data_sha256(self.export, candidate.class_id, candidate.kind)
                if candidate.class_id is not None
                else None
            ),
            detached_signature=detached_entry(file_name, candidate.detached),
        )
        signed = candidate.signer is not None
        texts = bag_texts_of(manifest, candidate.payload, self.roots, signed=signed)
        return dataclasses.replace(manifest, bag_texts=texts)

    def plan(self, candidate: Candidate) -> _Plan | str:
        """The plan for one record, or the reason it is refused (a conflict)."""
        series = self.series(candidate)
        scanned = {loc.name: _scan(loc, series) for loc in self.locations}
        numbers = sorted({n for versions in scanned.values() for n in versions})
        sha_of: dict[int, str | None] = {}
        for number in numbers:
            found = [v[number] for v in scanned.values() if number in v]
            known = {s.sha256 for s in found if s.sha256 is not None}
            manifests = {s.manifest_bytes for s in found if s.manifest_bytes is not None}
            if len(known) > 1 or len(manifests) > 1:
                raise StorageError(
                    f"копии записи {record_id(series, number)} в хранилищах различаются; "
                    "archiver ничего не меняет, нужна проверка архива человеком"
                )
            sha_of[number] = known.pop() if known else None
        complete = [
            n for n in numbers if any(v.get(n, _VersionState()).complete for v in scanned.values())
        ]
        latest = complete[-1] if complete else None
        highest = numbers[-1] if numbers else None
        needs_correction = False
        if latest is not None and sha_of[latest] == candidate.sha256:
            target = latest
        elif highest is not None and sha_of[highest] == candidate.sha256:
            target = highest  # an interrupted earlier run
            needs_correction = latest is not None
        elif latest is not None:
            target = (highest or 0) + 1
            needs_correction = True
        else:
            target = (highest or 0) + 1  # earlier attempts never completed: not records
        rid = record_id(series, target)
        states = {name: versions.get(target, _VersionState()) for name, versions in scanned.items()}
        existing = next(
            (s for s in sorted(states.values(), key=lambda s: not s.complete) if s.manifest),
            None,
        )
        if existing is not None and existing.manifest is not None:
            manifest, manifest_bytes = existing.manifest, existing.manifest_bytes or b""
        else:
            replaces = None
            if needs_correction and latest is not None:
                replaces = record_id(series, latest)
                if self.correction is None:
                    return (
                        f"{candidate.describe()}: в архиве уже есть другой документ "
                        f"({replaces}, sha256 {(sha_of[latest] or '')[:16]}…); чтобы сохранить "
                        "исправленный документ новой версией, укажите причину исправления "
                        "(--correction «причина»)"
                    )
            names = {s.payload_name for s in states.values() if s.payload_name}
            file_name = names.pop() if len(names) == 1 else candidate.file_name
            manifest = self.new_manifest(candidate, rid, target, replaces, file_name)
            manifest_bytes = manifest.dumps()
        if needs_correction and self.correction is None:
            return (
                f"{candidate.describe()}: прерванное исправление записи {rid}; "
                "повторите команду с --correction «причина»"
            )
        if manifest.retain_until_instant <= self.now:
            raise InputError(
                f"{candidate.describe()}: срок хранения истёк "
                f"{manifest.retain_until_instant:%d.%m.%Y}; такой документ в архив не принимается"
            )
        if all(s.complete for s in states.values()):
            status = UNCHANGED
        elif any(s.files for s in states.values()):
            status = COMPLETED
        else:
            status = STORED
        return _Plan(candidate, manifest, manifest_bytes, states, status)

    # -- writing

    def verify(self, location: Storage, key: str, expected: BagFile, lock: Lock) -> str | None:
        """Read one object back and check it; returns its version id."""
        stored = location.read(key)
        actual = hashlib.sha256(stored.data).hexdigest()
        if actual != expected.sha256:
            raise StorageError(
                f"хранилище «{location.name}»: копия {location.url(key)} не совпадает с "
                f"записанной (sha256 {actual}, ожидалось {expected.sha256})"
            )
        reported = stored.info.checksum_sha256
        if reported is not None and reported != expected.sha256:
            raise StorageError(
                f"хранилище «{location.name}»: для {location.url(key)} хранилище сообщает "
                f"sha256 {reported}, ожидалось {expected.sha256}"
            )
        self.check_lock(location, key, stored.info.lock_mode, stored.info.retain_until, lock)
        return stored.info.version_id

    def check_lock(
        self,
        location: Storage,
        key: str,
        mode: str | None,
        until: datetime | None,
        lock: Lock,
    ) -> None:
        if not location.enforces_retention:
            return
        if mode != lock.mode or until is None or until < lock.retain_until:
            raise StorageError(
                f"хранилище «{location.name}»: объект {location.url(key)} не защищён от удаления "
                f"до {lock.retain_until.isoformat()} (режим {mode}, до {until})"
            )

    def check_present(
        self, location: Storage, prefix: str, files: list[BagFile], lock: Lock
    ) -> dict[str, str]:
        """A copy found complete: every file there, of the right size (and checksum, lock)."""
        versions: dict[str, str] = {}
        for file in files:
            key = f"{prefix}/{file.path}"
            info = location.stat(key)
            if (
                info is None
                or info.size != len(file.data)
                or (info.checksum_sha256 is not None and info.checksum_sha256 != file.sha256)
            ):
                raise StorageError(
                    f"хранилище «{location.name}»: копия записи {location.url(prefix)} "
                    f"повреждена или неполна ({file.path}); нужна проверка архива человеком"
                )
            self.check_lock(location, key, info.lock_mode, info.retain_until, lock)
            if info.version_id:
                versions[file.path] = info.version_id
        return versions

    def execute(self, plan: _Plan) -> RecordResult:
        manifest = plan.manifest
        files = bag_files(
            manifest, plan.manifest_bytes, plan.candidate.payload, plan.candidate.detached
        )
        lock = Lock(manifest.retain_until_instant, manifest.lock_mode)
        prefix = manifest.record_id
        todo = [loc for loc in self.locations if not plan.states[loc.name].complete]
        versions: dict[str, dict[str, str]] = {loc.name: {} for loc in self.locations}
        body, marker = files[:-1], files[-1]
        for location in todo:  # 1. everything but the marker, everywhere
            for file in body:
                location.put(f"{prefix}/{file.path}", file.data, lock)
                crash_point()
        for location in todo:  # 2. read every copy back
            for file in body:
                version = self.verify(location, f"{prefix}/{file.path}", file, lock)
                if version:
                    versions[location.name][file.path] = version
            crash_point()
        copies: list[CopyResult] = []
        for location in self.locations:  # 3. the markers: now the record exists
            state = plan.states[location.name]
            if state.complete:
                versions[location.name] = self.check_present(location, prefix, files, lock)
                status = "present"
            else:
                location.put(f"{prefix}/{marker.path}", marker.data, lock)
                crash_point()
                version = self.verify(location, f"{prefix}/{marker.path}", marker, lock)
                if version:
                    versions[location.name][marker.path] = version
                status = "completed" if state.files else "written"
            location.seal(prefix)
            copies.append(
                CopyResult(location.name, location.url(prefix), status, versions[location.name])
            )
            self.stage.emit("copy", item=prefix, location=location.name, status=status)
        return RecordResult(
            record_id=prefix,
            kind=manifest.kind,
            class_id=manifest.class_id,
            class_name=manifest.class_name,
            version=manifest.version,
            status=plan.status,
            source=plan.candidate.source,
            file_name=manifest.file_name,
            sha256=manifest.sha256,
            retain_until=manifest.retain_until,
            lock_mode=manifest.lock_mode,
            correction=manifest.correction_reason,
            copies=tuple(copies),
        )


def store_records(
    export: JournalExport,
    export_bytes: bytes,
    export_name: str,
    documents: Sequence[Path],
    locations: Sequence[Storage],
    *,
    correction: str | None = None,
    zone: tzinfo | None = None,
    policies_folder: Path | None = None,
    now: datetime | None = None,
    progress: ProgressCallback | None = None,
    trust_roots: Sequence[Path] = (),
) -> list[RecordResult]:
    """Store the export and the signed ``documents`` as records in every location.

    ``export_bytes`` is the export file exactly as read (its sha256 goes into every
    manifest); ``zone`` is the zone of the retain-until instants (default: the UTC
    offset of ``export.exported_at``). Raises :class:`InputError` for documents that
    cannot be accepted (unsigned, of another year or school), :class:`RecordConflict`
    when a different document is archived already and no ``correction`` is given,
    :class:`~archiver.storage.base.StorageError` when a location fails. In each of
    these cases nothing was written, except for a location failing while writing:
    then running the same call again completes the work.
    ``trust_roots`` complete the certificate chains a new record keeps in ``certs/``.
    """
    require_two_locations(locations)
    if correction is not None and not correction.strip():
        raise UsageError("причина исправления не может быть пустой")
    candidates = prepare_documents(export, documents, hashlib.sha256(export_bytes).hexdigest())
    export_name = safe_name(Path(export_name).name)
    candidates.insert(
        0,
        Candidate(
            kind=JOURNAL_EXPORT,
            class_id=None,
            class_name=None,
            source=export_name,
            file_name=export_name if export_name.endswith(".json") else f"{export_name}.json",
            payload=export_bytes,
            sha256=hashlib.sha256(export_bytes).hexdigest(),
            signer=None,
        ),
    )
    stage = StageProgress(progress, "store")
    run = _Store(
        export,
        locations,
        correction=correction.strip() if correction else None,
        zone=zone or export.exported_at.tzinfo or UTC,
        policies_folder=policies_folder,
        now=now or datetime.now(UTC),
        stage=stage,
        export_sha256=candidates[0].sha256,
        roots=load_certificates(list(trust_roots)),
    )
    stage.start(len(candidates))
    for i, location in enumerate(locations, 1):
        location.check()
        stage.emit("location", i, len(locations), location=location.name)
    require_distinct_locations(locations, write_markers=True)
    plans: list[_Plan] = []
    conflicts: list[str] = []
    for candidate in candidates:
        outcome = run.plan(candidate)
        if isinstance(outcome, str):
            conflicts.append(outcome)
        else:
            plans.append(outcome)
    if conflicts:
        raise RecordConflict(
            "в архиве уже есть другие документы, ничего не записано:\n"
            + "\n".join(f"  - {c}" for c in conflicts)
        )
    results: list[RecordResult] = []
    for plan in plans:
        result = run.execute(plan)
        results.append(result)
        stage.step(result.record_id, status=result.status)
    stage.finish()
    return results


__all__ = [
    "COMPLETED",
    "DOCUMENT_PATTERNS",
    "FINAL_MARKS",
    "STORED",
    "UNCHANGED",
    "CopyResult",
    "RecordConflict",
    "RecordResult",
    "find_documents",
    "store_records",
]
