"""Reading records back out of the archive: listing, manifests, payloads with their hashes checked.

The two storage locations hold the same records (``docs/storage.md``). Reading
prefers the primary location and falls back to the secondary one when the primary
is unavailable, lacks the record, or holds a copy whose bytes do not match the
record's manifest; every such fallback is reported as a note for the user, never
hidden. Nothing here writes to a location.

Where the two locations' manifests of one record disagree, the copy in the
location that enforces retention by itself (S3 Object Lock) is trusted, as nobody
can have changed it; between two locations of the same kind archiver cannot tell
which is right and refuses.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from archiver.archive.record import MARKER, RECORD_FILE, RecordError, RecordManifest
from archiver.errors import ArchiverError, ExitCode, UsageError
from archiver.files import NotCreated, OutputError, fsync_folder, link_new, os_reason, staged_file
from archiver.kinds import (
    CLASS_JOURNAL,
    FINAL_MARKS,
    JOURNAL_EXPORT,
    KINDS,
    RECORD_ID,
    export_attachment_name,
)
from archiver.model import JournalExport
from archiver.sources.export_v1 import read_export
from archiver.sources.statement_v1 import StatementError, read_statement, statement_attachment_name
from archiver.storage.base import Storage, StorageError, check_key
from archiver.storage.locations import Locations

"""``<school>/<year>/<class or _export>/<kind>/v<N>``."""


class RecordNotFound(ArchiverError):
    """No location holds a complete record under this id."""

    exit_code = ExitCode.BAD_INPUT


@dataclass(frozen=True, slots=True)
class FetchedRecord:
    """A record's manifest and its payload, checked against the manifest's sha256 and size."""

    manifest: RecordManifest
    payload: bytes
    location: Storage
    """The location whose copy was used."""
    notes: tuple[str, ...] = ()
    """What the user should know: a damaged or missing copy, an unavailable location."""


def check_record_id(text: str) -> str:
    """A record id as typed by a person (slashes at the ends are tolerated), or UsageError."""
    rid = text.strip().strip("/")
    try:
        check_key(rid)
    except ValueError:
        rid = ""
    match = RECORD_ID.match(rid)
    if not match or match.group("kind") not in KINDS:
        raise UsageError(
            f"«{text}» — не номер записи архива; ожидался путь вида "
            "школа/2025-2026/класс/final_marks/v1 (см. «archiver find»)"
        )
    return rid


def complete_records(location: Storage, prefix: str = "") -> list[str]:
    """Ids of the complete records (their ``bagit.txt`` is there) under ``prefix``, sorted."""
    found: list[str] = []
    for key in location.list_keys(prefix):
        if not key.endswith("/" + MARKER):
            continue
        rid = key[: -len(MARKER) - 1]
        match = RECORD_ID.match(rid)
        if match and match.group("kind") in KINDS:
            found.append(rid)
    return sorted(found, key=_record_sort_key)


def _record_sort_key(rid: str) -> tuple[str, int]:
    series, _, version = rid.rpartition("/v")
    return (series, int(version))


def read_manifest(location: Storage, rid: str) -> tuple[RecordManifest, bytes]:
    """``archive-record.json`` of one record in one location, checked to belong to ``rid``."""
    key = f"{rid}/{RECORD_FILE}"
    data = location.read(key).data
    manifest = RecordManifest.loads(data, location.url(key))
    if manifest.record_id != rid:
        raise RecordError(
            f"{location.url(key)}: описание записи относится к {manifest.record_id}, а лежит в {rid}"
        )
    return manifest, data


def _payload_problem(manifest: RecordManifest, payload: bytes) -> str | None:
    actual = hashlib.sha256(payload).hexdigest()
    if actual != manifest.sha256:
        return f"sha256 документа {actual} не совпадает с описанием записи ({manifest.sha256})"
    if len(payload) != manifest.size:
        return f"размер документа {len(payload)} байт, а в описании записи {manifest.size}"
    return None


def fetch_record(locations: Locations, rid: str, *, cross_check: bool = True) -> FetchedRecord:
    """The record's manifest and payload from the first location with a good copy.

    A copy is good when the record is complete there and the payload's sha256 and size
    match the manifest. With ``cross_check`` the manifests of all available locations
    are compared first (see the module docstring). Raises :class:`RecordNotFound` when
    no location has the record, :class:`RecordError` when every copy is damaged.
    """
    notes = locations.fallback_notes()
    usable = locations.usable()
    if not usable:
        locations.first()  # raises: no location is available
    manifests: dict[str, tuple[RecordManifest, bytes]] = {}
    failures = 0
    for location in usable:
        try:
            if location.stat(f"{rid}/{MARKER}") is None:
                if location.stat(f"{rid}/{RECORD_FILE}") is not None:
                    notes.append(
                        f"в хранилище «{location.name}» запись {rid} не завершена "
                        "(запись прервалась; повторите «archiver store»)"
                    )
                else:
                    notes.append(f"в хранилище «{location.name}» записи {rid} нет")
                continue
            manifests[location.name] = read_manifest(location, rid)
        except (StorageError, RecordError) as exc:
            failures += 1
            notes.append(f"хранилище «{location.name}»: {exc}")
        if manifests and not cross_check:
            break
    if not manifests:
        if failures:
            raise RecordError(f"запись {rid} не удалось прочитать:\n" + _bullets(notes))
        raise RecordNotFound(f"записи {rid} нет в архиве:\n" + _bullets(notes))
    by_name = {loc.name: loc for loc in locations.all}
    trusted = _agreeing_manifest(rid, manifests, by_name, notes)
    for name, (_, manifest_bytes) in manifests.items():
        if manifest_bytes != trusted:
            continue
        location = by_name[name]
        manifest = manifests[name][0]
        key = f"{rid}/{manifest.payload_path}"
        try:
            payload = location.read(key).data
        except StorageError as exc:
            notes.append(f"хранилище «{name}»: {exc}")
            continue
        problem = _payload_problem(manifest, payload)
        if problem is not None:
            notes.append(f"копия в хранилище «{name}» повреждена ({location.url(key)}): {problem}")
            continue
        if name != locations.all[0].name:
            notes.append(f"использована копия из хранилища «{name}» ({location.url(rid)})")
        return FetchedRecord(manifest, payload, location, tuple(notes))
    raise RecordError(
        f"запись {rid}: ни одна копия не совпадает с описанием записи, "
        "нужна проверка архива человеком:\n" + _bullets(notes)
    )


def _agreeing_manifest(
    rid: str,
    manifests: dict[str, tuple[RecordManifest, bytes]],
    by_name: dict[str, Storage],
    notes: list[str],
) -> bytes:
    """The manifest bytes to trust when locations are compared."""
    variants = {data for _, data in manifests.values()}
    if len(variants) == 1:
        return next(iter(variants))
    locked = [name for name in manifests if by_name[name].enforces_retention]
    if len(locked) == 1:
        notes.append(
            f"описания записи {rid} в хранилищах различаются; доверяем хранилищу «{locked[0]}», "
            "где объекты защищены от изменения (S3 Object Lock). Нужна проверка архива человеком"
        )
        return manifests[locked[0]][1]
    raise RecordError(
        f"описания записи {rid} в хранилищах {', '.join(f'«{n}»' for n in manifests)} "
        "различаются; archiver не может решить, какое верно. Нужна проверка архива человеком"
    )


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"  - {line}" for line in lines)


class ArchivedDataError(ArchiverError):
    """A record's journal data cannot be read back."""

    exit_code = ExitCode.PROBLEMS_FOUND


