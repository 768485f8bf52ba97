"""The act «о выделении к уничтожению архивных документов, не подлежащих хранению»: its data and PDF.

An act is JSON data (``archiver-disposal-act/1``): its number, school, the day it is
drafted as of, and its items — one per record series (дело), with the exact record
versions and their SHA-256, so that executing it can only ever delete what was
approved. The PDF/A (landscape, the Rosarchive form's eight columns) embeds that JSON
as ``disposal-act.json``; the approved act is stored in the archive as a record of its
own (kind ``disposal_act``) and read back from there when it is executed.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from archiver.archive.record import RecordManifest, record_prefix
from archiver.errors import InputError
from archiver.kinds import DISPOSAL_ACT, PD_DESTRUCTION_ACT
from archiver.numbers import plural_form
from archiver.render.engines import Engines
from archiver.render.pdf import Attachment, DocumentInfo, SignaturePlace, assemble
from archiver.retention import RetentionPolicy
from archiver.wording import ru_date

ACT_FORMAT = "archiver-disposal-act/1"
ACT_KIND = DISPOSAL_ACT
"""The approved act, stored as a record."""
PD_ACT_KIND = PD_DESTRUCTION_ACT
"""The personal-data destruction act with its access-log extract, stored as a record."""
ACT_KINDS = (ACT_KIND, PD_ACT_KIND)
DISPOSAL_FOLDER = "_disposal"
"""The «year» folder of the acts' records: ``<school>/_disposal/<act>/<kind>/v1``."""
ACT_ATTACHMENT = "disposal-act.json"


@dataclass(frozen=True, slots=True)
class ActItem:
    """One line of the act: a record series (дело) and the record versions it consists of."""

    n: int
    series: str
    records: dict[str, str]
    """Record id → SHA-256 of its document, every version stored."""
    kind: str
    title: str
    academic_year: str
    class_id: str | None
    retain_until: str
    dates: str
    inventory: str
    index: str
    count: int
    retention: str
    note: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "n": self.n,
            "series": self.series,
            "records": self.records,
            "kind": self.kind,
            "title": self.title,
            "academic_year": self.academic_year,
            "class_id": self.class_id,
            "retain_until": self.retain_until,
            "dates": self.dates,
            "inventory": self.inventory,
            "index": self.index,
            "count": self.count,
            "retention": self.retention,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ActItem:
        """Read one item."""
        return cls(
            n=int(doc["n"]),
            series=str(doc["series"]),
            records={str(k): str(v) for k, v in dict(doc["records"]).items()},
            kind=str(doc["kind"]),
            title=str(doc["title"]),
            academic_year=str(doc["academic_year"]),
            class_id=doc.get("class_id"),
            retain_until=str(doc["retain_until"]),
            dates=str(doc["dates"]),
            inventory=str(doc["inventory"]),
            index=str(doc["index"]),
            count=int(doc["count"]),
            retention=str(doc["retention"]),
            note=str(doc["note"]),
        )


