"""Where a year-end run and each class stand, and the run's report.

The states a class goes through (rendered, waiting for the director, signed, stored in
one or both copies, verified), read from the archive first and from the run's folder
after it; :class:`YearEndReport` is the outcome of one run, as text and JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.archive.holdings import YearHoldings, same_data
from archiver.archive.store import RecordResult
from archiver.kinds import (
    CLASS_JOURNAL,
    FINAL_MARKS,
    INVENTORY,
    document_paths,
    keeps_statement,
    year_folder,
)
from archiver.model import JournalExport
from archiver.signing.review import read_request
from archiver.signing.sign import is_signed
from archiver.sources.export_v1.slice import document_data_sha256
from archiver.wording import local_time, program

STAGES = ("validate", "render", "sign", "store", "verify")
STAGE_NAMES = {
    "validate": "Проверка выгрузки",
    "render": "Вёрстка",
    "sign": "Подпись",
    "store": "Сохранение в архив",
    "verify": "Проверка архива",
}
RUN_FILE = "run.json"
REPORT_TEXT = "year-end-report.txt"
REPORT_JSON = "year-end-report.json"

# where a class stands, in order
NOT_RENDERED = "not_rendered"
RENDERED = "rendered"
WAITING = "waiting_for_signature"
SIGNED = "signed"
STORED_ONE = "stored_one"
STORED_BOTH = "stored_both"
VERIFIED = "verified"
STATE_TEXT = {
    NOT_RENDERED: "не сверстан",
    RENDERED: "сверстан, не подписан",
    WAITING: "ждёт подписи директора",
    SIGNED: "подписан, не сохранён в архив",
    STORED_ONE: "сохранён только в одной копии",
    STORED_BOTH: "сохранён в двух копиях",
    VERIFIED: "сохранён в двух копиях и проверен",
}
INVENTORY_TEXT = {
    NOT_RENDERED: "не составлена (year-end составит её, когда сверстаны все классы)",
    RENDERED: "составлена, не подписана",
    WAITING: "ждёт подписи директора",
    SIGNED: "подписана, не сохранена в архив",
    STORED_ONE: "сохранена только в одной копии",
    STORED_BOTH: "сохранена в двух копиях",
    VERIFIED: "сохранена в двух копиях и проверена",
}
"""Where the year's inventory of files (опись дел, feminine in Russian) stands."""
UNCHANGED_TEXT = "в архиве в двух копиях, без изменений"
"""A class the run left alone: its documents for this data are archived already."""
OUTDATED_TEXT = "в архиве прежняя версия, выгрузка изменена"
"""A class whose archived documents were made from other data than the export's."""


@dataclass(slots=True)
class DocumentStanding:
    """One document of the run."""

    kind: str
    class_id: str
    path: Path
    pages: int = 0
    signed: bool = False
    level: str | None = None
    signature_ok: bool | None = None
    verdict: str | None = None


@dataclass(slots=True)
class ClassStanding:
    """Where one class stands."""

    class_id: str
    name: str
    state: str
    documents: list[DocumentStanding] = field(default_factory=list)
    unchanged: bool = False
    """The run left the class alone: its documents for this data were archived already."""
    outdated: bool = False
    """The archive holds documents of the class made from other data (a correction is due)."""
    record_ids: list[str] = field(default_factory=list)
    """The latest archived record of each of its documents (when the archive was asked)."""

    @property
    def text(self) -> str:
        """Where it stands, in words."""
        if self.unchanged:
            return UNCHANGED_TEXT
        if self.outdated and self.state in (NOT_RENDERED, RENDERED, SIGNED):
            return f"{OUTDATED_TEXT}; новая: {STATE_TEXT[self.state]}"
        return STATE_TEXT[self.state]


