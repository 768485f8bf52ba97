"""The inventory of the year's files (опись дел): one per school and academic year.

Made by the year-end run once every class's documents are rendered: a row per file
(дело) — the class journals (5 years) and the summary statements (25 years) — with
its number, its index (``DocumentsOptions.file_index``: the school's ``[documents]
nomenclature``, else the kind's retention policy's ``case_index``),
its title, its крайние даты (the first and the last lesson date), its number of
sheets and its retention period. It is signed like the other documents and stored as
its own record kind (``inventory``), kept as long as the longest record it lists.
The year-end report stays the technical log; the inventory is the archival document.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from archiver import __version__
from archiver.files import write_atomic
from archiver.kinds import (
    CLASS_JOURNAL,
    FINAL_MARKS,
    INVENTORY,
    document_paths,
    inventory_path,
    keeps_statement,
)
from archiver.model import JournalExport
from archiver.numbers import number_words, plural_form
from archiver.render import context as ctx
from archiver.render.bundle import DECISIONS_TITLE, ClassRenderer
from archiver.render.pdf import Attachment, DocumentInfo, SignaturePlace, assemble
from archiver.retention import RetentionPolicy, load_policy
from archiver.settings import DocumentsOptions
from archiver.sources.statement_v1 import lesson_span
from archiver.wording import ru_date

INVENTORY_FORMAT = "archiver-inventory/1"
TITLE = "Опись дел"


@dataclass(frozen=True, slots=True)
class InventoryItem:
    """One file (дело) of the year as the inventory lists it."""

    number: int
    kind: str
    class_id: str
    index: str
    title: str
    first: str
    last: str
    sheets: int
    retention: str
    retention_years: int
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (the inventory's embedded file)."""
        return {
            "number": self.number,
            "kind": self.kind,
            "class_id": self.class_id,
            "index": self.index,
            "title": self.title,
            "first_date": self.first,
            "last_date": self.last,
            "sheets": self.sheets,
            "retention": self.retention,
            "retention_years": self.retention_years,
            "note": self.note,
        }


def files_phrase(n: int) -> str:
    """«17 (семнадцать) дел», «1 (одно) дело», «21 (двадцать одно) дело»."""
    words = number_words(n).split()
    if words and words[-1] == "один":
        words[-1] = "одно"
    return f"{n} ({' '.join(words)}) {plural_form(n, 'дело', 'дела', 'дел')}"


def sheets_of(kind: str, path: Path) -> int:
    """A document's number of sheets: a bundle's certification sheet is not counted."""
    pages = len(PdfReader(path).pages)
    return pages - 1 if kind == CLASS_JOURNAL else pages


def inventory_items(
    renderer: ClassRenderer, documents: Sequence[tuple[str, str, Path]]
) -> list[InventoryItem]:
    """The inventory's rows for ``documents`` — ``(kind, class id, rendered file)`` — in order.

    Each file's index is :meth:`ClassRenderer.file_index` (the ``[documents] nomenclature``
    of the renderer's options, else the kind's policy's ``case_index``) and its retention
    the phrase the document itself prints (with the legal basis when set)."""
    export = renderer.export
    year = export.academic_year
    items = []
    for number, (kind, class_id, path) in enumerate(documents, start=1):
        school_class = export.classes_by_id[class_id]
        if kind == CLASS_JOURNAL:
            title = renderer.bundle_title(school_class)
        elif school_class.marks_recorded:
            title = f"Сводная ведомость итоговых отметок {ctx.class_title(school_class)}"
        else:
            title = f"{DECISIONS_TITLE} {ctx.class_title(school_class)}"
        span = lesson_span(school_class) or (year.start, year.end)
        policy: RetentionPolicy = renderer.policies[kind]
        items.append(
            InventoryItem(
                number=number,
                kind=kind,
                class_id=class_id,
                index=renderer.file_index(kind, school_class),
                title=f"{title}, {year.name} учебный год",
                first=ru_date(span[0]),
                last=ru_date(span[1]),
                sheets=sheets_of(kind, path),
                retention=renderer.retention(kind),
                retention_years=policy.years,
                note="без отметок"
                if kind == FINAL_MARKS and not school_class.marks_recorded
                else "",
            )
        )
    return items