@dataclass(slots=True)
class Act:
    """A disposal act: a draft, or approved (``approval`` set)."""

    number: str
    school_id: str
    school_name: str
    as_of: str
    """ISO date the act lists expired records as of."""
    drafted_at: str
    drafted_by: str
    items: list[ActItem]
    director_name: str = ""
    director_position: str = "Директор"
    approval: dict[str, str] | None = None
    """``protocol``, ``protocol_number``, ``protocol_date``, ``entered_by``, ``entered_at``."""
    notes: list[str] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        """Whether the expert commission's approval is recorded."""
        return self.approval is not None

    def record_id(self, kind: str = ACT_KIND) -> str:
        """The act's record in the archive (``<school>/_disposal/<number>/<kind>/v1``)."""
        return f"{record_prefix(self.school_id, DISPOSAL_FOLDER, self.number, kind)}/v1"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``disposal-act.json``)."""
        return {
            "format": ACT_FORMAT,
            "number": self.number,
            "school": {"id": self.school_id, "name": self.school_name},
            "director": {"name": self.director_name, "position": self.director_position},
            "as_of": self.as_of,
            "drafted_at": self.drafted_at,
            "drafted_by": self.drafted_by,
            "approval": self.approval,
            "items": [item.to_json() for item in self.items],
            "notes": self.notes,
        }

    def dumps(self) -> bytes:
        """Indented UTF-8 JSON."""
        return (json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def loads(cls, data: bytes, where: str) -> Act:
        """Read an act's JSON; :class:`InputError` when it is not one."""
        try:
            doc = json.loads(data.decode("utf-8"))
            if doc.get("format") != ACT_FORMAT:
                raise ValueError(f"неизвестный формат {doc.get('format')!r}")
            return cls(
                number=str(doc["number"]),
                school_id=str(doc["school"]["id"]),
                school_name=str(doc["school"]["name"]),
                as_of=str(doc["as_of"]),
                drafted_at=str(doc["drafted_at"]),
                drafted_by=str(doc["drafted_by"]),
                items=[ActItem.from_json(item) for item in doc["items"]],
                director_name=str((doc.get("director") or {}).get("name", "")),
                director_position=str((doc.get("director") or {}).get("position", "Директор")),
                approval=doc.get("approval"),
                notes=[str(n) for n in doc.get("notes", [])],
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{where}: не читается как акт archiver ({exc})") from exc

    @classmethod
    def from_pdf(cls, pdf: bytes, where: str) -> Act:
        """The act's data embedded in its PDF."""
        from pypdf import PdfReader

        attachments = PdfReader(io.BytesIO(pdf)).attachments
        found = attachments.get(ACT_ATTACHMENT)
        if not found:
            raise InputError(f"{where}: в документе нет вложения {ACT_ATTACHMENT}")
        return cls.loads(found[0], where)


def make_item(n: int, manifests: list[RecordManifest], policy: RetentionPolicy | None) -> ActItem:
    """The act's line for one series (``manifests``: its versions, oldest first)."""
    latest = manifests[-1]
    until = latest.retain_until_instant
    versions = len(manifests)
    basis = latest.legal_basis or "статья перечня не указана в политике хранения"
    years = latest.retention_years
    return ActItem(
        n=n,
        series=latest.record_id.rsplit("/", 1)[0],
        records={m.record_id: m.sha256 for m in manifests},
        kind=latest.kind,
        title=latest.title,
        academic_year=latest.academic_year,
        class_id=latest.class_id,
        retain_until=latest.retain_until,
        dates=f"{latest.academic_year} учебный год",
        inventory=f"номенклатура дел на {latest.closing_year} г.",
        index=(policy.case_index if policy is not None and policy.case_index else "—"),
        count=1,
        retention=f"{years} {plural_form(years, 'год', 'года', 'лет')}, {basis}",
        note=(
            f"электронный документ {latest.file_name}; версий в архиве: {versions}; "
            f"срок хранения истёк {ru_date(until.date())}"
        ),
    )


def render_act(act: Act, engines: Engines, created: datetime) -> bytes:
    """The act as PDF/A-3b with its data embedded (``disposal-act.json``)."""
    years = sorted({item.academic_year for item in act.items})
    approval = None
    if act.approval is not None:
        approval = {
            "protocol": act.approval["protocol"],
            "entered_by": act.approval["entered_by"],
            "entered_at": act.approval["entered_at"][:16].replace("T", " "),
        }
    context: dict[str, Any] = {
        "doc_title": f"Акт № {act.number} о выделении к уничтожению документов",
        "doc_subject": "Акт о выделении к уничтожению архивных документов, не подлежащих хранению",
        "running_head": f"{act.school_name} — акт № {act.number}",
        "school_name": act.school_name,
        "director_name": act.director_name,
        "director_position": act.director_position,
        "number": act.number,
        "draft": act.approval is None,
        "drafted": ru_date(datetime.fromisoformat(act.drafted_at).date()),
        "as_of": ru_date(date.fromisoformat(act.as_of)),
        "items": act.items,
        "total": len(act.items),
        "years": ", ".join(years) or "—",
        "approval": approval,
    }
    part, anchors = engines.html_with_anchors("disposal_act.html", context)
    mark = anchors.get("signature-mark")
    place = SignaturePlace(mark.page, mark.box) if mark is not None else None
    info = DocumentInfo(
        title=context["doc_title"],
        author=act.school_name,
        subject=context["doc_subject"],
        created=created,
        keywords=f"{ACT_KIND}; {act.number}; {act.as_of}",
    )
    attachment = Attachment(
        name=ACT_ATTACHMENT,
        data=act.dumps(),
        description="Перечень записей архива, выделенных к уничтожению (машиночитаемый)",
        relationship="Data",
    )
    return assemble([part], info, [attachment], place)
