"""Archive records: one document, its manifest, and their BagIt packing.

A record is one stored document (a journal bundle, a summary statement of final
marks, or the journal export itself) together with a manifest saying what it is,
whose it is, how long it must be kept and how to check it. Each record is packed
as a BagIt bag (RFC 8493), a layout any person can check with ``sha256sum`` in
2050 without archiver::

    <school>/<year>/<class>/<kind>/v<N>/      (journal export: <school>/<year>/_export/…)
      data/<file>                   the document, byte for byte
      archive-record.json           the manifest (JSON, UTF-8)
      bag-info.txt                  the same facts as BagIt tags
      manifest-sha256.txt           sha256 of data/<file>
      manifest-sha512.txt           sha512 of data/<file>
      tagmanifest-sha256.txt        sha256 of the other text files
      tagmanifest-sha512.txt        sha512 of the other text files
      README.txt, certs/*.pem       what the files are and how to check them without
                                    archiver; the signer's and the TSA's certificate chains
                                    (records stored since these were added)
      bagit.txt                     written last: its presence means the record is complete

Everything here is pure (bytes in, bytes out) except reading the PDFs' metadata
and embedded signatures. ``docs/storage.md`` documents the layout and the fields.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver import __version__
from archiver.errors import ArchiverError, ExitCode
from archiver.kinds import (
    CLASS_JOURNAL,
    DOCUMENT_KINDS,
    EXPORT_FOLDER,
    FINAL_MARKS,
    INVENTORY,
    INVENTORY_FOLDER,
    safe_name,
)

__all__ = [
    "BAGIT_TXT",
    "BAG_TEXT",
    "MARKER",
    "RECORD_FILE",
    "RECORD_FORMAT",
    "TAG_FILES",
    "BagFile",
    "DocumentIdentity",
    "RecordError",
    "RecordManifest",
    "bag_files",
    "bag_info",
    "bag_paths",
    "bag_tag_files",
    "identify_document",
    "media_type",
    "record_id",
    "record_prefix",
]

RECORD_FORMAT = "archiver-record/1"
RECORD_FILE = "archive-record.json"
MARKER = "bagit.txt"
"""The file written last in every record: a record without it is not complete."""
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
TAG_FILES = (
    RECORD_FILE,
    "bag-info.txt",
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "tagmanifest-sha256.txt",
    "tagmanifest-sha512.txt",
    MARKER,
)
"""The paths of a bag's files besides the payload (``data/<file>``)."""
MEDIA_TYPES = {".pdf": "application/pdf", ".json": "application/json"}
_FILE_PATTERNS = {
    CLASS_JOURNAL: re.compile(r"^(?P<cls>.+)-class-journal\.pdf$"),
    FINAL_MARKS: re.compile(r"^(?P<cls>.+)-final-marks\.pdf$"),
    INVENTORY: re.compile(r"^(?P<cls>.+)-inventory\.pdf$"),
}


class RecordError(ArchiverError):
    """A stored manifest cannot be read: the archive needs a person's attention."""

    exit_code = ExitCode.PROBLEMS_FOUND


# -- documents


@dataclass(frozen=True, slots=True)
class DocumentIdentity:
    """What a rendered document is: its kind, class (the school, for an inventory) and year."""

    kind: str
    class_id: str
    academic_year: str | None
    """From the PDF metadata; ``None`` when only the file name told the kind."""


def _pdf_keywords(pdf: bytes) -> str | None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        metadata = PdfReader(io.BytesIO(pdf)).metadata
    except (PyPdfError, ValueError, KeyError, TypeError):
        return None
    if metadata is None:
        return None
    value = metadata.get("/Keywords")
    return str(value) if value is not None else None


