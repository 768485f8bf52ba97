"""What a rendered document says about itself, and whether that fits a record.

Every document ``archiver render`` makes carries its identity twice: the PDF's
Keywords (``kind; class; year``) and the class's journal data embedded as an
associated file (``journal-export-<class>.json``: the school, the academic year,
the export time, the class). Before a document is stored (:mod:`archiver.archive.store`)
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
from archiver.kinds import JOURNAL_EXPORT, safe_name

__all__ = ["EmbeddedFacts", "embedded_facts", "identity_problems", "record_identity_problem"]

ATTACHMENT_PREFIX = "journal-export-"


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


def _embedded_data(pdf: bytes) -> dict[str, Any] | None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        for name, contents in attachments.items():
            if name.startswith(ATTACHMENT_PREFIX) and name.endswith(".json") and contents:
                data = json.loads(contents[0].decode("utf-8"))
                return data if isinstance(data, dict) else {}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return None


def _get(doc: dict[str, Any], *keys: str) -> str | None:
    node: Any = doc
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) else None


def embedded_facts(pdf: bytes) -> EmbeddedFacts:
    """The document's own identity: Keywords and embedded journal data (never the file name)."""
    identity = identify_document(pdf, "")
    data = _embedded_data(pdf)
    classes = data.get("classes") if data else None
    class_ids = tuple(
        str(c.get("id"))
        for c in (classes if isinstance(classes, list) else [])
        if isinstance(c, dict)
    )
    return EmbeddedFacts(
        kind=identity.kind if identity else None,
        class_id=identity.class_id if identity else None,
        academic_year=identity.academic_year if identity else None,
        school_id=_get(data, "school", "id") if data else None,
        data_year=_get(data, "academic_year", "name") if data else None,
        exported_at=_get(data, "exported_at") if data else None,
        data_class_ids=class_ids,
        has_data=data is not None,
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

    ``exported_at`` (the source export's time, ISO 8601) is compared when given: a
    document rendered from another export of the same school and year differs there.
    """
    problems: list[str] = []
    if facts.kind is None or facts.class_id is None:
        return ["в документе нет сведений о том, что это за документ (Keywords PDF)"]
    if facts.kind != kind:
        problems.append(f"вид документа «{facts.kind}», а запись — «{kind}»")
    if facts.class_id != class_id:
        problems.append(f"документ класса «{facts.class_id}», а запись — класса «{class_id}»")
    if facts.academic_year is not None and facts.academic_year != academic_year:
        problems.append(
            f"документ за {facts.academic_year} учебный год, а запись — за {academic_year}"
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
        if exported_at is not None and facts.exported_at != exported_at:
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
