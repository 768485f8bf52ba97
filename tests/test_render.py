"""Rendered documents read back with pypdf: numbering, contents, marks, PDF/A identity."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import IndirectObject

from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS
from archiver.model import JournalExport
from archiver.numbers import sheets_phrase
from archiver.render.batch import render_classes
from archiver.render.bundle import RenderedDocument
from archiver.render.pdf import Attachment, DocumentInfo, assemble
from archiver.sources.export_v1 import read_export
from archiver.sources.statement_v1 import read_statement


def load(doc: dict[str, Any]) -> JournalExport:
    report = read_export(json.dumps(doc, ensure_ascii=False).encode())
    assert report.export is not None, [str(e) for e in report.errors]
    return report.export


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory, spec_export_doc: dict[str, Any]
) -> dict[tuple[str, str], RenderedDocument]:
    out = tmp_path_factory.mktemp("render")
    docs = render_classes(load(spec_export_doc), out, workers=2)
    return {(d.class_id, d.kind): d for d in docs}


def texts(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def corner_number(page: PageObject) -> str | None:
    """The sheet number where an archivist looks for it: the upper right corner of the sheet
    as it lies in the bound (portrait) file.

    A portrait page: its upper right corner, upright. A landscape page is bound along its
    top edge (turned a quarter left into the file), so its number is in its lower right
    corner, turned a quarter right to read upright in the file.
    """
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    landscape = width > height
    found: list[str] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        a = tm[0] * cm[0] + tm[1] * cm[2]  # the text's direction on the page
        b = tm[0] * cm[1] + tm[1] * cm[3]
        if not text.strip() or x < width * 0.85:
            continue_ = False
        elif landscape:
            continue_ = y < height * 0.12 and abs(a) < 1e-6 and b < 0
        else:
            continue_ = y > height * 0.9 and abs(b) < 1e-6 and a > 0
        if continue_:
            found.append(text.strip())

    page.extract_text(visitor_text=visit)
    return "".join(found) or None


def marks_in(export: JournalExport, class_id: str) -> Iterator[tuple[str, str]]:
    school_class = export.classes_by_id[class_id]
    for course in school_class.courses:
        for mark in course.marks:
            yield course.subject, mark.value


def test_documents_per_class(rendered: dict[tuple[str, str], RenderedDocument]) -> None:
    assert sorted(rendered) == [
        ("1a", CLASS_JOURNAL),
        ("1a", FINAL_MARKS),  # the statement of decisions (no marks)
        ("5a", CLASS_JOURNAL),
        ("5a", FINAL_MARKS),
        ("club1", CLASS_JOURNAL),
    ]
    for doc in rendered.values():
        assert doc.path.is_file() and doc.path.suffix == ".pdf"
        assert doc.path.parent.name == doc.class_id and doc.path.parent.parent.name == "2025-2026"


@pytest.mark.parametrize("class_id", ["5a", "1a", "club1"])
def test_sheet_count_numbering_and_certification(
    rendered: dict[tuple[str, str], RenderedDocument], class_id: str
) -> None:
    doc = rendered[(class_id, CLASS_JOURNAL)]
    reader = PdfReader(doc.path)
    pages = reader.pages
    n = len(pages) - 1
    assert doc.pages == len(pages) and doc.sheets == n
    title = pages[0].extract_text()
    assert f"Всего листов: {n}\n" in title + "\n"
    assert f"В деле подшито и пронумеровано {sheets_phrase(n)}" in pages[-1].extract_text()
    assert [corner_number(p) for p in pages[:-1]] == [str(i) for i in range(1, n + 1)]
    assert corner_number(pages[-1]) is None  # the certification sheet is not numbered
    # every section's printed range is where the section really is
    ranges = re.findall(
        r"^(.+?) (\d+)(?:–(\d+))?$", title.split("Содержание")[1].split("Всего листов")[0], re.M
    )
    assert ranges, title
    page_texts = [p.extract_text() for p in pages]
    covered = []
    for section, first, last in ranges:
        first_i, last_i = int(first), int(last or first)
        covered.extend(range(first_i, last_i + 1))
        head = section.split(" (")[0]
        for sheet in range(first_i, last_i + 1):
            assert head.split()[0] in page_texts[sheet - 1], (section, sheet)
    assert covered == list(range(2, n + 1))


def test_marks_students_and_period_marks(
    rendered: dict[tuple[str, str], RenderedDocument], spec_export_doc: dict[str, Any]
) -> None:
    export = load(spec_export_doc)
    pages = texts(rendered[("5a", CLASS_JOURNAL)].path)
    body = "\n".join(pages)
    cls = export.classes_by_id["5a"]
    # a grid for each period with lessons (Q4 has not started on 25.03.2026: no sheet for it),
    # every student in every grid
    grids = re.split(r"(?=\b[IV]+ четверть \()", body)[1:]
    assert len(grids) == 4  # Russian: I, II, III; mathematics: I
    for text in grids:
        for student in cls.students:
            assert student.full_name in text
    assert "IV четверть (" not in body and "Уроков в этом периоде нет" not in body
    grid_pages = [t for t in pages if "отметки и посещаемость" in t]
    assert all("Учитель:" in t for t in grid_pages)
    # each mark appears in its row on the page of its lesson's period
    rus = "\n".join(t for t in grid_pages if "Русский язык" in t)
    assert re.search(
        r"Семёнов Артём Андреевич 4 5 5", rus
    )  # two marks in one cell, then the Q1 mark
    assert re.search(r"Ким Денис Олегович зач", rus)
    assert "Петрова-Водкина Алёна б б" in rus
    # the period mark column is headed by the period's short name
    assert all("I четв." in t for t in grids if t.startswith("I четверть ("))
    # substitution named, homework printed
    assert "замена: Соколов Пётр Ильич" in body
    assert "упр. 45" in body


def test_unmarked_class_has_no_marks_or_homework(
    rendered: dict[tuple[str, str], RenderedDocument],
) -> None:
    body = "\n".join(texts(rendered[("1a", CLASS_JOURNAL)].path))
    assert "Итог" not in body and "Домашнее задание" not in body
    assert (
        "Сводная ведомость итоговых отметок" not in body
    )  # its decisions: tests/test_statements.py
    assert "Рисуем осень" in body and "Орлова Фёкла Ивановна у" in body


def test_final_marks_statement(rendered: dict[tuple[str, str], RenderedDocument]) -> None:
    (text,) = texts(rendered[("5a", FINAL_MARKS)].path)
    assert "Сводная ведомость итоговых отметок" in text
    assert "переведён в 6 класс" in text and "протокол № 7 от 27.05.2026" in text
    assert "Классный руководитель" in text and "О. П. Кузнецова" in text
    assert "IV четверть" in text  # named as not yet ended
    assert re.search(r"Петрова-Водкина Алёна 3 2", text)  # missed 3 lessons, 2 for illness


def test_pdfa_identity_fonts_and_embedded_json(
    rendered: dict[tuple[str, str], RenderedDocument],
) -> None:
    for doc in rendered.values():
        reader = PdfReader(doc.path)
        root = reader.trailer["/Root"]
        xmp = root["/Metadata"].get_object().get_data().decode()
        assert (
            "<pdfaid:part>3</pdfaid:part>" in xmp
            and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
        )
        assert "/OutputIntents" in root
        assert reader.pdf_header == "%PDF-1.7"
        info = reader.metadata
        assert info is not None and info.title and "«" in info.title and info.author
        fonts = set()
        for page in reader.pages:
            for font in page["/Resources"]["/Font"].values():
                font = font.get_object()
                descendant = (
                    font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
                )
                descriptor = descendant["/FontDescriptor"].get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font
                fonts.add(str(font["/BaseFont"]).split("+")[-1])
        assert fonts <= {
            "Liberation-Serif",
            "Liberation-Serif-Bold",
            "LiberationSerif",
            "LiberationSerif-Bold",
        }
        (spec,) = root["/AF"]
        spec = spec.get_object()
        assert spec["/AFRelationship"] == "/Source"
        data = spec["/EF"]["/F"].get_object().get_data()
        if doc.kind == FINAL_MARKS:  # the statement's own data (tests/test_statements.py)
            assert [c.id for c in read_statement(data).classes] == [doc.class_id]
            continue
        sliced = read_export(data)
        assert sliced.ok and [c.id for c in sliced.export.classes] == [doc.class_id]  # type: ignore[union-attr]


def test_embedded_file_is_an_associated_source_file() -> None:
    """The attachment is in the /EmbeddedFiles name tree and in the catalog's /AF (PDF/A-3)."""
    blank = PdfWriter()
    blank.add_blank_page(200, 200)
    part = io.BytesIO()
    blank.write(part)
    created = datetime(2026, 6, 20, 10, 0, tzinfo=timezone(timedelta(hours=5)))
    data = '{"класс": "5а"}'.encode()
    pdf = assemble(
        [part.getvalue()],
        DocumentInfo("Журнал", "Школа", "Срез", created),
        [Attachment("5a.json", data, "Выгрузка класса 5а")],
    )
    reader = PdfReader(io.BytesIO(pdf))
    (embedded,) = reader.attachment_list
    assert (embedded.name, embedded.alternative_name, embedded.content) == (
        "5a.json",
        "5a.json",
        data,
    )
    assert embedded.description == "Выгрузка класса 5а"
    assert embedded.associated_file_relationship == "/Source"
    assert embedded.subtype == "/application/json"  # on disk: /application#2Fjson
    assert b"/Subtype /application#2Fjson" in pdf
    assert embedded.size == len(data)
    checksum = embedded.checksum  # read back as a string object: compare its bytes
    assert getattr(checksum, "original_bytes", checksum) == hashlib.md5(data).digest()
    assert embedded.modification_date == created
    (spec,) = reader.root_object["/AF"]
    assert isinstance(spec, IndirectObject)
    assert spec.get_object() is embedded.pdf_object
    assert spec.get_object()["/Type"] == "/Filespec"


