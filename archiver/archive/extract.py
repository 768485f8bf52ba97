"""A one-page extract of one student's final marks across every archived year.

«Выписка из сводной ведомости итоговых отметок»: what a school issues when a former
pupil asks, years later, for their marks. It is built from archived journal data, each
record read with its sha256 checked against the record's manifest: the year's export
(a ``journal_export`` record) while it is kept (5 years), afterwards the data embedded in
the class's summary statement (kept 25 years: of final marks, or of the council's decisions
for a class without marks; see :func:`archiver.archive.retrieve.journal_data`). A pupil who
left mid-year gets every period mark they got and a line saying when they left and where to. Never from the local catalog, which only
says which records to read.

The document is a PDF/A-3b page laid out by WeasyPrint from ``templates/extract.html``
(the common ``base.css``), assembled by :mod:`archiver.render.pdf` with the data it
shows embedded as an associated JSON file, and an empty signature field where the
director's visible signature mark goes; :mod:`archiver.signing.sign` signs it when a signer is
configured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from archiver import __version__
from archiver.archive.retrieve import fetch_record, journal_data
from archiver.errors import ArchiverError, ExitCode
from archiver.kinds import CLASS_JOURNAL, EXTRACT_KIND, FINAL_MARKS, JOURNAL_EXPORT
from archiver.model import ClassKind, JournalExport, School
from archiver.render.bundle import page_count
from archiver.render.context import short_name
from archiver.render.engines import Engines
from archiver.render.pdf import Attachment, DocumentInfo, SignaturePlace, assemble
from archiver.sources.statement_v1 import assessed, printed_periods
from archiver.storage.locations import Locations
from archiver.wording import ru_date

EXTRACT_FORMAT = "archiver-student-extract/1"
TITLE = "Выписка из сводной ведомости итоговых отметок"
LAYOUTS = ("normal", "compact", "tight")
"""Tried in turn until the extract fits one page."""
SOURCE_TEXT = {
    JOURNAL_EXPORT: "выгрузка",
    FINAL_MARKS: "сводная ведомость итоговых отметок (вложенные в неё данные)",
    CLASS_JOURNAL: "распечатка журнала (вложенные в неё данные)",
}
"""How the extract names the record its data was read from."""
DECISIONS_SOURCE_TEXT = "сводная ведомость решений педагогического совета (вложенные в неё данные)"
"""A class without marks: its statement is of the council's decisions."""


class ExtractError(ArchiverError):
    """The extract cannot be made from the archive."""

    exit_code = ExitCode.PROBLEMS_FOUND


