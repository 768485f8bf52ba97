"""The documents of one class: the journal bundle and the summary statement of final marks.

A bundle is laid out section by section, every section by Typst from its own
template. Each section starts at a known sheet number, so the numbers run 1..N
without gaps across the parts; the title sheet (sheet 1) is rendered last, when
every section's range and the total N are known; the certification sheet
follows, unnumbered and not counted (archival rule), so the file has N + 1 pages.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from archiver.files import write_atomic
from archiver.kinds import (
    CLASS_JOURNAL,
    FINAL_MARKS,
    document_paths,
    export_attachment_name,
    keeps_statement,
)
from archiver.model import ClassKind, JournalExport, SchoolClass
from archiver.numbers import sheets_phrase
from archiver.render import context as ctx
from archiver.render.engines import Anchor, Engines
from archiver.render.pdf import (
    TITLE_SIGNATURE_BOX,
    Attachment,
    DocumentInfo,
    SignaturePlace,
    assemble,
)
from archiver.retention import RetentionPolicy, load_policy
from archiver.settings import DocumentsOptions
from archiver.sources.export_v1 import class_slice
from archiver.sources.statement_v1 import statement_attachment_name, statement_bytes
from archiver.wording import ru_date


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    """One PDF written by :func:`render_class`."""

    kind: str
    class_id: str
    path: Path
    pages: int
    sheets: int
    sections: tuple[tuple[str, int, int], ...] = ()
    """The numbered sections: (title, first sheet, last sheet); sheet 1 is the title sheet."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "class_id": self.class_id,
            "path": str(self.path),
            "pages": self.pages,
            "sheets": self.sheets,
        }


@dataclass(frozen=True, slots=True)
class ContentsItem:
    """A line of the title sheet's contents: a section and its sheet range."""

    title: str
    first: int
    last: int
    """The first and the last sheet; 0 for the unnumbered certification sheet."""


def page_count(pdf: bytes) -> int:
    """Number of pages of a PDF given as bytes."""
    import io

    return len(PdfReader(io.BytesIO(pdf)).pages)