def test_rendering_is_deterministic(
    tmp_path: Path,
    spec_export_doc: dict[str, Any],
    rendered: dict[tuple[str, str], RenderedDocument],
) -> None:
    again = render_classes(load(spec_export_doc), tmp_path, ["5a"], workers=1)
    for doc in again:
        assert doc.path.read_bytes() == rendered[(doc.class_id, doc.kind)].path.read_bytes()


def test_student_outside_enrolment_is_blank(
    rendered: dict[tuple[str, str], RenderedDocument],
) -> None:
    pages = texts(rendered[("5a", CLASS_JOURNAL)].path)
    q3 = next(t for t in pages if "III четверть (" in t and "Русский язык" in t)
    q3 = q3[q3.index("III четверть (") :]
    # Petrova left on 12.12.2025: her Q3 row has nothing in it but the date she left
    row = re.search(r"^2 Петрова-Водкина Алёна(.*?)^3 ", q3, re.M | re.S)
    assert row and row[1].split() == ["выбыл(а)", "12.12.2025"], q3


def test_title_sheet_is_one_page_with_signature_block_and_field(
    rendered: dict[tuple[str, str], RenderedDocument],
) -> None:
    """The title sheet holds the director's block and «М.П.» and the room for the signature mark."""
    for (class_id, kind), doc in rendered.items():
        reader = PdfReader(doc.path)
        widgets = [
            (index, annot.get_object())
            for index, page in enumerate(reader.pages)
            for annot in page.get("/Annots", [])
            if annot.get_object().get("/FT") == "/Sig"
        ]
        assert len(widgets) == 1, (class_id, kind)
        index, widget = widgets[0]
        assert widget["/T"] == "DirectorSignature" and "/V" not in widget  # empty until signed
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        width, height = (float(v) for v in reader.pages[index].mediabox[2:])
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert 250 <= x2 - x1 <= 270 and 85 <= y2 - y1 <= 95  # the 92 × 32 mm reserved box
        if kind == CLASS_JOURNAL:
            assert index == 0  # on the title sheet
            first, second = (p.extract_text() for p in reader.pages[:2])
            assert "Всего листов" in first and "М.П." in first
            assert "М.П." not in second and "Директор" not in second
        else:
            assert index == len(reader.pages) - 1  # beside the signature lines at the end