EMBEDDING_KINDS = (FINAL_MARKS, CLASS_JOURNAL)
"""Class documents that embed their class's slice of the export
(``journal-export-<class>.json``), the longest kept first."""


def journal_data(fetched: FetchedRecord) -> JournalExport:
    """The journal data of a fetched record, read and validated as an export (format v1).

    A ``journal_export`` record is the export itself. The journal bundle carries its
    class's slice of the export as an embedded file. The summary statement (kept 25
    years) carries only its own data (:mod:`archiver.sources.statement_v1`: pupils,
    period, year and exam marks, decisions; no lessons), read as a one-class export
    without lessons: that is what is left of the year once the export and the bundles
    have reached the end of their 5 years. (Statements made before that format carry
    the class's slice of the export, which is read instead.)
    """
    manifest = fetched.manifest
    rid = manifest.record_id
    if manifest.kind == JOURNAL_EXPORT:
        data, name = fetched.payload, rid
    elif manifest.kind in EMBEDDING_KINDS and manifest.class_id is not None:
        attachment = export_attachment_name(manifest.class_id)
        try:
            attachments = PdfReader(io.BytesIO(fetched.payload)).attachments
            own = statement_attachment_name(manifest.class_id)
            statement = attachments.get(own) if manifest.kind == FINAL_MARKS else None
            embedded = attachments.get(attachment)
        except (PyPdfError, ValueError, KeyError, TypeError) as exc:
            raise ArchivedDataError(f"документ записи {rid} не читается как PDF: {exc}") from exc
        if statement:
            return _statement_export(statement[0], f"{rid} → {own}", manifest)
        if not embedded:
            raise ArchivedDataError(
                f"в документе записи {rid} нет вложенных данных журнала ({attachment})"
            )
        data, name = embedded[0], f"{rid} → {attachment}"
    else:
        raise ArchivedDataError(f"запись {rid} ({manifest.kind}) не содержит данных журнала")
    report = read_export(data, name=name)
    if not report.ok or report.export is None:
        problems = "; ".join(str(p) for p in report.errors[:3])
        raise ArchivedDataError(f"данные журнала записи {rid} не читаются: {problems}")
    export = report.export
    if export.academic_year.name != manifest.academic_year or (
        manifest.class_id is not None and manifest.class_id not in export.classes_by_id
    ):
        raise ArchivedDataError(
            f"данные журнала записи {rid} относятся к другому году или классу "
            f"({export.academic_year.name}), чем сама запись ({manifest.academic_year})"
        )
    return export


