"""What a rendered document says about itself, and whether that fits a record.

Every document ``archiver render`` makes carries its identity twice: the PDF's
Keywords (``kind; class; year``; the inventory: ``inventory; school; year``) and
its data embedded as an associated file: a journal bundle the class's journal data
(``journal-export-<class>.json``: the school, the academic year, the export time,
the class), a summary statement only its own data (``statement-<class>.json``,
format ``archiver-class-statement``; statements made before that format carry the
journal data), the year's inventory its list (``inventory-<year>.json``: the school
and the year, no class). Before a document is stored (:mod:`archiver.archive.store`)
or used to repair another copy (:mod:`archiver.archive.verify.repair`) these facts
are compared with the record it is meant for, so that a genuine, validly signed
document of another class, year or school is never archived or restored in its place.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from archiver.archive.record import RecordManifest, identify_document, record_id, record_prefix
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, INVENTORY, JOURNAL_EXPORT, safe_name

__all__ = ["EmbeddedFacts", "embedded_facts", "identity_problems", "record_identity_problem"]

JOURNAL_DATA = "journal-export-"
"""A journal bundle's embedded data (and a summary statement's before the statement format)."""
STATEMENT_DATA = "statement-"
"""A summary statement's own data (``archiver.sources.statement_v1``)."""
INVENTORY_DATA = "inventory-"
"""The year's inventory's list (``archiver.render.inventory``)."""
STATEMENT_FORMAT = "archiver-class-statement"
INVENTORY_FORMAT = "archiver-inventory/1"
DATA_KINDS = {
    JOURNAL_DATA: (CLASS_JOURNAL, FINAL_MARKS),
    STATEMENT_DATA: (FINAL_MARKS,),
    INVENTORY_DATA: (INVENTORY,),
}
"""Which kinds of document may carry each embedded data (by the attachment's name prefix)."""
_FORMATS = {STATEMENT_DATA: STATEMENT_FORMAT, INVENTORY_DATA: INVENTORY_FORMAT}


@dataclass(frozen=True, slots=True)
class EmbeddedFacts:
    """The identity a document carries (``None``: the document does not say)."""

    kind: str | None
    class_id: str | None
    academic_year: str | None
    school_id: str | None = None
    data_year: str | None = None
    exported_at: str | None = None
    data_class_ids: tuple[str, ...] = ()
    """Classes in the embedded journal data (empty: no data embedded)."""
    has_data: bool = False
    data_kind: str | None = None
    """The embedded data's name prefix (:data:`DATA_KINDS`), ``None`` without data."""


def _embedded_data(pdf: bytes) -> tuple[str, dict[str, Any]] | None:
    """The first embedded data archiver knows (its prefix and JSON), ``None``: none."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        for name, contents in attachments.items():
            prefix = next((p for p in DATA_KINDS if name.startswith(p)), None)
            if prefix is None or not name.endswith(".json") or not contents:
                continue
            data = json.loads(contents[0].decode("utf-8"))
            if not isinstance(data, dict):
                return prefix, {}
            if prefix in _FORMATS and data.get("format") != _FORMATS[prefix]:
                return prefix, {}  # unreadable as its format: fits no record
            return prefix, data
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        return JOURNAL_DATA, {}
    return None


def _class_ids(prefix: str, data: dict[str, Any]) -> tuple[str, ...]:
    """The classes the embedded data holds (a statement: its one class; the inventory: none)."""
    if prefix == STATEMENT_DATA:
        klass = data.get("class")
        return (str(klass.get("id")),) if isinstance(klass, dict) else ()
    classes = data.get("classes") if prefix == JOURNAL_DATA else None
    return tuple(
        str(c.get("id"))
        for c in (classes if isinstance(classes, list) else [])
        if isinstance(c, dict)
    )


def _get(doc: dict[str, Any], *keys: str) -> str | None:
    node: Any = doc
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) else None


def embedded_facts(pdf: bytes) -> EmbeddedFacts:
    """The document's own identity: Keywords and embedded journal data (never the file name)."""
    identity = identify_document(pdf, "")
    found = _embedded_data(pdf)
    prefix, data = found if found is not None else (None, {})
    year = _get(data, "academic_year") if prefix == INVENTORY_DATA else None
    return EmbeddedFacts(
        kind=identity.kind if identity else None,
        class_id=identity.class_id if identity else None,
        academic_year=identity.academic_year if identity else None,
        school_id=_get(data, "school", "id"),
        data_year=year or _get(data, "academic_year", "name"),
        exported_at=_get(data, "exported_at"),
        data_class_ids=_class_ids(prefix, data) if prefix else (),
        has_data=found is not None,
        data_kind=prefix,
    )