@dataclass(frozen=True, slots=True)
class YearColumn:
    """One class of one academic year the student was in."""

    academic_year: str
    class_id: str
    class_name: str
    grade: int
    marks_recorded: bool
    marks: dict[str, tuple[str | None, str | None]]
    """Subject name → (year mark, exam mark)."""
    periods: dict[str, list[tuple[str, str]]]
    """Subject name → the period marks the student got: (period name, mark), in period order."""
    decision: str
    protocol: str
    left: str
    data_record_id: str
    data_sha256: str
    data_kind: str
    """The record the column was read from and its kind (see :data:`SOURCE_TEXT`)."""
    final_marks_record: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (the embedded file)."""
        return {
            "academic_year": self.academic_year,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "grade": self.grade,
            "marks_recorded": self.marks_recorded,
            "marks": [
                {
                    "subject": subject,
                    "year": year,
                    "exam": exam,
                    "periods": [
                        {"period": period, "value": value}
                        for period, value in self.periods.get(subject, [])
                    ],
                }
                for subject, (year, exam) in self.marks.items()
            ],
            "decision": self.decision,
            "protocol": self.protocol,
            "left": self.left,
            "sources": {
                "data": {
                    "record_id": self.data_record_id,
                    "kind": self.data_kind,
                    "sha256": self.data_sha256,
                },
                "final_marks": self.final_marks_record,
            },
        }


@dataclass(slots=True)
class ExtractData:
    """Everything the extract shows, read from the archived exports."""

    school: School
    school_id: str
    student_id: str
    full_name: str
    birth_date: date | None
    columns: list[YearColumn] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    """Every record read: ``{"record_id", "kind", "sha256", "location"}``."""
    notes: list[str] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        """Subject names in order of first appearance over the years."""
        seen: dict[str, None] = {}
        for column in self.columns:
            for subject in column.marks:
                seen.setdefault(subject, None)
        return list(seen)

    @property
    def years(self) -> list[str]:
        """The academic years covered, oldest first."""
        return sorted({c.academic_year for c in self.columns})

    def to_json(self) -> dict[str, Any]:
        """The embedded data file of the extract."""
        return {
            "format": EXTRACT_FORMAT,
            "school": {
                "id": self.school_id,
                "full_name": self.school.full_name,
                "address": self.school.address,
            },
            "student": {
                "id": self.student_id,
                "full_name": self.full_name,
                "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            },
            "years": [c.to_json() for c in self.columns],
            "sources": self.sources,
            "software": {"name": "archiver", "version": __version__},
        }


PREPOSITIONS = ("в ", "во ", "на ", "к ", "из ")


def leaving_text(left: date, reason: str | None) -> str:
    """«выбыл(а) 12.02.2026 в МАОУ «СОШ № 3», приказ № 45»: the verb once, the reason as given."""
    text = f"выбыл(а) {ru_date(left)}"
    rest = (reason or "").strip()
    verb, _, after = rest.partition(" ")
    if verb.lower().startswith("выбыл"):
        rest = after.strip()
    if not rest:
        return text
    return f"{text} {rest}" if rest.lower().startswith(PREPOSITIONS) else f"{text}: {rest}"


def _column(
    export: JournalExport,
    class_id: str,
    student_id: str,
    data_record_id: str,
    data_sha256: str,
    data_kind: str,
    final_marks_record: str | None,
) -> YearColumn:
    school_class = export.classes_by_id[class_id]
    student = school_class.students_by_id[student_id]
    subjects = {s.id: s.name for s in export.subjects}
    marks: dict[str, tuple[str | None, str | None]] = {}
    periods: dict[str, list[tuple[str, str]]] = {}
    printed = printed_periods(export, school_class)  # as the summary statement prints them
    if school_class.marks_recorded:
        for course in school_class.courses:
            if not assessed(course):
                continue  # taught but not assessed (speech therapy, rhythm)
            year = next((m.value for m in course.year_marks if m.student == student_id), None)
            exam = next((m.value for m in course.exam_marks if m.student == student_id), None)
            got = {m.period: m.value for m in course.period_marks if m.student == student_id}
            name = subjects.get(course.subject, course.subject)
            if name not in marks or year is not None or exam is not None:
                marks[name] = (year, exam)
            if got:
                periods[name] = [(p.name, got[p.id]) for p in printed if p.id in got]
    promotion = next((p for p in school_class.promotion if p.student == student_id), None)
    left = ""
    if student.left is not None:
        left = leaving_text(student.left, student.left_reason)
    return YearColumn(
        academic_year=export.academic_year.name,
        class_id=school_class.id,
        class_name=school_class.name,
        grade=school_class.grade,
        marks_recorded=school_class.marks_recorded,
        marks=marks,
        periods=periods,
        decision=promotion.decision if promotion else "",
        protocol=(promotion.protocol or "") if promotion else "",
        left=left,
        data_record_id=data_record_id,
        data_sha256=data_sha256,
        data_kind=data_kind,
        final_marks_record=final_marks_record,
    )


def gather(
    locations: Locations,
    school_id: str,
    student_id: str,
    data_records: list[str],
    final_marks_records: dict[tuple[str, str], str] | None = None,
) -> ExtractData:
    """Read the journal data (hash-checked) and collect the student's classes, marks and decisions.

    ``data_records`` are the records to read: exports, or class documents whose
    embedded data stands in for an export no longer archived (one record per year or
    per class, never both for one class); ``final_marks_records`` maps (academic year,
    class id) to the archived summary statement, named on the extract.
    """
    statements = final_marks_records or {}
    data: ExtractData | None = None
    for rid in data_records:
        fetched = fetch_record(locations, rid)
        export = journal_data(fetched)
        manifest = fetched.manifest
        classes = [
            c
            for c in export.classes
            if c.kind is ClassKind.CLASS
            and student_id in c.students_by_id
            and (manifest.kind == JOURNAL_EXPORT or c.id == manifest.class_id)
        ]
        if not classes:
            continue
        student = classes[-1].students_by_id[student_id]
        if data is None:
            data = ExtractData(
                school=export.school,
                school_id=school_id,
                student_id=student_id,
                full_name=student.full_name,
                birth_date=student.birth_date,
            )
        else:  # the latest year's school details and name
            data.school = export.school
            data.full_name = student.full_name
            data.birth_date = student.birth_date or data.birth_date
        data.notes.extend(n for n in fetched.notes if n not in data.notes)
        data.sources.append(
            {
                "record_id": rid,
                "kind": manifest.kind,
                "sha256": manifest.sha256,
                "location": fetched.location.name,
            }
        )
        for school_class in classes:
            data.columns.append(
                _column(
                    export,
                    school_class.id,
                    student_id,
                    rid,
                    manifest.sha256,
                    manifest.kind,
                    statements.get((export.academic_year.name, school_class.id)),
                )
            )
    if data is None:
        raise ExtractError(
            f"обучающийся {student_id} не найден ни в одном классе архивных выгрузок "
            "(кружки и группы внеурочной деятельности в выписку не входят)"
        )
    data.columns.sort(key=lambda c: (c.academic_year, c.grade))
    return data


@dataclass(frozen=True, slots=True)
class RenderedExtract:
    """The unsigned extract and how it came out."""

    pdf: bytes
    pages: int


def template_context(
    data: ExtractData, issued: datetime, signer_name: str | None, signer_position: str
) -> dict[str, Any]:
    """What ``templates/extract.html`` prints."""
    marked = [c for c in data.columns if c.marks_recorded]
    rows: list[dict[str, Any]] = []
    has_exams = has_periods = False
    for subject in data.subjects:
        cells: list[dict[str, str | None]] = []
        for column in marked:
            year, exam = column.marks.get(subject, (None, None))
            got = [value for _, value in column.periods.get(subject, [])]
            cells.append(
                {
                    "year": year or ("" if got else "—"),
                    "exam": exam,
                    "periods": " · ".join(got),
                }
            )
            has_exams = has_exams or exam is not None
            has_periods = has_periods or bool(got)
        rows.append({"subject": subject, "cells": cells})
    decisions = [
        {
            "year": c.academic_year,
            "class_name": c.class_name,
            "decision": c.decision or ("—" if not c.left else ""),
            "left": c.left,
            "protocol": c.protocol,
            "unmarked": not c.marks_recorded,
        }
        for c in data.columns
    ]
    read = {source["record_id"] for source in data.sources}
    statements = [
        c.final_marks_record
        for c in data.columns
        if c.final_marks_record and c.final_marks_record not in read
    ]
    unmarked = {  # statements of decisions (a class without marks) read for the extract
        c.data_record_id
        for c in data.columns
        if c.data_kind == FINAL_MARKS and not c.marks_recorded
    }
    years = data.years
    period = years[0] if len(years) == 1 else f"{years[0]} – {years[-1]}"
    return {
        "doc_title": f"{TITLE}: {data.full_name}",
        "doc_subject": f"Итоговые отметки за {period} учебн. г.",
        "created": issued.isoformat(timespec="seconds"),
        "numbered": False,
        "first_sheet": 1,
        "running_head": "",
        "school": data.school,
        "student_name": data.full_name,
        "birth_date": ru_date(data.birth_date) if data.birth_date else "не указана",
        "period": period,
        "columns": [
            {
                "year": c.academic_year.replace("/", "/\u200b"),
                "class_name": c.class_name,
            }
            for c in marked
        ],
        "rows": rows,
        "has_exams": has_exams,
        "has_periods": has_periods,
        "leaving": [
            f"{c.left} (из {c.class_name} класса, {c.academic_year} учебный год)"
            for c in data.columns
            if c.left
        ],
        "has_gaps": any(cell["year"] == "—" for row in rows for cell in row["cells"]),
        "decisions": decisions,
        "has_unmarked": any(not c.marks_recorded for c in data.columns),
        "sources": [
            {**source, "text": SOURCE_TEXT.get(source["kind"], source["kind"])}
            if source["record_id"] not in unmarked
            else {**source, "text": DECISIONS_SOURCE_TEXT}
            for source in data.sources
        ],
        "statements": statements,
        "issued": ru_date(issued.date()),
        "signer_position": signer_position,
        "signer_short": short_name(signer_name) if signer_name else "",
    }


def render_extract(
    data: ExtractData,
    *,
    issued: datetime,
    signer_name: str | None = None,
    signer_position: str = "Директор",
    engines: Engines | None = None,
) -> RenderedExtract:
    """The extract as PDF/A-3b bytes, laid out as compactly as needed to fit one page."""
    engines = engines or Engines()
    context = template_context(data, issued, signer_name, signer_position)
    for layout in LAYOUTS:
        part, anchors = engines.html_with_anchors("extract.html", {**context, "layout": layout})
        pages = page_count(part)
        if pages == 1:
            break
    mark = anchors.get("signature-mark")
    place = SignaturePlace(mark.page, mark.box) if mark is not None else None
    info = DocumentInfo(
        title=context["doc_title"],
        author=data.school.full_name,
        subject=context["doc_subject"],
        created=issued,
        keywords=f"{EXTRACT_KIND}; {data.student_id}; {', '.join(data.years)}",
    )
    attachment = Attachment(
        name=f"extract-{data.student_id}.json",
        data=json.dumps(data.to_json(), ensure_ascii=False, indent=1).encode("utf-8"),
        description=f"{TITLE}: данные, по которым составлена выписка (из архивных записей)",
        relationship="Data",
    )
    pdf = assemble([part], info, [attachment], place)
    return RenderedExtract(pdf, pages)


__all__ = [
    "EXTRACT_FORMAT",
    "EXTRACT_KIND",
    "SOURCE_TEXT",
    "TITLE",
    "ExtractData",
    "ExtractError",
    "RenderedExtract",
    "YearColumn",
    "gather",
    "render_extract",
    "template_context",
]