def _statement_export(data: bytes, name: str, manifest: RecordManifest) -> JournalExport:
    """A summary statement's own data (what it prints) as a one-class export without lessons."""
    try:
        export = read_statement(data, name)
    except StatementError as exc:
        raise ArchivedDataError(str(exc)) from exc
    if export.academic_year.name != manifest.academic_year or (
        manifest.class_id is not None and manifest.class_id not in export.classes_by_id
    ):
        raise ArchivedDataError(
            f"данные ведомости {name} относятся к другому году или классу "
            f"({export.academic_year.name}), чем сама запись ({manifest.academic_year})"
        )
    return export


class OutputExists(ArchiverError):
    """The output file is there already: archiver never overwrites it."""

    exit_code = ExitCode.BAD_INPUT


def refuse_existing(path: Path) -> None:
    """Raise :class:`OutputExists` when ``path`` (or a link of that name) exists."""
    if path.exists() or path.is_symlink():
        raise OutputExists(f"файл {path} уже существует; archiver его не перезаписывает")


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path``: never half-written, never over an existing file.

    The bytes go to a temporary file in the same folder (mode 0600: the documents hold
    personal data), are flushed to disk, and get their name with a hard link, which
    fails if the name exists (a rename after a check on file systems without links).
    """
    refuse_existing(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        with staged_file(folder, data, prefix=f".{path.name}.") as tmp:
            link_new(tmp, path)
    except FileExistsError as exc:
        raise OutputExists(f"файл {path} уже существует; archiver его не перезаписывает") from exc
    except NotCreated as exc:
        raise OutputError(f"не удалось создать файл в папке {folder}: {os_reason(exc)}") from exc
    except OSError as exc:
        raise OutputError(f"не удалось записать {path}: {os_reason(exc)}") from exc
    fsync_folder(folder)


__all__ = [
    "EMBEDDING_KINDS",
    "ArchivedDataError",
    "FetchedRecord",
    "OutputExists",
    "RecordNotFound",
    "check_record_id",
    "complete_records",
    "fetch_record",
    "journal_data",
    "read_manifest",
    "refuse_existing",
    "write_new_file",
]