def test_a_title_sheet_of_two_sheets_lays_the_sections_out_once() -> None:
    from archiver.demo.generator import export_bytes, generate_export
    from archiver.render.bundle import ClassRenderer

    doc = generate_export(classes=3)
    eleven = read_export(export_bytes(doc)).export
    assert eleven is not None  # eleven subjects: the sheet closes up its gaps and stays one
    title = ClassRenderer(eleven).render_bundle_sections(eleven.classes_by_id["c1a"])[2][0]
    assert title == ("Титульный лист", 1, 1)
    first = next(c for c in doc["classes"] if c["id"] == "c1a")
    for course in copy.deepcopy(first["courses"][:8]):  # nineteen subjects: two title sheets
        course["id"] += "-2"
        for lesson in course["lessons"]:
            lesson["id"] += "-2"
        course.update(attendance=[], marks=[], period_marks=[], year_marks=[])
        first["courses"].append(course)
    export = read_export(export_bytes(doc)).export
    assert export is not None
    school_class = export.classes_by_id["c1a"]
    renderer = ClassRenderer(export)
    compiled: list[str] = []
    typst = renderer.engines.typst_with_anchors

    def counting(template: str, data: dict[str, Any], names: tuple[str, ...] = ()) -> Any:
        compiled.append(template)
        return typst(template, data, names)

    renderer.engines.typst_with_anchors = counting  # type: ignore[method-assign]
    pdf, total, sections = renderer.render_bundle_sections(school_class)
    assert sections[0] == ("Титульный лист", 1, 2) and sections[1][1] == 3
    assert compiled.count("course.typ") == len(school_class.courses)  # not again for sheet 3
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert [corner_number(p) for p in pages[:-1]] == [str(i) for i in range(1, total + 1)]
    # a wrong guess (an earlier title of as many lines took one sheet) changes no byte
    misled = ClassRenderer(export)
    misled._title_pages[len(sections) - 1] = 1
    assert misled.render_bundle_sections(school_class)[0] == pdf