class ClassRenderer:
    """Renders the documents of the classes of one export, reusing the engines."""

    def __init__(
        self,
        export: JournalExport,
        engines: Engines | None = None,
        policies: dict[str, RetentionPolicy] | None = None,
        doc_options: DocumentsOptions | None = None,
    ) -> None:
        folders = doc_options or DocumentsOptions()  # a school's own templates and policies
        self.export = export
        self.engines = engines or Engines(folders.templates)
        self.policies = policies or {
            k: load_policy(k, folders.retention_policies) for k in (CLASS_JOURNAL, FINAL_MARKS)
        }
        self.names = ctx.Names(export)
        self._title_pages: dict[int, int] = {}
        """Sheets of the title sheets laid out so far, by their number of contents lines."""
        self.doc_options = folders
        director = export.school.director
        self.common: dict[str, Any] = {
            "school": export.school,
            "director": director,
            "director_short": ctx.short_name(director.name),
            "year_name": export.academic_year.name,
            "created": export.exported_at.isoformat(),
        }

    # -- sections

    def _sheet(
        self,
        template: str,
        school_class: SchoolClass,
        first_sheet: int | None,
        doc_title: str,
        *,
        anchors: tuple[str, ...] = (),
        **extra: Any,
    ) -> tuple[bytes, dict[str, Anchor]]:
        """A portrait sheet laid out by Typst from ``template`` (``templates/_portrait.typ``):
        numbered from ``first_sheet``, or unnumbered for None; where the boxes ``anchors`` landed."""
        school = self.export.school
        created = self.export.exported_at
        heading = _class_heading(school_class)
        year = self.export.academic_year.name
        data = {
            "start": first_sheet or 1,
            "numbered": first_sheet is not None,
            "doc_title": doc_title,
            "author": school.full_name,
            "date": [created.year, created.month, created.day],
            "running_head": f"{school.short_name}. {heading}, {year}",
            "class_heading": heading,
            "year_name": year,
            "school_full": school.full_name,
            "director_position": school.director.position.capitalize(),
            "director_short": ctx.short_name(school.director.name),
            "director_name": school.director.name,
            **extra,
        }
        return self.engines.typst_with_anchors(template, data, anchors)

    def _course(
        self, school_class: SchoolClass, index: int, first_sheet: int, *, title: str
    ) -> bytes:
        course = school_class.courses[index]
        data = ctx.course_pages(self.export, school_class, course)
        created = self.export.exported_at
        heading = _class_heading(school_class)
        if data["subject"] and str(data["subject"]).casefold() in heading.casefold():
            data["subject"] = ""  # a club named after its subject: the name once
        data.update(
            start=first_sheet,
            class_heading=heading,
            running_head=f"{self.export.school.short_name}. {self.export.academic_year.name}",
            doc_title=title,
            teacher_label="Учитель" if school_class.kind is ClassKind.CLASS else "Руководитель",
            author=self.export.school.full_name,
            date=[created.year, created.month, created.day],
        )
        return self.engines.typst("course.typ", data)

    # -- documents

    def bundle_title(self, school_class: SchoolClass) -> str:
        if school_class.kind is ClassKind.CLASS:
            return f"Журнал учёта успеваемости обучающихся {ctx.class_title(school_class)}"
        kind = "кружка" if school_class.kind is ClassKind.CLUB else "группы внеурочной деятельности"
        return f"Журнал учёта посещаемости {kind} {ctx.class_title(school_class)}"

    def _sections(
        self, school_class: SchoolClass, doc_title: str
    ) -> list[tuple[str, Callable[[int], bytes]]]:
        """The bundle's numbered sections after the title sheet: (contents line, renderer by first sheet)."""
        export = self.export
        plan: list[tuple[str, Callable[[int], bytes]]] = [
            (
                "Список обучающихся",
                lambda first: self._sheet(
                    "class_list.typ",
                    school_class,
                    first,
                    doc_title,
                    students=_class_list(school_class, export),
                    home_class=school_class.kind is not ClassKind.CLASS,
                )[0],
            )
        ]
        for i, course in enumerate(school_class.courses):
            line = f"{self.names.subject(course.subject)} ({ctx.surname_initials(self.names.staff(course.teacher))})"
            plan.append((line, functools.partial(self._course, school_class, i, title=doc_title)))
        plan.append(
            (
                "Сводные данные о посещаемости",
                lambda first: self._typst_section(
                    "attendance.typ",
                    school_class,
                    first,
                    doc_title,
                    summary=ctx.attendance_summary(export, school_class),
                ),
            )
        )
        if keeps_statement(school_class) and not school_class.marks_recorded:
            plan.append(
                (
                    f"{DECISIONS_TITLE} (копия)",
                    lambda first: self._decisions(school_class, first, copy=True)[0],
                )
            )
        if school_class.marks_recorded:
            plan.append(
                (
                    "Сводная ведомость итоговых отметок (копия)",
                    lambda first: self._statement(school_class, first, copy=True)[0],
                )
            )
        return plan

    def render_bundle(self, school_class: SchoolClass) -> tuple[bytes, int]:
        """The journal bundle as PDF bytes, and N (its number of numbered sheets)."""
        pdf, total, _ = self.render_bundle_sections(school_class)
        return pdf, total

    def render_bundle_sections(
        self, school_class: SchoolClass
    ) -> tuple[bytes, int, tuple[tuple[str, int, int], ...]]:
        """The journal bundle, N, and its sections with their sheet ranges (the title sheet first)."""
        title = self.bundle_title(school_class)
        doc_title = f"{title}, {self.export.academic_year.name} учебный год"
        exported = self.export.exported_at
        offset = exported.strftime("%z")
        plan = self._sections(school_class, doc_title)

        def title_sheet(
            contents: list[ContentsItem], total: int
        ) -> tuple[bytes, dict[str, Anchor]]:
            return self._sheet(
                "title.typ",
                school_class,
                1,
                doc_title,
                anchors=("signature-mark",),
                heading=title,
                teacher_label=(
                    "Классный руководитель"
                    if school_class.kind is ClassKind.CLASS
                    else "Руководитель"
                ),
                class_teacher=self.names.staff(school_class.class_teacher),
                source_system=self.export.source_system,
                exported_at=f"{ru_date(exported.date())} {exported.strftime('%H:%M')} (UTC{offset[:3]}:{offset[3:]})",
                retention=self._retention(CLASS_JOURNAL),
                file_index=self.file_index(CLASS_JOURNAL, school_class),
                dates=[ru_date(d) for d in ctx.lesson_dates(school_class) or ()],
                contents=[
                    {"title": c.title, "first": c.first, "last": c.last}
                    for c in (*contents, ContentsItem("Лист-заверитель", 0, 0))
                ],
                total_sheets=total,
            )

        # the sections' sheet numbers follow the title sheet: learn its length first (from a
        # title sheet of as many contents lines before, else from one with stand-in numbers:
        # the numbers' column has a fixed width), so that the sections are laid out once,
        # not again after a long contents list; a wrong guess costs time, never the result
        title_pages = self._title_pages.get(len(plan), 0)
        if not title_pages:
            stand_in = [ContentsItem(line, 99, 99) for line, _ in plan]
            title_pages = page_count(title_sheet(stand_in, 99)[0])
        while True:
            parts: list[bytes] = []
            contents: list[ContentsItem] = []
            sheet = title_pages + 1
            for line, render in plan:
                part = render(sheet)
                pages = page_count(part)
                parts.append(part)
                contents.append(ContentsItem(line, sheet, sheet + pages - 1))
                sheet += pages
            total = sheet - 1
            title_part, title_anchors = title_sheet(contents, total)
            if page_count(title_part) == title_pages:
                break
            title_pages = page_count(title_part)  # the guess was wrong: lay out again
        self._title_pages[len(plan)] = title_pages
        certification, _ = self._sheet(
            "certification.typ",
            school_class,
            None,
            doc_title,
            heading=title,
            sheets_phrase=sheets_phrase(total),
            file_index=self.file_index(CLASS_JOURNAL, school_class),
        )
        info = DocumentInfo(
            title=doc_title,
            author=self.export.school.full_name,
            subject=f"Распечатка электронного журнала ({self.export.source_system}); всего листов: {total}",
            created=self.export.exported_at,
            keywords=f"{CLASS_JOURNAL}; {school_class.id}; {self.export.academic_year.name}",
        )
        pdf = assemble(
            [title_part, *parts, certification],
            info,
            [self._attachment(school_class)],
            _signature_place(title_anchors),
        )
        sections = (
            ("Титульный лист", 1, title_pages),
            *((c.title, c.first, c.last) for c in contents),
        )
        return pdf, total, sections

    def render_final_marks(self, school_class: SchoolClass) -> tuple[bytes, int]:
        """The summary statement of final marks as PDF bytes, and its number of sheets."""
        part, anchors = self._statement(school_class, 1, copy=False)
        return self._statement_pdf(
            school_class,
            part,
            anchors,
            "Сводная ведомость итоговых отметок",
            f"Срок хранения: {self._retention(FINAL_MARKS)}",
        )

    def _statement_pdf(
        self,
        school_class: SchoolClass,
        part: bytes,
        anchors: dict[str, Anchor],
        heading: str,
        subject: str,
    ) -> tuple[bytes, int]:
        """A statement (of final marks or of decisions) as one signed-ready PDF, and its sheets."""
        year = self.export.academic_year.name
        info = DocumentInfo(
            title=f"{heading} {ctx.class_title(school_class)}, {year} учебный год",
            author=self.export.school.full_name,
            subject=subject,
            created=self.export.exported_at,
            keywords=f"{FINAL_MARKS}; {school_class.id}; {year}",
        )
        pdf = assemble(
            [part], info, [self._statement_attachment(school_class)], _signature_place(anchors)
        )
        return pdf, page_count(part)

    def file_index(self, kind: str, school_class: SchoolClass) -> str:
        """The file index printed for a class's document of ``kind`` (the nomenclature, else
        the policy's ``case_index``; «» when neither is set)."""
        return self.doc_options.file_index(kind, school_class.name, self.policies[kind].case_index)

    def retention(self, kind: str) -> str:
        """«5 лет, ст. 695 Перечня»: the kind's term with its legal basis when set."""
        return self._retention(kind)

    def _retention(self, kind: str) -> str:
        policy = self.policies[kind]
        return ctx.retention_phrase(policy.years, policy.legal_basis)

    def _typst_section(
        self,
        template: str,
        school_class: SchoolClass,
        first_sheet: int,
        doc_title: str,
        **extra: Any,
    ) -> bytes:
        """A bundle section laid out by Typst from ``template`` (the common heading data and ``extra``)."""
        created = self.export.exported_at
        heading = _class_heading(school_class)
        return self.engines.typst(
            template,
            {
                "start": first_sheet,
                "doc_title": doc_title,
                "author": self.export.school.full_name,
                "date": [created.year, created.month, created.day],
                "running_head": f"{self.export.school.short_name}. {heading}, {self.export.academic_year.name}",
                "class_heading": heading,
                "year_name": self.export.academic_year.name,
                **extra,
            },
        )

    def _statement(
        self, school_class: SchoolClass, first_sheet: int, *, copy: bool
    ) -> tuple[bytes, dict[str, Anchor]]:
        """The summary statement (Typst, ``final_marks.typ``), or its copy in the bundle."""
        school = self.export.school
        created = self.export.exported_at
        heading = _class_heading(school_class)
        data = {
            "fm": ctx.final_marks(self.export, school_class),
            "copy": copy,
            "start": first_sheet,
            "doc_title": f"Сводная ведомость итоговых отметок {ctx.class_title(school_class)}, {self.export.academic_year.name} учебный год",
            "author": school.full_name,
            "date": [created.year, created.month, created.day],
            "running_head": f"{school.short_name}. {heading}, {self.export.academic_year.name}",
            "school_full": school.full_name,
            "class_heading": heading,
            "year_name": self.export.academic_year.name,
            "statement_date": ru_date(created.date()),
            "retention": self._retention(FINAL_MARKS),
            "file_index": self.file_index(FINAL_MARKS, school_class),
            "director_position": school.director.position.capitalize(),
            "director_short": ctx.short_name(school.director.name),
        }
        return self.engines.typst_with_anchors("final_marks.typ", data)

    def _decisions(
        self, school_class: SchoolClass, first_sheet: int, *, copy: bool
    ) -> tuple[bytes, dict[str, Anchor]]:
        """The statement of decisions (Typst, ``decisions.typ``), or its copy in the bundle."""
        return self._sheet(
            "decisions.typ",
            school_class,
            first_sheet,
            f"{DECISIONS_TITLE} {ctx.class_title(school_class)}, {self.export.academic_year.name} учебный год",
            anchors=() if copy else ("signature-mark",),  # the copy is signed with the bundle
            fm=ctx.final_marks(self.export, school_class),
            title=DECISIONS_TITLE,
            retention=self._retention(FINAL_MARKS),
            document_date=ru_date(self.export.exported_at.date()),
            file_index=self.file_index(FINAL_MARKS, school_class),
            copy=copy,
        )

    def render_decisions(self, school_class: SchoolClass) -> tuple[bytes, int]:
        """The summary statement of the council's decisions (a class without marks), and its sheets."""
        part, anchors = self._decisions(school_class, 1, copy=False)
        return self._statement_pdf(
            school_class,
            part,
            anchors,
            DECISIONS_TITLE,
            f"Отметки не выставляются. Срок хранения: {self._retention(FINAL_MARKS)}",
        )

    def render_statement(self, school_class: SchoolClass) -> tuple[bytes, int]:
        """The class's 25-year summary statement: of final marks, or of decisions without marks."""
        if school_class.marks_recorded:
            return self.render_final_marks(school_class)
        return self.render_decisions(school_class)

    def _statement_attachment(self, school_class: SchoolClass) -> Attachment:
        """The statement's own data: only what it prints (:mod:`archiver.sources.statement_v1`)."""
        return Attachment(
            name=statement_attachment_name(school_class.id),
            data=statement_bytes(self.export, school_class.id),
            description=(
                f"Данные сводной ведомости: {school_class.name}, {self.export.academic_year.name} "
                "(формат archiver-class-statement, версия 1; только напечатанные в ней данные)"
            ),
        )

    def _attachment(self, school_class: SchoolClass) -> Attachment:
        data = json.dumps(class_slice(self.export, school_class.id), ensure_ascii=False, indent=1)
        return Attachment(
            name=export_attachment_name(school_class.id),
            data=data.encode("utf-8"),
            description=f"Данные электронного журнала: {school_class.name}, {self.export.academic_year.name} (формат school-journal-export, версия 1)",
        )

    def render_class(self, class_id: str, out_dir: Path) -> list[RenderedDocument]:
        """Render and write the documents of one class; each file is written atomically."""
        school_class = self.export.classes_by_id[class_id]
        paths = document_paths(out_dir, self.export, class_id)
        written = []
        pdf, sheets, sections = self.render_bundle_sections(school_class)
        write_atomic(paths[CLASS_JOURNAL], pdf)
        written.append(
            RenderedDocument(
                CLASS_JOURNAL, class_id, paths[CLASS_JOURNAL], sheets + 1, sheets, sections
            )
        )
        if keeps_statement(school_class):
            pdf, sheets = self.render_statement(school_class)
            write_atomic(paths[FINAL_MARKS], pdf)
            written.append(
                RenderedDocument(
                    FINAL_MARKS,
                    class_id,
                    paths[FINAL_MARKS],
                    sheets,
                    sheets,
                    (
                        (
                            "Сводная ведомость итоговых отметок"
                            if school_class.marks_recorded
                            else DECISIONS_TITLE,
                            1,
                            sheets,
                        ),
                    ),
                )
            )
        return written


DECISIONS_TITLE = "Сводная ведомость решений педагогического совета"
"""The 25-year statement of a class without marks (1st grade, I доп.)."""


def _signature_place(anchors: dict[str, Anchor]) -> SignaturePlace:
    """Where the layout reserved room for the signature mark (else the title sheet's corner)."""
    mark = anchors.get("signature-mark")
    if mark is None:
        return SignaturePlace(0, TITLE_SIGNATURE_BOX)
    return SignaturePlace(mark.page, mark.box)


def _class_heading(school_class: SchoolClass) -> str:
    if school_class.kind is ClassKind.CLASS:
        return f"{school_class.name} класс"
    return school_class.name


def _class_list(school_class: SchoolClass, export: JournalExport) -> list[dict[str, object]]:
    rows = ctx.student_rows(school_class)
    homes = ctx.home_classes(export)
    for row in rows:
        student = school_class.students_by_id[str(row["id"])]
        row["enrolled_in_year"] = student.enrolled > export.academic_year.start
        row["home_class"] = homes.get(student.id, "")
    return rows
