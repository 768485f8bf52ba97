"""What the archive holds of one school's academic year, read from the storage locations.

The year-end run and ``archiver status`` ask the archive itself (not a working
folder on one computer) which documents are stored: a class whose documents are
complete in both locations is archived whatever any working folder says, and a
second computer with the same archive and settings sees the same. Per record
series (class and kind) the latest version complete in some location, where it
is complete, and what it was made from (the document's sha256, the export's, and
the hash of the class's data: :func:`archiver.sources.export_v1.slice.document_data_sha256`).

One listing per location of the year's folder, and one manifest read per version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from archiver.archive.record import MARKER, RECORD_FILE, RecordError, RecordManifest
from archiver.errors import InputError
from archiver.files import write_atomic
from archiver.kinds import (
    CLASS_JOURNAL,
    EXPORT_FOLDER,
    FINAL_MARKS,
    INVENTORY,
    INVENTORY_FOLDER,
    JOURNAL_EXPORT,
    document_paths,
    safe_name,
)
from archiver.model import JournalExport
from archiver.sources.export_v1.slice import document_data_sha256
from archiver.storage.base import Storage, StorageError

__all__ = [
    "ClassPlan",
    "HeldVersion",
    "YearHoldings",
    "adopt_archived",
    "data_hashes",
    "plan_classes",
    "read_payload",
    "refuse_without_correction",
    "same_data",
    "year_holdings",
]

_KEY = re.compile(r"^(?P<cls>[^/]+)/(?P<kind>[a-z_]+)/v(?P<version>[1-9]\d*)/(?P<file>.+)$")


@dataclass(slots=True)
class HeldVersion:
    """One version of a record series as the locations hold it."""

    record_id: str
    version: int
    complete_in: set[str] = field(default_factory=set)
    """Names of the locations where the version is complete (its marker is there)."""
    partial_in: set[str] = field(default_factory=set)
    """Names of the locations holding some of its files but not the marker."""
    manifest: RecordManifest | None = None

    @property
    def sha256(self) -> str | None:
        return self.manifest.sha256 if self.manifest is not None else None


@dataclass(slots=True)
class YearHoldings:
    """Every record series of the year: ``(class folder, kind)`` → versions by number."""

    locations: list[str]
    series: dict[tuple[str, str], dict[int, HeldVersion]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Locations that could not be listed, with the reason."""

    def latest(self, class_id: str | None, kind: str) -> HeldVersion | None:
        """The latest version complete in at least one location, or ``None``."""
        folder = safe_name(class_id) if class_id is not None else EXPORT_FOLDER
        return self._latest(folder, kind)

    def _latest(self, folder: str, kind: str) -> HeldVersion | None:
        versions = self.series.get((folder, kind), {})
        complete = [v for n, v in sorted(versions.items()) if v.complete_in]
        return complete[-1] if complete else None

    def inventory_record(self) -> HeldVersion | None:
        """The latest stored inventory of the year's files (опись дел)."""
        return self._latest(INVENTORY_FOLDER, INVENTORY)

    def in_all(self, version: HeldVersion) -> bool:
        """Whether ``version`` is complete in every location."""
        return set(self.locations) <= version.complete_in

    def export_record(self) -> HeldVersion | None:
        """The latest stored journal export of the year."""
        return self.latest(None, JOURNAL_EXPORT)

    def export_version(self, sha256: str) -> HeldVersion | None:
        """The stored journal export with this sha256 (any version)."""
        for version in self.series.get((EXPORT_FOLDER, JOURNAL_EXPORT), {}).values():
            if version.complete_in and version.sha256 == sha256:
                return version
        return None


def year_holdings(
    locations: Sequence[Storage], school_id: str, year_folder: str, *, strict: bool = True
) -> YearHoldings:
    """List what every location holds of ``<school>/<year>/``.

    ``strict``: a location that cannot be listed raises its :class:`StorageError`;
    otherwise it is noted in :attr:`YearHoldings.unavailable` and skipped.
    """
    holdings = YearHoldings([loc.name for loc in locations])
    base = f"{safe_name(school_id)}/{year_folder}/"
    readers: dict[str, Storage] = {}
    for location in locations:
        try:
            keys = location.list_keys(base)
        except StorageError as exc:
            if strict:
                raise
            holdings.unavailable[location.name] = str(exc)
            continue
        for key in keys:
            match = _KEY.match(key[len(base) :])
            if match is None:
                continue
            number = int(match.group("version"))
            series = holdings.series.setdefault((match.group("cls"), match.group("kind")), {})
            rid = f"{base}{match.group('cls')}/{match.group('kind')}/v{number}"
            version = series.setdefault(number, HeldVersion(rid, number))
            if match.group("file") == MARKER:
                version.complete_in.add(location.name)
                readers.setdefault(rid, location)
            else:
                version.partial_in.add(location.name)
    for versions in holdings.series.values():
        for version in versions.values():
            version.partial_in -= version.complete_in
            reader = readers.get(version.record_id)
            if reader is None:
                continue
            try:
                data = reader.read(f"{version.record_id}/{RECORD_FILE}").data
                version.manifest = RecordManifest.loads(
                    data, reader.url(f"{version.record_id}/{RECORD_FILE}")
                )
            except (StorageError, RecordError):
                if strict:
                    raise
    return holdings