def render_inventory(
    renderer: ClassRenderer,
    documents: Sequence[tuple[str, str, Path]],
    inventory_policy: RetentionPolicy,
) -> bytes:
    """The inventory as PDF/A-3b bytes, with an empty signature field for the director.

    Laid out by Typst (``templates/inventory.typ`` on ``_portrait.typ``): sheets numbered
    from 1, the running head on every sheet."""
    export = renderer.export
    items = inventory_items(renderer, documents)
    year = export.academic_year.name
    longest = max([inventory_policy.years, *(i.retention_years for i in items)])
    keep = ctx.retention_phrase(longest, inventory_policy.legal_basis)
    created = export.exported_at
    part, anchors = renderer.engines.typst_with_anchors(
        "inventory.typ",
        {
            "start": 1,
            "numbered": True,
            "doc_title": f"{TITLE} за {year} учебный год",
            "author": export.school.full_name,
            "date": [created.year, created.month, created.day],
            "running_head": f"{export.school.short_name}. {TITLE}, {year}",
            "school_full": export.school.full_name,
            "year_name": year,
            "items": [i.to_json() for i in items],
            "total_phrase": files_phrase(len(items)),
            "last_number": len(items),
            "retention": keep,
            "document_date": ru_date(created.date()),
            "director_position": export.school.director.position.capitalize(),
            "director_short": ctx.short_name(export.school.director.name),
        },
    )
    data = {
        "format": INVENTORY_FORMAT,
        "school": {"id": export.school.id, "full_name": export.school.full_name},
        "academic_year": year,
        "retention": keep,
        "items": [i.to_json() for i in items],
        "software": {"name": "archiver", "version": __version__},
    }
    mark = anchors.get("signature-mark")
    info = DocumentInfo(
        title=f"{TITLE} за {year} учебный год",
        author=export.school.full_name,
        subject=f"Дел: {len(items)}. Срок хранения: {keep}",
        created=export.exported_at,
        keywords=f"{INVENTORY}; {export.school.id}; {year}",
    )
    attachment = Attachment(
        name=f"inventory-{year.replace('/', '-')}.json",
        data=json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"),
        description=f"{TITLE} за {year} учебный год: данные описи",
        relationship="Data",
    )
    place = SignaturePlace(mark.page, mark.box) if mark is not None else None
    return assemble([part], info, [attachment], place)


def year_documents(export: JournalExport, out_dir: Path) -> list[tuple[str, str, Path]]:
    """The files the inventory lists, in class order: each class's bundle, then its statement."""
    found: list[tuple[str, str, Path]] = []
    for school_class in export.classes:
        paths = document_paths(out_dir, export, school_class.id)
        found.append((CLASS_JOURNAL, school_class.id, paths[CLASS_JOURNAL]))
        if keeps_statement(school_class):
            found.append((FINAL_MARKS, school_class.id, paths[FINAL_MARKS]))
    return found


def make_inventory(
    export: JournalExport, out_dir: Path, doc_options: DocumentsOptions | None = None
) -> bytes:
    """The inventory of the documents rendered into ``out_dir`` (all must be there)."""
    options = doc_options or DocumentsOptions()
    renderer = ClassRenderer(export, doc_options=options)
    policy = load_policy(INVENTORY, options.retention_policies)
    return render_inventory(renderer, year_documents(export, out_dir), policy)


def ensure_inventory(
    export: JournalExport, out_dir: Path, doc_options: DocumentsOptions | None = None
) -> tuple[Path | None, list[str]]:
    """The year's inventory in ``out_dir``, written once every class's documents are there.

    Returns its path (``None`` while it cannot be made) and the names of the classes whose
    documents are still missing.
    """
    path = inventory_path(out_dir, export)
    if path.is_file():
        return path, []
    files = year_documents(export, out_dir)
    missing = [export.classes_by_id[c].name for _, c, p in files if not p.is_file()]
    if missing:
        return None, list(dict.fromkeys(missing))
    write_atomic(path, make_inventory(export, out_dir, doc_options))
    return path, []