def identity_problems(
    facts: EmbeddedFacts,
    *,
    kind: str,
    school_id: str,
    academic_year: str,
    class_id: str | None,
    exported_at: str | None = None,
) -> list[str]:
    """How the document's own identity differs from the record's (empty: it fits).

    ``class_id`` is ``None`` for a record of no class (the year's inventory, whose
    Keywords name the school in the class's place). ``exported_at`` (the source export's time, ISO 8601) is compared when given: a
    document rendered from another export of the same school and year differs there.
    """
    problems: list[str] = []
    if facts.kind is None or facts.class_id is None:
        return ["в документе нет сведений о том, что это за документ (Keywords PDF)"]
    if facts.kind != kind:
        problems.append(f"вид документа «{facts.kind}», а запись — «{kind}»")
    if kind == INVENTORY or class_id is None:
        if facts.kind == INVENTORY and facts.class_id != school_id:
            problems.append(f"опись дел школы «{facts.class_id}», а запись — школы «{school_id}»")
        elif facts.kind != INVENTORY:
            problems.append(f"документ класса «{facts.class_id}», а запись — не класса")
    elif facts.class_id != class_id:
        problems.append(f"документ класса «{facts.class_id}», а запись — класса «{class_id}»")
    if facts.academic_year is not None and facts.academic_year != academic_year:
        problems.append(
            f"документ за {facts.academic_year} учебный год, а запись — за {academic_year}"
        )
    if facts.data_kind is not None and kind not in DATA_KINDS[facts.data_kind]:
        problems.append(
            f"встроенные данные документа ({facts.data_kind}….json) — не данные документа "
            f"вида «{kind}»"
        )
    if facts.has_data:
        if facts.school_id != school_id:
            problems.append(
                f"встроенные данные документа — школы «{facts.school_id}», а запись — "
                f"школы «{school_id}»"
            )
        if facts.data_year != academic_year:
            problems.append(
                f"встроенные данные документа — за {facts.data_year} учебный год, а запись — "
                f"за {academic_year}"
            )
        if class_id is not None and class_id not in facts.data_class_ids:
            problems.append(f"во встроенных данных документа нет класса «{class_id}»")
        if exported_at is not None and kind != INVENTORY and facts.exported_at != exported_at:
            problems.append(
                f"документ свёрстан по выгрузке от {facts.exported_at}, а выгрузка записи — "
                f"от {exported_at}"
            )
    return problems


def record_identity_problem(rid: str, manifest: RecordManifest, payload: bytes) -> str | None:
    """What says the document is not this record's (``None``: its identity fits)."""
    year = safe_name(manifest.academic_year.replace("/", "-"))
    expected = record_id(
        record_prefix(manifest.school_id, year, manifest.class_id, manifest.kind), manifest.version
    )
    if expected != rid:
        return f"описание записи указывает на запись {expected}, а лежит в {rid}"
    if manifest.kind != JOURNAL_EXPORT and manifest.signer_cert_sha256 is None:
        return "по описанию записи документ не подписан"
    if manifest.kind == JOURNAL_EXPORT:
        try:
            doc = json.loads(payload.decode("utf-8"))
            school = doc["school"]["id"]
            name = doc["academic_year"]["name"]
        except (ValueError, KeyError, TypeError):
            return "выгрузка журнала не читается как JSON с school.id и academic_year.name"
        if school != manifest.school_id or name != manifest.academic_year:
            return (
                f"выгрузка журнала — школы «{school}» за {name}, а запись — школы "
                f"«{manifest.school_id}» за {manifest.academic_year}"
            )
        return None
    problems = identity_problems(
        embedded_facts(payload),
        kind=manifest.kind,
        school_id=manifest.school_id,
        academic_year=manifest.academic_year,
        class_id=manifest.class_id,
    )
    return "; ".join(problems) if problems else None