@dataclass(slots=True)
class YearEndReport:
    """The outcome of a run: what was done, how long it took, what is wrong."""

    school: str
    academic_year: str
    source: str
    export_sha256: str
    work_dir: Path
    started: str
    classes: list[ClassStanding] = field(default_factory=list)
    records: list[RecordResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rendered_now: int = 0
    signed_now: int = 0
    level: str | None = None
    zone: Any = None
    """The school's time zone (``[storage] timezone``) for the times in the text."""
    waiting: int = 0
    """Documents waiting for the director's signature (the run stopped before storing)."""
    inventory: str | None = None
    """Where the year's inventory of files (опись дел) stands (a class's states), once made."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def documents(self) -> list[DocumentStanding]:
        return [d for c in self.classes for d in c.documents]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``year-end-report.json``, ``archiver year-end --json``)."""
        return {
            "ok": self.ok,
            "school": self.school,
            "academic_year": self.academic_year,
            "source": self.source,
            "export_sha256": self.export_sha256,
            "work_dir": str(self.work_dir),
            "started": self.started,
            "signature_level": self.level,
            "classes": [
                {
                    "class_id": c.class_id,
                    "name": c.name,
                    "state": c.state,
                    "unchanged": c.unchanged,
                    "documents": [
                        {
                            "kind": d.kind,
                            "path": str(d.path),
                            "pages": d.pages,
                            "signed": d.signed,
                            "level": d.level,
                            "signature_ok": d.signature_ok,
                            "signature_verdict": d.verdict,
                        }
                        for d in c.documents
                    ],
                }
                for c in self.classes
            ],
            "inventory": self.inventory,
            "records": [r.to_json() for r in self.records],
            "warnings": self.warnings,
            "problems": self.problems,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "rendered_now": self.rendered_now,
            "signed_now": self.signed_now,
            "waiting_for_signature": self.waiting,
        }

    def to_text(self) -> str:
        """The Russian report for the administrator."""
        docs = self.documents
        pages = sum(d.pages for d in docs)
        done = sum(1 for c in self.classes if c.state == VERIFIED)
        unchanged = sum(1 for c in self.classes if c.unchanged)
        lines = [
            f"Итоги архивирования за {self.academic_year} учебный год",
            f"Школа: {self.school}",
            f"Выгрузка: {self.source} (sha256 {self.export_sha256[:16]}…)",
            f"Начато: {local_time(self.started, self.zone)}",
            "",
            f"Классов и групп: {len(self.classes)}, полностью в архиве и проверено: {done}"
            + (f", в архиве без изменений: {unchanged}" if unchanged else ""),
            f"Документов: {len(docs)} (сверстано сейчас: {self.rendered_now}), страниц: {pages}",
            f"Подписано сейчас: {self.signed_now}; уровень подписи: PAdES {self.level or '—'}",
        ]
        copies = sum(len(r.copies) for r in self.records)
        statuses = [r.status for r in self.records]
        lines.append(
            f"Записей в архиве: {len(self.records)} (новых {statuses.count('stored')}, "
            f"без изменений {statuses.count('unchanged')}, дописано после прерывания "
            f"{statuses.count('completed')}), копий: {copies}"
        )
        until: dict[str, set[str]] = {}
        for record in self.records:
            until.setdefault(record.kind, set()).add(record.retain_until[:10])
        kinds = {
            CLASS_JOURNAL: "журналы",
            FINAL_MARKS: "сводные ведомости",
            "journal_export": "выгрузка",
            INVENTORY: "опись дел",
        }
        for kind, dates in until.items():
            lines.append(f"  хранить до: {kinds.get(kind, kind)} — {', '.join(sorted(dates))}")
        lines.append("")
        lines.append("Классы:")
        for c in self.classes:
            sheets = sum(d.pages for d in c.documents)
            if c.unchanged:
                lines.append(f"  {c.name}: {c.text}")
                continue
            lines.append(f"  {c.name}: {c.text} (документов {len(c.documents)}, страниц {sheets})")
        lines.append(f"  Опись дел: {INVENTORY_TEXT[self.inventory or NOT_RENDERED]}")
        if self.warnings:
            lines.append("")
            lines.append(f"Предупреждения ({len(self.warnings)}):")
            lines.extend(f"  {w}" for w in self.warnings)
        if self.problems:
            lines.append("")
            lines.append(f"ОШИБКИ ({len(self.problems)}):")
            lines.extend(f"  {p}" for p in self.problems)
        lines.append("")
        lines.append("Время по этапам:")
        for stage in STAGES:
            if stage in self.timings:
                lines.append(f"  {STAGE_NAMES[stage]}: {self.timings[stage]:.1f} с")
        lines.append(f"  Всего: {sum(self.timings.values()):.1f} с")
        lines.append("")
        if self.waiting:
            lines += [
                f"Итог: ждёт подписи директора (документов: {self.waiting}). Директор смотрит "
                f"документы и подписывает их командой «{program()} sign --review»; затем "
                f"запустите «{program()} year-end» снова: документы будут сохранены в архив и "
                "проверены.",
            ]
            return "\n".join(lines) + "\n"
        lines.append(
            "Итог: " + ("всё сделано и проверено." if self.ok else "есть ошибки, см. выше.")
        )
        return "\n".join(lines) + "\n"


def work_folder(working_dir: Path, export: JournalExport) -> Path:
    """The run's folder for the export's academic year."""
    return working_dir / "year-end" / year_folder(export)


def documents_root(work_dir: Path) -> Path:
    """The folder the documents are rendered into (they land in ``<year>/<class>/`` below it)."""
    return work_dir.parent


def expected_documents(
    export: JournalExport, out_dir: Path, class_id: str
) -> list[tuple[str, Path]]:
    """The documents a class must have: the journal bundle, and the summary statement if marked."""
    paths = document_paths(out_dir, export, class_id)
    kinds = [CLASS_JOURNAL]
    if keeps_statement(export.classes_by_id[class_id]):
        kinds.append(FINAL_MARKS)
    return [(kind, paths[kind]) for kind in kinds]


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def class_standings(
    export: JournalExport,
    work_dir: Path,
    class_ids: Sequence[str],
    holdings: YearHoldings | None,
    verified: set[str] | None = None,
    export_sha: str = "",
    *,
    pages: bool = True,
) -> list[ClassStanding]:
    """Where each class stands: from the archive first, else from the documents on disk.

    A class whose every document is archived, made from the export's data, is stored in
    the locations that hold it complete whatever the working folder ``work_dir`` holds;
    ``holdings`` ``None``: the archive was not asked. ``verified``: the classes to show
    as verified when stored in both copies. ``pages``: count the pages of the documents
    on disk (and see whether they are signed) even for classes the archive holds.
    """
    states = []
    for class_id in class_ids:
        school_class = export.classes_by_id[class_id]
        docs = [
            DocumentStanding(kind, class_id, path)
            for kind, path in expected_documents(export, work_dir, class_id)
        ]
        held = [holdings.latest(class_id, d.kind) if holdings else None for d in docs]
        current = [
            same_data(h, document_data_sha256(export, class_id, d.kind), export_sha)
            for h, d in zip(held, docs, strict=True)
        ]
        state = NOT_RENDERED
        archived = holdings is not None and all(current)
        if (pages or not archived) and all(d.path.is_file() for d in docs):
            state = RENDERED
            for doc in docs:
                doc.signed = is_signed(doc.path.read_bytes())
                doc.pages = _pages(doc.path)
            if not all(d.signed for d in docs) and _requested(work_dir, export, docs):
                state = WAITING
            if all(d.signed for d in docs):
                state = SIGNED
        if holdings is not None and archived:
            complete = [h for h in held if h is not None]
            if all(holdings.in_all(h) for h in complete):
                state = STORED_BOTH
                if verified is not None and class_id in verified:
                    state = VERIFIED
            else:
                state = STORED_ONE
        standing = ClassStanding(class_id, school_class.name, state, docs)
        standing.outdated = any(h is not None for h in held) and not all(current)
        standing.record_ids = [h.record_id for h in held if h is not None]
        states.append(standing)
    return states


def _requested(out_dir: Path, export: JournalExport, docs: list[DocumentStanding]) -> bool:
    """Whether the unsigned documents of a class are in the batch waiting for the director."""
    batch = read_request(out_dir / year_folder(export))
    listed = {Path(d.path) for d in batch.documents} if batch is not None else set()
    return any(d.path.resolve() in listed for d in docs if not d.signed)