def identify_document(pdf: bytes, file_name: str) -> DocumentIdentity | None:
    """Kind, class and year from the PDF's Keywords (``kind; class; year``), else the file name.

    ``archiver render`` sets Keywords to e.g. ``class_journal; 5a; 2025/2026`` and names
    the files ``<class>-class-journal.pdf`` / ``<class>-final-marks.pdf``.
    """
    keywords = _pdf_keywords(pdf)
    if keywords:
        parts = [part.strip() for part in keywords.split(";")]
        if len(parts) == 3 and parts[0] in (*DOCUMENT_KINDS, INVENTORY) and parts[1]:
            return DocumentIdentity(parts[0], parts[1], parts[2] or None)
    for kind, pattern in _FILE_PATTERNS.items():
        match = pattern.match(file_name)
        if match:
            return DocumentIdentity(kind, match.group("cls"), None)
    return None


# -- the manifest


@dataclass(frozen=True, slots=True)
class RecordManifest:
    """The facts of one record, stored as ``archive-record.json`` and in ``bag-info.txt``."""

    record_id: str
    """``<school>/<year>/<class>/<kind>/v<N>``: also the record's path in every location."""
    version: int
    kind: str
    title: str
    school_id: str
    school_name: str
    academic_year: str
    class_id: str | None
    class_name: str | None
    file_name: str
    media_type: str
    size: int
    sha256: str
    sha512: str
    retention_policy: str
    retention_title: str
    retention_years: int
    legal_basis: str
    lock_mode: str
    closing_year: int
    retain_until: str
    """ISO 8601 with the school's UTC offset, e.g. ``2032-01-01T00:00:00+05:00``."""
    stored_at: str
    source_export_sha256: str
    signer_cert_sha256: str | None = None
    signer_subject: str | None = None
    correction_reason: str | None = None
    replaces: str | None = None
    """Record id of the version this one corrects."""
    software_version: str = __version__
    data_sha256: str | None = None
    """Hash of the class's data the document shows (``document_data_sha256``): a correction
    of the export makes a new version only where it differs. ``None`` for the export and
    for records stored before it was kept."""
    detached_signature: tuple[str, int, str, str] | None = None
    """The detached CAdES signature beside the document (``X.pdf.sig``): name, size, sha256, sha512."""
    bag_texts: tuple[tuple[str, str], ...] = ()
    """Explanatory tag files of the bag, ``(path, text)``: ``README.txt`` and the
    certificates in ``certs/`` (:mod:`archiver.archive.bag_readme`). Kept in the manifest so
    that every copy of the bag follows from it; records stored before have none."""

    @property
    def retain_until_instant(self) -> datetime:
        """:attr:`retain_until` as a timezone-aware datetime."""
        return datetime.fromisoformat(self.retain_until)

    @property
    def payload_path(self) -> str:
        """The document's path inside the bag."""
        return f"data/{self.file_name}"

    @property
    def signature_path(self) -> str | None:
        """The detached signature's path inside the bag, if the record has one."""
        return f"data/{self.detached_signature[0]}" if self.detached_signature else None

    @property
    def data_paths(self) -> set[str]:
        """Every payload path of the bag: the document and its detached signature."""
        return {self.payload_path} | ({self.signature_path} if self.signature_path else set())

    def to_json(self) -> dict[str, Any]:
        """The manifest as JSON data (the layout of ``archive-record.json``)."""
        return {
            "format": RECORD_FORMAT,
            "record_id": self.record_id,
            "version": self.version,
            "kind": self.kind,
            "title": self.title,
            "school": {"id": self.school_id, "name": self.school_name},
            "academic_year": self.academic_year,
            "class": (
                {"id": self.class_id, "name": self.class_name}
                if self.class_id is not None
                else None
            ),
            "file": {
                "name": self.file_name,
                "path": self.payload_path,
                "media_type": self.media_type,
                "size": self.size,
                "sha256": self.sha256,
                "sha512": self.sha512,
            },
            "retention": {
                "policy": self.retention_policy,
                "title": self.retention_title,
                "years": self.retention_years,
                "legal_basis": self.legal_basis,
                "lock_mode": self.lock_mode,
                "closing_year": self.closing_year,
                "retain_until": self.retain_until,
            },
            "stored_at": self.stored_at,
            "signature": (
                {"signer_cert_sha256": self.signer_cert_sha256, "signer": self.signer_subject}
                if self.signer_cert_sha256 is not None
                else None
            ),
            **(
                {
                    "detached_signature": {
                        "name": self.detached_signature[0],
                        "path": self.signature_path,
                        "size": self.detached_signature[1],
                        "sha256": self.detached_signature[2],
                        "sha512": self.detached_signature[3],
                    }
                }
                if self.detached_signature
                else {}
            ),
            "source_export_sha256": self.source_export_sha256,
            **({"data_sha256": self.data_sha256} if self.data_sha256 is not None else {}),
            "correction": (
                {"reason": self.correction_reason, "replaces": self.replaces}
                if self.correction_reason is not None
                else None
            ),
            "software": {"name": "archiver", "version": self.software_version},
            **({"bag_texts": dict(self.bag_texts)} if self.bag_texts else {}),
        }

    def dumps(self) -> bytes:
        """``archive-record.json``: indented UTF-8 JSON, Cyrillic as is, one final newline."""
        return (json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def loads(cls, data: bytes, where: str = RECORD_FILE) -> RecordManifest:
        """Read ``archive-record.json``; :class:`RecordError` when it is not a manifest."""
        try:
            doc = json.loads(data.decode("utf-8"))
            if doc.get("format") != RECORD_FORMAT:
                raise ValueError(f"неизвестный формат {doc.get('format')!r}")
            file = doc["file"]
            retention = doc["retention"]
            school_class = doc.get("class") or {}
            signature = doc.get("signature") or {}
            correction = doc.get("correction") or {}
            manifest = cls(
                record_id=str(doc["record_id"]),
                version=int(doc["version"]),
                kind=str(doc["kind"]),
                title=str(doc["title"]),
                school_id=str(doc["school"]["id"]),
                school_name=str(doc["school"]["name"]),
                academic_year=str(doc["academic_year"]),
                class_id=school_class.get("id"),
                class_name=school_class.get("name"),
                file_name=str(file["name"]),
                media_type=str(file["media_type"]),
                size=int(file["size"]),
                sha256=str(file["sha256"]),
                sha512=str(file["sha512"]),
                retention_policy=str(retention["policy"]),
                retention_title=str(retention["title"]),
                retention_years=int(retention["years"]),
                legal_basis=str(retention["legal_basis"]),
                lock_mode=str(retention["lock_mode"]),
                closing_year=int(retention["closing_year"]),
                retain_until=str(retention["retain_until"]),
                stored_at=str(doc["stored_at"]),
                source_export_sha256=str(doc["source_export_sha256"]),
                signer_cert_sha256=signature.get("signer_cert_sha256"),
                signer_subject=signature.get("signer"),
                correction_reason=correction.get("reason"),
                replaces=correction.get("replaces"),
                software_version=str(doc["software"]["version"]),
                data_sha256=doc.get("data_sha256"),
                detached_signature=(
                    (
                        str(doc["detached_signature"]["name"]),
                        int(doc["detached_signature"]["size"]),
                        str(doc["detached_signature"]["sha256"]),
                        str(doc["detached_signature"]["sha512"]),
                    )
                    if doc.get("detached_signature")
                    else None
                ),
                bag_texts=_bag_texts(doc.get("bag_texts")),
            )
            if datetime.fromisoformat(manifest.retain_until).tzinfo is None:
                raise ValueError("retain_until без часового пояса")
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RecordError(f"{where}: не читается как описание записи архива ({exc})") from exc
        return manifest


BAG_TEXT = re.compile(r"^(README\.txt|certs/[a-z0-9-]+\.pem)$")
"""The paths an explanatory text of a bag may have."""


def _bag_texts(value: Any) -> tuple[tuple[str, str], ...]:
    """``bag_texts`` of a manifest: only ``README.txt`` and ``certs/*.pem``, text values."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ValueError("bag_texts не объект")
    for path, text in value.items():
        if not BAG_TEXT.match(str(path)) or not isinstance(text, str):
            raise ValueError(f"bag_texts: недопустимый файл {path!r}")
    return tuple((str(k), str(v)) for k, v in value.items())


def bag_paths(manifest: RecordManifest) -> set[str]:
    """Every path of the record's bag: the payload, the tag files and the explanatory texts."""
    return {*manifest.data_paths, *TAG_FILES, *(path for path, _ in manifest.bag_texts)}


def record_prefix(school_id: str, year_folder: str, class_id: str | None, kind: str) -> str:
    """The folder of a record series: ``<school>/<year>/<class, _export or _inventory>/<kind>``."""
    if class_id is not None:
        folder = safe_name(class_id)
    else:
        folder = INVENTORY_FOLDER if kind == INVENTORY else EXPORT_FOLDER
    return f"{safe_name(school_id)}/{year_folder}/{folder}/{kind}"


def record_id(series: str, version: int) -> str:
    """``<series>/v<N>``."""
    return f"{series}/v{version}"


def media_type(file_name: str) -> str:
    """``application/pdf`` for PDFs, ``application/json`` for JSON, else octet-stream."""
    for suffix, value in MEDIA_TYPES.items():
        if file_name.lower().endswith(suffix):
            return value
    return "application/octet-stream"


def detached_signature(path: Path) -> bytes | None:
    """``X.pdf.sig`` beside the document (an external signer's detached CAdES), if any."""
    beside = path.with_name(path.name + ".sig")
    return beside.read_bytes() if beside.is_file() else None


def detached_entry(file_name: str, data: bytes | None) -> tuple[str, int, str, str] | None:
    """The manifest's facts of a document's detached signature (stored as ``<file>.sig``)."""
    if data is None:
        return None
    sha256, sha512 = hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest()
    return (f"{file_name}.sig", len(data), sha256, sha512)


# -- BagIt packing


@dataclass(frozen=True, slots=True)
class BagFile:
    """One file of a record's bag: its path inside the record folder and its bytes."""

    path: str
    data: bytes

    @property
    def sha256(self) -> str:
        """SHA-256 of the bytes, hex."""
        return hashlib.sha256(self.data).hexdigest()


def _bag_path(path: str) -> str:
    """BagIt 1.0 encoding of a path in a manifest: ``%``, CR and LF percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _tag_value(value: str) -> str:
    return " ".join(value.split())


def _oxum(manifest: RecordManifest) -> str:
    """BagIt's ``Payload-Oxum``: total payload bytes, payload files."""
    sig = manifest.detached_signature
    return f"{manifest.size + sig[1]}.2" if sig else f"{manifest.size}.1"


def bag_info(manifest: RecordManifest) -> bytes:
    """``bag-info.txt``: BagIt's reserved tags plus the record's facts (``Archiver-*``)."""
    tags: list[tuple[str, str]] = [
        ("Source-Organization", manifest.school_name),
        ("External-Identifier", manifest.record_id),
        ("External-Description", manifest.title),
        ("Bagging-Date", manifest.stored_at[:10]),
        ("Bag-Software-Agent", f"archiver {manifest.software_version}"),
        ("Payload-Oxum", _oxum(manifest)),
        ("Archiver-Record-Format", RECORD_FORMAT),
        ("Archiver-Kind", manifest.kind),
        ("Archiver-School-Id", manifest.school_id),
        ("Archiver-Academic-Year", manifest.academic_year),
    ]
    if manifest.class_id is not None:
        tags.append(("Archiver-Class-Id", manifest.class_id))
    tags += [
        ("Archiver-Version", str(manifest.version)),
        ("Archiver-Retention-Years", str(manifest.retention_years)),
        ("Archiver-Retain-Until", manifest.retain_until),
        ("Archiver-Stored-At", manifest.stored_at),
        ("Archiver-Source-Export-SHA256", manifest.source_export_sha256),
    ]
    if manifest.data_sha256 is not None:
        tags.append(("Archiver-Data-SHA256", manifest.data_sha256))
    if manifest.legal_basis:
        tags.append(("Archiver-Legal-Basis", manifest.legal_basis))
    if manifest.signer_cert_sha256 is not None:
        tags.append(("Archiver-Signer-Certificate-SHA256", manifest.signer_cert_sha256))
    if manifest.correction_reason is not None:
        tags.append(("Archiver-Correction", manifest.correction_reason))
        tags.append(("Archiver-Replaces", manifest.replaces or ""))
    text = "".join(f"{label}: {_tag_value(value)}\n" for label, value in tags)
    return text.encode("utf-8")


def _hash_lines(entries: list[tuple[str, str]]) -> bytes:
    """A BagIt manifest: one ``<digest>  <path>`` line per ``(digest, path)``."""
    return "".join(f"{digest}  {_bag_path(path)}\n" for digest, path in entries).encode("utf-8")


def bag_tag_files(manifest: RecordManifest, manifest_bytes: bytes) -> list[BagFile]:
    """Every file of the record's bag but the payload, in writing order; the marker is last.

    They all follow from the manifest (the payload's hashes are in it), so a copy can
    be checked file by file without the payload at hand.
    """
    payload = manifest.payload_path
    record = BagFile(RECORD_FILE, manifest_bytes)
    info = BagFile("bag-info.txt", bag_info(manifest))
    sig, sig_path = manifest.detached_signature, manifest.signature_path
    extra256 = [(sig[2], sig_path)] if sig and sig_path else []
    extra512 = [(sig[3], sig_path)] if sig and sig_path else []
    manifests = [
        BagFile("manifest-sha256.txt", _hash_lines([(manifest.sha256, payload), *extra256])),
        BagFile("manifest-sha512.txt", _hash_lines([(manifest.sha512, payload), *extra512])),
    ]
    texts = [BagFile(path, text.encode("utf-8")) for path, text in manifest.bag_texts]
    marker = BagFile(MARKER, BAGIT_TXT)
    tagged = [marker, info, *manifests, record, *texts]
    tag_manifests = [
        BagFile(
            f"tagmanifest-{alg}.txt",
            _hash_lines([(hashlib.new(alg, f.data).hexdigest(), f.path) for f in tagged]),
        )
        for alg in ("sha256", "sha512")
    ]
    return [record, info, *manifests, *texts, *tag_manifests, marker]


def bag_files(
    manifest: RecordManifest, manifest_bytes: bytes, payload: bytes, signature: bytes | None = None
) -> list[BagFile]:
    """Every file of the record's bag, in the order they must be written; the marker is last.

    ``manifest_bytes`` is the exact ``archive-record.json`` (as first written, so that a
    record completed later is byte-identical in every location).
    """
    if hashlib.sha256(payload).hexdigest() != manifest.sha256 or len(payload) != manifest.size:
        raise ValueError("the payload does not match the manifest")
    if hashlib.sha512(payload).hexdigest() != manifest.sha512:
        raise ValueError("the payload does not match the manifest")
    files = [BagFile(manifest.payload_path, payload)]
    sig, sig_path = manifest.detached_signature, manifest.signature_path
    if sig is not None and sig_path is not None:
        if signature is None or hashlib.sha256(signature).hexdigest() != sig[2]:
            raise ValueError("the detached signature does not match the manifest")
        files.append(BagFile(sig_path, signature))
    return [*files, *bag_tag_files(manifest, manifest_bytes)]