def read_payload(locations: Sequence[Storage], version: HeldVersion) -> bytes:
    """A stored version's document, from the first location whose copy matches its manifest."""
    manifest = version.manifest
    if manifest is None:
        raise StorageError(f"запись {version.record_id}: описание записи не прочитано")
    problems = []
    for location in locations:
        if location.name not in version.complete_in:
            continue
        try:
            data = location.read(f"{version.record_id}/{manifest.payload_path}").data
        except StorageError as exc:
            problems.append(str(exc))
            continue
        if hashlib.sha256(data).hexdigest() == manifest.sha256:
            return data
        problems.append(f"хранилище «{location.name}»: копия {version.record_id} повреждена")
    raise StorageError(
        f"запись {version.record_id}: нет исправной копии документа ({'; '.join(problems)})"
    )


# -- what a year-end run does with each class


def data_hashes(export: JournalExport, class_id: str) -> dict[str, str]:
    """Each document kind of the class → the hash of the data it shows."""
    kinds = [CLASS_JOURNAL]
    if export.classes_by_id[class_id].marks_recorded:
        kinds.append(FINAL_MARKS)
    return {kind: document_data_sha256(export, class_id, kind) for kind in kinds}


def same_data(held: HeldVersion | None, data_sha: str, export_sha: str) -> bool:
    """Whether an archived version was made from this data (older records: from this export)."""
    if held is None or held.manifest is None:
        return False
    if held.manifest.data_sha256 is not None:
        return held.manifest.data_sha256 == data_sha
    return held.manifest.source_export_sha256 == export_sha


@dataclass(slots=True)
class ClassPlan:
    """What the run does with each selected class, decided from the archive before any work."""

    todo: list[str] = field(default_factory=list)
    """Classes with a document to make and store (new, corrected, or not yet in both copies)."""
    unchanged: list[str] = field(default_factory=list)
    """Classes whose documents for this data are in both copies already: left alone."""
    adopt: dict[tuple[str, str], HeldVersion] = field(default_factory=dict)
    """``(class, kind)`` → the archived version made from this data, to take instead of a new one."""
    changed: list[str] = field(default_factory=list)
    """Descriptions of archived documents whose class data changed (corrections)."""


def plan_classes(
    export: JournalExport, export_sha: str, class_ids: Sequence[str], holdings: YearHoldings
) -> ClassPlan:
    """Which classes the run does, leaves alone, or corrects (see :class:`ClassPlan`)."""
    plan = ClassPlan()
    for class_id in class_ids:
        school_class = export.classes_by_id[class_id]
        done = True
        for kind, data_sha in data_hashes(export, class_id).items():
            held = holdings.latest(class_id, kind)
            if same_data(held, data_sha, export_sha):
                assert held is not None
                plan.adopt[(class_id, kind)] = held
                done = done and holdings.in_all(held)
            else:
                done = False
                if held is not None:
                    what = "журнал" if kind == CLASS_JOURNAL else "сводная ведомость"
                    plan.changed.append(f"{what} {school_class.name} ({held.record_id})")
        (plan.unchanged if done else plan.todo).append(class_id)
    return plan


def refuse_without_correction(
    plan: ClassPlan, holdings: YearHoldings, export_sha: str, correction: str | None
) -> None:
    """Refuse before any work what the store would refuse after rendering and signing."""
    if correction is not None or not plan.todo:
        return
    if plan.changed:
        raise InputError(
            "данные этих документов изменились с тех пор, как они были сохранены в архив:\n"
            + "\n".join(f"  - {c}" for c in plan.changed)
            + '\nЕсли выгрузка исправлена, запустите ту же команду с --correction "причина": '
            "архив получит новые версии только изменившихся документов, прежние останутся"
        )
    stored = holdings.export_record()
    if stored is not None and stored.sha256 != export_sha:
        raise InputError(
            f"в архиве другая выгрузка этого года ({stored.record_id}); новые документы "
            "ссылаются на эту выгрузку, её нужно сохранить новой версией: запустите ту же "
            'команду с --correction "причина"'
        )


def adopt_archived(
    plan: ClassPlan, out_dir: Path, export: JournalExport, locations: Sequence[Storage]
) -> None:
    """Put the archived document made from this data where the run keeps it (if not there)."""
    for (class_id, kind), held in plan.adopt.items():
        if class_id not in plan.todo:
            continue
        path = document_paths(out_dir, export, class_id)[kind]
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == held.sha256:
            continue
        write_atomic(path, read_payload(locations, held))
